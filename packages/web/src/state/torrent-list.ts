// What the torrent table shows: filtering (state groups, category, tag, tracker, search) and
// sorting of the live feed's list, done here in the page so a click answers at once — the server's
// GET /api/torrents takes the same query parameters for other clients. Functions over
// TorrentSummary (sortTorrents remembers its last order); bench/web-list times them.

import type { TorrentSummary } from '../api/api.ts';

export type SortField =
  | 'queuePosition'
  | 'name'
  | 'size'
  | 'progress'
  | 'state'
  | 'downloadSpeed'
  | 'uploadSpeed'
  | 'eta'
  | 'ratio'
  | 'category'
  | 'tags'
  | 'addedAt';
export type SortOrder = 'asc' | 'desc';
export interface Sort {
  field: SortField;
  order: SortOrder;
}

/** The state filter: the entry states and the groups qBittorrent users know. */
export const STATE_FILTERS = [
  ['all', 'All'],
  ['downloading', 'Downloading'],
  ['seeding', 'Seeding'],
  ['completed', 'Completed'],
  ['paused', 'Paused'],
  ['queued', 'Queued'],
  ['active', 'Active'],
  ['inactive', 'Inactive'],
  ['stalled', 'Stalled'],
  ['checking', 'Checking'],
  ['metadata', 'Fetching metadata'],
  ['error', 'Errored'],
] as const;
export type StateFilter = (typeof STATE_FILTERS)[number][0];

/** '' = any; NONE = torrents without one (no category, no tags, no tracker). Names of categories and
 *  tags cannot start with ':' in practice; a category called ':none' would be shadowed. */
export const NONE = ':none';

export interface Filters {
  state: StateFilter;
  category: string;
  tag: string;
  tracker: string;
  search: string;
}
export const NO_FILTERS: Filters = { state: 'all', category: '', tag: '', tracker: '', search: '' };

const isActive = (t: TorrentSummary) => t.downloadSpeed > 0 || t.uploadSpeed > 0;

/** Running but moving nothing: a download with no data coming in, a seed nobody downloads from (as
 *  the server's state=stalled; a magnet still fetching metadata is not counted). */
const isStalled = (t: TorrentSummary) => (t.state === 'downloading' && t.downloadSpeed === 0) || (t.state === 'seeding' && t.uploadSpeed === 0);

export function matchesState(t: TorrentSummary, f: StateFilter): boolean {
  switch (f) {
    case 'all':
      return true;
    case 'active':
      return isActive(t);
    case 'inactive':
      return !isActive(t);
    case 'completed':
      return t.progress >= 1;
    case 'stalled':
      return isStalled(t);
    case 'downloading':
      return t.state === 'downloading' || t.state === 'metadata';
    default:
      return t.state === f;
  }
}

/** The search matches the name, the infohash, the category and the tags, case-insensitively; several
 *  words must all match. */
function searchText(t: TorrentSummary): string {
  return `${t.name ?? ''} ${t.infoHashHex} ${t.category ?? ''} ${(t.tags ?? []).join(' ')}`.toLowerCase();
}

/** The filters as a test of one torrent (list-model.ts tests each changed torrent with it). */
export function matcherOf(f: Filters): (t: TorrentSummary) => boolean {
  const words = f.search.trim().toLowerCase().split(/\s+/).filter(Boolean);
  return (t) => {
    if (!matchesState(t, f.state)) return false;
    if (f.category && (f.category === NONE ? !!t.category : t.category !== f.category)) return false;
    if (f.tag && (f.tag === NONE ? (t.tags ?? []).length > 0 : !(t.tags ?? []).includes(f.tag))) return false;
    if (f.tracker && (f.tracker === NONE ? !!t.tracker : t.tracker !== f.tracker)) return false;
    if (words.length > 0) {
      const text = searchText(t);
      if (!words.every((w) => text.includes(w))) return false;
    }
    return true;
  };
}

export function filterTorrents(list: readonly TorrentSummary[], f: Filters): TorrentSummary[] {
  return list.filter(matcherOf(f));
}

/** Share ratio: the node's own figure, else uploaded over downloaded (or size, for a seed that never
 *  downloaded); null when unknown. */
export function ratioValue(t: TorrentSummary): number | null {
  if (typeof t.ratio === 'number' && Number.isFinite(t.ratio)) return t.ratio;
  if (t.uploaded === undefined) return null;
  const base = t.downloaded !== undefined && t.downloaded > 0 ? t.downloaded : t.length ?? 0;
  if (!base) return t.uploaded > 0 ? Infinity : 0;
  return t.uploaded / base;
}

/** Order of states when sorting by state: what needs attention and what moves first. */
const STATE_RANK: Record<string, number> = { error: 0, downloading: 1, metadata: 2, checking: 3, queued: 4, seeding: 5, paused: 6 };

