// BEP 3 / BEP 6 / BEP 10 / BEP 52 message ids and encoders. Encoders return fresh Uint8Arrays; `piece`
// returns a header only so the block itself is written without being copied.

import { copyBytes, toHex } from '../encoding/hex.ts';
import { uncleCount, type HashRange } from '../hashing/merkle.ts';

export const PROTOCOL = new TextEncoder().encode('BitTorrent protocol');
export const HANDSHAKE_LENGTH = 68;

export const MSG = {
  choke: 0,
  unchoke: 1,
  interested: 2,
  notInterested: 3,
  have: 4,
  bitfield: 5,
  request: 6,
  piece: 7,
  cancel: 8,
  port: 9,
  suggest: 0x0d,
  haveAll: 0x0e,
  haveNone: 0x0f,
  reject: 0x10,
  allowedFast: 0x11,
  extended: 20,
  hashRequest: 21,
  hashes: 22,
  hashReject: 23,
} as const;

export const BLOCK_SIZE = 16 * 1024;
/** One number per block of a torrent, for maps of requests: 16384 blocks per piece covers the
 *  largest allowed piece (256 MiB), and index × 2^14 stays exact in a double. */
export function blockKey(index: number, begin: number): number {
  return index * 16384 + begin / BLOCK_SIZE;
}
/** Largest block we serve or accept (BEP 3 clients use 16 KiB; some ask for up to 128 KiB). */
export const MAX_BLOCK = 128 * 1024;

export interface HandshakeFlags {
  extended: boolean;
  fast: boolean;
  dht: boolean;
  /** BEP 52: we speak v2 for this torrent (reserved byte 7, 0x10). */
  v2?: boolean;
}

export function encodeHandshake(infoHash: Uint8Array, peerId: Uint8Array, flags: HandshakeFlags): Uint8Array {
  const out = new Uint8Array(HANDSHAKE_LENGTH);
  out[0] = 19;
  out.set(PROTOCOL, 1);
  if (flags.extended) out[25] = 0x10;
  out[27] = (flags.v2 ? 0x10 : 0) | (flags.fast ? 0x04 : 0) | (flags.dht ? 0x01 : 0);
  out.set(infoHash, 28);
  out.set(peerId, 48);
  return out;
}

export interface Handshake {
  infoHash: Uint8Array;
  peerId: Uint8Array;
  flags: Required<HandshakeFlags>;
}

export function decodeHandshake(b: Uint8Array): Handshake {
  if (b[0] !== 19) throw new Error('bad handshake: protocol length');
  for (let i = 0; i < 19; i++) if (b[1 + i] !== PROTOCOL[i]) throw new Error('bad handshake: protocol name');
  return {
    infoHash: copyBytes(b.subarray(28, 48)),
    peerId: copyBytes(b.subarray(48, 68)),
    flags: { extended: (b[25]! & 0x10) !== 0, fast: (b[27]! & 0x04) !== 0, dht: (b[27]! & 0x01) !== 0, v2: (b[27]! & 0x10) !== 0 },
  };
}

/**
 * Big-endian uint32 at `at`, byte by byte. Not a DataView: reading `.buffer` of a small typed
 * array makes V8 move it off its heap into an ArrayBuffer of its own, ~1 µs and garbage per message,
 * and a transfer sends a request and a piece header per 16 KiB block (20× slower than these stores).
 */
function put32(out: Uint8Array, at: number, n: number): void {
  out[at] = n >>> 24;
  out[at + 1] = n >>> 16;
  out[at + 2] = n >>> 8;
  out[at + 3] = n;
}

function frame(id: number, payloadLength: number): Uint8Array {
  const out = new Uint8Array(5 + payloadLength);
  put32(out, 0, 1 + payloadLength);
  out[4] = id;
  return out;
}

export const KEEPALIVE = new Uint8Array(4);

export function encodeSimple(id: number): Uint8Array {
  return frame(id, 0);
}

export function encodeIndex(id: number, index: number): Uint8Array {
  const out = frame(id, 4);
  put32(out, 5, index);
  return out;
}

export function encodeBitfield(bits: Uint8Array): Uint8Array {
  const out = frame(MSG.bitfield, bits.length);
  out.set(bits, 5);
  return out;
}

/** request, cancel and reject share one layout. */
export function encodeBlockRef(id: number, index: number, begin: number, length: number): Uint8Array {
  const out = frame(id, 12);
  put32(out, 5, index);
  put32(out, 9, begin);
  put32(out, 13, length);
  return out;
}

