// Keys noted within the last `windowMs`: which torrents index() published less than 5 minutes ago
// (a seed says 'done' at every start; a completion seen twice in a row publishes once). A key older
// than the window says nothing, so it is dropped as newer ones are noted: before, a Map kept one
// entry per torrent ever published, removed ones included, for the node's life (issue 63).

export class Recent {
  /** key → when noted; in insertion order, which note() keeps the order of time. */
  readonly #at = new Map<string, number>();
  readonly #windowMs: number;
  readonly #now: () => number;

  constructor(windowMs: number, now: () => number = Date.now) {
    this.#windowMs = windowMs;
    this.#now = now;
  }

  /** Whether `key` was noted within the window. */
  has(key: string): boolean {
    const at = this.#at.get(key);
    return at !== undefined && this.#now() - at < this.#windowMs;
  }

  note(key: string): void {
    const now = this.#now();
    this.#at.delete(key);
    this.#at.set(key, now);
    for (const [k, at] of this.#at) {
      if (now - at < this.#windowMs) break;
      this.#at.delete(k);
    }
  }

  forget(key: string): void {
    this.#at.delete(key);
  }

  get size(): number {
    return this.#at.size;
  }
}
