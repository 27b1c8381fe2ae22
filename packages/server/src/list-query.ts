// Filtering and sorting list rows: GET /api/torrents?category=&tag=&state=&tracker=&search=&sort=&order=
// and the control RPC `list` with the same params. Ties always break by infohash, so a sorted list
// is stable from one refresh to the next.

import { UsageError } from './errors.ts';
import { seedingTimeAt, type ListEntry } from './listing.ts';

export interface ListQuery {
  category?: string | undefined;
  tag?: string | undefined;
  state?: string | undefined;
  tracker?: string | undefined;
  search?: string | undefined;
  sort?: string | undefined;
  order?: 'asc' | 'desc' | undefined;
  offset?: number | undefined;
  limit?: number | undefined;
}

export const ENTRY_STATES = ['metadata', 'checking', 'downloading', 'seeding', 'paused', 'queued', 'error'] as const;
export const STATE_GROUPS = ['active', 'inactive', 'completed', 'stalled'] as const;

/** Sort keys: every scalar entry field, plus the names a user says for some of them. */
const SORT_ALIASES: Record<string, keyof ListEntry> = { size: 'length', added: 'addedAt', completed: 'completedAt', queue: 'queuePosition' };
const SORTABLE: readonly (keyof ListEntry)[] = [
  'infoHash', 'name', 'state', 'progress', 'verifiedPieces', 'pieceCount', 'length', 'downloadSpeed', 'uploadSpeed', 'eta',
  'peers', 'seeds', 'downloaded', 'uploaded', 'savePath', 'live', 'error', 'category', 'queuePosition', 'downloadLimit',
  'uploadLimit', 'ratioLimit', 'seedingTimeLimit', 'forceStart', 'ratio', 'seedingTime', 'totalDownloaded', 'totalUploaded',
  'addedAt', 'completedAt', 'tracker', 'tags',
];

function sortKey(sort: string): keyof ListEntry {
  const key = SORT_ALIASES[sort] ?? (sort as keyof ListEntry);
  if (!SORTABLE.includes(key)) throw new UsageError(`"sort" cannot be "${sort.slice(0, 40)}"; use one of: size, ${SORTABLE.join(', ')}`);
  return key;
}

const moving = (e: ListEntry) => e.downloadSpeed > 0 || e.uploadSpeed > 0;
const isComplete = (e: ListEntry) => e.state === 'seeding' || (e.progress !== null && e.progress >= 1 && e.pieceCount !== null);

function stateMatcher(state: string): (e: ListEntry) => boolean {
  switch (state) {
    case 'active':
      return moving;
    case 'inactive':
      return (e) => !moving(e);
    case 'completed':
      return isComplete;
    case 'stalled':
      // Running but nothing moves: a download with no data coming, a seed no one takes from.
      return (e) => (e.state === 'downloading' && e.downloadSpeed === 0) || (e.state === 'seeding' && e.uploadSpeed === 0);
    default:
      if (!(ENTRY_STATES as readonly string[]).includes(state)) {
        throw new UsageError(`"state" cannot be "${state.slice(0, 40)}"; use one of: ${[...ENTRY_STATES, ...STATE_GROUPS].join(', ')}`);
      }
      return (e) => e.state === state;
  }
}

// One collator each, made once: String#localeCompare with options builds one per call, which is
// most of the time of sorting 10,000 names.
const byText = new Intl.Collator(undefined, { sensitivity: 'base', numeric: true });
const byList = new Intl.Collator();

function compare(a: unknown, b: unknown): number {
  // null (unknown) sorts after every value, whichever the order; see queryEntries.
  if (typeof a === 'string' && typeof b === 'string') return byText.compare(a, b);
  if (Array.isArray(a) && Array.isArray(b)) return byList.compare(a.join(','), b.join(','));
  return Number(a) - Number(b);
}

/**
 * The rows a query asks for, and how many matched before offset/limit. `now` is when seeding
 * clocks are read (ListEntry.seedingTimeOrigin): sorting by seeding time, and the rows returned.
 */
export function queryEntries(entries: ListEntry[], q: ListQuery, now = Date.now()): { torrents: ListEntry[]; total: number } {
  const filters: ((e: ListEntry) => boolean)[] = [];
  if (q.category !== undefined) filters.push(q.category === '' ? (e) => e.category === null : (e) => e.category === q.category);
  if (q.tag !== undefined && q.tag !== '') filters.push((e) => e.tags.includes(q.tag!));
  if (q.state !== undefined && q.state !== '' && q.state !== 'all') filters.push(stateMatcher(q.state));
  if (q.tracker !== undefined && q.tracker !== '') {
    const host = q.tracker.toLowerCase();
    filters.push((e) => (e.tracker ?? '').toLowerCase() === host);
  }
  const text = (q.search ?? '').trim().toLowerCase();
  if (text !== '') filters.push((e) => (e.name ?? '').toLowerCase().includes(text) || e.infoHash.startsWith(text));
  const sort = q.sort !== undefined && q.sort !== '' ? sortKey(q.sort) : undefined;
  const matched = filters.length === 0 ? entries.slice() : entries.filter((e) => filters.every((f) => f(e)));
  const dir = q.order === 'desc' ? -1 : 1;
  // No sort asked: the node's own order (live torrents as added, then stored ones).
  if (sort) {
    const value = sort === 'seedingTime' ? (e: ListEntry) => seedingTimeAt(e, now) : (e: ListEntry) => e[sort];
    matched.sort((a, b) => {
      const x = value(a);
      const y = value(b);
      if (x === null && y !== null) return 1;
      if (y === null && x !== null) return -1;
      const c = x === null ? 0 : compare(x, y);
      if (c !== 0) return c * dir;
      return a.infoHash < b.infoHash ? -1 : a.infoHash > b.infoHash ? 1 : 0;
    });
  }
  const offset = q.offset ?? 0;
  const page = matched.slice(offset, q.limit !== undefined ? offset + q.limit : undefined);
  // Seeding time as of now for the rows sent (cached rows hold it as of when they were built).
  const torrents = page.map((e) => (e.seedingTimeOrigin === null ? e : { ...e, seedingTime: seedingTimeAt(e, now) }));
  return { torrents, total: matched.length };
}
