// bencode decode (packages/engine/src/encoding/bencode.ts). Clean error: BencodeError. Beyond "does not
// throw anything else", every input is also decoded by a small reference decoder written from
// BEP 3 plus the engine's documented limits, and the two must agree on accept/reject and on the
// value; accepted input round-trips through encode (byte-exact when the input is canonical).

import { BencodeError, decode, encode, type BValue } from '../../../packages/engine/src/encoding/bencode.ts';
import type { Rng } from '../lib/rng.ts';
import { check, judge, type Target } from '../lib/target.ts';

const strict = new TextDecoder('utf-8', { fatal: true });
const lossy = new TextDecoder();
const keyText = new TextDecoder('utf-8', { ignoreBOM: true });
const MAX_DEPTH = 64;

class RefError extends Error {}

/** Reference decoder: {value, canonical}; canonical = keys valid UTF-8 and strictly ascending. */
export function refDecode(b: Uint8Array): { value: BValue; canonical: boolean } {
  let p = 0;
  let canonical = true;
  const digits = (term: number, allowNeg: boolean): bigint => {
    const neg = allowNeg && b[p] === 0x2d;
    if (neg) p++;
    const s = p;
    while (p < b.length && b[p]! >= 0x30 && b[p]! <= 0x39) p++;
    const n = p - s;
    if (n === 0 || n > 20 || b[p] !== term) throw new RefError('bad integer');
    if (n > 1 && b[s] === 0x30) throw new RefError('leading zero');
    if (neg && b[s] === 0x30) throw new RefError('negative zero');
    const v = BigInt(lossy.decode(b.subarray(s, p)));
    p++;
    return neg ? -v : v;
  };
  const str = (): Uint8Array => {
    const n = digits(0x3a, true);
    if (n < 0n || BigInt(p) + n > BigInt(b.length)) throw new RefError('bad length');
    p += Number(n);
    return b.subarray(p - Number(n), p);
  };
  const value = (depth: number): BValue => {
    if (depth > MAX_DEPTH || p >= b.length) throw new RefError('depth or end');
    const c = b[p]!;
    if (c === 0x69) {
      p++;
      const v = digits(0x65, true);
      return Number.isSafeInteger(Number(v)) ? Number(v) : v;
    }
    if (c >= 0x30 && c <= 0x39) return str();
    if (c === 0x6c || c === 0x64) {
      p++;
      const list: BValue[] = [];
      const dict: Record<string, BValue> = Object.create(null);
      let prev: Uint8Array | undefined;
      while (b[p] !== 0x65) {
        if (p >= b.length) throw new RefError('unterminated');
        if (c === 0x6c) {
          list.push(value(depth + 1));
          continue;
        }
        const key = str();
        try {
          strict.decode(key);
        } catch {
          canonical = false;
        }
        if (prev && Buffer.compare(prev, key) >= 0) canonical = false;
        prev = key;
        // Keys keep a leading U+FEFF, and two keys that decode alike are refused (engine's rule).
        const name = keyText.decode(key);
        if (name in dict && !name.includes('\uFFFD')) throw new RefError('duplicate key');
        dict[name] = value(depth + 1);
      }
      p++;
      return c === 0x6c ? list : dict;
    }
    throw new RefError('unexpected byte');
  };
  const v = value(0);
  if (p !== b.length) throw new RefError('trailing');
  return { value: v, canonical };
}

export function same(a: unknown, b: unknown): boolean {
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return a instanceof Uint8Array && b instanceof Uint8Array && Buffer.compare(a, b) === 0;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && same((a as never)[k], (b as never)[k]));
  }
  return a === b;
}

function runOne(input: Uint8Array): void {
  let ref: ReturnType<typeof refDecode> | undefined;
  try {
    ref = refDecode(input);
  } catch (err) {
    if (!(err instanceof RefError)) throw err;
  }
  let value: BValue;
  try {
    value = decode(input).value;
  } catch (err) {
    if (err instanceof BencodeError) check(ref === undefined, 'rejected input the reference decoder accepts');
    throw err;
  }
  check(ref !== undefined, 'accepted input the reference decoder rejects');
  check(same(value, ref.value), 'decoded value differs from the reference decoder');
  const again = encode(value);
  check(same(decode(again).value, value), 'decode(encode(v)) != v');
  if (ref.canonical) check(Buffer.compare(again, input) === 0, 'canonical input does not re-encode byte-exact');
  // The options used by metainfo (spanOf) and ut_metadata (allowTrailing).
  const withTail = decode(input, { allowTrailing: true, spanOf: 'info' });
  check(withTail.end === input.length && same(withTail.value, value), 'allowTrailing changed the result');
  if (withTail.span) {
    const info = (value as Record<string, BValue>)['info'];
    check(same(decode(input.subarray(withTail.span.start, withTail.span.end)).value, info), 'info span does not hold the info value');
  }
}

function freshValue(rng: Rng, depth: number): unknown {
  const r = rng.int(depth > 6 ? 2 : 4);
  if (r === 0) return rng.chance(0.3) ? BigInt(rng.pick(['9007199254740993', '-18446744073709551615', '99999999999999999999'])) : rng.range(-1000, 1_000_000);
  if (r === 1) return rng.chance(0.5) ? rng.bytes(rng.small(64)) : rng.pick(['', 'info', 'name', 'pieces', 'é', '\u0000']);
  const n = rng.small(6);
  if (r === 2) return Array.from({ length: n }, () => freshValue(rng, depth + 1));
  const d: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) d[rng.pick(['a', 'b', 'info', 'length', 'm', 'zz', String(i)])] = freshValue(rng, depth + 1);
  return d;
}

export const target: Target = {
  name: 'bencode',
  minimize: true,
  mutateOptions: {
    dict: ['i', 'e', 'l', 'd', ':', '0:', 'i0e', 'i-1e', 'i-0e', 'i01e', '4:info', 'le', 'de', '1:a', '99999999999:', '-1:', 'l'.repeat(70), 'd1:a'],
    maxLen: 64 * 1024,
  },
  seeds: () =>
    [
      'd8:announce20:http://t.example/ann4:infod6:lengthi5e4:name3:abc12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaaee',
      'd1:md11:ut_metadatai1e6:ut_pexi2ee13:metadata_sizei31235e1:pi6881e4:reqqi500e1:v6:Cascadee',
      'd8:msg_typei1e5:piecei0e10:total_sizei3eexyz',
      'li-9223372036854775808ei18446744073709551616e0:l' + 'l'.repeat(60) + 'e'.repeat(60) + 'ee',
      'd5:added12:\x7f\0\0\x01\x1a\xe1\x0a\0\0\x01\0\x507:dropped0:e',
    ].map((s) => Uint8Array.from(s, (c) => c.charCodeAt(0))),
  fresh: (rng) => encode(freshValue(rng, 0)),
  run: (input) =>
    judge(
      () => runOne(input),
      (e) => e instanceof BencodeError,
    ),
};
