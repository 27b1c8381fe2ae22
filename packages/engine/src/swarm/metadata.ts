// BEP 9: fetch the info dictionary from peers when we start from a magnet, serve it when we have it.
//
// A peer's metadata_size and pieces are claims: the only proof is that the whole hashes to the
// infohash. So the dictionary is fetched from one peer at a time, and a failure is that peer's
// alone: a size that does not hash out (too big, too small) or garbage pieces mark it a liar, never
// asked again, and the next peer is tried. Peers that reject or stall are benched for a while.
// Which peer goes first: the one whose size most peers agree on, then the earliest to offer.

import { sha1 } from '../hashing/sha1.ts';
import { sha256 } from '../hashing/sha256.ts';
import { copyBytes, toHex } from '../encoding/hex.ts';
import { decodeMetadata, encodeMetadata, MAX_METADATA_SIZE, METADATA_PIECE } from '../wire/extended.ts';
import type { Peer } from './peer.ts';
import { clock } from '../clock.ts';

/** No piece from the peer being asked for this long: it is benched and another is tried. */
const REQUEST_TIMEOUT_MS = 10_000;
/** How long a peer that rejected or stalled waits before it may be asked again. */
const BENCH_MS = 15_000;
/** Requests in flight at once: a 10 MB dictionary is not 640 requests in one burst. */
const WINDOW = 16;

interface Attempt {
  peer: Peer;
  size: number;
  pieces: (Uint8Array | undefined)[];
  received: number;
  requested: Set<number>;
  next: number;
  /** Last time the peer answered (or the attempt began). */
  lastAt: number;
}

export class MetadataExchange {
  infoBytes: Uint8Array | undefined;
  private infoHashHex: string;
  /** BEP 52: the SHA-256 the dictionary must hash to, when the magnet named one. */
  private infoHashV2Hex: string | undefined;
  private onComplete: (info: Uint8Array) => void;
  /** Peers that advertised ut_metadata with a usable size, in the order they did. */
  private offers = new Set<Peer>();
  private attempt: Attempt | undefined;
  /** Addresses and peer ids whose metadata failed: never asked again, even after reconnecting. */
  private liars = new Set<string>();
  private benched = new WeakMap<Peer, number>();

  constructor(infoHashHex: string, infoBytes: Uint8Array | undefined, onComplete: (info: Uint8Array) => void, infoHashV2Hex?: string) {
    this.infoHashHex = infoHashHex;
    this.infoHashV2Hex = infoHashV2Hex;
    this.infoBytes = infoBytes;
    this.onComplete = onComplete;
  }

  /** A peer told us its extensions: it may serve the dictionary. */
  peerReady(peer: Peer): void {
    if (this.infoBytes || !peer.ext?.m.ut_metadata) return;
    const size = peer.ext.metadataSize;
    if (!size || size > MAX_METADATA_SIZE || this.isLiar(peer)) return;
    this.offers.add(peer);
    if (!this.attempt) this.startNext();
  }

  handle(peer: Peer, payload: Uint8Array): void {
    const msg = decodeMetadata(payload);
    if (msg.type === 'request') {
      const total = this.infoBytes?.length ?? 0;
      if (!this.infoBytes || msg.piece * METADATA_PIECE >= total) {
        peer.sendExtended('ut_metadata', encodeMetadata({ type: 'reject', piece: msg.piece }));
        return;
      }
      const data = this.infoBytes.subarray(msg.piece * METADATA_PIECE, Math.min(total, (msg.piece + 1) * METADATA_PIECE));
      peer.sendExtended('ut_metadata', encodeMetadata({ type: 'data', piece: msg.piece, totalSize: total, data }));
      return;
    }
    const a = this.attempt;
    // Answers from anyone but the peer being asked (a late one from a benched peer) are ignored.
    if (this.infoBytes || !a || a.peer !== peer || !a.requested.delete(msg.piece)) return;
    if (msg.type === 'reject') return this.abandon(false);
    const expected = Math.min(METADATA_PIECE, a.size - msg.piece * METADATA_PIECE);
    if (msg.totalSize !== a.size || msg.data.length !== expected) {
      this.abandon(true);
      peer.destroy('ut_metadata piece has the wrong size');
      return;
    }
    a.pieces[msg.piece] = copyBytes(msg.data);
    a.received++;
    a.lastAt = clock.now();
    peer.usefulAt = a.lastAt; // it is serving us: not a connection to evict
    if (a.received === a.pieces.length) this.assemble(a);
    else this.fill(a);
  }

