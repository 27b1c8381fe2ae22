// Settings: who you are (identity, linked wallet, sign out), the node's users, its ports (as
// /api/health reports them; set at start) and its settings (limits, queue, seeding goals, where data
// goes, public URL: NodeSettingsForm over /api/settings) — for owner and members only — and this
// browser's (theme, notifications, WebRTC trackers and ICE servers of the in-browser peer, storage).
import { useEffect, useState } from 'react';
import { api, type Health } from '../api/api.ts';
import { formatBytes } from '../format/format.ts';
import { setTheme, useTheme, type ThemeChoice } from '../page/theme.ts';
import { browserPeer, loadPeerConfig, savePeerConfig, useBrowserPeer } from '../browser/browser-peer.ts';
import { isMember, useAuth } from '../state/auth.ts';
import { IdentitySection } from './IdentitySection.tsx';
import { UsersSection } from './UsersSection.tsx';
import { NodeSettingsForm } from './NodeSettingsForm.tsx';
import { CategoriesSection } from './CategoriesSection.tsx';
import { NotificationsField } from './NotificationsField.tsx';

export function SettingsView() {
  const auth = useAuth();
  const member = isMember(auth);
  return (
    <section className="settings-view narrow" aria-label="Settings" data-testid="settings">
      <div className="page-head">
        <div>
          <h1>Settings</h1>
        </div>
      </div>
      <IdentitySection />
      {member && auth.status === 'ready' && <UsersSection />}
      {member && <NodeSettings />}
      {member && <NodeSettingsForm />}
      {member && <CategoriesSection />}
      <BrowserSettings />
    </section>
  );
}

function NodeSettings() {
  const [health, setHealth] = useState<Health>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    let live = true;
    api
      .health()
      .then((h) => live && setHealth(h))
      .catch((err: Error) => live && setError(err.message));
    return () => {
      live = false;
    };
  }, []);
  return (
    <div className="card">
      <h2>This node</h2>
      {health ? <ReadOnlyNode h={health} /> : error ? <div className="alert alert-error">{error}</div> : <div className="muted">Loading…</div>}
    </div>
  );
}

function ReadOnlyNode({ h }: { h: Health }) {
  const ports = (h.ports ?? {}) as Record<string, number | null | undefined>;
  const show = (v: unknown) => (v === null || v === undefined || v === '' ? '—' : String(v));
  return (
    <>
      <dl className="kv" data-testid="settings-node">
        <dt>Web / API port</dt>
        <dd className="num">{show(ports.http ?? (location.port || undefined))}</dd>
        <dt>BitTorrent port (TCP)</dt>
        <dd className="num" data-testid="settings-port">{show(h.bittorrentPort ?? ports.bittorrent)}</dd>
        <dt>DHT</dt>
        <dd>{h.dhtEnabled === false ? 'off' : `on${ports.dht ? `, UDP ${ports.dht}` : ''}`}</dd>
        <dt>Tracker ports</dt>
        <dd className="num">{ports.trackerHttp ? `HTTP ${ports.trackerHttp} · UDP ${show(ports.trackerUdp)}` : 'off'}</dd>
        <dt>State directory</dt>
        <dd className="mono small wrap">{show(h.stateDir)}</dd>
      </dl>
      <p className="muted small">
        This node takes these when it starts: <code>npx cascade serve --http-port N --port N --download-dir DIR --state-dir DIR --no-dht</code> (see <code>npx cascade serve --help</code>). Limits, the queue and where downloads go are set below.
      </p>
    </>
  );
}

function BrowserSettings() {
  // Notifications are of the node's downloads: for those who see them.
  const member = isMember(useAuth());
  const { choice } = useTheme();
  const peer = useBrowserPeer();
  const [cfg, setCfg] = useState(() => {
    const c = loadPeerConfig();
    return { trackers: c.trackers.join('\n'), iceServers: c.iceServers.join('\n') };
  });
  const [saved, setSaved] = useState(false);

  return (
    <form
      className="card form"
      onSubmit={(e) => {
        e.preventDefault();
        const lines = (s: string) => s.split(/\s+/).map((l) => l.trim()).filter(Boolean);
        savePeerConfig({ trackers: lines(cfg.trackers), iceServers: lines(cfg.iceServers) });
        setSaved(true);
        setTimeout(() => setSaved(false), 1800);
      }}
    >
      <h2>This browser</h2>
      <div className="field">
        <span className="field-label">Theme</span>
        <div className="segmented" role="radiogroup" aria-label="Theme">
          {(['auto', 'light', 'dark'] as ThemeChoice[]).map((t) => (
            <button key={t} type="button" role="radio" aria-checked={choice === t} className={choice === t ? 'active' : ''} onClick={() => setTheme(t)} data-testid={`theme-${t}`}>
              {t === 'auto' ? 'System' : t[0]!.toUpperCase() + t.slice(1)}
            </button>
          ))}
        </div>
      </div>
      {member && <NotificationsField />}
      <div className="field">
        <label className="field-label" htmlFor="peer-trackers">WebRTC trackers (one per line)</label>
        <textarea id="peer-trackers" className="input mono" rows={2} value={cfg.trackers} placeholder="empty = this node's WebSocket tracker" onChange={(e) => setCfg({ ...cfg, trackers: e.target.value })} />
        <div className="muted small">Used by “share from this browser” and in-browser downloads. Default: {peer.defaultTracker ?? 'this node’s tracker'}.</div>
      </div>
      <div className="field">
        <label className="field-label" htmlFor="peer-ice">STUN / TURN servers (one per line)</label>
        <textarea id="peer-ice" className="input mono" rows={2} value={cfg.iceServers} placeholder="stun:stun.example.org:3478" onChange={(e) => setCfg({ ...cfg, iceServers: e.target.value })} />
        <div className="muted small">Help browsers behind NAT reach each other. Empty = the node's configured servers.</div>
      </div>
      <div className="field">
        <span className="field-label">Storage</span>
        <div className="muted small">
          Torrents in this tab: {peer.torrents.length}
          {peer.storage ? ` · ${formatBytes(peer.storage.usage)} used of ${formatBytes(peer.storage.quota)} available to this site` : ''}
        </div>
      </div>
      <div className="row gap">
        <button type="submit" className="btn btn-primary">{saved ? 'Saved' : 'Save'}</button>
        <button type="button" className="btn" onClick={() => void browserPeer.clearAll()} disabled={peer.torrents.length === 0}>
          Stop & clear browser torrents
        </button>
      </div>
      <p className="muted small">Changes to trackers and servers apply to torrents started afterwards.</p>
    </form>
  );
}
