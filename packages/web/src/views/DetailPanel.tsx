// Detail panel of one node torrent: overview, files (select, stream, save), peers and trackers;
// the Info tab also shows who owns it on the chain (detail/OwnershipSection.tsx).
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiError, normaliseDetail, torrentFileUrl, type TorrentDetailView, type TorrentSummary } from '../api/api.ts';
import { FilesTab } from './detail/FilesTab.tsx';
import { OptionsTab } from './detail/OptionsTab.tsx';
import { TrackersTab } from './detail/TrackersTab.tsx';
import { PeersTab } from './detail/PeersTab.tsx';
export { shortAddress } from './detail/PeersTab.tsx';
import { HoldersSection } from './detail/HoldersSection.tsx';
import { QueueControls } from './detail/QueueControls.tsx';
import { PieceOrderControls } from './detail/PieceOrderControls.tsx';
import { OwnershipSection } from './detail/OwnershipSection.tsx';
import { PrivateDiscoverySection } from './detail/PrivateDiscoverySection.tsx';
import { useAction } from './detail/use-action.ts';
import { assistantHref, sellHref } from '../state/router.ts';
import { optionsOf } from '../api/node-options.ts';
import { liveSnapshot, watchTorrent } from '../state/live.ts';
import { formatBytes, formatDate, formatEta, formatPercent, formatSpeed, ratioOf, peersText } from '../format/format.ts';
import { CopyButton, ProgressBar, QrCode, Stat, StateBadge } from '../components/ui.tsx';
import { IconBack, IconDownload, IconPause, IconPlay, IconX } from '../components/icons.tsx';

type Tab = 'overview' | 'files' | 'peers' | 'trackers' | 'options';

