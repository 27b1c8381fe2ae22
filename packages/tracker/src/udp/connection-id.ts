// BEP 15 connection ids: a keyed MAC of the client's address, port and a time slot. Only someone
// who receives our connect reply can know it, so announces with spoofed source addresses fail,
// and the server keeps no per-client state that a flood of connects could grow.
//
// The MAC is HalfSipHash-2-4 with a 64-bit output, in plain 32-bit JS arithmetic: node's HMAC
// costs tens of microseconds per call on small machines, more than the rest of an announce.
//
// The UDP port answers STUN too (udp.ts), told apart by STUN's magic cookie at bytes 4-7. An
// announce starts with its connection id, so no id we issue may carry the cookie there.

import { MAGIC_COOKIE } from '@cascade/reachability/stun-message';

const SLOT_MS = 120_000;
/** Entries of the cache of ids already proven (a power of two). */
const CACHE = 1024;

/** The low word of an id, moved off STUN's magic cookie (one value in 2^32 is nudged by one). */
export function avoidStunCookie(lo: number): number {
  return lo === MAGIC_COOKIE ? (lo ^ 1) >>> 0 : lo;
}

function rotl(x: number, b: number): number {
  return (x << b) | (x >>> (32 - b));
}

export class ConnectionIds {
  private readonly k0: number;
  private readonly k1: number;
  // Scratch state, so hashing allocates nothing.
  private readonly v = new Int32Array(4);
  private v0 = 0;
  private v1 = 0;
  // Ids proven by the MAC, by sender: a client sends its id with every request for two minutes, and
  // a comparison costs a few ns where the MAC costs a few hundred. An entry only ever holds an id
  // the MAC gave for that very address and port, and is believed only for as long as the MAC
  // would accept it, so the cache accepts exactly what the MAC accepts.
  private readonly cAddr: string[] = new Array<string>(CACHE).fill('');
  private readonly cPort = new Int32Array(CACHE).fill(-1);
  /** The slot the id was issued in, and its two halves. */
  private readonly cSlot = new Float64Array(CACHE);
  private readonly cHi = new Int32Array(CACHE);
  private readonly cLo = new Int32Array(CACHE);

  constructor(key: Uint8Array) {
    if (key.length < 8) throw new Error('connection id key must be at least 8 bytes');
    const dv = new DataView(key.buffer, key.byteOffset, key.byteLength);
    this.k0 = dv.getUint32(0, true);
    this.k1 = dv.getUint32(4, true);
  }

  /** The id for a connect reply now, as two 32-bit halves written big-endian at `off`. */
  write(out: Buffer, off: number, addr: string, port: number, now = Date.now()): void {
    this.mac(addr, port, Math.floor(now / SLOT_MS));
    out.writeUInt32BE(this.v0, off);
    out.writeUInt32BE(this.v1, off + 4);
  }

  /** Valid for the slot it was issued in and the next, so at least two minutes (clients reuse ids for one). */
  check(msg: Buffer, addr: string, port: number, now = Date.now()): boolean {
    const hi = msg.readUInt32BE(0);
    const lo = msg.readUInt32BE(4);
    const slot = Math.floor(now / SLOT_MS);
    const e = (port ^ (addr.charCodeAt(addr.length - 1) << 6) ^ (addr.length << 12) ^ addr.charCodeAt(addr.length - 2)) & (CACHE - 1);
    if (this.cPort[e] === port && this.cHi[e] === (hi | 0) && this.cLo[e] === (lo | 0) && slot - this.cSlot[e]! <= 1 && slot >= this.cSlot[e]! && this.cAddr[e] === addr) return true;
    let issued = slot;
    this.mac(addr, port, slot);
    if (this.v0 !== hi || this.v1 !== lo) {
      issued = slot - 1;
      this.mac(addr, port, issued);
      if (this.v0 !== hi || this.v1 !== lo) return false;
    }
    this.cAddr[e] = addr;
    this.cPort[e] = port;
    this.cSlot[e] = issued;
    this.cHi[e] = hi | 0;
    this.cLo[e] = lo | 0;
    return true;
  }

  /** Leaves the two output words in v0, v1. */
  private mac(addr: string, port: number, slot: number): void {
    const v = this.v;
    v[0] = this.k0;
    v[1] = this.k1 ^ 0xee;
    v[2] = 0x6c796765 ^ this.k0;
    v[3] = 0x74656462 ^ this.k1;
    // Address characters packed four to a word; port and slot close the message.
    let acc = 0;
    let n = 0;
    for (let i = 0; i < addr.length; i++) {
      acc |= (addr.charCodeAt(i) & 0xff) << (8 * n);
      if (++n === 4) {
        compress(v, acc);
        acc = 0;
        n = 0;
      }
    }
    compress(v, acc);
    compress(v, port);
    compress(v, slot);
    const b = (addr.length + 12) << 24;
    compress(v, b);
    v[2] ^= 0xee;
    for (let i = 0; i < 4; i++) round(v);
    const out0 = (v[1]! ^ v[3]!) >>> 0;
    v[1] ^= 0xdd;
    for (let i = 0; i < 4; i++) round(v);
    this.v0 = out0;
    // Here, so write() and check() agree on the nudged id.
    this.v1 = avoidStunCookie((v[1]! ^ v[3]!) >>> 0);
  }
}

function compress(v: Int32Array, m: number): void {
  v[3] ^= m;
  round(v);
  round(v);
  v[0] ^= m;
}

function round(v: Int32Array): void {
  let v0 = v[0]!, v1 = v[1]!, v2 = v[2]!, v3 = v[3]!;
  v0 = (v0 + v1) | 0; v1 = rotl(v1, 5); v1 ^= v0; v0 = rotl(v0, 16);
  v2 = (v2 + v3) | 0; v3 = rotl(v3, 8); v3 ^= v2;
  v0 = (v0 + v3) | 0; v3 = rotl(v3, 7); v3 ^= v0;
  v2 = (v2 + v1) | 0; v1 = rotl(v1, 13); v1 ^= v2; v2 = rotl(v2, 16);
  v[0] = v0; v[1] = v1; v[2] = v2; v[3] = v3;
}
