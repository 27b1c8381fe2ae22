// Share: pick or drop files → the node (upload + seed) or this tab ("share from this browser")
// hashes them → magnet link, copy, .torrent, QR code.
import { useEffect, useRef, useState } from 'react';
import { torrentFileUrl, uploadFiles } from '../api/api.ts';
import { refreshTorrents } from '../state/live.ts';
import { formatBytes, formatPercent } from '../format/format.ts';
import { href, replaceRoute, useRoute } from '../state/router.ts';
import { takeSharedFiles } from '../page/pwa.ts';
import { CopyButton, DropZone, IndeterminateBar, ProgressBar, QrCode, saveBlob } from '../components/ui.tsx';
import { IconBrowser, IconDownload, IconServer } from '../components/icons.tsx';
import { browserPeer, useBrowserPeer } from '../browser/browser-peer.ts';
import { isMember, useAuth } from '../state/auth.ts';
import { appendAddOptions } from '../api/node-options.ts';
import { useShareWarning } from '../state/share-warning.ts';
import { AddOptionsFields, addOptionsOf, emptyAddOptions, useNodeDefaults } from './AddOptionsFields.tsx';
import { ShareAudience, appendAudience, rememberRecipients, type Audience } from './ShareAudience.tsx';

type Mode = 'node' | 'browser';
const MODE_KEY = 'cascade.shareMode';

interface Shared {
  where: Mode;
  name: string;
  infoHash: string;
  magnet: string;
  /** Browser shares have their .torrent in memory; node shares link to the API. */
  torrent?: Uint8Array;
  size: number;
  /** A private share: for how many recipients, or by link (the link holds the key). */
  encrypted?: { recipients: number; link?: string };
}

type Phase =
  | { kind: 'idle' }
  | { kind: 'uploading'; fraction: number; files: File[] }
  | { kind: 'hashing'; fraction: number | undefined; files: File[] }
  | { kind: 'error'; message: string };

const sizeOf = (files: File[]) => files.reduce((n, f) => n + f.size, 0);

function loadMode(): Mode {
  try {
    return localStorage.getItem(MODE_KEY) === 'browser' ? 'browser' : 'node';
  } catch {
    return 'node';
  }
}

type ShareVersion = 'v1' | 'v2' | 'hybrid';
/** Hybrid torrents reach v1-only clients (Transmission 3, aria2, WebTorrent) and v2 ones alike. */
const DEFAULT_SHARE_VERSION: ShareVersion = 'hybrid';

