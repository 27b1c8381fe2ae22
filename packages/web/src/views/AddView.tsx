// Add: a magnet / http(s) URL of a .torrent / bare infohash, or a dropped .torrent file — downloaded
// by the node, or in this browser over WebRTC.
import { useEffect, useState } from 'react';
import { refreshTorrents } from '../state/live.ts';
import { navigate, replaceRoute, useRoute } from '../state/router.ts';
import { DropZone } from '../components/ui.tsx';
import { IconBrowser, IconServer } from '../components/icons.tsx';
import { browserPeer, useBrowserPeer } from '../browser/browser-peer.ts';
import { isMember, useAuth } from '../state/auth.ts';
import { nodeOptions } from '../api/node-options.ts';
import { AddOptionsFields, addOptionsOf, emptyAddOptions, useNodeDefaults } from './AddOptionsFields.tsx';
import { SearchCard } from './SearchCard.tsx';
import { PlainDownloadCard } from './PlainDownloadCard.tsx';
import type { PlainDownload } from '../api/api.ts';
import './add.css';

type Target = 'node' | 'browser';

const HEX40 = /^[0-9a-f]{40}$/i;
const HEX64 = /^[0-9a-f]{64}$/i;
const B32 = /^[a-z2-7]{32}$/i;
/** CIDv1 in base32 (b…) or base36 (k…); the node checks the rest (raw codec, sha2-256). */
const CID = /^(b[a-z2-7]{50,}|k[0-9a-z]{40,})$/;
const SHA256 = /^[0-9a-f]{64}$/i;

/** A quick client-side check so obvious typos get a message before a round trip; the node's
 *  protocol manager has the last word on what each identifier is. */
