// Writes given during transfers (a torrent's status, its resume record) must never wait on the
// database: each goes into a batch keyed by torrent, written in one transaction on the next turn
// of the event loop; what is given while a batch is being written goes into the next one, which
// starts only after it ended (PostgreSQL's pool keeps no order between transactions).
//
// A batch that failed because the database is away (issue 42 item 6) is not dropped: its entries go
// back to the pending ones (unless a newer one was given meanwhile) and are tried again every
// RETRY_MS until the database is back. Pending holds one entry per key, so an outage of any length
// costs at most one entry per torrent.

import { isUnreachable } from './unreachable.ts';

/** How often a batch the database could not take is tried again. */
export const RETRY_MS = 2000;

export class WriteBatch<K, V> {
  /** What waits for the next batch (the newest per key): read and changed by the owner. */
  pending = new Map<K, V>();
  readonly #write: (batch: Map<K, V>) => Promise<void>;
  #next: Promise<void> | undefined;
  #last: Promise<void> = Promise.resolve();
  #retry: NodeJS.Timeout | undefined;

  constructor(write: (batch: Map<K, V>) => Promise<void>) {
    this.#write = write;
  }

  /** Makes sure a batch will take what is pending; resolves once that batch is stored. */
  schedule(): Promise<void> {
    if (!this.#next) {
      const write = this.#last.then(() => new Promise<void>((r) => setImmediate(r))).then(async () => {
        const batch = this.pending;
        this.pending = new Map();
        this.#next = undefined;
        try {
          await this.#write(batch);
        } catch (err) {
          if (isUnreachable(err)) this.#keep(batch);
          throw err;
        }
      });
      this.#next = write;
      this.#last = write.catch(() => {});
    }
    return this.#next;
  }

  /** The database was away: the batch waits for the next try, behind anything given since. */
  #keep(batch: Map<K, V>): void {
    for (const [k, v] of batch) if (!this.pending.has(k)) this.pending.set(k, v);
    if (this.#retry) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      if (this.pending.size > 0) this.schedule().catch(() => {});
    }, RETRY_MS);
    this.#retry.unref();
  }

  /** Resolves once the batches scheduled so far are written (or failed: their callers were told). */
  settled(): Promise<void> {
    return this.#last;
  }
}
