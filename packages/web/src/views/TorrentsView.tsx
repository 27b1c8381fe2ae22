// The torrents page: the node's torrents as a table (TorrentTable) with filters and search
// (TorrentFilters), the bulk bar for what is selected (BulkBar), the detail panel of the one opened,
// and the torrents running in this tab.
import { useCallback, useEffect, useMemo, useState } from 'react';
import { useLive } from '../state/live.ts';
import { formatSpeed } from '../format/format.ts';
import { href, navigate, useRoute } from '../state/router.ts';
import { Empty } from '../components/ui.tsx';
import { IconPlus, IconShare } from '../components/icons.tsx';
import { NO_FILTERS, STATE_FILTERS, type Filters, type Sort } from '../state/torrent-list.ts';
import { useShownTorrents } from '../state/list-model.ts';
import { useSelection } from '../state/selection.ts';
import { TorrentTable } from './TorrentTable.tsx';
import { TorrentFilters } from './TorrentFilters.tsx';
import { BulkBar } from './BulkBar.tsx';
import { DetailPanel } from './DetailPanel.tsx';
import { BrowserTorrents } from './BrowserTorrents.tsx';
import { useBrowserPeer } from '../browser/browser-peer.ts';
import { isMember, useAuth } from '../state/auth.ts';
import { VisitorNotice } from './VisitorNotice.tsx';

export function TorrentsView() {
  const auth = useAuth();
  return isMember(auth) ? <NodeTorrentsView /> : <VisitorTorrentsView />;
}

/** A visitor's list: only what runs in this tab; the node's torrents are for members. */
function VisitorTorrentsView() {
  const peer = useBrowserPeer();
  return (
    <section className="torrents-main" aria-label="Torrents">
      <div className="page-head">
        <div>
          <h1>Torrents</h1>
          <p className="muted small">In this browser: {peer.torrents.length}</p>
        </div>
        <HeadActions />
      </div>
      <VisitorNotice />
      {peer.torrents.length > 0 ? (
        <BrowserTorrents />
      ) : (
        <Empty title="No torrents in this browser yet">
          <a href={href('share')}>Share a file from this browser</a> or <a href={href('add')}>download a magnet link into it</a>.
        </Empty>
      )}
    </section>
  );
}

/** Add and Share, beside the page title (both torrent lists). */
function HeadActions() {
  return (
    <div className="head-actions">
      <a className="btn" href={href('add')}>
        <IconPlus />
        <span>Add</span>
      </a>
      <a className="btn btn-primary" href={href('share')}>
        <IconShare />
        <span>Share</span>
      </a>
    </div>
  );
}

