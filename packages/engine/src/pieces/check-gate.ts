// Whose check reads the disk now. Each check holds PARALLEL_READS piece buffers (check.ts) and reads
// its files as fast as the disk gives them: checks of many torrents at once (a "recheck all" over a
// library added with its data, as cross-seeding tools do) hold torrents × 4 × the piece length in
// memory (500 torrents of 16 MiB pieces: 32 GB) and make the disk seek between all their files, so
// each takes longer than all of them one by one. libtorrent checks one torrent at a time
// (settings_pack::active_checking, 1), as qBittorrent ("max active checking torrents", 1) and
// Transmission (one verify at a time, the rest "queued for verification") do. First come, first served.

import { clock } from '../clock.ts';

/** A check's turn: `leave` once its reads are done (a second call does nothing); `waited` when
 *  it queued behind others (what it saw of its files before may be old); `progress` after each piece. */
export interface CheckTurn {
  leave(): void;
  waited: boolean;
  progress(): void;
}

/** A check that read no piece this long gives its turn up (and reads on): storage that hangs (a
 *  network store that stopped answering, a dying disk) must not hold every other check with it. */
export const STALLED_TURN_MS = 60_000;

export class CheckGate {
  #limit: number;
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  readonly #stalledMs: number;

  /** `limit` checks read at once; 0 = no limit. */
  constructor(limit = 1, opts: { stalledMs?: number } = {}) {
    this.#limit = limit;
    this.#stalledMs = opts.stalledMs ?? STALLED_TURN_MS;
  }

  get limit(): number {
    return this.#limit;
  }

  /** A raised limit lets waiting checks in at once; a lowered one lets running checks finish. */
  set limit(n: number) {
    this.#limit = Math.max(0, Math.floor(n));
    while (this.#waiting.length > 0 && this.#free()) {
      this.#running++;
      this.#waiting.shift()!();
    }
  }

  /** A check asking now would wait. */
  get busy(): boolean {
    return !this.#free() || this.#waiting.length > 0;
  }

  /** Checks waiting for their turn. */
  get waiting(): number {
    return this.#waiting.length;
  }

  get running(): number {
    return this.#running;
  }

  async enter(): Promise<CheckTurn> {
    let waited = false;
    if (this.#free()) this.#running++;
    else {
      waited = true;
      // The leaving check hands its place over (counted in #running for us): a check that calls
      // enter() between that hand-over and our wake-up cannot take it too.
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    let left = false;
    let lastProgress = clock.now();
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    const leave = () => {
      if (left) return;
      left = true;
      clearTimeout(watchdog);
      const next = this.#running - 1 < this.#limit || this.#limit === 0 ? this.#waiting.shift() : undefined;
      if (next) next();
      else this.#running--;
    };
    // One timer per turn, re-armed only when it fires (not per piece).
    const watch = (ms: number) => {
      watchdog = setTimeout(() => {
        const idle = clock.now() - lastProgress;
        if (idle >= this.#stalledMs) leave();
        else watch(this.#stalledMs - idle);
      }, ms);
      (watchdog as { unref?: () => void }).unref?.();
    };
    watch(this.#stalledMs);
    return { waited, leave, progress: () => void (lastProgress = clock.now()) };
  }

  #free(): boolean {
    return this.#limit === 0 || this.#running < this.#limit;
  }
}
