// Every torrent's list row (TorrentSummary), kept between requests and feed ticks. Building a row
// reads the engine's stats, the library record and the model's pending totals: for 10,000 torrents
// that is far too much to do every second, or on every GET /api/torrents. A row is built again only
// when something it shows may have changed:
//   - the engine's TorrentHandle.revision moved (state, bytes, rates, peers, trackers, errors);
//   - its library record changed (category, tags, limits, goals, force start, status, name, save
//     path…): the torrent records in memory (state/torrent-records.ts) mark every record written;
//   - its queue position moved (the queue's last plan);
//   - it appeared, went, or stopped/started being loaded.
// The session's change feed names the torrents whose revision moved, and the records' dirty set the
// records written: a refresh builds those rows and looks at no other, so an idle library costs
// nothing (a full pass, each check a number or string compare, runs only when the queue's positions
// moved). The stored totals (traffic, seeding time) mark nothing: the accounting moves pending
// totals into them every 30 s without changing what the row shows (the sum), and seeding time runs
// on in the client from ListEntry.seedingTimeOrigin.
//
// A rebuilt row that equals the old one keeps the old object and generation, so a revision bump that
// changed nothing visible sends nothing. changesSince() hands the live feed what changed.

import type { StateDB } from '@cascade/node-state';
import type { TorrentChangeFeed, TorrentHandle } from '../core/engine.ts';
import { complete, liveRow, offlineEntry, positionsOf, type ListEntry, type ListingNode } from './listing.ts';
import { pageOf, primeNameOrder, queryEntries, type ListQuery } from './list-query.ts';

interface Cached {
  summary: ListEntry;
  /** Engine revision the row was built at; -1 for a stored row the node has not loaded. */
  revision: number;
  /** Generation at which the row last changed (what the feed compares against). */
  changedAt: number;
  /** Refresh pass that last saw it (live or stored); older means it is gone. */
  seen: number;
}

/** Removals kept for the feed at most. */
const MAX_REMOVALS = 20_000;
/** Queries whose results are kept (a page, its neighbours in another sort, the CLI…). */
const QUERY_MEMO = 4;
/** Rows come or gone, beyond which the names' order is worked out again ahead of requests (fewer
 *  are placed in the order one by one by the request that sorts, at little cost). */
const NAME_ORDER_SLACK = 64;
/** How long the library must stay without such changes first: one pass after a bulk add, not one
 *  per refresh during it. */
const NAME_ORDER_DELAY_MS = 2000;

export type CacheNode = ListingNode & { db: StateDB };

export class SummaryCache {
  readonly #node: CacheNode;
  readonly #entries = new Map<string, Cached>();
  /** Infohashes removed, with the generation they went at (until the feed has sent them). */
  readonly #removed = new Map<string, number>();
  /** Whether a first refresh built every row (the dirty set names only what changed after). */
  #primed = false;
  #stored = new Set<string>();
  #generation = 0;
  #pass = 0;
  /** Torrents a refresh looked at so far (tests check that idle ones are not). */
  #looks = 0;
  /** The last few queries' full results (see query()). */
  #queries: { key: string; generation: number; rows: ListEntry[] }[] = [];
  /** Torrents whose revision moved (or that came or went) since the last refresh. */
  readonly #changes: TorrentChangeFeed | undefined;
  /** The queue's positions the last refresh put in the rows (a new plan makes a new map). */
  #lastPositions: { map: ReadonlyMap<string, number>; size: number } | undefined;
  /** Rows when the names' order was last worked out (see #primeNameOrder). */
  #namesOrderedAt = 0;
  #nameOrderTimer: ReturnType<typeof setTimeout> | undefined;
  /** Rows when that timer was set: a refresh that finds the same count leaves it running. */
  #nameOrderScheduledAt = -1;

  constructor(node: CacheNode) {
    this.#node = node;
    this.#changes = node.session.changes?.();
  }

  /** Builds a torrent's row again at the next refresh: something it shows changed outside the
   *  engine and the library record (a private share found readable, say). */
  touch(infoHash: string): void {
    this.#node.db.records.touch(infoHash);
  }

  get looks(): number {
    return this.#looks;
  }

  /** Grows whenever any row changes, appears or goes. */
  get generation(): number {
    return this.#generation;
  }

