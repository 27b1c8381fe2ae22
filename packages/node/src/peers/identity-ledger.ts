// Reputation by verified identity (a did proved through the Cascade wire extension), kept in the
// state DB: bytes of pieces the identity sent that passed the hash, pieces it contributed to that
// failed, and bans. Deltas are summed in memory and written every few seconds (and on close), as
// the peer ledger does for addresses. A peer's own reputation claim never enters it.
import { startFlushTimer, addDeltas, type IdentityDelta, type IdentityRecord, type StateDB } from '@cascade/node-state';

const MiB = 1024 * 1024;

/** 0..1 from what this node verified itself: grows with verified data, each hash failure weighs
 *  like 16 MiB against it, and any ban makes it 0. No record: 0. */
export function reputationOf(r: IdentityRecord | undefined): number {
  if (!r || r.bans > 0) return 0;
  const mib = r.verifiedBytes / MiB;
  return mib / (mib + 16 * r.hashFailures + 1);
}

/** Nothing held against it: no ban and no piece that failed. Such a verified peer gets the fast lane. */
export function isClean(r: IdentityRecord | undefined): boolean {
  return !r || (r.bans === 0 && r.hashFailures === 0);
}

export class IdentityLedger {
  readonly #db: StateDB | undefined;
  readonly #pending = new Map<string, IdentityDelta>();
  readonly #timer: NodeJS.Timeout | undefined;
  /** Batches being written: still counted by record() until the stored records have them. */
  readonly #writing = new Set<IdentityDelta[]>();
  #last: Promise<void> = Promise.resolve();

  constructor(db: StateDB | undefined, flushIntervalMs = 5000) {
    this.#db = db;
    this.#timer = db ? startFlushTimer(flushIntervalMs, () => this.flush()) : undefined;
  }

  #entry(did: string): IdentityDelta {
    let d = this.#pending.get(did);
    if (!d) this.#pending.set(did, (d = { did, verifiedBytes: 0, hashFailures: 0, bans: 0, lastSeen: Date.now() }));
    d.lastSeen = Date.now();
    return d;
  }

  seen(did: string, account: string): void {
    this.#entry(did).account = account;
  }

  verified(did: string, bytes: number): void {
    this.#entry(did).verifiedBytes += bytes;
  }

  hashFailed(did: string): void {
    this.#entry(did).hashFailures++;
  }

  banned(did: string): void {
    this.#entry(did).bans++;
  }

  /** The stored record (in memory: no wait on the database) with what is still pending added in. */
  record(did: string): IdentityRecord | undefined {
    let r = this.#db?.identityRecord(did);
    for (const batch of this.#writing) for (const d of batch) if (d.did === did) r = addDeltas(r, d);
    const p = this.#pending.get(did);
    return p ? addDeltas(r, p) : r;
  }

  /** Writes what is pending (after the flushes before it); resolves once stored. */
  flush(): Promise<void> {
    if (!this.#db || this.#pending.size === 0) return this.#last;
    const batch = [...this.#pending.values()];
    this.#pending.clear();
    this.#writing.add(batch);
    const write = this.#last.then(() => this.#write(batch));
    this.#last = write.catch(() => {});
    return write;
  }

  async #write(batch: IdentityDelta[]): Promise<void> {
    try {
      await this.#db!.recordIdentities(batch);
    } catch (err) {
      for (const d of batch) {
        const cur = this.#pending.get(d.did);
        if (!cur) this.#pending.set(d.did, d);
        else {
          cur.verifiedBytes += d.verifiedBytes;
          cur.hashFailures += d.hashFailures;
          cur.bans += d.bans;
          cur.account ??= d.account;
        }
      }
      throw err;
    } finally {
      this.#writing.delete(batch);
    }
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.flush();
  }
}