export function DetailPanel({
  infoHash,
  summary,
  gone,
  onClose,
}: {
  infoHash: string;
  summary: TorrentSummary | undefined;
  gone: boolean;
  onClose: () => void;
}) {
  const [detail, setDetail] = useState<TorrentDetailView>();
  const [error, setError] = useState<string>();
  const [missing, setMissing] = useState(false);
  const [tab, setTab] = useState<Tab>('files');
  // A torrent this panel has shown and that then went away (removed from another client, the
  // API or the CLI) closes the panel; one never seen (a stale bookmark) says it is gone instead.
  const seen = useRef(false);
  if (detail || summary) seen.current = true;
  const closeRef = useRef(onClose);
  closeRef.current = onClose;
  const goneRef = useRef(gone);
  goneRef.current = gone;
  const vanished = useCallback(() => {
    setMissing(true);
    if (seen.current) closeRef.current();
  }, []);

  const load = useCallback(async () => {
    // Known gone from the list: asking would only earn a 404.
    if (goneRef.current) return;
    try {
      setDetail(await api.detail(infoHash));
      setError(undefined);
      setMissing(false);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) vanished();
      else setError((err as Error).message);
    }
  }, [infoHash, vanished]);

  useEffect(() => {
    seen.current = false;
    setMissing(false);
    setDetail(undefined);
    void load();
    // Pushed each second over socket.io; the slow poll covers a socket that is down.
    const stop = watchTorrent(infoHash, (d) => {
      // A torrent that was not there (a bookmark, or opened as it was being added) and now is: the
      // "not on the node" notice goes with its first detail.
      if (d) {
        setDetail(normaliseDetail(d));
        setError(undefined);
        setMissing(false);
      } else vanished();
    });
    const t = setInterval(() => {
      if (!liveSnapshot().connected) void load();
    }, 2000);
    return () => {
      stop();
      clearInterval(t);
    };
  }, [load, infoHash, vanished]);

  useEffect(() => {
    if (gone) vanished();
    else if (missing) void load(); // back in the list: fetch what it is now
  }, [gone, vanished]);

  // Live numbers come from the socket; the rest from the detail document.
  const s: TorrentSummary | undefined = summary && detail ? { ...detail, ...definedOnly(summary) } : (summary ?? detail);
  const name = s?.name ?? detail?.name ?? infoHash;
  // Queue place and force start: the list entry is fresher (each second) than the detail document.
  const options = detail ? optionsOf({ ...(detail.raw ?? {}), ...definedOnly((summary ?? {}) as Record<string, unknown>) }) : undefined;

  return (
    <aside className="detail" data-testid="detail-panel" aria-label={`Details of ${name}`}>
      <div className="detail-head">
        <button type="button" className="icon-btn detail-back" onClick={onClose} aria-label="Back to the list">
          <IconBack />
        </button>
        <div className="detail-title">
          <h2 title={name}>{name}</h2>
          <div className="tr-sub">
            {s && <StateBadge state={s.state} />}
            {s?.encrypted && (
              <span className="badge badge-encrypted" data-testid="detail-encrypted" data-decryptable={s.decryptable ? 'true' : 'false'}>
                {s.decryptable ? 'Encrypted · readable here' : 'Encrypted for others'}
              </span>
            )}
            <span className="muted mono small">{infoHash}</span>
          </div>
        </div>
        <button type="button" className="icon-btn detail-close" onClick={onClose} aria-label="Close details" data-testid="detail-close">
          <IconX />
        </button>
      </div>

      {(gone || missing) && (
        <div className="alert alert-error" data-testid="detail-gone">
          This torrent is not on the node (any more).
        </div>
      )}
      {error && !detail && !gone && !missing && <div className="alert alert-error">{error}</div>}

      {s && (
        <div className="detail-stats">
          <ProgressBar value={s.progress} state={s.state} label="progress" />
          <div className="stat-grid">
            <Stat label="Progress" value={formatPercent(s.progress)} />
            <Stat label="Size" value={formatBytes(s.length)} />
            <Stat label="Down" value={formatSpeed(s.downloadSpeed)} />
            <Stat label="Up" value={formatSpeed(s.uploadSpeed)} />
            <Stat label="ETA" value={formatEta(s.eta, s.state)} />
            <Stat label="Peers (seeds)" value={peersText(s.peers, s.seeds)} />
            <Stat label="Downloaded" value={formatBytes(s.downloaded)} />
            <Stat label="Uploaded" value={formatBytes(s.uploaded)} />
            <Stat label="Ratio" value={ratioOf(s.uploaded, s.downloaded, s.length)} />
          </div>
          <PauseResume infoHash={infoHash} name={s.name ?? undefined} state={s.state} hasMetadata={!!s.length} />
          {detail && <QueueControls infoHash={infoHash} state={s.state} queuePosition={options?.queuePosition ?? null} forceStart={options?.forceStart ?? false} superSeeding={options?.superSeeding ?? false} />}
          {detail && <PieceOrderControls infoHash={infoHash} sequential={detail.raw?.sequential === true} firstLastPiece={detail.raw?.firstLastPiece === true} />}
          {s.encrypted && !s.decryptable ? (
            <div className="alert alert-warn" role="note" data-testid="detail-encrypted-for-others">
              <strong>This share is encrypted for other people.</strong> This node keeps and seeds its encrypted data, which
              helps its recipients, but cannot read it: its names and files stay hidden here.
              {s.error && <div className="small">{s.error}</div>}
            </div>
          ) : (
            s.error && <div className="alert alert-error">{s.error}</div>
          )}
          {s.encrypted && s.decryptable && (
            <p className="muted small" data-testid="detail-encrypted-readable">
              A private share this node can read: it writes the files under their real names and seeds the encrypted data. A key once given cannot be taken back.{' '}
              <a href={sellHref(infoHash)} data-testid="detail-sell">Sell access on the Market</a>
            </p>
          )}
          {typeof detail?.raw?.stalledReason === 'string' && detail.raw.stalledReason && (
            <div className="alert alert-warn" role="status" data-testid="torrent-stalled-reason">
              {detail.raw.stalledReason}
            </div>
          )}
        </div>
      )}

      <div className="tabs" role="tablist">
        {(['files', 'peers', 'trackers', 'options', 'overview'] as Tab[]).map((t) => (
          <button key={t} type="button" role="tab" aria-selected={tab === t} className={tab === t ? 'active' : ''} onClick={() => setTab(t)} data-testid={`detail-tab-${t}`}>
            {t === 'overview' ? 'Info' : t[0]!.toUpperCase() + t.slice(1)}
            {t === 'files' && detail ? <span className="count">{detail.files.length}</span> : null}
            {t === 'peers' && detail ? <span className="count">{detail.peersList?.length ?? 0}</span> : null}
            {t === 'trackers' && detail ? <span className="count">{detail.trackers.length}</span> : null}
          </button>
        ))}
      </div>

      <div className="tab-body">
        {!detail ? (
          <div className="muted pad">Loading…</div>
        ) : tab === 'files' ? (
          <FilesTab detail={detail} onChanged={load} />
        ) : tab === 'peers' ? (
          <PeersTab detail={detail} />
        ) : tab === 'trackers' ? (
          <TrackersTab detail={detail} />
        ) : tab === 'options' ? (
          <OptionsTab key={infoHash} detail={detail} onChanged={load} />
        ) : (
          <OverviewTab detail={detail} />
        )}
      </div>
    </aside>
  );
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function PauseResume({ infoHash, name, state, hasMetadata }: { infoHash: string; name: string | undefined; state: string; hasMetadata: boolean }) {
  const { busy, error, run } = useAction();
  const paused = state === 'paused' || state === 'error';
  return (
    <>
      <div className="row gap wrap-row">
        <button type="button" className="btn" disabled={busy} onClick={() => void run(() => (paused ? api.resume(infoHash) : api.pause(infoHash)))}>
          {paused ? <IconPlay /> : <IconPause />}
          <span>{paused ? 'Resume' : 'Pause'}</span>
        </button>
        {hasMetadata && (
          <button
            type="button"
            className="btn"
            disabled={busy || state === 'checking'}
            title="Hash the data on disk again: what fails is downloaded again"
            data-testid="torrent-recheck"
            onClick={() => void run(() => api.recheck(infoHash))}
          >
            <span>{state === 'checking' ? 'Checking…' : 'Recheck'}</span>
          </button>
        )}
        {hasMetadata && (
          <a className="btn" href={torrentFileUrl(infoHash)} download data-testid="detail-torrent-download">
            <IconDownload />
            <span>.torrent</span>
          </a>
        )}
        <a className="btn btn-ghost" href={`#/chat?torrent=${infoHash}`} data-testid="detail-chat">
          Chat about it
        </a>
        {/* The Assistant with this torrent attached: its checks run first, and the question is asked at once. */}
        <a className="btn btn-ghost" href={assistantHref({ torrent: infoHash, ask: `What is wrong with ${name || 'this torrent'}?` })} data-testid="ask-about-torrent">
          Ask about this torrent
        </a>
      </div>
      {error && <div className="alert alert-error">{error}</div>}
    </>
  );
}

