// The torrent list: one row per torrent on the node, plus the torrents running in this tab.
import { useMemo, useState } from 'react';
import { api, type TorrentSummary } from '../api.ts';
import { refreshTorrents, useLive } from '../live.ts';
import { formatBytes, formatEta, formatPercent, formatSpeed, ratioOf, peersText } from '../format.ts';
import { href, navigate, useRoute } from '../router.ts';
import { Empty, ProgressBar, StateBadge } from '../components/ui.tsx';
import { IconPause, IconPlay, IconPlus, IconShare, IconTrash } from '../components/icons.tsx';
import { DetailPanel } from './DetailPanel.tsx';
import { BrowserTorrents } from './BrowserTorrents.tsx';
import { useBrowserPeer } from '../browser-peer.ts';
import { isMember, useAuth } from '../auth.ts';
import { VisitorNotice } from './VisitorNotice.tsx';

type Filter = 'all' | 'active' | 'downloading' | 'seeding' | 'paused';
const FILTERS: Filter[] = ['all', 'active', 'downloading', 'seeding', 'paused'];

function matches(t: TorrentSummary, f: Filter): boolean {
  switch (f) {
    case 'all':
      return true;
    case 'active':
      return t.downloadSpeed > 0 || t.uploadSpeed > 0;
    case 'downloading':
      return t.state === 'downloading' || t.state === 'metadata' || t.state === 'checking';
    case 'seeding':
      return t.state === 'seeding';
    case 'paused':
      return t.state === 'paused';
  }
}

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
  const [filter, setFilter] = useState<Filter>('all');
  const [search, setSearch] = useState('');
  const selected = route.param;

  const rows = useMemo(() => {
    const q = search.trim().toLowerCase();
    return live.torrents
      .filter((t) => matches(t, filter))
      .filter((t) => !q || (t.name ?? '').toLowerCase().includes(q) || t.infoHashHex.includes(q))
      .sort((a, b) => (a.name ?? a.infoHashHex).localeCompare(b.name ?? b.infoHashHex));
  }, [live.torrents, filter, search]);

  const totals = useMemo(
    () =>
      live.torrents.reduce(
        (acc, t) => ({ down: acc.down + (t.downloadSpeed || 0), up: acc.up + (t.uploadSpeed || 0) }),
        { down: 0, up: 0 },
      ),
    [live.torrents],
  );

  const selectedExists = selected !== undefined && live.torrents.some((t) => t.infoHashHex === selected);

  return (
    <div className={`torrents-layout${selected ? ' with-detail' : ''}`}>
      <section className="torrents-main" aria-label="Torrents">
        <div className="page-head">
          <div>
            <h1>Torrents</h1>
            <p className="muted small" data-testid="totals">
              {live.torrents.length} on this node · ↓ {formatSpeed(totals.down)} · ↑ {formatSpeed(totals.up)}
            </p>
          </div>
          <HeadActions />
        </div>

        <div className="toolbar">
          <div className="segmented" role="tablist" aria-label="Filter">
            {FILTERS.map((f) => (
              <button key={f} type="button" role="tab" aria-selected={filter === f} className={filter === f ? 'active' : ''} onClick={() => setFilter(f)}>
                {f[0]!.toUpperCase() + f.slice(1)}
              </button>
            ))}
          </div>
          <input className="input search" type="search" placeholder="Search name or infohash" value={search} onChange={(e) => setSearch(e.target.value)} aria-label="Search torrents" />
        </div>

        {live.error && !live.connected && <div className="alert alert-error">Cannot reach the node: {live.error}</div>}

        {!live.loaded ? (
          <div className="muted pad">Loading…</div>
        ) : rows.length === 0 ? (
          live.torrents.length === 0 ? (
            <Empty title="No torrents on this node yet">
              <a href={href('share')}>Share a file</a> or <a href={href('add')}>add a magnet link</a> to get started.
            </Empty>
          ) : (
            <Empty title="Nothing matches this filter" />
          )
        ) : (
          <div className="torrent-list" role="list">
            <div className="torrent-list-head" aria-hidden="true">
              <span>Name</span>
              <span>Progress</span>
              <span className="r">Down</span>
              <span className="r">Up</span>
              <span className="r">ETA</span>
              <span className="r">Peers</span>
              <span className="r">Ratio</span>
              <span />
            </div>
            {rows.map((t) => (
              <TorrentRow key={t.infoHashHex} t={t} selected={t.infoHashHex === selected} />
            ))}
          </div>
        )}

        {peer.torrents.length > 0 && <BrowserTorrents />}
      </section>

      {selected && (
        <DetailPanel
          key={selected}
          infoHash={selected}
          summary={live.torrents.find((t) => t.infoHashHex === selected)}
          gone={live.loaded && !selectedExists}
          onClose={() => navigate('torrents')}
        />
      )}
    </div>
  );
}

