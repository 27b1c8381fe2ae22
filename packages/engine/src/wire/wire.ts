// Frames the byte stream from one peer into BEP 3/6/10/52 messages. Structural checks only (lengths,
// ids, sizes); range checks against the torrent happen in the peer layer, which knows piece counts.

import { copyBytes } from '../encoding/hex.ts';
import { MAX_REDELIVER } from '../platform.ts';
import { decodeHandshake, decodeHashMessage, HANDSHAKE_LENGTH, HASH_HEADER_LENGTH, MAX_BLOCK, MSG, type Handshake, type HashRequest } from './protocol.ts';

export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

export interface WireHandler {
  handshake(h: Handshake): void;
  choke(): void;
  unchoke(): void;
  interested(): void;
  notInterested(): void;
  have(index: number): void;
  bitfield(bits: Uint8Array): void;
  request(index: number, begin: number, length: number): void;
  /** `block` may alias the socket's buffer: copy it before the call returns if it must live on. */
  piece(index: number, begin: number, block: Uint8Array): void;
  cancel(index: number, begin: number, length: number): void;
  port(port: number): void;
  haveAll(): void;
  haveNone(): void;
  reject(index: number, begin: number, length: number): void;
  allowedFast(index: number): void;
  /** BEP 6: "you might like this piece" (a seed steering its peers to pieces nobody has yet). */
  suggest?(index: number): void;
  extended(id: number, payload: Uint8Array): void;
  /** BEP 52. `hashes` (base hashes, then uncles) may alias the socket's buffer, like a block. */
  hashRequest(req: HashRequest): void;
  hashes(req: HashRequest, hashes: Uint8Array): void;
  hashReject(req: HashRequest): void;
  error(err: ProtocolError): void;
}

const FIXED_LENGTH: Record<number, number> = {
  [MSG.choke]: 1,
  [MSG.unchoke]: 1,
  [MSG.interested]: 1,
  [MSG.notInterested]: 1,
  [MSG.have]: 5,
  [MSG.request]: 13,
  [MSG.cancel]: 13,
  [MSG.port]: 3,
  [MSG.suggest]: 5,
  [MSG.haveAll]: 1,
  [MSG.haveNone]: 1,
  [MSG.reject]: 13,
  [MSG.allowedFast]: 5,
  [MSG.hashRequest]: HASH_HEADER_LENGTH,
  [MSG.hashReject]: HASH_HEADER_LENGTH,
};

export class Wire {
  /** Largest message accepted: a bitfield for huge torrents or a max-size block, plus headers. */
  maxMessageLength = 4 * 1024 * 1024;
  private chunks: Uint8Array[] = [];
  private head = 0;
  private buffered = 0;
  private handshakeDone = false;
  private dead = false;
  private handler: WireHandler;

  constructor(handler: WireHandler) {
    this.handler = handler;
  }

  /**
   * `borrowed`: the caller reuses `chunk` after this returns, so any unparsed tail is copied, or,
   * when the caller can `redeliver` it, handed back: the return value is how many of the chunk's
   * last bytes must come again at the start of the next chunk.
   */
  push(chunk: Uint8Array, borrowed = false, redeliver = false): number {
    if (this.dead) return 0;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    try {
      this.drain();
    } catch (err) {
      this.dead = true;
      this.handler.error(err instanceof ProtocolError ? err : new ProtocolError(String((err as Error)?.message ?? err)));
    }
    const last = this.chunks.length - 1;
    if (borrowed && last >= 0 && this.chunks[last] === chunk) {
      // A block split across two reads was copied twice (tail, then assembly): handing the tail
      // back costs nothing, and the next read arrives right behind it.
      if (redeliver && last === 0 && this.buffered <= MAX_REDELIVER && !this.dead) {
        const kept = this.buffered;
        this.chunks.length = 0;
        this.head = 0;
        this.buffered = 0;
        return kept;
      }
      const from = last === 0 ? this.head : 0;
      this.chunks[last] = copyBytes(chunk.subarray(from));
      if (last === 0) this.head = 0;
    }
    return 0;
  }

  private drain(): void {
    if (!this.handshakeDone) {
      if (this.buffered < 1) return;
      if (this.chunks[0]![this.head] !== 19) throw new ProtocolError('not a BitTorrent handshake');
      if (this.buffered < HANDSHAKE_LENGTH) return;
      let h: Handshake;
      try {
        h = decodeHandshake(this.take(HANDSHAKE_LENGTH));
      } catch (e) {
        throw new ProtocolError((e as Error).message);
      }
      this.handshakeDone = true;
      this.handler.handshake(h);
    }
    while (!this.dead && this.buffered >= 4) {
      const len = this.peekUint32();
      if (len > this.maxMessageLength) throw new ProtocolError(`message of ${len} bytes exceeds the limit`);
      if (this.buffered < 4 + len) return;
      this.discard(4);
      if (len === 0) continue; // keep-alive
      this.dispatch(this.take(len));
    }
  }

