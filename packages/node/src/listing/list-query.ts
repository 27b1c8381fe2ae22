// Filtering and sorting list rows: GET /api/torrents?category=&tag=&state=&tracker=&search=&sort=&order=
// and the control RPC `list` with the same params. Ties always break by infohash, so a sorted list
// is stable from one refresh to the next.

import { InvalidInput } from '@cascade/node-state/errors';
import { seedingTimeAt, type ListEntry } from './listing.ts';
import { TextOrder } from './text-order.ts';

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
  if (!SORTABLE.includes(key)) throw new InvalidInput(`"sort" cannot be "${sort.slice(0, 40)}"; use one of: size, ${SORTABLE.join(', ')}`);
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
        throw new InvalidInput(`"state" cannot be "${state.slice(0, 40)}"; use one of: ${[...ENTRY_STATES, ...STATE_GROUPS].join(', ')}`);
      }
      return (e) => e.state === state;
  }
}

// One collator per field, made once on the field's first sort by text (String#localeCompare with
// options builds one per call; made at import, ICU's collation data cost every process that imports
// the node some 15 ms, `cascade download` too). Texts are compared through their ranks
// (text-order.ts), one order per field.
const collator = (field: string) => (field === 'tags' ? new Intl.Collator() : new Intl.Collator(undefined, { sensitivity: 'base', numeric: true }));
const textOrders = new Map<string, TextOrder>();

function textOrder(field: string): TextOrder {
  let order = textOrders.get(field);
  if (!order) textOrders.set(field, (order = new TextOrder(collator(field))));
  return order;
}

/**
 * Ranks the rows' names ahead of any request: the first sort by name after a library was loaded
 * or grew by many torrents otherwise pays for the collator's data and for ordering every new name
 * (~50 ms at 10,000), and a request waits for it.
 */
export function primeNameOrder(rows: readonly ListEntry[]): void {
  const names: string[] = [];
  for (const e of rows) if (typeof e.name === 'string') names.push(e.name);
  if (names.length > 0) textOrder('name').ranks(names);
}

/** A row with its sort key worked out once (not once per comparison). */
interface Keyed {
  e: ListEntry;
  k: number | null;
}

/**
 * Sorts by `value`: numbers (and booleans) by value, text by the collator, lists (tags) by their
 * joined text; null (unknown) after every value whichever the order; ties by infohash, ascending.
 */
function sortBy(rows: ListEntry[], field: string, value: (e: ListEntry) => unknown, dir: 1 | -1): ListEntry[] {
  const raw = rows.map((e) => {
    const v = value(e);
    return v === null || v === undefined ? null : Array.isArray(v) ? v.join(',') : v;
  });
  const texts = raw.filter((v): v is string => typeof v === 'string');
  let rank: Map<string, number> | undefined;
  if (texts.length > 0) {
    rank = textOrder(field).ranks(texts);
  }
  const keyed: Keyed[] = rows.map((e, i) => {
    const v = raw[i];
    return { e, k: v === null || v === undefined ? null : typeof v === 'string' ? rank!.get(v)! : Number(v) };
  });
  keyed.sort((a, b) => {
    const x = a.k;
    const y = b.k;
    if (x === null || y === null) {
      if (x !== y) return x === null ? 1 : -1;
    } else if (x !== y) return (x - y) * dir;
    return a.e.infoHash < b.e.infoHash ? -1 : a.e.infoHash > b.e.infoHash ? 1 : 0;
  });
  return keyed.map((x) => x.e);
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
  let matched = filters.length === 0 ? entries.slice() : entries.filter((e) => filters.every((f) => f(e)));
  const dir = q.order === 'desc' ? -1 : 1;
  // No sort asked: the node's own order (live torrents as added, then stored ones).
  if (sort) {
    const value = sort === 'seedingTime' ? (e: ListEntry) => seedingTimeAt(e, now) : (e: ListEntry) => e[sort];
    matched = sortBy(matched, sort, value, dir);
  }
  return pageOf(matched, q.offset, q.limit, now);
}

/** Rows offset..offset+limit of a matched list, with their seeding time as of `now`. */
export function pageOf(matched: ListEntry[], offset = 0, limit: number | undefined, now: number): { torrents: ListEntry[]; total: number } {
  const page = matched.slice(offset, limit !== undefined ? offset + limit : undefined);
  // Cached rows hold seeding time as of when they were built: the clock runs on from its origin.
  const torrents = page.map((e) => (e.seedingTimeOrigin === null ? e : { ...e, seedingTime: seedingTimeAt(e, now) }));
  return { torrents, total: matched.length };
}
