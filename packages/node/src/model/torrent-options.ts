// A torrent's own options (category, tags, limits, seeding goals, force start, queue order) and its
// running totals (bytes over every run, seconds seeded): how a patch is checked, and how they are
// stored in the torrents table (columns of schema 5).

import type { StateDB, TotalsDelta } from '@cascade/node-state';
import type { Store } from '@cascade/node-state/store';
import { bool, fail, objectOf, rate, ratioLimit, secondsLimit, tagList } from './validate.ts';
import { categoryName } from './categories.ts';
import type { TorrentPatch } from '@cascade/shapes';

export type { TorrentPatch };

export const PATCH_KEYS = ['downloadLimit', 'uploadLimit', 'category', 'tags', 'ratioLimit', 'seedingTimeLimit', 'savePath', 'forceStart', 'superSeeding', 'sequential', 'firstLastPiece'] as const;

/** Checks a patch's shape and values (not yet whether its category exists, nor its path: the model does). */
export function parseTorrentPatch(v: unknown, what = 'the torrent patch'): TorrentPatch {
  const o = objectOf(v, what, PATCH_KEYS);
  const p: TorrentPatch = {};
  if ('downloadLimit' in o) p.downloadLimit = rate('downloadLimit', o.downloadLimit);
  if ('uploadLimit' in o) p.uploadLimit = rate('uploadLimit', o.uploadLimit);
  if ('category' in o) p.category = o.category === null || o.category === '' ? null : categoryName('category', o.category);
  if ('tags' in o) p.tags = tagList('tags', o.tags);
  if ('ratioLimit' in o) p.ratioLimit = ratioLimit('ratioLimit', o.ratioLimit, true);
  if ('seedingTimeLimit' in o) p.seedingTimeLimit = secondsLimit('seedingTimeLimit', o.seedingTimeLimit, true);
  if ('forceStart' in o) p.forceStart = bool('forceStart', o.forceStart);
  if ('superSeeding' in o) p.superSeeding = bool('superSeeding', o.superSeeding);
  if ('sequential' in o) p.sequential = bool('sequential', o.sequential);
  if ('firstLastPiece' in o) p.firstLastPiece = bool('firstLastPiece', o.firstLastPiece);
  // Checked as a path by the model, which knows the download and state dirs.
  if ('savePath' in o) {
    if (typeof o.savePath !== 'string') fail('savePath', 'must be a path');
    p.savePath = o.savePath;
  }
  return p;
}

/** The stored options a patch may change (savePath has its own path: it moves data). */
export type StoredOptions = Omit<TorrentPatch, 'savePath' | 'sequential' | 'firstLastPiece'>;


export type { TotalsDelta };

/** The tags created ahead of any torrent, read before the model is made (loadModelState). */
export async function readCreatedTags(store: Store): Promise<string[]> {
  return (await store.all<{ name: string }>('SELECT name FROM created_tags')).map((r) => r.name);
}

/**
 * A torrent's options through the torrent records (state/torrent-records.ts: the Store, then the
 * view in memory), and the tags created ahead of any torrent (the same: the Store, then the set in
 * memory). Writes are async; the reads (tags in use, the queue's order) are the views'.
 */
export class TorrentOptionsStore {
  readonly #db: Pick<StateDB, 'store' | 'records'>;
  readonly #store: Store;
  readonly #created: Set<string>;

  constructor(db: Pick<StateDB, 'store' | 'records'>, createdTags: Iterable<string>) {
    this.#db = db;
    this.#store = db.store;
    this.#created = new Set(createdTags);
  }

  /** Writes the given options of one stored torrent (others untouched). */
  set(infoHash: string, o: StoredOptions): Promise<void> {
    return this.#db.records.setOptions([[infoHash, o]]);
  }

  /** Writes options of several torrents in one transaction (bulk actions): all or none. */
  setEach(changes: readonly (readonly [string, StoredOptions])[]): Promise<void> {
    return this.#db.records.setOptions(changes);
  }

  setSavePath(infoHash: string, savePath: string): Promise<void> {
    return this.#db.records.setSavePath(infoHash, savePath);
  }

  /** Tags torrents carry, and those created ahead of any (createTags), sorted. */
  tags(): string[] {
    const tags = this.#db.records.tagsCarried();
    for (const t of this.#created) tags.add(t);
    return [...tags].sort((a, b) => a.localeCompare(b));
  }

  /** Tags that exist without a torrent until one carries them (or they are deleted). */
  async createTags(tags: readonly string[]): Promise<void> {
    if (tags.length === 0) return;
    await this.#store.transaction(async (tx) => {
      for (const t of tags) await tx.run('INSERT INTO created_tags (name) VALUES (?) ON CONFLICT (name) DO NOTHING', [t]);
    });
    for (const t of tags) this.#created.add(t);
  }

  async deleteCreatedTags(tags: readonly string[]): Promise<void> {
    if (tags.length === 0) return;
    await this.#store.transaction(async (tx) => {
      for (const t of tags) await tx.run('DELETE FROM created_tags WHERE name = ?', [t]);
    });
    for (const t of tags) this.#created.delete(t);
  }

  /** Reads the tags created ahead of any torrent again (another cluster member changed them). */
  async reloadCreatedTags(): Promise<void> {
    const tags = await readCreatedTags(this.#store);
    this.#created.clear();
    for (const t of tags) this.#created.add(t);
  }

  /** Infohashes in stored queue order (lowest position first; ties by when they were added). */
  queueOrder(): string[] {
    return this.#db.records.queueOrder();
  }

  /** Stores a new queue order: positions 1..n in the order given; torrents not named follow. */
  setQueueOrder(order: readonly string[]): Promise<void> {
    return this.#db.records.setQueueOrder(order);
  }

  /** Adds traffic and seeding time to the stored totals, in one transaction. */
  addTotals(batch: readonly TotalsDelta[]): Promise<void> {
    return this.#db.records.addTotals(batch);
  }
}
