// Serves peers' block requests. Whole pieces are read once and kept in a small LRU, so a peer
// asking for 64 blocks of one piece costs one disk read, not 64.

import type { Peer } from './peer.ts';
import { sleep, type RateGate } from './rate-limiter.ts';
import { ADVERTISED_REQQ } from './pipeline.ts';
import { clock } from '../clock.ts';

const CACHE_BYTES = 16 * 1024 * 1024;
/** Requests one peer may have queued with us (see request()). */
export const MAX_QUEUED_UPLOADS = 2 * ADVERTISED_REQQ;
const READ_AHEAD = 4;
/** Evicted piece buffers kept for the next reads. */
const SPARE_BUFFERS = 8;
/** Blocks sent in one corked turn before the loop yields; a limited batch waits for at most this many. */
const BLOCKS_PER_TURN = 64;
/**
 * What one connection may hold written but unsent (in Node's buffers, before the kernel's): about
 * SEND_QUEUE_MS of what it drains, between the bounds. The socket alone queued up to 1 MiB (its
 * high-water mark, for fast links' batches), which on the swarm lab's 32 KB/s uplink was a minute
 * of blocks per connection: blocks its peers had cancelled or stopped wanting still went out, and
 * our own requests waited behind them (issue 60).
 */
const SEND_QUEUE_MS = 500;
const MIN_SEND_BUDGET = 32 * 1024;
/** Before a connection has drained anything to measure: small, as libtorrent's send buffer starts at
 *  its low watermark. 256 KiB on each of the 8 first slots was 2 MiB queued on the lab's 32 KB/s
 *  uplink: its requests and HAVEs waited a minute behind blocks, so the finished peers, unchoking it,
 *  heard nothing from it (slow scenario: its completion 129-134 s -> 102-105 s). A fast link doubles
 *  it every 100 ms it empties: 1 MiB within half a second (perf-check unchanged). */
const FIRST_SEND_BUDGET = 32 * 1024;
const MAX_SEND_BUDGET = 1024 * 1024;
/** Waiting on a connection that is over its budget: rechecked after this long at most. */
const MAX_SEND_WAIT_MS = 250;

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
  limit?: RateGate,
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
    let wait = 0;
    // A slow link: fill only its allowance, and come back when some of it has drained.
    let allowance = sendAllowance(peer, clock.now());
    if (allowance <= 0) {
      // A fast link has taken the last batch by the next turn of the loop (the write's callback
      // is what lowers the count); only a slow one waits on a timer.
      await new Promise<void>((resolve) => setImmediate(resolve));
      allowance = sendAllowance(peer, clock.now());
      if (allowance <= 0) await sleep(Math.min(MAX_SEND_WAIT_MS, Math.max(10, (-allowance / drainRate(peer)) * 1000)));
      continue;
    }
    // An upload limit: each block waits for its tokens (the clock is read only when one is set),
    // and once they ran out the loop sleeps until a batch of blocks may go (rate-limiter.ts).
    const limited = limit?.limited ?? false;
    peer.conn.cork();
    while (writable && peer.uploads.length > 0 && !peer.closed && sent < BLOCKS_PER_TURN) {
      const r = peer.uploads[0]!;
      const piece = cache.peek(r.index);
      if (!piece) break;
      if (limited) {
        const now = clock.now();
        if (limit!.waitFor(r.length, now) > 0) {
          wait = limit!.waitFor(Math.min(limit!.batch(r.length), queuedBytes(peer.uploads)), now);
          break;
        }
        limit!.take(r.length, now);
      }
      peer.uploads.shift();
      writable = peer.sendBlock(r.index, r.begin, piece.subarray(r.begin, r.begin + r.length));
      onSent(r.length);
      sent++;
      if ((allowance -= r.length) <= 0) break;
    }
    peer.conn.uncork();
    if (!writable) await new Promise<void>((resolve) => peer.waitDrain(resolve));
    else if (wait > 0) await sleep(Math.ceil(wait));
  }
}