export function ShareView() {
  // Visitors may not upload to the node: for them there is only "from this browser".
  const member = isMember(useAuth());
  const [chosen, setModeState] = useState<Mode>(loadMode);
  const mode: Mode = member ? chosen : 'browser';
  const [phase, setPhase] = useState<Phase>({ kind: 'idle' });
  const [shared, setShared] = useState<Shared[]>([]);
  const peer = useBrowserPeer();
  const abort = useRef<AbortController>(undefined);
  const [options, setOptions] = useState(emptyAddOptions);
  const [audience, setAudience] = useState<Audience>({ kind: 'public' });
  const [version, setVersion] = useState<ShareVersion>(DEFAULT_SHARE_VERSION);
  // The node's public URL as the torrent's web seed (a CDN in front of it: docs/storage/cdn.md).
  const [webSeed, setWebSeed] = useState(false);
  const defaults = useNodeDefaults(member);
  const shareWarning = useShareWarning(member).warning;
  useEffect(() => () => abort.current?.abort(), []);
  // Files sent from the phone's share sheet (#/share?shared=<id>, src/pwa.ts): they wait here until
  // the user picks how to share them and confirms.
  const sharedId = useRoute().query.get('shared');
  const [incoming, setIncoming] = useState<{ files: File[] } | { missing: true }>();
  useEffect(() => {
    if (!sharedId) return;
    void takeSharedFiles(sharedId).then((files) => setIncoming(files.length > 0 ? { files } : { missing: true }));
    replaceRoute('#/share');
  }, [sharedId]);

  const setMode = (m: Mode) => {
    setModeState(m);
    try {
      localStorage.setItem(MODE_KEY, m);
    } catch {}
  };

  const busy = phase.kind === 'uploading' || phase.kind === 'hashing';

  const share = async (files: File[]) => {
    if (files.length === 0 || busy) return;
    if (mode === 'node') {
      if (audience.kind === 'recipients' && audience.dids.length === 0) {
        setPhase({ kind: 'error', message: 'add at least one recipient (their did:key), or choose who can read it' });
        return;
      }
      abort.current = new AbortController();
      setPhase({ kind: 'uploading', fraction: 0, files });
      try {
        const res = await uploadFiles(
          files,
          (fraction) => setPhase(fraction >= 1 ? { kind: 'hashing', fraction: undefined, files } : { kind: 'uploading', fraction, files }),
          abort.current.signal,
          (fd) => {
            appendAudience(fd, audience);
            // A private share is a v1 torrent (its envelopes live in a v1 info dictionary).
            if (audience.kind === 'public') fd.append('version', version);
            if (webSeed && !(audience.kind === 'public' && version === 'v2')) fd.append('webSeed', 'true');
            appendAddOptions(fd, addOptionsOf(options));
          },
        );
        const encrypted = res.encrypted ? { recipients: audience.kind === 'recipients' ? audience.dids.length : 0, ...(res.link ? { link: res.link } : {}) } : undefined;
        if (audience.kind === 'recipients' && res.encrypted) rememberRecipients(audience.dids);
        // A private share's visible name is neutral; the page shows what was shared.
        const name = res.encrypted ? (files.length === 1 ? files[0]!.name : `${files.length} files`) : (res.name ?? files[0]!.name);
        setShared((s) => [{ where: 'node', name, infoHash: res.infoHash, magnet: res.magnet, size: sizeOf(files), ...(encrypted ? { encrypted } : {}) }, ...s.filter((x) => x.infoHash !== res.infoHash)]);
        setPhase({ kind: 'idle' });
        void refreshTorrents();
      } catch (err) {
        setPhase({ kind: 'error', message: (err as Error).message });
      }
    } else {
      setPhase({ kind: 'hashing', fraction: 0, files });
      try {
        const res = await browserPeer.share(files, (fraction) => setPhase({ kind: 'hashing', fraction, files }));
        setShared((s) => [{ where: 'browser', name: res.name, infoHash: res.infoHash, magnet: res.magnet, torrent: res.torrent, size: sizeOf(files) }, ...s.filter((x) => x.infoHash !== res.infoHash)]);
        setPhase({ kind: 'idle' });
      } catch (err) {
        setPhase({ kind: 'error', message: (err as Error).message });
      }
    }
  };

  const total = busy ? sizeOf(phase.files) : 0;
  return (
    <section className="share-view narrow" aria-label="Share">
      <div className="page-head">
        <div>
          <h1>Share files</h1>
          <p className="muted small">Pick files and get a magnet link anyone with a BitTorrent client or a browser can download from.</p>
        </div>
      </div>

      <div className="mode-picker" role="radiogroup" aria-label="Who seeds the files">
        {member && (
          <button type="button" role="radio" aria-checked={mode === 'node'} className={`mode${mode === 'node' ? ' active' : ''}`} onClick={() => setMode('node')} disabled={busy} data-testid="share-mode-node">
            <IconServer />
            <span className="mode-text">
              <strong>Via this node</strong>
              <span className="muted small">Uploads the files to the Cascade node, which seeds them over TCP, the DHT and WebRTC — also after you close this tab.</span>
            </span>
          </button>
        )}
        <button type="button" role="radio" aria-checked={mode === 'browser'} className={`mode${mode === 'browser' ? ' active' : ''}`} onClick={() => setMode('browser')} disabled={busy} data-testid="share-mode-browser">
          <IconBrowser />
          <span className="mode-text">
            <strong>From this browser</strong>
            <span className="muted small">Seeds straight from this tab over WebRTC; the node never sees the data. Keep the tab open while others download.</span>
          </span>
        </button>
      </div>
      {!member && <p className="muted small" data-testid="share-visitor-hint">Sharing via the node is for its members; as a visitor you share from this browser.</p>}
      {mode === 'browser' && peer.status === 'unavailable' && <div className="alert alert-error">The in-browser peer is unavailable: {peer.error}</div>}

      {mode === 'node' && shareWarning && (
        <div className="alert alert-warn" role="note" data-testid="share-warning">
          {shareWarning} <a href="#/settings">Set the public URL in Settings</a>.
        </div>
      )}
      {mode === 'node' && <ShareAudience value={audience} onChange={setAudience} disabled={busy} />}
      {mode === 'browser' && (
        <p className="muted small" data-testid="share-browser-public">
          Shares from this browser are public (anyone with the magnet). For one only chosen people or a link can read, share via this node.
        </p>
      )}
      {mode === 'node' && (
        <details className="share-options">
          <summary>Format, category, tags and folder</summary>
          <label className="field">
            <span className="small">Torrent format</span>
            <select className="input" value={audience.kind === 'public' ? version : 'v1'} onChange={(e) => setVersion(e.target.value as ShareVersion)} disabled={busy || audience.kind !== 'public'} data-testid="share-version">
              <option value="hybrid">Hybrid: v1 and v2, every client (recommended)</option>
              <option value="v2">v2 only (BEP 52: SHA-256, per-file hashes)</option>
              <option value="v1">v1 only (the oldest clients)</option>
            </select>
            {audience.kind !== 'public' && <span className="muted small">A private share is a v1 torrent.</span>}
          </label>
          <label className="check">
            <input
              type="checkbox"
              checked={webSeed}
              onChange={(e) => setWebSeed(e.target.checked)}
              disabled={busy || !defaults.settings?.publicUrl || (audience.kind === 'public' && version === 'v2')}
              aria-describedby="share-web-seed-help"
              data-testid="share-web-seed"
            />
            Web seed from this node’s public URL
          </label>
          <div className="muted small" id="share-web-seed-help">
            {defaults.settings?.publicUrl
              ? `Clients also download from ${defaults.settings.publicUrl}/webseed/…, which a CDN in front of the node can cache (not for v2-only torrents).`
              : 'Set this node’s public URL in Settings first (the address of the CDN in front of it, if any).'}
          </div>
          <AddOptionsFields prefix="share" value={options} onChange={setOptions} settings={defaults.settings} categories={defaults.categories} showPaused={false} disabled={busy} />
        </details>
      )}

      {incoming && 'files' in incoming && (
        <div className="card share-incoming" role="group" aria-label="Shared with Cascade" data-testid="share-target-files">
          <h2 className="section-title">Shared with Cascade</h2>
          <ul className="share-incoming-list">
            {incoming.files.map((f, i) => (
              <li key={i} data-testid="share-target-file">
                <span className="share-incoming-name">{f.name}</span> <span className="muted small">{formatBytes(f.size)}</span>
              </li>
            ))}
          </ul>
          <p className="muted small">Choose above how to share {incoming.files.length === 1 ? 'it' : 'them'}; nothing is shared until you confirm.</p>
          <div className="row gap wrap-row">
            <button
              type="button"
              className="btn btn-primary"
              disabled={busy}
              onClick={() => {
                const files = incoming.files;
                setIncoming(undefined);
                void share(files);
              }}
              data-testid="share-target-confirm"
            >
              Share {incoming.files.length === 1 ? 'it' : `${incoming.files.length} files`}
            </button>
            <button type="button" className="btn btn-ghost" disabled={busy} onClick={() => setIncoming(undefined)} data-testid="share-target-discard">
              Discard
            </button>
          </div>
        </div>
      )}
      {incoming && 'missing' in incoming && (
        <div className="alert alert-warn" role="note" data-testid="share-target-missing">
          The shared files did not reach this page (they are kept only in this browser, once). Share them again, or pick them below.
        </div>
      )}

      <DropZone
        testId="share-input"
        onFiles={(f) => void share(f)}
        disabled={busy}
        title={busy ? 'Working…' : 'Drop files here or click to choose'}
        hint={mode === 'node' ? 'Any size; the node hashes them and starts seeding.' : 'Hashed in this tab; nothing is uploaded to the node.'}
      />

      {phase.kind === 'uploading' && (
        <div className="card progress-card" data-testid="share-progress">
          <div className="row between">
            <span>Uploading {phase.files.length === 1 ? phase.files[0]!.name : `${phase.files.length} files`} to the node</span>
            <span className="num">{formatPercent(phase.fraction)} of {formatBytes(total)}</span>
          </div>
          <ProgressBar value={phase.fraction} state="downloading" label="upload progress" />
          <button type="button" className="btn btn-small" onClick={() => abort.current?.abort()}>Cancel</button>
        </div>
      )}
      {phase.kind === 'hashing' && (
        <div className="card progress-card" data-testid="share-progress">
          <div className="row between">
            <span>Hashing {phase.files.length === 1 ? phase.files[0]!.name : `${phase.files.length} files`}{mode === 'node' ? ' on the node' : ' in this browser'}…</span>
            <span className="num">{phase.fraction !== undefined ? formatPercent(phase.fraction) : ''} {formatBytes(total)}</span>
          </div>
          {phase.fraction !== undefined ? <ProgressBar value={phase.fraction} state="checking" label="hashing progress" /> : <IndeterminateBar label="hashing" />}
        </div>
      )}
      {phase.kind === 'error' && (
        <div className="alert alert-error" data-testid="share-error">
          Could not share: {phase.message}
        </div>
      )}

      {shared.map((s, i) => (
        <ShareResult key={`${s.where}-${s.infoHash}`} s={s} fresh={i === 0} />
      ))}
    </section>
  );
}

