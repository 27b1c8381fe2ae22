// LEDBAT (RFC 6817) as uTP uses it (BEP 29): the congestion window grows while the one-way delay
// our packets meet stays under a 100 ms target above the lowest delay seen lately, and shrinks
// once queues build up past it, so bulk transfers yield to interactive traffic on the same link.

export const TARGET_DELAY_US = 100_000;
/** Most the window grows per round trip at zero queuing delay (libtorrent's and libutp's figure). */
const MAX_GAIN_PER_RTT = 3000;
/** The base delay is the lowest sample of the last two one-minute buckets (clock drift and route
 *  changes make an all-time minimum wrong). */
const BUCKET_MS = 60_000;
/** The delay acted on is the lowest of this many recent samples (libtorrent's figure): one ACK held
 *  up on its way back is not a queue. */
const RECENT_SAMPLES = 3;

/** One-way delay samples (wrapping microseconds, the far clock's offset included) to queuing
 *  delay: the sample less the base, the lowest of the last two one-minute buckets (clock drift and
 *  route changes make an all-time minimum wrong), and of that the lowest of the last three
 *  (libtorrent's rule: one packet held up on its way is not a queue). A sample far below the base
 *  means the clocks jumped: the history starts over. */
export class QueuingDelay {
  /** The queuing delay acted on, microseconds. */
  us = 0;
  /** Per-minute minima of the samples, newest last. */
  private baseHistory: number[] = [];
  private bucketStart = -Infinity;
  private r0 = 0;
  private r1 = 0;
  private r2 = 0;
  private count = 0;

  sample(us: number, nowMs: number): void {
    if (nowMs - this.bucketStart >= BUCKET_MS) {
      this.baseHistory.push(us >>> 0);
      if (this.baseHistory.length > 2) this.baseHistory.shift();
      this.bucketStart = nowMs;
    } else {
      const last = this.baseHistory.length - 1;
      if (wrapLess(us, this.baseHistory[last]!)) this.baseHistory[last] = us >>> 0;
    }
    let base = this.baseHistory[0]!;
    for (const b of this.baseHistory) if (wrapLess(b, base)) base = b;
    let delay = (us - base) >>> 0;
    if (delay > 0x7fffffff) {
      this.baseHistory = [us >>> 0];
      this.count = 0;
      delay = 0;
    }
    // The last RECENT_SAMPLES samples, as a rotation of three fields (no array on the data path).
    this.r2 = this.r1;
    this.r1 = this.r0;
    this.r0 = delay;
    if (this.count < RECENT_SAMPLES) this.count++;
    let min = delay;
    if (this.count > 1 && this.r1 < min) min = this.r1;
    if (this.count > 2 && this.r2 < min) min = this.r2;
    this.us = min;
  }
}

export class Ledbat {
  /** Bytes we may have in flight. */
  cwnd: number;
  private slowStart = true;
  private ssthresh = Infinity;
  private readonly mss: number;
  private readonly maxCwnd: number;
  private readonly delay = new QueuingDelay();

  constructor(mss: number, maxCwnd: number) {
    this.mss = mss;
    this.maxCwnd = maxCwnd;
    this.cwnd = 2 * mss;
  }

  /** The queuing delay acted on (the lowest of the recent samples), microseconds. */
  get queuingDelayUs(): number {
    return this.delay.us;
  }

  /** A one-way delay sample from the peer (its timestamp_difference of our packets). */
  delaySample(us: number, nowMs: number): void {
    if (us === 0) return; // the peer has not measured yet
    this.delay.sample(us, nowMs);
  }

  /** `acked` bytes left the network; `flightBefore` were in flight when the ACK came; `rttUs` is the
   *  shortest round trip of the packets it acked (0: none measured). */
  onAck(acked: number, flightBefore: number, rttUs = 0): void {
    if (acked <= 0) return;
    // Only a window that limited us is evidence it should grow (an idle sender's would run away).
    if (flightBefore + this.mss < this.cwnd) return;
    // No queue is longer than the round trip through it: a sample past that is a clock's fault.
    const delay = rttUs > 0 ? Math.min(this.queuingDelayUs, rttUs) : this.queuingDelayUs;
    // Not bounded below, as libtorrent's: the further past the target, the faster the window shrinks
    // (a full 1 s buffer takes it down 9 × 3,000 bytes per round trip, not 3,000 as when this was
    // bounded at -1).
    const offTarget = Math.min(1, (TARGET_DELAY_US - delay) / TARGET_DELAY_US);
    if (this.slowStart) {
      if (offTarget < 0.1) {
        // The queue reached the target while the window doubled each round trip: the delay seen
        // now answers a window up to half this one, so that is where the queue stands at the
        // target. Kept whole, the window sat far above the target for tens of seconds (LEDBAT
        // gives back at most 3,000 bytes per round trip there) and held its queue against TCP.
        this.slowStart = false;
        this.cwnd = Math.max(this.mss, this.cwnd / 2);
        return;
      }
      if (this.cwnd >= this.ssthresh) this.slowStart = false;
      else {
        this.cwnd = Math.min(this.maxCwnd, this.cwnd + acked);
        return;
      }
    }
    const gain = (MAX_GAIN_PER_RTT * offTarget * acked) / Math.max(this.cwnd, this.mss);
    this.cwnd = Math.max(this.mss, Math.min(this.maxCwnd, this.cwnd + gain));
  }

  /** A packet was lost (fast retransmit): halve, as TCP does; LEDBAT defers to loss too. */
  onLoss(): void {
    this.slowStart = false;
    this.ssthresh = this.cwnd = Math.max(this.mss, this.cwnd / 2);
  }

  /** The retransmission timer fired: the path is doubtful, start from one packet again. */
  onTimeout(): void {
    this.ssthresh = Math.max(2 * this.mss, this.cwnd / 2);
    this.cwnd = this.mss;
    this.slowStart = true;
  }
}

/** a < b for wrapping 32-bit microsecond clocks. */
function wrapLess(a: number, b: number): boolean {
  return ((b - a) >>> 0) !== 0 && ((b - a) >>> 0) < 0x80000000;
}