export function validateSource(s: string, target: 'node' | 'browser' = 'node'): string | undefined {
  const v = s.trim();
  if (!v) return 'Paste a magnet link, a .torrent URL, an infohash or a content id.';
  if (/^magnet:\?/i.test(v)) return /xt=urn:(btih|btmh):/i.test(v) ? undefined : 'This magnet link has no BitTorrent infohash (xt=urn:btih:… or xt=urn:btmh:…).';
  if (/^https?:\/\//i.test(v)) return undefined;
  if (HEX40.test(v) || B32.test(v) || HEX64.test(v)) return undefined;
  if (target === 'node' && /^ftp:\/\//i.test(v)) return undefined;
  if (target === 'node' && CID.test(v)) return undefined;
  if (target === 'browser') return 'In this browser: a magnet link, a .torrent URL or an infohash.';
  return 'Not a magnet link, URL (http, https, ftp), infohash (40 or 64 hex) or content id (bafk…).';
}

/** The mirrors box: one http(s) or ftp URL per line; a line that is not one is named. */
export function parseMirrors(text: string): { mirrors: string[]; error?: string } {
  const mirrors = text.split(/\s+/).map((l) => l.trim()).filter(Boolean);
  const bad = mirrors.find((m) => !/^(https?|ftp):\/\/\S+$/i.test(m));
  return bad ? { mirrors, error: `Not an http(s) or ftp URL: ${bad}` } : { mirrors };
}

export function AddView() {
  const [uri, setUri] = useState('');
  // A link from the phone's share sheet (#/add?link=…, src/pwa.ts): filled in for the user to check
  // and add; the address drops it so a reload does not fill it in again.
  const sharedLink = useRoute().query.get('link');
  const [fromShare, setFromShare] = useState(false);
  useEffect(() => {
    if (sharedLink === null) return;
    setUri(sharedLink);
    setFromShare(true);
    replaceRoute('#/add');
  }, [sharedLink]);
  // Visitors may not add to the node: for them there is only "in this browser".
  const member = isMember(useAuth());
  const [chosen, setTarget] = useState<Target>('node');
  const target: Target = member ? chosen : 'browser';
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const peer = useBrowserPeer();
  // The tab's peer starts when this browser is the target, so its options (private discovery) show.
  useEffect(() => {
    if (target === 'browser') void browserPeer.session().catch(() => {});
  }, [target]);
  const [options, setOptions] = useState(emptyAddOptions);
  const [tabHidden, setTabHidden] = useState(false);
  const [mirrorsText, setMirrorsText] = useState('');
  const [sha256, setSha256] = useState('');
  const defaults = useNodeDefaults(member);

  const [plain, setPlain] = useState<PlainDownload>();

  const run = async (fn: () => Promise<string | PlainDownload>) => {
    setBusy(true);
    setError(undefined);
    try {
      const infoHash = await fn();
      if (typeof infoHash !== 'string') {
        // A plain file: the node fetches it and shares it as a torrent; the card follows it.
        setPlain(infoHash);
      } else if (target === 'node') {
        await refreshTorrents();
        navigate('torrents', infoHash);
      } else {
        navigate('torrents');
      }
      setUri('');
      setOptions(emptyAddOptions);
      setMirrorsText('');
      setSha256('');
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const submitUri = () => {
    const { mirrors, error: mirrorError } = parseMirrors(mirrorsText);
    const digest = sha256.trim();
    const problem = validateSource(uri, target) ?? (target === 'node' ? mirrorError : undefined) ?? (target === 'node' && digest && !SHA256.test(digest) ? 'A SHA-256 is 64 hex digits.' : undefined);
    if (problem) {
      setError(problem);
      return;
    }
    const v = uri.trim();
    void run(async () => {
      if (target === 'node') {
        const r = await nodeOptions.addUri(v, { ...addOptionsOf(options), mirrors, ...(digest ? { sha256: digest.toLowerCase() } : {}) });
        return 'download' in r ? r.download : r.infoHash;
      }
      if (/^https?:\/\//i.test(v)) {
        const res = await fetch(v);
        if (!res.ok) throw new Error(`cannot fetch ${v}: ${res.status}`);
        return browserPeer.add(new Uint8Array(await res.arrayBuffer()), { privateDiscovery: tabHidden });
      }
      return browserPeer.add(v, { privateDiscovery: tabHidden });
    });
  };

  const addTorrentFile = (file: File) =>
    void run(async () => {
      if (target === 'node') return (await nodeOptions.addTorrentFile(file, file.name, addOptionsOf(options))).infoHash;
      return browserPeer.add(new Uint8Array(await file.arrayBuffer()), { privateDiscovery: tabHidden });
    });

  return (
    <section className="add-view narrow" aria-label="Add a torrent">
      <div className="page-head">
        <div>
          <h1>Add a torrent</h1>
          <p className="muted small">Paste a magnet link, an http(s) link to a .torrent or a file, an infohash (v1 or v2) or a content id — or drop a .torrent file.</p>
        </div>
      </div>

      <div className="mode-picker compact" role="radiogroup" aria-label="Where to download">
        {member && (
          <button type="button" role="radio" aria-checked={target === 'node'} className={`mode${target === 'node' ? ' active' : ''}`} onClick={() => setTarget('node')} data-testid="add-target-node">
            <IconServer />
            <span className="mode-text">
              <strong>Download on the node</strong>
              <span className="muted small">Saved to the node's download folder; TCP, DHT and WebRTC peers.</span>
            </span>
          </button>
        )}
        <button type="button" role="radio" aria-checked={target === 'browser'} className={`mode${target === 'browser' ? ' active' : ''}`} onClick={() => setTarget('browser')} data-testid="add-target-browser">
          <IconBrowser />
          <span className="mode-text">
            <strong>Download in this browser</strong>
            <span className="muted small">Fetched by this tab over WebRTC, then saved from the page.</span>
          </span>
        </button>
      </div>
      {!member && <p className="muted small" data-testid="add-visitor-hint">Downloading on the node is for its members; as a visitor you download into this browser.</p>}
      {target === 'browser' && peer.status === 'unavailable' && <div className="alert alert-error">The in-browser peer is unavailable: {peer.error}</div>}

      {target === 'node' && <AddOptionsFields prefix="add" value={options} onChange={setOptions} settings={defaults.settings} categories={defaults.categories} disabled={busy} />}
      {target === 'browser' && peer.privateDiscovery && (
        <label className="check">
          <input type="checkbox" checked={tabHidden} onChange={(e) => setTabHidden(e.target.checked)} disabled={busy} data-testid="add-browser-private-discovery" />
          Private discovery: find peers through onion relays, so trackers never see this browser
        </label>
      )}

      {fromShare && (
        <p className="muted small" data-testid="add-shared-note">
          Shared with Cascade: check the link below and add it.
        </p>
      )}
      <form
        className="add-form"
        onSubmit={(e) => {
          e.preventDefault();
          submitUri();
        }}
      >
        <textarea
          className="input mono"
          rows={3}
          placeholder="magnet:?xt=urn:btih:…"
          value={uri}
          onChange={(e) => setUri(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey) {
              e.preventDefault();
              submitUri();
            }
          }}
          data-testid="add-uri-input"
          aria-label="Magnet link, URL, infohash or content id"
          spellCheck={false}
        />
        {target === 'node' && (
          <details className="add-sources">
            <summary>Mirrors and checksum</summary>
            <label className="field">
              <span className="small">Mirrors: http(s) or ftp URLs of the same content, one per line, downloaded from beside the swarm</span>
              <textarea className="input mono" rows={2} value={mirrorsText} onChange={(e) => setMirrorsText(e.target.value)} placeholder="https://mirror.example/file.iso" data-testid="add-mirrors" spellCheck={false} />
            </label>
            <label className="field">
              <span className="small">SHA-256 a plain file (an http, https or ftp URL) must have</span>
              <input className="input mono" value={sha256} onChange={(e) => setSha256(e.target.value)} placeholder="64 hex digits" data-testid="add-sha256" spellCheck={false} />
            </label>
          </details>
        )}
        <button type="submit" className="btn btn-primary" disabled={busy} data-testid="add-uri-submit">
          {busy ? 'Adding…' : target === 'node' ? 'Add to the node' : 'Download in this browser'}
        </button>
      </form>
      {error && (
        <div className="alert alert-error" data-testid="add-error">
          {error}
        </div>
      )}

      <DropZone testId="add-torrent-input" accept=".torrent,application/x-bittorrent" multiple={false} onFiles={(f) => addTorrentFile(f[0]!)} disabled={busy} title="Drop a .torrent file here or click to choose" />

      {plain && (
        <PlainDownloadCard
          key={plain.id}
          start={plain}
          onShared={(ih) => {
            void refreshTorrents().then(() => navigate('torrents', ih));
          }}
        />
      )}

      {member && (
        <SearchCard
          busy={busy}
          onAdd={(magnet) =>
            void run(async () => {
              const r = await nodeOptions.addUri(magnet, addOptionsOf(options));
              return 'download' in r ? r.download : r.infoHash;
            })
          }
        />
      )}
    </section>
  );
}