function NodeTorrentsView() {
  const live = useLive();
  const route = useRoute();
  const peer = useBrowserPeer();
  const [filters, setFiltersState] = useState<Filters>(loadFilters);
  const [sort, setSortState] = useState<Sort>(loadSort);
  const [actionError, setActionError] = useState<string>();
  const [confirmRemove, setConfirmRemove] = useState(false);
  const opened = route.param;

  const setSort = (s: Sort) => {
    setSortState(s);
    save(SORT_KEY, s);
  };
  const setFilters = (f: Filters) => {
    setFiltersState(f);
    // The menus are remembered, as qBittorrent does; the search box is not.
    save(FILTERS_KEY, { ...f, search: '' });
  };
  // Filtered and sorted as the feed changes, a few torrents at a time (list-model.ts).
  const rows = useShownTorrents(filters, sort);
  const order = useMemo(() => rows.map((t) => t.infoHashHex), [rows]);
  const selection = useSelection(order);
  const { keepOnly } = selection;
  // What is selected is always among what is shown: a filter or a removal drops the rest.
  const anySelected = selection.selected.size > 0;
  useEffect(() => {
    if (anySelected) keepOnly(new Set(order));
  }, [order, keepOnly, anySelected]);
  const selectedHashes = useMemo(() => order.filter((h) => selection.selected.has(h)), [order, selection.selected]);

  const totals = useMemo(() => {
    let down = 0;
    let up = 0;
    for (const t of live.torrents) {
      down += t.downloadSpeed || 0;
      up += t.uploadSpeed || 0;
    }
    return { down, up };
  }, [live.torrents]);
  const usedCategories = useMemo(() => {
    const names = new Set<string>();
    for (const t of live.torrents) if (t.category) names.add(t.category);
    return [...names];
  }, [live.torrents]);

  const openSummary = opened !== undefined ? live.byHash.get(opened) : undefined;
  const openExists = openSummary !== undefined;
  const onError = useCallback((message: string) => setActionError(message), []);
  // Delete on a row: remove what is selected, or that row when nothing is.
  const onDeleteKey = (hash: string) => {
    if (selectedHashes.length === 0) selection.setAll([hash]);
    setConfirmRemove(true);
  };
  useEffect(() => {
    if (selectedHashes.length === 0) setConfirmRemove(false);
  }, [selectedHashes.length]);

  return (
    <div className={`torrents-layout${opened ? ' with-detail' : ''}`}>
      <section className="torrents-main" aria-labelledby="torrents-title">
        <div className="page-head">
          <div>
            <h1 id="torrents-title">Torrents</h1>
            <p className="muted small" data-testid="totals">
              {live.torrents.length} on this node{rows.length !== live.torrents.length ? ` · ${rows.length} shown` : ''} · ↓ {formatSpeed(totals.down)} · ↑ {formatSpeed(totals.up)}
            </p>
          </div>
          <HeadActions />
        </div>

        {/* Said to screen readers when a filter or search changes how many rows there are. */}
        <span className="visually-hidden" role="status" data-testid="shown-count">
          {live.loaded ? `${rows.length} of ${live.torrents.length} torrents shown` : ''}
        </span>
        <TorrentFilters torrents={live.torrents} filters={filters} onChange={setFilters} sort={sort} onSort={setSort} />
        {selectedHashes.length > 0 && (
          <BulkBar
            hashes={selectedHashes}
            usedCategories={usedCategories}
            onClear={selection.clear}
            onRemoved={selection.clear}
            confirm={confirmRemove}
            setConfirm={setConfirmRemove}
            shown={order.length}
            onSelectAll={() => selection.setAll(order)}
          />
        )}

        {live.error && !live.connected && <div className="alert alert-error">Cannot reach the node: {live.error}</div>}
        {actionError && (
          <div className="alert alert-error row between" role="alert" data-testid="row-error">
            <span>{actionError}</span>
            <button type="button" className="btn btn-small btn-ghost" onClick={() => setActionError(undefined)}>
              Dismiss
            </button>
          </div>
        )}

        {!live.loaded ? (
          <div className="muted pad">Loading…</div>
        ) : rows.length === 0 ? (
          live.torrents.length === 0 ? (
            <Empty title="No torrents on this node yet">
              <a href={href('share')}>Share a file</a> or <a href={href('add')}>add a magnet link</a> to get started.
            </Empty>
          ) : (
            <Empty title="Nothing matches these filters">
              <button type="button" className="btn btn-small" onClick={() => setFilters(NO_FILTERS)} data-testid="filters-clear">
                Show all torrents
              </button>
            </Empty>
          )
        ) : (
          <TorrentTable rows={rows} sort={sort} onSort={setSort} selection={selection} openHash={opened} onError={onError} onDeleteKey={onDeleteKey} />
        )}

        {peer.torrents.length > 0 && <BrowserTorrents />}
      </section>

      {opened && (
        <DetailPanel
          key={opened}
          infoHash={opened}
          summary={openSummary}
          gone={live.loaded && !openExists}
          onClose={() => {
            navigate('torrents');
            // Back to the row the panel was about, for keyboard users.
            requestAnimationFrame(() => document.querySelector<HTMLElement>(`tr[data-infohash="${opened}"]`)?.focus());
          }}
        />
      )}
    </div>
  );
}

const SORT_KEY = 'cascade.sort';
const FILTERS_KEY = 'cascade.filters';
function loadSort(): Sort {
  try {
    const v = JSON.parse(localStorage.getItem(SORT_KEY) ?? 'null') as Sort | null;
    if (v && typeof v.field === 'string' && (v.order === 'asc' || v.order === 'desc')) return v;
  } catch {}
  return { field: 'name', order: 'asc' };
}
function loadFilters(): Filters {
  try {
    const v = JSON.parse(localStorage.getItem(FILTERS_KEY) ?? 'null') as Partial<Filters> | null;
    if (v && typeof v === 'object') {
      const str = (x: unknown) => (typeof x === 'string' ? x : '');
      const state = STATE_FILTERS.some(([f]) => f === v.state) ? (v.state as Filters['state']) : 'all';
      return { state, category: str(v.category), tag: str(v.tag), tracker: str(v.tracker), search: '' };
    }
  } catch {}
  return NO_FILTERS;
}
function save(key: string, value: unknown): void {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {}
}