/**
 * Bytes this connection may take now (≤ 0: wait). The budget follows the link: sampled each turn,
 * a connection that stayed backlogged since the last sample drained at its link's rate, and gets
 * SEND_QUEUE_MS of that; one that emptied could have taken more, and its budget doubles. Transports
 * that cannot say what they hold unsent get MAX_SEND_BUDGET, as before.
 */
export function sendAllowance(peer: Peer, now: number): number {
  const unsent = peer.conn.unsent?.();
  if (unsent === undefined) return MAX_SEND_BUDGET;
  if (peer.sendBudget === 0) peer.sendBudget = FIRST_SEND_BUDGET;
  const dispatched = peer.up.total - unsent;
  const last = peer.sendSample;
  if (last && now - last.at >= 100) {
    if (last.backlogged && unsent > 0) {
      const rate = ((dispatched - last.dispatched) * 1000) / (now - last.at);
      peer.sendBudget = Math.min(MAX_SEND_BUDGET, Math.max(MIN_SEND_BUDGET, (rate * SEND_QUEUE_MS) / 1000));
    } else if (unsent === 0) peer.sendBudget = Math.min(MAX_SEND_BUDGET, peer.sendBudget * 2);
  }
  if (!last || now - last.at >= 100) peer.sendSample = { at: now, dispatched, backlogged: unsent > 0 };
  return peer.sendBudget - unsent;
}

/** Bytes/s the connection drains at, as far as the budget knows (it is SEND_QUEUE_MS of it). */
function drainRate(peer: Peer): number {
  return (peer.sendBudget * 1000) / SEND_QUEUE_MS;
}

/** Bytes of the requests queued, up to the blocks one turn sends. */
function queuedBytes(uploads: readonly { length: number }[]): number {
  let n = 0;
  for (let i = 0; i < uploads.length && i < BLOCKS_PER_TURN; i++) n += uploads[i]!.length;
  return n;
}

/** What serving uploads needs of the torrent. */
export interface UploadHost {
  cache(): PieceCache | undefined;
  has(index: number): boolean;
  pieceSize(index: number): number;
  /** `bytes` of a block went out to `peer`. */
  sent(peer: Peer, bytes: number): void;
  warn(message: string): void;
  /** A piece could not be read from storage (counted as a disk error when the OS refused it). */
  readFailed?(err: Error): void;
  /** The upload limit the torrent's blocks pass (its own and the session's). */
  limit(): RateGate;
}

/** Takes peers' block requests and runs one serveUploads loop per peer while it has any. */
export class UploadServer {
  private readonly host: UploadHost;
  private readonly serving = new WeakSet<Peer>();

  constructor(host: UploadHost) {
    this.host = host;
  }

  request(peer: Peer, index: number, begin: number, length: number): void {
    // Past twice the reqq we advertise a peer is not pipelining but flooding: each queued request
    // is memory we hold for it (and a cancel searches them), so the excess is refused as libtorrent
    // refuses past max_allowed_in_request_queue. Twice: a client may run a little over reqq.
    if (!this.host.has(index) || peer.amChoking || peer.uploads.length >= MAX_QUEUED_UPLOADS) return peer.sendReject(index, begin, length);
    peer.uploads.push({ index, begin, length });
    if (peer.uploads.length === 1) this.serve(peer);
  }

  cancel(peer: Peer, index: number, begin: number): void {
    const i = peer.uploads.findIndex((r) => r.index === index && r.begin === begin);
    if (i > 0) peer.uploads.splice(i, 1);
  }

  private serve(peer: Peer): void {
    const cache = this.host.cache();
    if (this.serving.has(peer) || !cache) return;
    this.serving.add(peer);
    void serveUploads(
      peer,
      cache,
      (i) => this.host.pieceSize(i),
      (bytes) => this.host.sent(peer, bytes),
      (err) => {
        this.host.readFailed?.(err);
        this.host.warn(`cannot read piece for upload: ${err.message}`);
      },
      this.host.limit(),
    ).finally(() => {
      this.serving.delete(peer);
      if (peer.uploads.length > 0 && !peer.closed && !peer.amChoking) this.serve(peer);
    });
  }
}
