// Torrents running in this tab (shared from it or downloading into it), with Save / Open.
import { useState } from 'react';
import { formatBytes, formatEta, formatPercent, formatSpeed, ratioOf, peersText } from '../format/format.ts';
import { CopyButton, ProgressBar, StateBadge, TransportBadge, saveBlob } from '../components/ui.tsx';
import { IconDownload, IconPlayCircle, IconTrash } from '../components/icons.tsx';
import { browserPeer, useBrowserPeer, type BrowserTorrent } from '../browser/browser-peer.ts';
import { shortAddress } from './DetailPanel.tsx';

export function BrowserTorrents() {
  const peer = useBrowserPeer();
  return (
    <section className="browser-torrents" aria-label="Torrents in this browser">
      <h2 className="section-title">In this browser</h2>
      <p className="muted small">These run inside this tab over WebRTC. Keep the tab open while they download or seed.</p>
      <div className="torrent-list" role="list">
        {peer.torrents.map((t) => (
          <BrowserRow key={t.infoHash} t={t} />
        ))}
      </div>
    </section>
  );
}

function BrowserRow({ t }: { t: BrowserTorrent }) {
  const [error, setError] = useState<string>();
  const [open, setOpen] = useState(false);
  const complete = t.progress >= 1;
  const name = t.name ?? t.infoHash;

  const withBlob = async (index: number, fn: (b: Blob, name: string) => void) => {
    setError(undefined);
    try {
      const f = t.files.find((x) => x.index === index);
      const blob = await browserPeer.fileBlob(t.infoHash, index);
      fn(blob, (f?.path.split('/').pop() ?? name) || 'download');
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <div role="listitem" className={`torrent-row browser-row state-${t.state}`} data-testid="browser-torrent-row" data-infohash={t.infoHash} data-state={t.state} data-progress={t.progress}>
      <div className="tr-name">
        <button type="button" className="name linklike" onClick={() => setOpen(!open)} title={name} aria-expanded={open || t.files.length > 1}>
          {name}
        </button>
        <div className="tr-sub">
          <StateBadge state={t.state} />
          <span className="badge badge-webrtc">{t.shared ? 'Shared from this tab' : 'This tab'}</span>
          {t.encrypted && (
            <span className="badge badge-encrypted" data-testid="browser-encrypted" data-decryptable={t.decryptable ? 'true' : 'false'}>
              {t.decryptable ? 'Encrypted · readable here' : 'Encrypted for others'}
            </span>
          )}
          <span className="muted">{formatBytes(t.length)}</span>
        </div>
      </div>
      <div className="tr-progress">
        <ProgressBar value={t.progress} state={t.state} label={`${name} progress`} />
        <span className="num small" data-testid="browser-torrent-progress">{formatPercent(t.progress)}</span>
      </div>
      <div className="tr-cell r"><span className="cell-label">↓</span>{formatSpeed(t.downloadSpeed)}</div>
      <div className="tr-cell r"><span className="cell-label">↑</span>{formatSpeed(t.uploadSpeed)}</div>
      <div className="tr-cell r"><span className="cell-label">ETA</span>{formatEta(t.eta, t.state)}</div>
      <div className="tr-cell r"><span className="cell-label">Peers</span>{peersText(t.peers, t.seeds)}</div>
      <div className="tr-cell r"><span className="cell-label">Ratio</span>{ratioOf(t.uploaded, t.downloaded, t.length)}</div>
      <div className="tr-actions">
        {t.files.length === 1 && (
          <button type="button" className="icon-btn" title="Save" aria-label={`Save ${name}`} data-testid="browser-save" disabled={!complete} onClick={() => withBlob(t.files[0]!.index, saveBlob)}>
            <IconDownload />
          </button>
        )}
        <button type="button" className="icon-btn danger" title="Stop and remove from this tab" aria-label={`Remove ${name} from this tab`} onClick={() => void browserPeer.remove(t.infoHash)}>
          <IconTrash />
        </button>
      </div>
      {error && <div className="tr-error alert alert-error">{error}</div>}
      {t.encrypted && !t.decryptable && (
        <div className="tr-error alert alert-warn" role="note" data-testid="browser-encrypted-for-others">
          This share is encrypted for other people: this tab keeps and seeds its encrypted data but cannot read it. {t.error}
        </div>
      )}
      {(open || t.files.length > 1) && (
        <div className="browser-detail">
          <ul className="file-list">
            {t.files.map((f) => (
              <li key={f.index} className="file-row" data-testid="browser-file-row">
                <div className="file-main">
                  <div className="file-name" title={f.path}>{f.path}</div>
                  <div className="muted small">{formatBytes(f.length)}</div>
                </div>
                <div className="file-actions">
                  <button type="button" className="icon-btn" title="Open" aria-label={`Open ${f.path}`} disabled={!complete} onClick={() => withBlob(f.index, (b) => window.open(URL.createObjectURL(b), '_blank', 'noopener'))}>
                    <IconPlayCircle />
                  </button>
                  <button type="button" className="icon-btn" title="Save" aria-label={`Save ${f.path}`} data-testid="browser-file-save" disabled={!complete} onClick={() => withBlob(f.index, saveBlob)}>
                    <IconDownload />
                  </button>
                </div>
              </li>
            ))}
          </ul>
          {t.magnet && (
            <div className="row gap wrap-row">
              <CopyButton text={t.magnet} label="Copy magnet" />
            </div>
          )}
          {t.peerList.length > 0 && (
            <div className="table-wrap">
              <table className="table">
                <thead>
                  <tr>
                    <th>Peer</th>
                    <th>Client</th>
                    <th>Transport</th>
                    <th className="r">Down</th>
                    <th className="r">Up</th>
                  </tr>
                </thead>
                <tbody>
                  {t.peerList.map((p) => (
                    <tr key={p.address}>
                      <td className="mono clip" title={p.address}>{shortAddress(p.address)}</td>
                      <td className="clip" title={p.client ?? undefined}>{p.client ?? '—'}</td>
                      <td><TransportBadge transport={p.transport} /></td>
                      <td className="r num">{formatSpeed(p.downloadSpeed)}</td>
                      <td className="r num">{formatSpeed(p.uploadSpeed)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
      )}
    </div>
  );
}
