// BEP 9: fetch the info dictionary from peers when we start from a magnet, serve it when we have it.
// Pieces come from any peer; the whole is accepted only if its SHA-1 equals the infohash.

import { sha1 } from '../sha1.ts';
import { copyBytes, toHex } from '../hex.ts';
import { decodeMetadata, encodeMetadata, MAX_METADATA_SIZE, METADATA_PIECE } from '../wire/extended.ts';
import type { Peer } from './peer.ts';

const REQUEST_TIMEOUT_MS = 10_000;

export class MetadataExchange {
  infoBytes: Uint8Array | undefined;
  private infoHashHex: string;
  private size = 0;
  private pieces: (Uint8Array | undefined)[] = [];
  private requested = new Map<number, { peer: Peer; at: number }>();
  private onComplete: (info: Uint8Array) => void;

  constructor(infoHashHex: string, infoBytes: Uint8Array | undefined, onComplete: (info: Uint8Array) => void) {
    this.infoHashHex = infoHashHex;
    this.infoBytes = infoBytes;
    this.onComplete = onComplete;
  }

  /** A peer told us its extensions: start asking it for pieces if it can serve them. */
  peerReady(peer: Peer): void {
    if (this.infoBytes || !peer.ext?.m.ut_metadata) return;
    const size = peer.ext.metadataSize;
    if (!size || size > MAX_METADATA_SIZE) return;
    if (this.size === 0) {
      this.size = size;
      this.pieces = new Array(Math.ceil(size / METADATA_PIECE)).fill(undefined);
    }
    if (size !== this.size) return;
    this.requestFrom(peer);
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
    if (this.infoBytes) return;
    const req = this.requested.get(msg.piece);
    if (!req || req.peer !== peer) return;
    this.requested.delete(msg.piece);
    if (msg.type === 'reject') return;
    const expected = Math.min(METADATA_PIECE, this.size - msg.piece * METADATA_PIECE);
    if (msg.totalSize !== this.size || msg.data.length !== expected) {
      peer.destroy('ut_metadata piece has the wrong size');
      return;
    }
    this.pieces[msg.piece] = copyBytes(msg.data);
    if (this.pieces.every(Boolean)) this.assemble();
    else this.requestFrom(peer);
  }

  /** Re-issue requests that timed out or whose peer left. */
  tick(peers: Iterable<Peer>): void {
    if (this.infoBytes || this.size === 0) return;
    const now = Date.now();
    for (const [piece, r] of this.requested) {
      if (r.peer.closed || now - r.at > REQUEST_TIMEOUT_MS) this.requested.delete(piece);
    }
    for (const p of peers) if (!p.closed && p.ext?.metadataSize === this.size) this.requestFrom(p);
  }

  private requestFrom(peer: Peer): void {
    for (let i = 0; i < this.pieces.length; i++) {
      if (this.pieces[i] || this.requested.has(i)) continue;
      this.requested.set(i, { peer, at: Date.now() });
      peer.sendExtended('ut_metadata', encodeMetadata({ type: 'request', piece: i }));
    }
  }

  private assemble(): void {
    const info = new Uint8Array(this.size);
    this.pieces.forEach((p, i) => info.set(p!, i * METADATA_PIECE));
    if (toHex(sha1(info)) !== this.infoHashHex) {
      // Someone sent garbage: start over rather than trust any piece of it.
      this.pieces = this.pieces.map(() => undefined);
      this.requested.clear();
      return;
    }
    this.infoBytes = info;
    this.onComplete(info);
  }
}
