// Mutation operators shared by the targets. Starting from valid inputs and changing a few things
// at a time keeps most inputs parseable far enough to reach the deep checks, which random bytes
// alone never do.

import { concat } from '../../../packages/identity/src/encoding/encoding.ts';
import type { Rng } from './rng.ts';

const enc = new TextEncoder();

/** Integers that sit on a boundary of some representation (sign, int32, uint32, 2^53, 20 digits). */
export const BOUNDARY_INTS: readonly string[] = [
  '0', '-0', '00', '01', '-1', '1', '7', '16384', '16385', '65535', '65536', '131072', '2147483647', '2147483648',
  '-2147483648', '4294967295', '4294967296', '9007199254740991', '9007199254740992', '9007199254740993',
  '18446744073709551615', '18446744073709551616', '99999999999999999999', '999999999999999999999', '1e3', '0x10', ' 1', '+1',
];

const BOUNDARY_U32 = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x3fff, 0x4000, 0x4001, 0xffff, 0x10000, 0x20000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

export interface MutateOptions {
  /** Tokens worth inserting or substituting (syntax of the format under test). */
  dict?: readonly string[];
  /** Also write 16/32/64-bit boundary values in big-endian (binary protocols). */
  binary?: boolean;
  /** Inputs are cut back to this size. */
  maxLen?: number;
  /** Bytes at the front that ops should mostly leave alone (a header that gates everything else). */
  protectPrefix?: number;
}

type Op = (rng: Rng, b: Uint8Array, pool: readonly Uint8Array[], o: MutateOptions) => Uint8Array;


const pos = (rng: Rng, b: Uint8Array, o: MutateOptions, end = 0) => {
  const lo = o.protectPrefix && !rng.chance(0.1) ? Math.min(o.protectPrefix, b.length) : 0;
  return lo + rng.int(b.length - lo + end);
};

const ops: Op[] = [
  // bit flip
  (rng, b, _p, o) => {
    if (b.length === 0) return b;
    const c = b.slice();
    c[pos(rng, c, o)] ^= 1 << rng.int(8);
    return c;
  },
  // random byte, or an interesting one
  (rng, b, _p, o) => {
    if (b.length === 0) return rng.bytes(1);
    const c = b.slice();
    c[pos(rng, c, o)] = rng.chance(0.5) ? rng.int(256) : rng.pick([0, 0xff, 0x7f, 0x80, 0x30, 0x39, 0x3a, 0x2d, 0x25, 0x26, 0x3d, 0x22, 0x5c]);
    return c;
  },
  // insert random bytes
  (rng, b, _p, o) => {
    const at = pos(rng, b, o, 1);
    return concat(b.subarray(0, at), rng.bytes(rng.small(64) + 1), b.subarray(at));
  },
  // delete a range
  (rng, b, _p, o) => {
    if (b.length === 0) return b;
    const at = pos(rng, b, o);
    const n = rng.small(b.length - at);
    return concat(b.subarray(0, at), b.subarray(at + Math.max(1, n)));
  },
  // duplicate a range (repeats: long lists, repeated keys)
  (rng, b, _p, o) => {
    if (b.length === 0) return b;
    const at = pos(rng, b, o);
    const n = Math.max(1, rng.small(Math.min(256, b.length - at)));
    const piece = b.subarray(at, at + n);
    const times = rng.chance(0.2) ? rng.small(2000) + 1 : 1;
    return concat(b.subarray(0, at + n), ...Array<Uint8Array>(times).fill(piece), b.subarray(at + n));
  },
  // truncate
  (rng, b) => b.subarray(0, rng.int(b.length + 1)),
  // splice with another input from the pool
  (rng, b, pool) => {
    if (pool.length === 0) return b;
    const other = rng.pick(pool);
    const at = rng.int(b.length + 1);
    const from = rng.int(other.length + 1);
    return concat(b.subarray(0, at), other.subarray(from, from + rng.small(other.length - from)), b.subarray(at + rng.small(b.length - at)));
  },
  // replace a run of ASCII digits (an integer or a length prefix) with a boundary value
  (rng, b, _p, o) => {
    const start = pos(rng, b, o);
    let i = start;
    while (i < b.length && !(b[i]! >= 0x30 && b[i]! <= 0x39)) i++;
    if (i >= b.length) return b;
    let j = i;
    while (j < b.length && b[j]! >= 0x30 && b[j]! <= 0x39) j++;
    if (i > 0 && b[i - 1] === 0x2d && rng.chance(0.5)) i--;
    return concat(b.subarray(0, i), enc.encode(rng.pick(BOUNDARY_INTS)), b.subarray(j));
  },
  // insert or substitute a dictionary token
  (rng, b, _p, o) => {
    if (!o.dict || o.dict.length === 0) return b;
    const tok = enc.encode(rng.pick(o.dict));
    const at = pos(rng, b, o, 1);
    const drop = rng.chance(0.5) ? Math.min(tok.length, b.length - at) : 0;
    return concat(b.subarray(0, at), tok, b.subarray(at + drop));
  },
  // big-endian boundary integers in binary protocols
  (rng, b, _p, o) => {
    if (!o.binary || b.length < 2) return b;
    const c = b.slice();
    const v = rng.pick(BOUNDARY_U32);
    const width = rng.pick([2, 4, 4, 8]);
    const at = pos(rng, c, o);
    const dv = new DataView(c.buffer, c.byteOffset, c.byteLength);
    if (at + width > c.length) return c;
    if (width === 2) dv.setUint16(at, v & 0xffff);
    else if (width === 4) dv.setUint32(at, v);
    else dv.setBigUint64(at, rng.chance(0.5) ? BigInt(v) : BigInt(v) << 32n | BigInt(rng.u32()));
    return c;
  },
];

/** Applies 1..n stacked mutations (usually few: most inputs should stay close to valid). */
export function mutate(rng: Rng, input: Uint8Array, pool: readonly Uint8Array[], o: MutateOptions = {}): Uint8Array {
  let b = input;
  const n = 1 + (rng.chance(0.3) ? rng.small(8) : 0);
  for (let i = 0; i < n; i++) b = rng.pick(ops)(rng, b, pool, o);
  const max = o.maxLen ?? 1 << 20;
  return b.length > max ? b.subarray(0, max) : b;
}

/** Random bytes biased towards the format's alphabet (dict tokens, digits) so some are near-misses. */
export function noise(rng: Rng, dict: readonly string[] = [], max = 512): Uint8Array {
  const parts: Uint8Array[] = [];
  const n = rng.small(max);
  let len = 0;
  while (len < n) {
    const p = dict.length > 0 && rng.chance(0.5) ? enc.encode(rng.pick(dict)) : rng.bytes(rng.small(16) + 1);
    parts.push(p);
    len += p.length;
  }
  return concat(...parts);
}

export { concat };
