// How many block requests each peer gets at once (its pipeline), and the requests it never answered.
import { BLOCK_SIZE } from '../wire/protocol.ts';
import type { Peer } from './peer.ts';
import { clock } from '../clock.ts';

export const MIN_QUEUE = 32;
/** Most requests we keep outstanding with one peer. */
export const MAX_QUEUE = 500;
/**
 * The `reqq` we advertise: how many requests a peer may keep queued with us. libtorrent's
 * downloader keeps min(reqq, its own limit) outstanding, and its high-performance settings allow
 * 2000 (32 MiB), which is also what its own seeder advertises. At 500 (8 MiB) about half of that is
 * already sitting in the socket's buffers at any moment, so whenever the downloader's network thread
 * waits for a CPU our seeder runs out of requests and the connection idles (bench/swarm/README.md,
 * "What libtorrent's downloader sees"). A queued request is a small object; its block is
 * read only when its turn comes.
 */
export const ADVERTISED_REQQ = 2000;
/** A peer's request pipeline holds about this much of its data (see growQueue). */
const PIPELINE_MS = 500;
/** A slow peer's pipeline holds this long of its data, and at least this many blocks (floorFor). */
const SLOW_PIPELINE_MS = 2_000;
const MIN_SLOW_QUEUE = 4;
/** A request unanswered this long goes back to the pool so another peer can serve it. */
const REQUEST_TIMEOUT_MS = 20_000;

/*
 * A peer's pipeline should hold about half a second of its data: less and a fast link runs dry
 * between refills; more and requests pin piece buffers for nothing (a slow peer handed hundreds of
 * blocks holds megabytes of half-filled pieces for a minute, and fifty of them hold hundreds).
 * So it starts at MIN_QUEUE blocks and doubles whenever the peer delivers a whole pipeline in
 * under half a second (a fast peer reaches MAX_QUEUE within a few round trips), and the rate
 * measured each second shrinks it when it holds more than half a second.
 */
export function growQueue(peer: Peer): void {
  if (++peer.windowBlocks < peer.queueTarget) return;
  const now = clock.now();
  if (now - peer.windowStart < PIPELINE_MS) peer.queueTarget = Math.min(peer.remoteReqq, MAX_QUEUE, peer.queueTarget * 2);
  peer.windowBlocks = 0;
  peer.windowStart = now;
}

export function shrinkQueue(peer: Peer): void {
  const rate = peer.down.rate();
  const rateBlocks = Math.ceil((rate * PIPELINE_MS) / 1000 / BLOCK_SIZE);
  peer.queueTarget = Math.min(peer.remoteReqq, Math.max(floorFor(rate), Math.min(peer.queueTarget, rateBlocks)));
}

/**
 * The least a peer's pipeline shrinks to. A peer that sends, but slowly (a home uplink: the swarm
 * lab's 32 KB/s peer), keeps SLOW_PIPELINE_MS of its rate and at least MIN_SLOW_QUEUE blocks, not
 * MIN_QUEUE: 32 blocks held 16 s of such a peer's data, so its blocks outlived the request timeout
 * and were asked of others while it kept sending them (issue 60). A peer not measured yet (rate 0)
 * or faster keeps MIN_QUEUE, so a new or fast link starts as before.
 */
function floorFor(rate: number): number {
  if (rate <= 0) return MIN_QUEUE;
  return Math.min(MIN_QUEUE, Math.max(MIN_SLOW_QUEUE, Math.ceil((rate * SLOW_PIPELINE_MS) / 1000 / BLOCK_SIZE)));
}

/**
 * Requests unanswered for REQUEST_TIMEOUT_MS go back to the pool (`release`) so another peer can
 * serve them, and the peer is told (BEP 3 cancel). Without the cancel it kept them queued and sent
 * them minutes later to a peer that had long since finished: the swarm lab's slow peer spent its
 * whole 32 KB/s uplink on such blocks, and its own requests waited behind them (issue 60).
 */
export function expireRequests(peer: Peer, now: number, release: (index: number, begin: number) => void): void {
  for (const r of peer.requests.values()) {
    if (now - r.at > REQUEST_TIMEOUT_MS) {
      peer.sendCancel(r.index, r.begin, r.length);
      release(r.index, r.begin);
    }
  }
}
