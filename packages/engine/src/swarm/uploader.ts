// Serves peers' block requests. Whole pieces are read once and kept in a small LRU, so a peer
// asking for 64 blocks of one piece costs one disk read, not 64.

import type { Peer } from './peer.ts';

const CACHE_BYTES = 16 * 1024 * 1024;
const READ_AHEAD = 4;
/** Evicted piece buffers kept for the next reads. */
const SPARE_BUFFERS = 8;

export class PieceCache {
  private entries = new Map<number, Promise<Uint8Array>>();
  /** Pieces whose read has completed, for synchronous access. */
  private ready = new Map<number, Uint8Array>();
  private bytes = 0;
  private sizes = new Map<number, number>();
  private read: (index: number, into?: Uint8Array) => Promise<Uint8Array>;
  private drained: () => boolean;
  /**
   * Reading every piece into a fresh buffer made a seeder allocate 1 GiB per GiB sent, and the
   * garbage collector cost as much as the disk reads. Evicted buffers are reused instead, but only
   * once `drained()` says no socket still holds a block of them in its write queue (`retired`
   * until then, `spare` after).
   */
  private retired: Uint8Array[] = [];
  private spare: Uint8Array[] = [];

  constructor(read: (index: number, into?: Uint8Array) => Promise<Uint8Array>, drained: () => boolean = () => false) {
    this.read = read;
    this.drained = drained;
  }

  get(index: number, size: number): Promise<Uint8Array> {
    let e = this.entries.get(index);
    if (e) {
      // Re-insert to mark as most recently used.
      this.entries.delete(index);
      this.entries.set(index, e);
      return e;
    }
    e = this.read(index, this.reusable(size));
    e.then((data) => {
      if (this.entries.get(index) === e) this.ready.set(index, data);
    }, () => this.drop(index));
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
    this.ready.set(index, data);
    this.sizes.set(index, data.length);
    this.bytes += data.length;
    while (this.bytes > CACHE_BYTES && this.entries.size > 1) this.drop(this.entries.keys().next().value!);
  }

  peek(index: number): Uint8Array | undefined {
    return this.ready.get(index);
  }

  private reusable(size: number): Uint8Array | undefined {
    if (this.retired.length > 0 && this.drained()) {
      for (const b of this.retired) this.spare.push(b);
      this.retired.length = 0;
    }
    const i = this.spare.findIndex((b) => b.length === size);
    if (i < 0) return undefined;
    const b = this.spare[i]!;
    this.spare[i] = this.spare[this.spare.length - 1]!;
    this.spare.pop();
    return b;
  }

  private drop(index: number): void {
    const data = this.ready.get(index);
    this.ready.delete(index);
    if (!this.entries.delete(index)) return;
    this.bytes -= this.sizes.get(index) ?? 0;
    this.sizes.delete(index);
    if (data && this.retired.length + this.spare.length < SPARE_BUFFERS) this.retired.push(data);
  }

  clear(): void {
    this.entries.clear();
    this.ready.clear();
    this.sizes.clear();
    this.bytes = 0;
    // Whatever was in flight may still be queued on a socket: nothing comes back from here.
    this.retired.length = 0;
    this.spare.length = 0;
  }
}

/** Drains one peer's request queue. Blocks of pieces already in memory go out in one corked
 *  batch (one writev instead of two writes per block); the loop waits only for disk reads and
 *  for the socket to drain when it pushes back. */
export async function serveUploads(
  peer: Peer,
  cache: PieceCache,
  pieceSize: (i: number) => number,
  onSent: (bytes: number) => void,
  onError: (err: Error) => void,
): Promise<void> {
  while (!peer.closed && peer.uploads.length > 0 && !peer.amChoking) {
    const first = peer.uploads[0]!;
    if (!cache.peek(first.index)) {
      // Read the next few pieces the peer wants in parallel, so one disk read never idles the pipe.
      const ahead = new Set<number>();
      for (const r of peer.uploads) {
        if (ahead.size >= READ_AHEAD) break;
        if (!ahead.has(r.index) && !cache.peek(r.index)) {
          ahead.add(r.index);
          if (r.index !== first.index) cache.get(r.index, pieceSize(r.index)).catch(() => {});
        }
      }
      try {
        await cache.get(first.index, pieceSize(first.index));
      } catch (err) {
        onError(err as Error);
        peer.uploads.length = 0;
        return;
      }
      continue; // the queue may have changed while we read
    }
    let writable = true;
    let sent = 0;
    peer.conn.cork();
    while (writable && peer.uploads.length > 0 && !peer.closed && sent < 64) {
      const r = peer.uploads[0]!;
      const piece = cache.peek(r.index);
      if (!piece) break;
      peer.uploads.shift();
      writable = peer.sendBlock(r.index, r.begin, piece.subarray(r.begin, r.begin + r.length));
      onSent(r.length);
      sent++;
    }
    peer.conn.uncork();
    if (!writable) await new Promise<void>((resolve) => peer.waitDrain(resolve));
  }
}
