// The collation order of the texts a list sorts by (names, categories, trackers…), kept between
// requests. Comparing two strings with Intl.Collator (case-blind, numbers by value) costs about a
// microsecond; sorting 10,000 names takes ~130,000 comparisons, most of a page request's 50 ms.
// Names change rarely, so each distinct text gets a rank once, and a sort compares ranks. Texts the
// collator calls equal ("Ubuntu" and "ubuntu") share a rank: the sort's infohash tie-break applies.

export class TextOrder {
  readonly #collator: Intl.Collator;
  /** Distinct texts in collation order. */
  #sorted: string[] = [];
  #rank = new Map<string, number>();

  constructor(collator: Intl.Collator) {
    this.#collator = collator;
  }

  /** Each text's rank; texts not seen before are placed first (a few: binary insertion; many: a new sort). */
  ranks(texts: readonly string[]): Map<string, number> {
    const missing = new Set<string>();
    for (const t of texts) if (!this.#rank.has(t)) missing.add(t);
    if (missing.size === 0) return this.#rank;
    const cmp = this.#collator.compare;
    // Texts no row has any more are dropped when the order is made anew: at most twice what is used.
    if (missing.size > 64 || this.#sorted.length > 2 * texts.length + 64) {
      this.#sorted = [...new Set([...texts])].sort(cmp);
    } else {
      for (const t of missing) {
        let lo = 0;
        let hi = this.#sorted.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (cmp(this.#sorted[mid]!, t) < 0) lo = mid + 1;
          else hi = mid;
        }
        this.#sorted.splice(lo, 0, t);
      }
    }
    const rank = new Map<string, number>();
    let r = 0;
    for (let i = 0; i < this.#sorted.length; i++) {
      if (i > 0 && cmp(this.#sorted[i - 1]!, this.#sorted[i]!) !== 0) r = i;
      rank.set(this.#sorted[i]!, r);
    }
    this.#rank = rank;
    return rank;
  }
}