  /** Brings every row up to date: compares numbers, builds only the rows that changed. */
  refresh(): void {
    this.#refresh();
    if (Math.abs(this.#entries.size - this.#namesOrderedAt) > NAME_ORDER_SLACK) this.#primeNameOrder();
  }

  /** Orders the names at a quiet moment after the library grew or shrank by many rows. */
  #primeNameOrder(): void {
    if (this.#nameOrderTimer && this.#nameOrderScheduledAt === this.#entries.size) return;
    if (this.#nameOrderTimer) clearTimeout(this.#nameOrderTimer);
    this.#nameOrderScheduledAt = this.#entries.size;
    this.#nameOrderTimer = setTimeout(() => {
      this.#nameOrderTimer = undefined;
      this.#namesOrderedAt = this.#entries.size;
      primeNameOrder(this.rows());
    }, NAME_ORDER_DELAY_MS);
    this.#nameOrderTimer.unref?.();
  }

  #refresh(): void {
    const node = this.#node;
    const pass = ++this.#pass;
    const dirty = this.#takeDirty();
    const changed = this.#changes?.take();
    const positions = positionsOf(node);
    const last = this.#lastPositions;
    this.#lastPositions = { map: positions, size: positions.size };
    if (dirty !== null && changed && last?.map === positions && last.size === positions.size) return this.#refreshNamed(dirty, changed, positions, pass);
    const live = node.session.list();
    this.#looks += live.length;
    const records = node.db.records;
    const rebuild: TorrentHandle[] = [];
    for (const t of live) {
      const ih = t.infoHashHex;
      const c = this.#entries.get(ih);
      if (c) c.seen = pass;
      if (!c || c.revision !== t.revision || dirty === null || dirty.has(ih)) rebuild.push(t);
      else {
        // Only its place in the queue moved (one torrent finishing shifts every one behind it):
        // the same row with the new position, nothing else read.
        const position = complete(c.summary) ? null : (positions.get(ih) ?? null);
        if (c.summary.queuePosition !== position) this.#put(ih, { ...c.summary, queuePosition: position }, c.revision, pass);
      }
    }
    for (const t of rebuild) {
      const ih = t.infoHashHex;
      const revision = t.revision;
      this.#put(ih, liveRow(node, t, positions, records.get(ih)), revision, pass);
    }
    // Stored rows the node has not loaded (a torrent that failed to load): as the library says.
    if (dirty === null || dirty.size > 0 || this.#entries.size !== live.length) {
      if (dirty === null) this.#stored = new Set(Array.from(records.values(), (r) => r.infoHash));
      else for (const ih of dirty) if (records.has(ih)) this.#stored.add(ih); else this.#stored.delete(ih);
      for (const ih of this.#stored) {
        const c = this.#entries.get(ih);
        if (c?.seen === pass) continue; // live
        if (c && c.revision === -1 && dirty !== null && !dirty.has(ih)) {
          c.seen = pass;
          continue;
        }
        const rec = records.get(ih);
        if (rec) this.#put(ih, { ...offlineEntry(rec, node.db), queuePosition: positions.get(ih) ?? null }, -1, pass);
      }
    }
    if (this.#entries.size > 0) {
      for (const [ih, c] of this.#entries) {
        if (c.seen === pass) continue;
        this.#entries.delete(ih);
        this.#removed.set(ih, ++this.#generation);
      }
    }
    // Removals wait for the feed; with no page open for a long time they would pile up: the oldest
    // go (a page that connects later starts from the whole list anyway).
    for (const ih of this.#removed.keys()) {
      if (this.#removed.size <= MAX_REMOVALS) break;
      this.#removed.delete(ih);
    }
  }

  /** The refresh when nothing moved every row (no new queue plan): only the torrents the feed and
   *  the triggers name are looked at. */
  #refreshNamed(dirty: ReadonlySet<string>, changed: ReadonlySet<TorrentHandle>, positions: ReadonlyMap<string, number>, pass: number): void {
    if (dirty.size === 0 && changed.size === 0) return;
    const node = this.#node;
    const named = new Set(dirty);
    for (const t of changed) named.add(t.infoHashHex);
    this.#looks += named.size;
    for (const ih of named) {
      const t = node.session.get(ih);
      const c = this.#entries.get(ih);
      if (t) {
        if (c && c.revision === t.revision && !dirty.has(ih)) continue;
        const rec = node.db.records.get(ih);
        if (rec) this.#stored.add(ih);
        else this.#stored.delete(ih);
        this.#put(ih, liveRow(node, t, positions, rec), t.revision, c?.seen ?? pass);
        continue;
      }
      // Not loaded (removed, or failed to load): a stored row as the library says, or gone.
      const rec = node.db.records.get(ih);
      if (rec) {
        this.#stored.add(ih);
        if (!c || c.revision !== -1 || dirty.has(ih)) this.#put(ih, { ...offlineEntry(rec, node.db), queuePosition: positions.get(ih) ?? null }, -1, c?.seen ?? pass);
      } else {
        this.#stored.delete(ih);
        if (c) {
          this.#entries.delete(ih);
          this.#removed.set(ih, ++this.#generation);
        }
      }
    }
  }

