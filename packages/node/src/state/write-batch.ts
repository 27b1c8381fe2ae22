// Writes given during transfers (a torrent's status, its resume record) must never wait on the
// database: each goes into a batch keyed by torrent, written in one transaction on the next turn
// of the event loop; what is given while a batch is being written goes into the next one, which
// starts only after it ended (PostgreSQL's pool keeps no order between transactions).

export class WriteBatch<K, V> {
  /** What waits for the next batch (the newest per key): read and changed by the owner. */
  pending = new Map<K, V>();
  readonly #write: (batch: Map<K, V>) => Promise<void>;
  #next: Promise<void> | undefined;
  #last: Promise<void> = Promise.resolve();

  constructor(write: (batch: Map<K, V>) => Promise<void>) {
    this.#write = write;
  }

  /** Makes sure a batch will take what is pending; resolves once that batch is stored. */
  schedule(): Promise<void> {
    if (!this.#next) {
      const write = this.#last.then(() => new Promise<void>((r) => setImmediate(r))).then(() => {
        const batch = this.pending;
        this.pending = new Map();
        this.#next = undefined;
        return this.#write(batch);
      });
      this.#next = write;
      this.#last = write.catch(() => {});
    }
    return this.#next;
  }

  /** Resolves once the batches scheduled so far are written (or failed: their callers were told). */
  settled(): Promise<void> {
    return this.#last;
  }
}
