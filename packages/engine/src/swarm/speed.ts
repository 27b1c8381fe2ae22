// Bytes/second over the last few seconds, cheap enough to call per block.
//
// What users read off these numbers (issue 20, defect 1): within ±10% of the real rate under a
// steady transfer, and 0 within 2 s of the transfer stopping. The old meter averaged five
// one-second buckets *including the current, partial one* (up to 20% low under a steady rate) and
// took five seconds to forget a transfer that had stopped. This one keeps quarter-second slots,
// divides by the time the window really spans (not by its nominal length, so a transfer that just
// began is not averaged with seconds of nothing), and says 0 once nothing arrived for IDLE_MS.

import { clock } from '../clock.ts';

const SLOT_MS = 250;
/** The rate is averaged over this many whole slots plus the current partial one (3 s). */
const WINDOW_SLOTS = 12;
const SLOTS = WINDOW_SLOTS + 1;
/** Nothing moved for this long: the transfer stopped, the rate is 0. */
const IDLE_MS = 1250;
/** A transfer younger than this is averaged over this long: no spike from its first block. */
const MIN_SPAN_MS = 250;

// Two meters per block made Date.now() 2% of a fast download's main thread: add() reads a slot
// number that a timer advances instead (at most a tick late); rate(), called a few times a second,
// reads the real clock.
const CLOCK_TICK_MS = 100;
let coarseSlot = Math.floor(clock.now() / SLOT_MS);
let clockUsers = 0;
let ticker: ReturnType<typeof setInterval> | undefined;
function currentSlot(): number {
  return ticker ? coarseSlot : Math.floor(clock.now() / SLOT_MS);
}

/** While anyone holds it (a running torrent), meters read the coarse clock. Returns the release. */
export function startCoarseClock(): () => void {
  if (clockUsers++ === 0) {
    coarseSlot = Math.floor(clock.now() / SLOT_MS);
    ticker = setInterval(() => (coarseSlot = Math.floor(clock.now() / SLOT_MS)), CLOCK_TICK_MS);
    (ticker as { unref?: () => void }).unref?.();
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--clockUsers === 0 && ticker) {
      clearInterval(ticker);
      ticker = undefined;
    }
  };
}

export class SpeedMeter {
  private slots = new Float64Array(SLOTS);
  /** Newest slot the array holds (older ones are zeroed as time moves on). */
  private slot = currentSlot();
  /** Slot of the latest add (-Infinity: never). */
  private lastAddSlot = -Infinity;
  /** Start (ms) of the current run of activity: the first add after an idle spell. */
  private activeFrom = 0;
  total = 0;

  add(bytes: number): void {
    const s = currentSlot();
    if (s > this.slot) this.roll(s);
    // The first bytes after an idle spell: the real clock, once, so a young transfer's span is exact.
    if ((s - this.lastAddSlot) * SLOT_MS > IDLE_MS) this.activeFrom = clock.now();
    this.lastAddSlot = s;
    // rate() may have rolled past the coarse clock: the bytes go into the newest slot.
    this.slots[this.slot % SLOTS]! += bytes;
    this.total += bytes;
  }

  /** Bytes/second over the last ~3 s; 0 when nothing moved for over a second. */
  rate(now = clock.now()): number {
    const s = Math.floor(now / SLOT_MS);
    if (s > this.slot) this.roll(s);
    // lastAddSlot is the coarse slot (a tick behind at worst): idleness counts from that slot's end,
    // so a stop shows as 0 within IDLE_MS + SLOT_MS (1.5 s), and a trickle of one 16 KiB block a
    // second still shows as a rate.
    if (now - (this.lastAddSlot + 1) * SLOT_MS >= IDLE_MS) return 0;
    let sum = 0;
    for (let i = 0; i < SLOTS; i++) sum += this.slots[i]!;
    if (sum === 0) return 0;
    const windowStart = (this.slot - WINDOW_SLOTS) * SLOT_MS;
    const span = Math.max(MIN_SPAN_MS, now - Math.max(windowStart, this.activeFrom));
    return (sum * 1000) / span;
  }

  private roll(s: number): void {
    const gap = Math.min(s - this.slot, SLOTS);
    for (let i = 1; i <= gap; i++) this.slots[(this.slot + i) % SLOTS] = 0;
    this.slot = s;
  }
}

/**
 * Time left from a smoothed rate: the rate itself already averages a few seconds, and the estimate
 * follows it with a time constant of a few more, so the ETA does not jump with every burst.
 * Infinity when nothing is moving (unknown), as TorrentStats.eta says.
 */
export class EtaEstimator {
  private smoothed = 0;
  private at = 0;
  private readonly tauMs: number;

  constructor(tauMs = 5000) {
    this.tauMs = tauMs;
  }

  eta(bytesLeft: number, rate: number, now = clock.now()): number {
    if (rate <= 0) {
      this.smoothed = 0;
      return bytesLeft === 0 ? 0 : Infinity;
    }
    if (this.smoothed <= 0) this.smoothed = rate;
    else this.smoothed += (rate - this.smoothed) * (1 - Math.exp(-Math.max(0, now - this.at) / this.tauMs));
    this.at = now;
    return bytesLeft / this.smoothed;
  }
}
