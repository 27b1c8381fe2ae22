// What an incremental pass over the cluster's torrents reads (the coordinator's placement, each
// member's peer refresh): the torrents written since its last pass (the change bus's keys), or the
// whole library when a change named no key, when what the pass depends on changed (the live
// members, their epochs…: `seen`), after a failed pass, and every FULL_SWEEP_MS for what no notice
// told (a notice lost while Redis was away).

/** How often a pass reads the whole library whatever it was told. */
export const FULL_SWEEP_MS = 30_000;

export class ToldSet {
  readonly #told = new Set<string>();
  #all: boolean;
  #seen = '';
  #lastFull = -Infinity;

  /** `all`: whether the first pass reads everything whatever `seen` says. */
  constructor(all: boolean) {
    this.#all = all;
  }

  /** Torrents written; a null key: rows not named (the next pass reads everything). */
  tell(keys: readonly (string | null)[]): void {
    for (const k of keys) {
      if (k === null) this.#all = true;
      else this.#told.add(k);
    }
  }

  /** The next pass reads everything (a pass failed, or a rejoin). */
  everything(): void {
    this.#all = true;
  }

  /** What this pass reads: `full`, or the torrents told of since the last pass (taken). */
  take(seen: string, now: number): { full: boolean; told: Set<string> } {
    const full = this.#all || seen !== this.#seen || now - this.#lastFull >= FULL_SWEEP_MS;
    const told = new Set(this.#told);
    this.#told.clear();
    this.#all = false;
    if (full) {
      this.#seen = seen;
      this.#lastFull = now;
    }
    return { full, told };
  }
}
