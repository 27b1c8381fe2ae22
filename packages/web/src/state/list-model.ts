// The torrents the table shows — filtered and sorted — kept up to date one change at a time. The
// live feed brings a few changed torrents among thousands each second (live.ts onTorrentDelta):
// each is taken out of the sorted list and put back where its new sort key goes (binary search), so
// a tick costs O(changes × log n) comparisons plus one array copy, not a filter and sort of the
// whole library. A new filter, a new sort or a missed change reads the whole list again.

import { useRef, useSyncExternalStore } from 'react';
import type { TorrentSummary } from '../api/api.ts';
import { liveSnapshot, onTorrentDelta, type TorrentDelta } from './live.ts';
import { compareKeyed, keyOf, matcherOf, type Filters, type Sort, type SortKey } from './torrent-list.ts';

/** Past this share of the shown list changed at once, sorting it all again is cheaper. */
const REBUILD_SHARE = 0.1;

export class ShownList {
  /** Sorted and filtered; a new array whenever it changed. */
  rows: TorrentSummary[] = [];
  /** The sort key each shown torrent was placed by (to find it again when it changes). */
  private keys = new Map<string, SortKey>();
  private filters: Filters | undefined;
  private sort: Sort | undefined;
  private matches: (t: TorrentSummary) => boolean = () => true;
  /** The live list's revision the rows are of; -1: to be read whole. */
  private revision = -1;

  /** Sets what to show; a different filter or sort reads the whole list at the next snapshot. */
  query(filters: Filters, sort: Sort): void {
    if (this.filters && sameFilters(this.filters, filters) && this.sort && this.sort.field === sort.field && this.sort.order === sort.order) return;
    this.filters = filters;
    this.sort = sort;
    this.matches = matcherOf(filters);
    this.revision = -1;
  }

  /** The rows, current with the live list. */
  snapshot(): TorrentSummary[] {
    const live = liveSnapshot();
    return this.sync(live.torrents, live.revision);
  }

  /** The rows for `all` at `revision`: read whole unless already current. */
  sync(all: readonly TorrentSummary[], revision: number): TorrentSummary[] {
    if (this.revision !== revision) this.rebuild(all, revision);
    return this.rows;
  }

  /** One change of the live list; false when it could not be applied (it will be read whole). */
  apply(d: TorrentDelta): boolean {
    if (d.reset || this.revision < 0 || d.revision !== this.revision + 1 || !this.sort) {
      this.revision = -1;
      return false;
    }
    if (d.updated.length + d.removed.length > Math.max(50, this.rows.length * REBUILD_SHARE)) {
      this.revision = -1;
      return false;
    }
    const field = this.sort.field;
    const dir = this.sort.order === 'asc' ? 1 : -1;
    const rows = this.rows.slice();
    let changed = false;
    const take = (hash: string) => {
      if (!this.keys.has(hash)) return;
      const i = this.indexOf(rows, this.keys.get(hash)!, hash, field, dir);
      if (rows[i]?.infoHashHex !== hash) {
        // Not where its key says: the list is not what we think; read it whole.
        throw new Error('shown list out of order');
      }
      rows.splice(i, 1);
      this.keys.delete(hash);
      changed = true;
    };
    try {
      for (const h of d.removed) take(h);
      for (const t of d.updated) {
        const hash = t.infoHashHex;
        const k = keyOf(t, field);
        const shown = this.matches(t);
        if (this.keys.has(hash)) {
          const was = this.keys.get(hash);
          // Same key and still shown: it stays in place; only the object changes.
          if (shown && was === k) {
            const i = this.indexOf(rows, k, hash, field, dir);
            if (rows[i]?.infoHashHex !== hash) throw new Error('shown list out of order');
            rows[i] = t;
            changed = true;
            continue;
          }
          take(hash);
        }
        if (!shown) continue;
        rows.splice(this.indexOf(rows, k, hash, field, dir), 0, t);
        this.keys.set(hash, k);
        changed = true;
      }
    } catch {
      this.revision = -1;
      return false;
    }
    this.revision = d.revision;
    if (changed) this.rows = rows;
    return true;
  }

  /** Where (key, hash) is or would go in `rows` (lower bound). */
  private indexOf(rows: readonly TorrentSummary[], k: SortKey, hash: string, field: Sort['field'], dir: 1 | -1): number {
    let lo = 0;
    let hi = rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const r = rows[mid]!;
      const rk = this.keys.get(r.infoHashHex) ?? keyOf(r, field);
      if (compareKeyed(rk, r.infoHashHex, k, hash, dir) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private rebuild(all: readonly TorrentSummary[], revision: number): void {
    const sort = this.sort ?? { field: 'name', order: 'asc' };
    const dir = sort.order === 'asc' ? 1 : -1;
    const keyed: { t: TorrentSummary; k: SortKey }[] = [];
    for (const t of all) if (this.matches(t)) keyed.push({ t, k: keyOf(t, sort.field) });
    keyed.sort((a, b) => compareKeyed(a.k, a.t.infoHashHex, b.k, b.t.infoHashHex, dir));
    this.keys = new Map(keyed.map((x) => [x.t.infoHashHex, x.k]));
    const rows = keyed.map((x) => x.t);
    // Same rows as before (a filter change that changed nothing): keep the array, React skips work.
    if (!sameRows(rows, this.rows)) this.rows = rows;
    this.revision = revision;
  }
}

function sameFilters(a: Filters, b: Filters): boolean {
  return a.state === b.state && a.category === b.category && a.tag === b.tag && a.tracker === b.tracker && a.search === b.search;
}

function sameRows(a: readonly TorrentSummary[], b: readonly TorrentSummary[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The shown rows for these filters and this sort, re-rendering the caller when they change. */
export function useShownTorrents(filters: Filters, sort: Sort): TorrentSummary[] {
  const ref = useRef<{ list: ShownList; subscribe: (fn: () => void) => () => void; snapshot: () => TorrentSummary[] } | null>(null);
  if (!ref.current) {
    const list = new ShownList();
    ref.current = {
      list,
      // Changes are applied as they come (before React reads the store), so none is lost between
      // renders; a missed one makes the next snapshot read the whole list.
      subscribe: (fn) =>
        onTorrentDelta((d) => {
          const before = list.rows;
          // Not applied: the next snapshot reads the whole list, so React must ask for it.
          if (!list.apply(d) || list.rows !== before) fn();
        }),
      snapshot: () => list.snapshot(),
    };
  }
  ref.current.list.query(filters, sort);
  return useSyncExternalStore(ref.current.subscribe, ref.current.snapshot);
}
