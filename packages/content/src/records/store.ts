// What a DHT node keeps for others: records put to it under the targets it is close to, each checked
// as a reader would (openRecord) before it is kept, within limits per publisher and per key so that
// one publisher cannot fill a key or the node, and dropped when they expire. Platform-free.

import { openRecord, RecordError, subjectOf, targetOf, type VerifiedRecord } from './record.ts';

export interface StoreLimits {
  /** Records one publisher may keep under one key (one per torrent). */
  perPublisherPerKey: number;
  /** Records under one key, all publishers together. */
  perKey: number;
  /** Records one publisher may keep on this node, all keys together. */
  perPublisher: number;
  /** Records on this node. */
  total: number;
}

export const DEFAULT_STORE_LIMITS: StoreLimits = { perPublisherPerKey: 8, perKey: 128, perPublisher: 512, total: 50_000 };

/** put() drops every expired record at most this often (seconds of the store's clock): a key nobody
 *  asks or puts again kept its records after they expired (get and put prune only their own key),
 *  and they still counted against their publisher's and the node's limits. */
export const PRUNE_EVERY_SECONDS = 600;

/** A kept record and the address its publisher put it from (where a reader may find the torrent). */
export interface StoredRecord {
  record: VerifiedRecord;
  host: string;
}

/** Says why a record contradicts what this node knows (e.g. it holds the torrent and its files'
 *  content ids differ), or undefined when it does not. */
export type Contradiction = (r: VerifiedRecord) => string | undefined;

export class RecordStore {
  private readonly limits: StoreLimits;
  private readonly now: () => number;
  private readonly contradicts: Contradiction | undefined;
  /** target hex → (publisher + subject) → record */
  private readonly byTarget = new Map<string, Map<string, StoredRecord>>();
  private readonly perPublisher = new Map<string, number>();
  private count = 0;
  private lastPrune: number;

  constructor(opts: { limits?: Partial<StoreLimits>; now?: () => number; contradicts?: Contradiction } = {}) {
    this.limits = { ...DEFAULT_STORE_LIMITS, ...opts.limits };
    this.now = opts.now ?? (() => Date.now() / 1000);
    this.contradicts = opts.contradicts;
    this.lastPrune = this.now();
  }

  get size(): number {
    return this.count;
  }

  /** Keeps a record put by `host` under `target` (20 bytes), or throws a RecordError saying why not. */
  put(bytes: Uint8Array, sig: Uint8Array, target: Uint8Array, host: string): VerifiedRecord {
    const now = this.now();
    if (now - this.lastPrune >= PRUNE_EVERY_SECONDS) this.prune();
    const record = openRecord(bytes, sig, { now });
    if (!sameBytes(targetOf(record.key), target)) throw new RecordError(`record for ${record.key} put under another target`);
    const why = this.contradicts?.(record);
    if (why) throw new RecordError(why);
    const t = toHex(target);
    this.expire(t, now);
    const entries = this.byTarget.get(t) ?? new Map<string, StoredRecord>();
    const id = `${record.publisher} ${subjectOf(record)}`;
    const old = entries.get(id);
    if (old) {
      if (record.issued < old.record.issued) throw new RecordError('older than the record this publisher already has here');
      entries.set(id, { record, host });
      return record;
    }
    let mine = 0;
    for (const e of entries.values()) if (e.record.publisher === record.publisher) mine++;
    if (mine >= this.limits.perPublisherPerKey) throw new RecordError(`a publisher keeps at most ${this.limits.perPublisherPerKey} records under one key`);
    if ((this.perPublisher.get(record.publisher) ?? 0) >= this.limits.perPublisher) throw new RecordError(`a publisher keeps at most ${this.limits.perPublisher} records on this node`);
    if (entries.size >= this.limits.perKey) {
      // Full key: the record nearest its end gives way to one that lives longer, else the new one is refused.
      const [soonestId, soonest] = [...entries].reduce((a, b) => (b[1].record.expires < a[1].record.expires ? b : a));
      if (soonest.record.expires >= record.expires) throw new RecordError(`key ${record.key} is full`);
      this.drop(entries, soonestId);
    }
    if (this.count >= this.limits.total) throw new RecordError('this node keeps no more records');
    entries.set(id, { record, host });
    this.byTarget.set(t, entries);
    this.perPublisher.set(record.publisher, (this.perPublisher.get(record.publisher) ?? 0) + 1);
    this.count++;
    return record;
  }

  /**
   * The live records under `target`, at most `max` and `maxBytes` of signed bytes: one per publisher
   * in turn, publishers in random order, so that neither the newest nor the most prolific fill a reply.
   */
  get(target: Uint8Array, max = 12, maxBytes = 6000): StoredRecord[] {
    const t = toHex(target);
    this.expire(t, this.now());
    const entries = this.byTarget.get(t);
    if (!entries) return [];
    const byPublisher = new Map<string, StoredRecord[]>();
    for (const e of entries.values()) {
      const list = byPublisher.get(e.record.publisher) ?? [];
      list.push(e);
      byPublisher.set(e.record.publisher, list);
    }
    const queues = shuffle([...byPublisher.values()]);
    const out: StoredRecord[] = [];
    let bytes = 0;
    for (let round = 0; out.length < max && queues.some((q) => q.length > round); round++) {
      for (const q of queues) {
        const e = q[round];
        if (!e) continue;
        if (out.length >= max || bytes + e.record.bytes.length > maxBytes) return out;
        out.push(e);
        bytes += e.record.bytes.length;
      }
    }
    return out;
  }

  /** Drops every expired record (a node runs this now and then; get and put prune their own key). */
  prune(): void {
    const now = this.now();
    this.lastPrune = now;
    for (const t of [...this.byTarget.keys()]) this.expire(t, now);
  }

  /** Drops `publisher`'s record about `subject` (subjectOf) under `target`: this node's own, once
   *  its torrent left the library or its statement no longer has that key (a rename's old words). */
  remove(target: Uint8Array, publisher: string, subject: string): void {
    const t = toHex(target);
    const entries = this.byTarget.get(t);
    if (!entries) return;
    this.drop(entries, `${publisher} ${subject}`);
    if (entries.size === 0) this.byTarget.delete(t);
  }

  private expire(t: string, now: number): void {
    const entries = this.byTarget.get(t);
    if (!entries) return;
    for (const [id, e] of entries) if (e.record.expires <= now) this.drop(entries, id);
    if (entries.size === 0) this.byTarget.delete(t);
  }

  private drop(entries: Map<string, StoredRecord>, id: string): void {
    const e = entries.get(id);
    if (!e) return;
    entries.delete(id);
    this.count--;
    const n = (this.perPublisher.get(e.record.publisher) ?? 1) - 1;
    if (n > 0) this.perPublisher.set(e.record.publisher, n);
    else this.perPublisher.delete(e.record.publisher);
  }
}

function shuffle<T>(a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