  private dispatch(m: Uint8Array): void {
    const id = m[0]!;
    const fixed = FIXED_LENGTH[id];
    if (fixed !== undefined && m.length !== fixed) throw new ProtocolError(`message ${id} has length ${m.length}, expected ${fixed}`);
    const h = this.handler;
    switch (id) {
      case MSG.choke: return h.choke();
      case MSG.unchoke: return h.unchoke();
      case MSG.interested: return h.interested();
      case MSG.notInterested: return h.notInterested();
      case MSG.have: return h.have(u32(m, 1));
      case MSG.bitfield: return h.bitfield(m.subarray(1));
      case MSG.request:
      case MSG.cancel:
      case MSG.reject: {
        const index = u32(m, 1), begin = u32(m, 5), length = u32(m, 9);
        if (length === 0 || length > MAX_BLOCK) throw new ProtocolError(`block length ${length} out of range`);
        if (id === MSG.request) return h.request(index, begin, length);
        if (id === MSG.cancel) return h.cancel(index, begin, length);
        return h.reject(index, begin, length);
      }
      case MSG.piece: {
        if (m.length < 9) throw new ProtocolError('piece message too short');
        const blockLength = m.length - 9;
        if (blockLength === 0 || blockLength > MAX_BLOCK) throw new ProtocolError(`block length ${blockLength} out of range`);
        return h.piece(u32(m, 1), u32(m, 5), m.subarray(9));
      }
      case MSG.port: return h.port(((m[1]! << 8) | m[2]!));
      case MSG.suggest: return h.suggest?.(u32(m, 1));
      case MSG.haveAll: return h.haveAll();
      case MSG.haveNone: return h.haveNone();
      case MSG.allowedFast: return h.allowedFast(u32(m, 1));
      case MSG.extended:
        if (m.length < 2) throw new ProtocolError('extended message too short');
        return h.extended(m[1]!, m.subarray(2));
      case MSG.hashRequest:
      case MSG.hashes:
      case MSG.hashReject: {
        let decoded;
        try {
          decoded = decodeHashMessage(m);
        } catch (e) {
          throw new ProtocolError((e as Error).message);
        }
        if (id === MSG.hashRequest) return h.hashRequest(decoded.req);
        if (id === MSG.hashReject) return h.hashReject(decoded.req);
        return h.hashes(decoded.req, decoded.hashes);
      }
      default:
        return; // unknown ids are ignored, as BEP 3 asks, so newer extensions don't break us
    }
  }

  private peekUint32(): number {
    const first = this.chunks[0]!;
    if (first.length - this.head >= 4) {
      return ((first[this.head]! << 24) | (first[this.head + 1]! << 16) | (first[this.head + 2]! << 8) | first[this.head + 3]!) >>> 0;
    }
    const b = this.copyOut(4, false);
    return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  }

  private discard(n: number): void {
    this.copyOut(n, true, true);
  }

  /** Bytes [0, n) of the buffered stream; a view into the chunk when it does not span chunks. */
  private take(n: number): Uint8Array {
    const first = this.chunks[0]!;
    if (first.length - this.head >= n) {
      const out = first.subarray(this.head, this.head + n);
      this.advance(n);
      return out;
    }
    return this.copyOut(n, true);
  }

  private advance(n: number): void {
    this.head += n;
    this.buffered -= n;
    if (this.head === this.chunks[0]!.length) {
      this.chunks.shift();
      this.head = 0;
    }
  }

  private copyOut(n: number, consume: boolean, discard = false): Uint8Array {
    const out = discard ? new Uint8Array(0) : new Uint8Array(n);
    let copied = 0;
    let ci = 0;
    let off = this.head;
    while (copied < n) {
      const c = this.chunks[ci]!;
      const take = Math.min(c.length - off, n - copied);
      if (!discard) out.set(c.subarray(off, off + take), copied);
      copied += take;
      off += take;
      if (off === c.length) {
        ci++;
        off = 0;
      }
    }
    if (consume) {
      this.chunks.splice(0, ci);
      this.head = off;
      this.buffered -= n;
    }
    return out;
  }
}

function u32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}