/** A torrent's sort key for one field (null: missing, sorts last in either order). */
export type SortKey = number | string | null;
type Key = SortKey;
export function keyOf(t: TorrentSummary, field: SortField): Key {
  switch (field) {
    case 'name':
      return (t.name ?? t.infoHashHex).toLowerCase();
    case 'size':
      return t.length ?? null;
    case 'progress':
      return t.progress;
    case 'state':
      return STATE_RANK[t.state] ?? 9;
    case 'downloadSpeed':
      return t.downloadSpeed;
    case 'uploadSpeed':
      return t.uploadSpeed;
    case 'eta':
      // Unknown (∞) sorts after every known time; finished ones have none.
      return t.state === 'seeding' || t.state === 'paused' || t.progress >= 1 ? null : t.eta ?? Infinity;
    case 'ratio':
      return ratioValue(t);
    case 'category':
      return t.category ? t.category.toLowerCase() : null;
    case 'tags':
      return t.tags && t.tags.length > 0 ? [...t.tags].sort().join(',').toLowerCase() : null;
    case 'addedAt':
      return t.addedAt ?? null;
    case 'queuePosition':
      return t.queuePosition ?? null;
  }
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

/** The last sort's input and outcome: when a tick of the feed brings the same torrents in the same
 *  order with the same keys (names, categories and sizes rarely change), the order is reused rather
 *  than sorting again (a name sort of 20,000 torrents takes ~80 ms; the check ~2 ms). */
let last: { field: SortField; order: SortOrder; hashes: string[]; keys: Key[]; perm: number[] } | undefined;

/** Sorted copy. Missing values (no category, no ETA…) go last in either order; ties by infohash, so
 *  rows never swap places between two ticks of the feed. */
export function sortTorrents(list: readonly TorrentSummary[], sort: Sort): TorrentSummary[] {
  const keys = list.map((t) => keyOf(t, sort.field));
  const hashes = list.map((t) => t.infoHashHex);
  if (last && last.field === sort.field && last.order === sort.order && sameArray(last.keys, keys) && sameArray(last.hashes, hashes)) {
    return last.perm.map((i) => list[i]!);
  }
  const dir = sort.order === 'asc' ? 1 : -1;
  const keyed = list.map((t, i) => ({ t, i, k: keys[i]! }));
  keyed.sort((a, b) => compareKeyed(a.k, a.t.infoHashHex, b.k, b.t.infoHashHex, dir));
  last = { field: sort.field, order: sort.order, hashes, keys, perm: keyed.map((x) => x.i) };
  return keyed.map((x) => x.t);
}

/** The list's order: by key (`dir` 1 ascending, -1 descending), missing keys last in either order,
 *  ties by infohash — a total order, so a row's place can be found again by binary search
 *  (list-model.ts keeps the shown list sorted one change at a time with it). */
export function compareKeyed(ka: SortKey, ha: string, kb: SortKey, hb: string, dir: 1 | -1): number {
  if (ka === null || kb === null) {
    if (ka !== kb) return ka === null ? 1 : -1;
  } else if (ka !== kb) {
    const c = typeof ka === 'string' && typeof kb === 'string' ? collator.compare(ka, kb) : (ka as number) < (kb as number) ? -1 : (ka as number) > (kb as number) ? 1 : 0;
    if (c !== 0) return c * dir;
  }
  return ha < hb ? -1 : ha > hb ? 1 : 0;
}

function sameArray<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Which order a first click on a column gives: biggest first for numbers, A→Z for text. */
export function defaultOrder(field: SortField): SortOrder {
  return field === 'name' || field === 'category' || field === 'tags' || field === 'state' || field === 'queuePosition' || field === 'eta' ? 'asc' : 'desc';
}

/** The categories, tags and trackers present in the list, with how many torrents have each. */
export function facets(list: readonly TorrentSummary[]): { categories: Map<string, number>; tags: Map<string, number>; trackers: Map<string, number> } {
  const categories = new Map<string, number>();
  const tags = new Map<string, number>();
  const trackers = new Map<string, number>();
  const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  for (const t of list) {
    bump(categories, t.category || NONE);
    if (!t.tags || t.tags.length === 0) bump(tags, NONE);
    else for (const tag of t.tags) bump(tags, tag);
    bump(trackers, t.tracker || NONE);
  }
  return { categories, tags, trackers };
}

export function stateCounts(list: readonly TorrentSummary[]): Map<StateFilter, number> {
  const out = new Map<StateFilter, number>();
  for (const [f] of STATE_FILTERS) out.set(f, 0);
  for (const t of list) for (const [f] of STATE_FILTERS) if (matchesState(t, f)) out.set(f, out.get(f)! + 1);
  return out;
}
