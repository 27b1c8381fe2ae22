// uTP (BEP 29) packet header and extension codec. Pure: no Node imports, so the browser build,
// the fuzz harness and the tests reach it as the engine does.

export const VERSION = 1;
export const HEADER_SIZE = 20;

export const ST_DATA = 0;
export const ST_FIN = 1;
export const ST_STATE = 2;
export const ST_RESET = 3;
export const ST_SYN = 4;
export type PacketType = 0 | 1 | 2 | 3 | 4;

export const EXT_NONE = 0;
export const EXT_SACK = 1;

/** Longest selective ACK we read or write, in bytes (32 bytes: 256 packets past ack_nr + 1). */
export const MAX_SACK_BYTES = 32;
/** Most extensions one packet may chain: a hostile chain of many empty extensions costs a loop. */
const MAX_EXTENSIONS = 8;

export interface UtpHeader {
  type: PacketType;
  connectionId: number;
  /** Sender's clock, microseconds, wrapping at 2^32. */
  timestamp: number;
  /** Sender's view of our one-way delay: its receive time minus our timestamp, wrapping. */
  timestampDiff: number;
  /** Bytes the sender can still take in (its receive window). */
  window: number;
  seq: number;
  ack: number;
  /** Selective ACK bitmask (bit 0 of byte 0 = ack + 2), when the packet carries one. */
  sack?: Uint8Array;
}

export interface UtpPacket extends UtpHeader {
  payload: Uint8Array;
}

/** The packet, or why the datagram is not one. A payload on a control packet is ignored by the
 *  connection, as libtorrent ignores it. */
export type DecodeResult = UtpPacket | string;

/** Reads one datagram. Never throws: bad input comes back as a reason (counted, then dropped). */
export function decodePacket(buf: Uint8Array): DecodeResult {
  if (buf.length < HEADER_SIZE) return 'short header';
  const b0 = buf[0]!;
  if ((b0 & 0x0f) !== VERSION) return 'wrong version';
  const type = b0 >> 4;
  if (type > ST_SYN) return 'unknown type';
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let ext = buf[1]!;
  let off = HEADER_SIZE;
  let sack: Uint8Array | undefined;
  for (let n = 0; ext !== EXT_NONE; n++) {
    if (n >= MAX_EXTENSIONS) return 'too many extensions';
    if (off + 2 > buf.length) return 'truncated extension';
    const next = buf[off]!;
    const len = buf[off + 1]!;
    off += 2;
    if (off + len > buf.length) return 'truncated extension';
    if (ext === EXT_SACK && len > 0) {
      // BEP 29 says a multiple of 4 bytes; libtorrent sends whatever length covers its reorder
      // buffer (11, 42, ...), so any length is read, up to the 256 packets we track.
      sack = buf.subarray(off, off + Math.min(len, MAX_SACK_BYTES));
    }
    // Unknown extensions (libtorrent's close reason, 3) are skipped, as the BEP asks.
    off += len;
    ext = next;
  }
  const p: UtpPacket = {
    type: type as PacketType,
    connectionId: dv.getUint16(2),
    timestamp: dv.getUint32(4),
    timestampDiff: dv.getUint32(8),
    window: dv.getUint32(12),
    seq: dv.getUint16(16),
    ack: dv.getUint16(18),
    payload: buf.subarray(off),
  };
  if (sack) p.sack = sack;
  return p;
}

/** Writes a header (and its selective ACK) into `out` at 0; returns the header's length. */
export function encodeHeader(out: Uint8Array, h: UtpHeader): number {
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  out[0] = (h.type << 4) | VERSION;
  out[1] = h.sack ? EXT_SACK : EXT_NONE;
  dv.setUint16(2, h.connectionId & 0xffff);
  dv.setUint32(4, h.timestamp >>> 0);
  dv.setUint32(8, h.timestampDiff >>> 0);
  dv.setUint32(12, Math.max(0, Math.min(h.window, 0xffffffff)) >>> 0);
  dv.setUint16(16, h.seq & 0xffff);
  dv.setUint16(18, h.ack & 0xffff);
  if (!h.sack) return HEADER_SIZE;
  out[HEADER_SIZE] = EXT_NONE;
  out[HEADER_SIZE + 1] = h.sack.length;
  out.set(h.sack, HEADER_SIZE + 2);
  return HEADER_SIZE + 2 + h.sack.length;
}

export function headerLength(h: { sack?: Uint8Array | undefined }): number {
  return h.sack ? HEADER_SIZE + 2 + h.sack.length : HEADER_SIZE;
}

/** One whole packet in a fresh buffer. */
export function encodePacket(h: UtpHeader, payload?: Uint8Array): Uint8Array {
  const out = new Uint8Array(headerLength(h) + (payload?.length ?? 0));
  const n = encodeHeader(out, h);
  if (payload) out.set(payload, n);
  return out;
}

// Sequence numbers are 16 bits and wrap: compare them by their distance mod 2^16.
export const SEQ_MASK = 0xffff;
/** True when a comes before b (a < b in wrapping order). */
export function seqLess(a: number, b: number): boolean {
  return ((b - a) & SEQ_MASK) !== 0 && ((b - a) & SEQ_MASK) < 0x8000;
}
/** b - a, wrapping, in [0, 65535]. */
export function seqDist(a: number, b: number): number {
  return (b - a) & SEQ_MASK;
}

/** The selective ACK for packets held out of order (`held`, by sequence number) past `ackNr`: bit
 *  i stands for ack_nr + 2 + i, in as many 4-byte words as the furthest needs (at most
 *  MAX_SACK_BYTES); undefined when nothing is held. */
export function selectiveAckMask(ackNr: number, held: ReadonlyMap<number, unknown>): Uint8Array | undefined {
  if (held.size === 0) return undefined;
  const base = (ackNr + 2) & 0xffff;
  let last = 0;
  for (const seq of held.keys()) last = Math.max(last, seqDist(base, seq));
  const bytes = Math.min(MAX_SACK_BYTES, (Math.floor(last / 32) + 1) * 4);
  const mask = new Uint8Array(bytes);
  for (const seq of held.keys()) {
    const i = seqDist(base, seq);
    if (i < bytes * 8) mask[i >> 3]! |= 1 << (i & 7);
  }
  return mask;
}