function TorrentRow({ t, selected }: { t: TorrentSummary; selected: boolean }) {
  const [busy, setBusy] = useState(false);
  const [confirm, setConfirm] = useState(false);
  const [deleteData, setDeleteData] = useState(false);
  const [error, setError] = useState<string>();
  const paused = t.state === 'paused';

  const act = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await fn();
      await refreshTorrents();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const name = t.name ?? t.infoHashHex;
  return (
    <div
      role="listitem"
      className={`torrent-row${selected ? ' selected' : ''} state-${t.state}`}
      data-testid="torrent-row"
      data-infohash={t.infoHashHex}
      data-state={t.state}
      onClick={(e) => {
        if ((e.target as HTMLElement).closest('button, a, input, label')) return;
        navigate('torrents', selected ? undefined : t.infoHashHex);
      }}
    >
      <div className="tr-name">
        <a className="name" href={href('torrents', t.infoHashHex)} title={name} data-testid="torrent-name">
          {name}
        </a>
        <div className="tr-sub">
          <StateBadge state={t.state} />
          <span className="muted">{formatBytes(t.length)}</span>
          {t.error && <span className="error-text" title={t.error}>{t.error}</span>}
        </div>
      </div>
      <div className="tr-progress">
        <ProgressBar value={t.progress} state={t.state} label={`${name} progress`} />
        <span className="num small" data-testid="torrent-progress">{formatPercent(t.progress)}</span>
      </div>
      <div className="tr-cell r" title="Download speed"><span className="cell-label">↓</span>{formatSpeed(t.downloadSpeed)}</div>
      <div className="tr-cell r" title="Upload speed"><span className="cell-label">↑</span>{formatSpeed(t.uploadSpeed)}</div>
      <div className="tr-cell r" title="Time left"><span className="cell-label">ETA</span>{formatEta(t.eta, t.state)}</div>
      <div className="tr-cell r" title="Connected peers (seeds)"><span className="cell-label">Peers</span>{peersText(t.peers, t.seeds)}</div>
      <div className="tr-cell r" title="Share ratio"><span className="cell-label">Ratio</span>{ratioOf(t.uploaded, t.downloaded, t.length)}</div>
      <div className="tr-actions">
        {paused ? (
          <button type="button" className="icon-btn" title="Resume" aria-label="Resume" data-testid="resume" disabled={busy} onClick={() => act(() => api.resume(t.infoHashHex))}>
            <IconPlay />
          </button>
        ) : (
          <button type="button" className="icon-btn" title="Pause" aria-label="Pause" data-testid="pause" disabled={busy} onClick={() => act(() => api.pause(t.infoHashHex))}>
            <IconPause />
          </button>
        )}
        <button type="button" className="icon-btn danger" title="Remove" aria-label="Remove" data-testid="remove" disabled={busy} onClick={() => setConfirm(true)}>
          <IconTrash />
        </button>
      </div>
      {error && <div className="tr-error alert alert-error">{error}</div>}
      {confirm && (
        <div className="confirm" role="dialog" aria-label={`Remove ${name}`}>
          <span>Remove “{name}”?</span>
          <label className="check">
            <input type="checkbox" checked={deleteData} onChange={(e) => setDeleteData(e.target.checked)} data-testid="remove-delete-data" />
            also delete its data
          </label>
          <button type="button" className="btn btn-danger" data-testid="remove-confirm" disabled={busy} onClick={() => act(() => api.remove(t.infoHashHex, deleteData)).then(() => setConfirm(false))}>
            Remove
          </button>
          <button type="button" className="btn" onClick={() => setConfirm(false)}>
            Cancel
          </button>
        </div>
      )}
    </div>
  );
}