/** Piece headers are cut from a shared arena: a typed array of 13 bytes of its own lives on V8's
 *  heap, and the socket's writev then moves each into an ArrayBuffer of its own (one per 16 KiB
 *  sent). A full arena is left to the writes that still hold its headers; a new one takes over. */
const HEADER_ARENA = 65_536;
let arena = new Uint8Array(new ArrayBuffer(HEADER_ARENA));
let arenaAt = 0;

export function encodePieceHeader(index: number, begin: number, blockLength: number): Uint8Array {
  if (arenaAt + 13 > HEADER_ARENA) {
    arena = new Uint8Array(new ArrayBuffer(HEADER_ARENA));
    arenaAt = 0;
  }
  const out = arena.subarray(arenaAt, (arenaAt += 13));
  put32(out, 0, 9 + blockLength);
  out[4] = MSG.piece;
  put32(out, 5, index);
  put32(out, 9, begin);
  return out;
}

export function encodePort(port: number): Uint8Array {
  const out = frame(MSG.port, 2);
  out[5] = port >>> 8;
  out[6] = port;
  return out;
}

export function encodeExtended(extId: number, payload: Uint8Array): Uint8Array {
  const out = frame(MSG.extended, 1 + payload.length);
  out[5] = extId;
  out.set(payload, 6);
  return out;
}

/** BEP 52 hash request, hashes and hash reject share this header: which file's tree (by its pieces
 *  root), the layer asked for (0 = 16 KiB blocks), the first node and how many, and how many
 *  ancestor layers of proof. */
export interface HashRequest extends HashRange {
  piecesRoot: Uint8Array;
}

export const HASH_HEADER_LENGTH = 1 + 32 + 16;
/** libtorrent answers at most this many base hashes per request; more is no honest request. */
export const MAX_HASH_COUNT = 8192;
/** A tree over 2^32 blocks (64 TiB files) has 32 layers: deeper proofs cannot exist. */
export const MAX_PROOF_LAYERS = 32;

export function encodeHashMessage(id: number, req: HashRequest, hashes?: Uint8Array): Uint8Array {
  const out = frame(id, HASH_HEADER_LENGTH - 1 + (hashes?.length ?? 0));
  out.set(req.piecesRoot, 5);
  put32(out, 37, req.baseLayer);
  put32(out, 41, req.index);
  put32(out, 45, req.length);
  put32(out, 49, req.proofLayers);
  if (hashes) out.set(hashes, 53);
  return out;
}

/** The header of a hash request/hashes/hash reject body (id byte first); throws on a malformed
 *  one. For `hashes` the body must hold exactly the base hashes and the uncles the header implies. */
export function decodeHashMessage(m: Uint8Array): { req: HashRequest; hashes: Uint8Array } {
  if (m.length < HASH_HEADER_LENGTH) throw new Error(`hash message of ${m.length} bytes is too short`);
  const req: HashRequest = {
    piecesRoot: copyBytes(m.subarray(1, 33)),
    baseLayer: readU32(m, 33),
    index: readU32(m, 37),
    length: readU32(m, 41),
    proofLayers: readU32(m, 45),
  };
  // BEP 52: a power of two greater than one (one hash alone has no subtree to prove).
  if (req.length < 2 || req.length > MAX_HASH_COUNT || (req.length & (req.length - 1)) !== 0) throw new Error(`hash count ${req.length} is not a power of two in 2..${MAX_HASH_COUNT}`);
  if (req.baseLayer >= MAX_PROOF_LAYERS || req.proofLayers >= MAX_PROOF_LAYERS) throw new Error('hash layers out of range');
  const body = m.length - HASH_HEADER_LENGTH;
  if (m[0] !== MSG.hashes) {
    if (body !== 0) throw new Error(`hash request/reject of ${m.length} bytes, expected ${HASH_HEADER_LENGTH}`);
    return { req, hashes: new Uint8Array(0) };
  }
  const expected = (req.length + uncleCount(req)) * 32;
  if (body !== expected) throw new Error(`hashes message carries ${body} bytes of hashes, its header implies ${expected}`);
  return { req, hashes: m.subarray(HASH_HEADER_LENGTH) };
}

function readU32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/** A connection speaks v2 when the torrent does (`v2Short`: its truncated v2 infohash) and the peer
 *  named it by that id or set the v2 bit (BEP 52); a v1 torrent's peer setting the bit is simply a
 *  v1 peer here. */
export function speaksV2(v2Short: Uint8Array | undefined, namedHex: string, v2Bit: boolean): boolean {
  return !!v2Short && (v2Bit || namedHex === toHex(v2Short));
}