/** Category, tags, when it was added and completed, how long it has seeded, its limits. */
function OrganisingRows({ detail }: { detail: TorrentDetailView }) {
  const raw = detail.raw ?? {};
  const o = optionsOf(raw);
  const row = (label: string, value: string | null, testId?: string) =>
    value ? (
      <>
        <dt>{label}</dt>
        <dd data-testid={testId}>{value}</dd>
      </>
    ) : null;
  const limits = [o.downloadLimit ? `↓ ${formatSpeed(o.downloadLimit)}` : '', o.uploadLimit ? `↑ ${formatSpeed(o.uploadLimit)}` : ''].filter(Boolean).join(' · ');
  return (
    <>
      {row('Category', o.category, 'detail-category')}
      {row('Tags', o.tags.length > 0 ? o.tags.join(', ') : null, 'detail-tags')}
      {row('Own limits', limits || null)}
      {row('Added', typeof raw.addedAt === 'number' ? formatDate(raw.addedAt) : null)}
      {row('Completed', o.completedAt ? formatDate(o.completedAt) : null)}
      {row('Seeding time', o.seedingTime ? formatDuration(o.seedingTime) : null)}
    </>
  );
}

function formatDuration(seconds: number): string {
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h} h ${m % 60} min` : `${Math.floor(h / 24)} d ${h % 24} h`;
}

function OverviewTab({ detail }: { detail: TorrentDetailView }) {
  return (
    <div className="overview">
      <OwnershipSection key={detail.infoHashHex} infoHash={detail.infoHashHex} hasMetadata={detail.files.length > 0} />
      <PrivateDiscoverySection key={`pd-${detail.infoHashHex}`} infoHash={detail.infoHashHex} raw={detail.raw} />
      <HoldersSection key={`holders-${detail.infoHashHex}`} infoHash={detail.infoHashHex} raw={detail.raw} />
      <dl className="kv">
        <dt>{detail.version === 'v2' ? 'Torrent id' : detail.infoHashV2 ? 'Infohash v1' : 'Infohash'}</dt>
        <dd className="mono" data-testid="detail-infohash">{detail.infoHashHex}</dd>
        {detail.infoHashV2 && (
          <>
            <dt>Infohash v2</dt>
            <dd className="mono" data-testid="detail-infohash-v2">{detail.infoHashV2}</dd>
          </>
        )}
        {detail.version && detail.version !== 'v1' && (
          <>
            <dt>Format</dt>
            <dd data-testid="detail-version">{detail.version === 'hybrid' ? 'Hybrid (BitTorrent v1 and v2)' : 'BitTorrent v2 (BEP 52)'}</dd>
          </>
        )}
        {detail.pieceCount !== undefined && (
          <>
            <dt>Pieces</dt>
            <dd>
              {detail.pieceCount}
              {detail.pieceLength ? ` × ${formatBytes(detail.pieceLength)}` : ''}
            </dd>
          </>
        )}
        {detail.savePath && (
          <>
            <dt>Saved in</dt>
            <dd className="mono">{detail.savePath}</dd>
          </>
        )}
        <OrganisingRows detail={detail} />
      </dl>
      {detail.magnet && (
        <div className="magnet-box">
          <div className="magnet-text mono" data-testid="detail-magnet">{detail.magnet}</div>
          {typeof detail.raw?.shareWarning === 'string' && detail.raw.shareWarning && (
            <div className="alert alert-warn" role="note" data-testid="detail-share-warning">
              {detail.raw.shareWarning}
            </div>
          )}
          <div className="row gap wrap-row">
            <CopyButton text={detail.magnet} label="Copy magnet" />
            {detail.files.length > 0 && (
              <a className="btn" href={torrentFileUrl(detail.infoHashHex)} download>
                <IconDownload />
                <span>.torrent</span>
              </a>
            )}
          </div>
          <QrCode text={detail.magnet} size={160} />
        </div>
      )}
    </div>
  );
}