  /** Once a second: drop an attempt whose peer left or went quiet, start one if none runs. */
  tick(): void {
    if (this.infoBytes) return;
    const a = this.attempt;
    if (a && (a.peer.closed || clock.now() - a.lastAt > REQUEST_TIMEOUT_MS)) this.abandon(false);
    if (!this.attempt) this.startNext();
  }

  private isLiar(peer: Peer): boolean {
    return this.liars.has(peer.key) || (!!peer.remoteId && this.liars.has(toHex(peer.remoteId)));
  }

  /** Ends the current attempt; a liar is never asked again, anyone else only after a while. */
  private abandon(liar: boolean): void {
    const a = this.attempt;
    if (!a) return;
    this.attempt = undefined;
    this.offers.delete(a.peer);
    if (liar) {
      this.liars.add(a.peer.key);
      if (a.peer.remoteId) this.liars.add(toHex(a.peer.remoteId));
    } else if (!a.peer.closed) {
      this.benched.set(a.peer, clock.now() + BENCH_MS);
      this.offers.add(a.peer); // back of the queue
    }
    queueMicrotask(() => this.tick());
  }

  private startNext(): void {
    const now = clock.now();
    const votes = new Map<number, number>();
    const ready: Peer[] = [];
    for (const p of this.offers) {
      const size = p.ext?.metadataSize;
      if (p.closed || !size || size > MAX_METADATA_SIZE || this.isLiar(p)) {
        this.offers.delete(p);
        continue;
      }
      votes.set(size, (votes.get(size) ?? 0) + 1);
      if ((this.benched.get(p) ?? 0) <= now) ready.push(p);
    }
    let best: Peer | undefined;
    for (const p of ready) if (!best || votes.get(p.ext!.metadataSize!)! > votes.get(best.ext!.metadataSize!)!) best = p;
    if (!best) return;
    const size = best.ext!.metadataSize!;
    this.attempt = {
      peer: best, size, pieces: new Array(Math.ceil(size / METADATA_PIECE)).fill(undefined),
      received: 0, requested: new Set(), next: 0, lastAt: now,
    };
    this.fill(this.attempt);
  }

  /** A v1 id is the SHA-1 of the dictionary, a v2 one its SHA-256 (BEP 52); a hybrid magnet that
   *  names both must get a dictionary that hashes to both. */
  private proves(info: Uint8Array): boolean {
    const v2 = this.infoHashV2Hex;
    if (v2 && toHex(sha256(info)) !== v2) return false;
    return (v2 !== undefined && this.infoHashHex === v2.slice(0, 40)) || toHex(sha1(info)) === this.infoHashHex;
  }

  private fill(a: Attempt): void {
    while (a.requested.size < WINDOW && a.next < a.pieces.length) {
      const i = a.next++;
      a.requested.add(i);
      a.peer.sendExtended('ut_metadata', encodeMetadata({ type: 'request', piece: i }));
    }
  }

  private assemble(a: Attempt): void {
    const info = new Uint8Array(a.size);
    a.pieces.forEach((p, i) => info.set(p!, i * METADATA_PIECE));
    if (!this.proves(info)) return this.abandon(true);
    this.attempt = undefined;
    this.offers.clear();
    this.infoBytes = info;
    this.onComplete(info);
  }
}
