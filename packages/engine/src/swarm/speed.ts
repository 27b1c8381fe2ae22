// Bytes/second over a sliding window of one-second buckets; cheap enough to call per block.
const WINDOW = 5;

export class SpeedMeter {
  private buckets = new Float64Array(WINDOW);
  private lastSecond = Math.floor(Date.now() / 1000);
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
    const now = Math.floor(Date.now() / 1000);
    if (now === this.lastSecond) return;
    const gap = Math.min(now - this.lastSecond, WINDOW);
    for (let i = 1; i <= gap; i++) this.buckets[(this.lastSecond + i) % WINDOW] = 0;
    this.lastSecond = now;
  }
}