  /**
   * A page of rows as GET /api/torrents asks (filters, sort, offset/limit). The filtered, sorted
   * list is kept while no row changes, so paging through an idle library sorts once.
   */
  query(q: ListQuery, now = Date.now()): { torrents: ListEntry[]; total: number } {
    const { offset, limit, ...rest } = q;
    // Seeding time moves with the clock: a list sorted by it is good for the second it was made in.
    const key = JSON.stringify(rest) + (rest.sort === 'seedingTime' ? `@${Math.floor(now / 1000)}` : '');
    let hit = this.#queries.find((m) => m.key === key && m.generation === this.#generation);
    if (!hit) {
      hit = { key, generation: this.#generation, rows: queryEntries(this.rows(), rest, now).torrents };
      this.#queries = [hit, ...this.#queries.filter((m) => m.key !== key)].slice(0, QUERY_MEMO);
    }
    return pageOf(hit.rows, offset, limit, now);
  }

  /** Every row, in the node's order (live torrents as the cache first saw them, then stored ones). */
  rows(): ListEntry[] {
    return Array.from(this.#entries.values(), (c) => c.summary);
  }

  get(infoHash: string): ListEntry | undefined {
    return this.#entries.get(infoHash)?.summary;
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * Rows changed and infohashes removed after generation `since` (one consumer: the live feed).
   * An infohash is never in both. Removals up to `since` are forgotten: they were sent.
   */
  changesSince(since: number): { updated: ListEntry[]; removed: string[]; generation: number } {
    const updated: ListEntry[] = [];
    if (this.#generation > since) for (const c of this.#entries.values()) if (c.changedAt > since) updated.push(c.summary);
    const removed: string[] = [];
    for (const [ih, at] of this.#removed) {
      if (at <= since) this.#removed.delete(ih);
      else removed.push(ih);
    }
    return { updated, removed, generation: this.#generation };
  }

  /**
   * Rows changed or added after generation `since`, for readers other than the live feed (the
   * compatible APIs' incremental polls): nothing is forgotten, and nothing is looked at when no
   * row changed since. Removals are not named; a reader tells them by the count of rows.
   */
  updatedSince(since: number): ListEntry[] {
    const updated: ListEntry[] = [];
    if (this.#generation > since) for (const c of this.#entries.values()) if (c.changedAt > since) updated.push(c.summary);
    return updated;
  }

  /** Forgets removals up to `generation` (a full list was sent instead). */
  sentUpTo(generation: number): void {
    for (const [ih, at] of this.#removed) if (at <= generation) this.#removed.delete(ih);
  }

  #put(ih: string, summary: ListEntry, revision: number, pass: number): void {
    const c = this.#entries.get(ih);
    if (c && sameRow(c.summary, summary)) {
      c.revision = revision;
      c.seen = pass;
      return;
    }
    const changedAt = ++this.#generation;
    this.#removed.delete(ih);
    if (c) Object.assign(c, { summary, revision, changedAt, seen: pass });
    else this.#entries.set(ih, { summary, revision, changedAt, seen: pass });
  }

  /** Infohashes the records marked since the last call; null the first time (build everything). */
  #takeDirty(): Set<string> | null {
    const dirty = this.#node.db.records.takeDirty();
    if (!this.#primed) {
      this.#primed = true;
      return null;
    }
    return dirty;
  }
}

/**
 * Whether two rows show the same. A seeding row's seeding time runs on from its origin: a rebuild
 * moves both a little (the accounting samples every few seconds), which is not a change.
 */
export function sameRow(a: ListEntry, b: ListEntry): boolean {
  for (const k in b) {
    const key = k as keyof ListEntry;
    const x = a[key];
    const y = b[key];
    if (x === y) continue;
    if (key === 'tags') {
      const p = x as string[];
      const q = y as string[];
      if (p.length === q.length && p.every((v, i) => v === q[i])) continue;
      return false;
    }
    if (key === 'seedingTime' || key === 'seedingTimeOrigin') {
      if (a.seedingTimeOrigin !== null && b.seedingTimeOrigin !== null && Math.abs(a.seedingTimeOrigin - b.seedingTimeOrigin) < CLOCK_SLACK_MS) continue;
      return false;
    }
    return false;
  }
  return true;
}

/** How far a seeding clock's origin may move between rebuilds without counting as a change. */
const CLOCK_SLACK_MS = 5000;

const caches = new WeakMap<object, SummaryCache>();

/** The node's one cache (made on first use). */
export function summaryCache(node: CacheNode): SummaryCache {
  let c = caches.get(node);
  if (!c) caches.set(node, (c = new SummaryCache(node)));
  return c;
}
