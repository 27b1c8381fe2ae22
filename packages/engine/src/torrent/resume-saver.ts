// When a torrent writes its resume data: a second after the first change (pieces verified in a
// burst cost one save, not one each), and at once when it stops or finishes.

const RESUME_SAVE_MS = 1000;

export class ResumeSaver {
  private dirty = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly write: () => Promise<void>;
  private readonly enabled: boolean;

  constructor(write: () => Promise<void>, enabled: boolean) {
    this.write = write;
    this.enabled = enabled;
  }

  /** Something changed: save within a second. */
  schedule(): void {
    if (this.cancelled) return;
    this.dirty = true;
    if (this.timer || !this.enabled) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, RESUME_SAVE_MS);
    (this.timer as { unref?: () => void }).unref?.();
  }

  /** Saves now if anything changed since the last save. */
  async flush(): Promise<void> {
    if (!this.enabled || !this.dirty || this.cancelled) return;
    this.dirty = false;
    await this.write();
  }

  /** Never saves again (the torrent is going with its data: a save would outlive its rows). */
  cancel(): void {
    this.cancelled = true;
    this.dirty = false;
    this.stop();
  }

  private cancelled = false;

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
