// Bytes/second over a sliding window of one-second buckets; cheap enough to call per block.
const WINDOW = 5;

// Two meters per block made Date.now() 2% of a fast download's main thread: meters read a clock
// that a timer advances instead (a quarter-second late at worst, in a five-second window).
let nowSecond = Math.floor(Date.now() / 1000);
let clockUsers = 0;
let clock: ReturnType<typeof setInterval> | undefined;
function second(): number {
  if (!clock) return Math.floor(Date.now() / 1000);
  return nowSecond;
}
/** While anyone holds it (a running torrent), meters read the coarse clock. Returns the release. */
export function startCoarseClock(): () => void {
  if (clockUsers++ === 0) {
    nowSecond = Math.floor(Date.now() / 1000);
    clock = setInterval(() => (nowSecond = Math.floor(Date.now() / 1000)), 250);
    (clock as { unref?: () => void }).unref?.();
  }
  return () => {
    if (--clockUsers === 0 && clock) {
      clearInterval(clock);
      clock = undefined;
    }
  };
}

export class SpeedMeter {
  private buckets = new Float64Array(WINDOW);
  private lastSecond = second();
  total = 0;

  add(bytes: number): void {
    this.roll();
    this.buckets[this.lastSecond % WINDOW]! += bytes;
    this.total += bytes;
  }

  /** Average over the last full seconds plus the current partial one. */
  rate(): number {
    this.roll();
    let sum = 0;
    for (const b of this.buckets) sum += b;
    return sum / WINDOW;
  }

  private roll(): void {
    const now = second();
    if (now <= this.lastSecond) return;
    const gap = Math.min(now - this.lastSecond, WINDOW);
    for (let i = 1; i <= gap; i++) this.buckets[(this.lastSecond + i) % WINDOW] = 0;
    this.lastSecond = now;
  }
}
