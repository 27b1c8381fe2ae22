// Serves peers' block requests. Whole pieces are read once and kept in a small LRU, so a peer
// asking for 64 blocks of one piece costs one disk read, not 64.

import type { Peer } from './peer.ts';

const CACHE_BYTES = 64 * 1024 * 1024;

export class PieceCache {
  private entries = new Map<number, Promise<Uint8Array>>();
  private bytes = 0;
  private sizes = new Map<number, number>();
  private read: (index: number) => Promise<Uint8Array>;

  constructor(read: (index: number) => Promise<Uint8Array>) {
    this.read = read;
  }

  get(index: number, size: number): Promise<Uint8Array> {
    let e = this.entries.get(index);
    if (e) {
      // Re-insert to mark as most recently used.
      this.entries.delete(index);
      this.entries.set(index, e);
      return e;
    }
    e = this.read(index);
    e.catch(() => this.drop(index));
    this.entries.set(index, e);
    this.sizes.set(index, size);
    this.bytes += size;
    while (this.bytes > CACHE_BYTES && this.entries.size > 1) {
      this.drop(this.entries.keys().next().value!);
    }
    return e;
  }

  /** A freshly verified piece is likely to be requested by other peers right away. */
  put(index: number, data: Uint8Array): void {
    this.drop(index);
    this.entries.set(index, Promise.resolve(data));
    this.sizes.set(index, data.length);
    this.bytes += data.length;
    while (this.bytes > CACHE_BYTES && this.entries.size > 1) this.drop(this.entries.keys().next().value!);
  }

  private drop(index: number): void {
    if (!this.entries.delete(index)) return;
    this.bytes -= this.sizes.get(index) ?? 0;
    this.sizes.delete(index);
  }

  clear(): void {
    this.entries.clear();
    this.sizes.clear();
    this.bytes = 0;
  }
}

/** Drains one peer's request queue, waiting for the socket to drain when it pushes back. */
export async function serveUploads(
  peer: Peer,
  cache: PieceCache,
  pieceSize: (i: number) => number,
  onSent: (bytes: number) => void,
  onError: (err: Error) => void,
): Promise<void> {
  while (!peer.closed && peer.uploads.length > 0 && !peer.amChoking) {
    const r = peer.uploads[0]!;
    let piece: Uint8Array;
    try {
      piece = await cache.get(r.index, pieceSize(r.index));
    } catch (err) {
      onError(err as Error);
      peer.uploads.length = 0;
      return;
    }
    // The request may have been cancelled while we read.
    if (peer.uploads[0] !== r) continue;
    peer.uploads.shift();
    const writable = peer.sendBlock(r.index, r.begin, piece.subarray(r.begin, r.begin + r.length));
    onSent(r.length);
    if (!writable) await new Promise<void>((resolve) => peer.waitDrain(resolve));
  }
}