function ShareResult({ s, fresh }: { s: Shared; fresh: boolean }) {
  const ref = useRef<HTMLDivElement>(null);
  // The newest result may be below the fold (phones): bring it into view once.
  useEffect(() => {
    if (fresh) ref.current?.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  }, [fresh]);
  return (
    <div ref={ref} className="card share-result" data-testid="share-result" data-infohash={s.infoHash} data-where={s.where}>
      <div className="share-result-main">
        <div className="row between wrap-row">
          <h2 className="share-name">
            {s.name} <span className="muted small">{formatBytes(s.size)}</span>
          </h2>
          <span className={`badge ${s.where === 'node' ? 'badge-seeding' : 'badge-webrtc'}`}>{s.where === 'node' ? 'Seeding on the node' : 'Seeding from this tab'}</span>
        </div>
        {s.encrypted && (
          <p className="small" data-testid="share-encrypted-note">
            <span className="badge badge-encrypted">Encrypted</span>{' '}
            {s.encrypted.link
              ? 'Only people with the link below can read it. Give them the link, not the magnet: the magnet alone gives only the encrypted data.'
              : `Only ${s.encrypted.recipients === 1 ? 'your recipient' : `your ${s.encrypted.recipients} recipients`} (and this node) can read it; anyone may seed it. Send them the magnet.`}
          </p>
        )}
        {s.encrypted?.link && (
          <>
            <label className="field-label" htmlFor={`link-${s.infoHash}`}>Link (holds the key)</label>
            <textarea id={`link-${s.infoHash}`} className="magnet-text mono" readOnly value={s.encrypted.link} rows={4} data-testid="share-link" onFocus={(e) => e.currentTarget.select()} />
            <CopyButton text={s.encrypted.link} label="Copy link" testId="copy-share-link" />
          </>
        )}
        <label className="field-label" htmlFor={`magnet-${s.infoHash}`}>Magnet link</label>
        <textarea id={`magnet-${s.infoHash}`} className="magnet-text mono" readOnly value={s.magnet} rows={4} data-testid="magnet-link" onFocus={(e) => e.currentTarget.select()} />
        <div className="row gap wrap-row">
          <CopyButton text={s.magnet} label="Copy magnet" testId="copy-magnet" />
          {s.torrent ? (
            <button type="button" className="btn" data-testid="torrent-download" onClick={() => saveBlob(new Blob([s.torrent as BlobPart], { type: 'application/x-bittorrent' }), `${s.name}.torrent`)}>
              <IconDownload />
              <span>.torrent</span>
            </button>
          ) : (
            <a className="btn" href={torrentFileUrl(s.infoHash)} download={`${s.name}.torrent`} data-testid="torrent-download">
              <IconDownload />
              <span>.torrent</span>
            </a>
          )}
          {s.where === 'node' && (
            <a className="btn btn-ghost" href={href('torrents', s.infoHash)}>
              Open in Torrents
            </a>
          )}
        </div>
        <p className="muted small mono">infohash {s.infoHash}</p>
      </div>
      <QrCode text={s.encrypted?.link ?? s.magnet} size={168} />
    </div>
  );
}
