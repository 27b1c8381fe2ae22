// The receiving side's half of LEDBAT (receiver-side LEDBAT, as rLEDBAT, RFC 9840, does for TCP):
// the window we advertise follows the queuing delay the peer's DATA packets meet on their way to
// us, so that whatever the sender's own congestion control does, its flight stays near the delay
// target and gives way fast when other traffic fills the queue.
//
// Why: a sender's LEDBAT alone leaves the queue at or above the 100 ms target for tens of seconds
// (libtorrent's leaves slow start 30-40 ms past it and gives back at most 3,000 bytes per round
// trip), and a TCP flow arriving then meets a buffer half full of uTP. Measured (bench:swarm
// --link, docs/utp.md): with a Cascade receiver every sender kept 120-140 ms of queue; a
// libtorrent receiver on a loaded machine drops datagrams from its small socket buffer, and
// those losses are what cut its senders down. This controller cuts them down on purpose, from
// the delay, without losing a packet.

import { QueuingDelay, TARGET_DELAY_US } from './ledbat.ts';

/** Least we advertise: two of the largest packets libtorrent sends (a window under one packet
 *  stalls a sender until its zero-window probe). */
export const MIN_DELAY_WINDOW = 3000;
/** Growth per round trip, as a share of the window, with no queue (tapering to none at the target). */
const GROWTH = 0.25;
/** Most the window shrinks per round trip (at twice the target's delay and beyond). */
const MAX_CUT = 0.5;
/** Least the round-trip bound below leaves (a sender that has only just started is not held to it). */
const MIN_BOUND = 64 * 1024;

export class DelayWindow {
  /** Bytes we let the peer have in flight, as far as the delay is concerned. */
  window: number;
  private readonly max: number;
  private readonly delay = new QueuingDelay();
  /** Bytes received since `markAt` (ms), to bound the window by what a round trip brings. */
  private received = 0;
  private markAt = 0;

  /** `max`: the receive buffer (the window while no queue has been seen). */
  constructor(max: number) {
    this.max = max;
    this.window = max;
  }

  /** The queuing delay of the peer's packets to us, microseconds. */
  get queuingDelayUs(): number {
    return this.delay.us;
  }

  /** A DATA packet of `bytes` arrived `delayUs` after its timestamp (our clock less the peer's,
   *  wrapping: the offset between the clocks cancels against the base). Each packet moves the
   *  window by its share of a round trip's change: a window's worth of bytes is one round trip.
   *  `rttMs` (0: not measured) bounds the window by twice what one round trip brought, as TCP's
   *  receive-window autotuning does: a sender may still double its flight each round trip, and a
   *  cut bites at once rather than after the slack above the flight is used up. */
  onData(bytes: number, delayUs: number, nowMs: number, rttMs: number): void {
    this.delay.sample(delayUs, nowMs);
    const offTarget = (TARGET_DELAY_US - this.delay.us) / TARGET_DELAY_US;
    let w = offTarget >= 0 ? this.window + bytes * GROWTH * offTarget : this.window - bytes * Math.min(-offTarget, MAX_CUT);
    this.received += bytes;
    if (rttMs > 0 && nowMs - this.markAt >= rttMs) {
      w = Math.min(w, Math.max(2 * this.received, MIN_BOUND));
      this.received = 0;
      this.markAt = nowMs;
    }
    this.window = Math.max(MIN_DELAY_WINDOW, Math.min(this.max, w));
  }
}
