// The in-browser peer: Cascade's engine core running in this tab (WebRTC transport, WebSocket
// tracker, browser storage). "Share from this browser" seeds from here and "download in this
// browser" fetches over WebRTC; the node only relays tracker signalling, never the data.
//
// One lazily created session per tab. Its torrents are mirrored into a snapshot that React reads
// with useSyncExternalStore, refreshed twice a second while anything runs.

import { useSyncExternalStore } from 'react';
import type { PeerStats, TorrentHandle, TorrentStats } from '@cascade/engine/browser';
import type { TabShare } from './browser-private.ts';
import { loadIdentity } from '../identity/keys.ts';

export interface BrowserFile {
  index: number;
  path: string;
  length: number;
}

export interface BrowserTorrent {
  infoHash: string;
  name: string | undefined;
  length: number | undefined;
  state: string;
  progress: number;
  downloadSpeed: number;
  uploadSpeed: number;
  downloaded: number;
  uploaded: number;
  eta: number;
  peers: number;
  seeds: number;
  files: BrowserFile[];
  magnet: string | undefined;
  /** True when this tab created the torrent from local files ("share from this browser"). */
  shared: boolean;
  /** The .torrent bytes when known (shares). */
  torrent: Uint8Array | undefined;
  peerList: PeerStats[];
  error: string | undefined;
  /** A private share (issue 24): readable in this tab or not (then `error` says why). */
  encrypted: boolean;
  decryptable: boolean;
}

export interface PeerSnapshot {
  status: 'idle' | 'starting' | 'ready' | 'unavailable';
  error: string | undefined;
  torrents: BrowserTorrent[];
  /** WebSocket trackers the session announces to. */
  trackers: string[];
  defaultTracker: string | undefined;
  storage: { usage: number; quota: number } | undefined;
  /** This tab can find peers through onion relays (the node lists a directory). */
  privateDiscovery: boolean;
}

export interface PeerConfig {
  /** Tracker URLs (ws:// / wss://); empty = the node's tracker. */
  trackers: string[];
  /** STUN/TURN URLs; undefined = the node's configured servers (or the engine's default). An empty
   *  list means "none" (loopback tests). */
  iceServers: string[] | undefined;
}

const CONFIG_KEY = 'cascade.peer';

export function loadPeerConfig(): { trackers: string[]; iceServers: string[] } & { iceServersSet: boolean } {
  try {
    const raw = JSON.parse(localStorage.getItem(CONFIG_KEY) ?? '{}') as Partial<PeerConfig>;
    const trackers = Array.isArray(raw.trackers) ? raw.trackers.filter((t): t is string => typeof t === 'string') : [];
    const ice = Array.isArray(raw.iceServers) ? raw.iceServers.filter((t): t is string => typeof t === 'string') : undefined;
    return { trackers, iceServers: ice ?? [], iceServersSet: ice !== undefined };
  } catch {
    return { trackers: [], iceServers: [], iceServersSet: false };
  }
}

export function savePeerConfig(c: { trackers: string[]; iceServers: string[] }): void {
  const body: PeerConfig = { trackers: c.trackers, iceServers: c.iceServers.length > 0 ? c.iceServers : undefined };
  try {
    localStorage.setItem(CONFIG_KEY, JSON.stringify(body));
  } catch {}
}

/** What the app uses of the engine's BrowserSession (packages/engine/browser.ts). */
interface SeedResult {
  infoHash: string;
  magnet: string;
  torrent: Uint8Array;
  handle: TorrentHandle;
}
interface EngineSession {
  add(source: string | Uint8Array, opts?: Record<string, unknown>): Promise<TorrentHandle>;
  seedFiles(files: File[], opts: { announce: string[]; onProgress?(hashed: number, total: number): void }): Promise<SeedResult>;
  get(infoHashHex: string): TorrentHandle | undefined;
  remove(infoHashHex: string, opts?: { deleteData?: boolean }): Promise<void>;
  close(): Promise<void>;
  fileBlob(infoHashHex: string, index: number): Promise<Blob>;
}
interface SessionCtor {
  new (opts: { trackers?: string[]; iceServers?: { urls: string | string[] }[]; privateDiscovery?: unknown }): EngineSession;
}

interface Entry {
  handle: TorrentHandle;
  shared: boolean;
  magnet: string | undefined;
  torrent: Uint8Array | undefined;
  error: string | undefined;
  /** A link's key (#k=), kept in the tab only. */
  linkKey?: Uint8Array;
  /** Set once the metadata says it is a private share. */
  privateShare?: TabShare;
}

/** The identity this browser signs in with: its X25519 secrets open envelopes sealed to its did. */
async function tabSecrets(): Promise<{ did: string; secrets: Uint8Array[] } | undefined> {
  const id = await loadIdentity().catch(() => undefined);
  return id && { did: id.did, secrets: [id.dhSecret, ...(id.legacyDhSecret ? [id.legacyDhSecret] : [])] };
}

class BrowserPeer {
  private snap: PeerSnapshot = { status: 'idle', error: undefined, torrents: [], trackers: [], defaultTracker: undefined, storage: undefined, privateDiscovery: false };
  private listeners = new Set<() => void>();
  private sessionPromise: Promise<EngineSession> | undefined;
  private entries = new Map<string, Entry>();
  private timer: ReturnType<typeof setInterval> | undefined;

  subscribe = (fn: () => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };
  getSnapshot = () => this.snap;

  private set(patch: Partial<PeerSnapshot>): void {
    this.snap = { ...this.snap, ...patch };
    for (const fn of this.listeners) fn();
  }

  /** Starts the engine in this tab on first use. */
  session(): Promise<EngineSession> {
    this.sessionPromise ??= this.start().catch((err: Error) => {
      this.sessionPromise = undefined;
      this.set({ status: 'unavailable', error: err.message });
      throw err;
    });
    return this.sessionPromise;
  }

  private async start(): Promise<EngineSession> {
    this.set({ status: 'starting', error: undefined });
    if (typeof RTCPeerConnection !== 'function') throw new Error('this browser has no WebRTC');
    const [mod, rtc] = await Promise.all([import('@cascade/engine/browser'), tabWebRtc()]);
    const { trackers, iceServers, directories } = rtc;
    const Ctor = mod.BrowserSession as unknown as SessionCtor;
    const privateDiscovery = directories.length > 0 ? await tabPrivateDiscovery(directories, iceServers) : undefined;
    const session = new Ctor({ trackers, ...(iceServers !== undefined ? { iceServers } : {}), ...(privateDiscovery ? { privateDiscovery } : {}) });
    this.set({ status: 'ready', trackers, defaultTracker: rtc.nodeTrackers[0], privateDiscovery: !!privateDiscovery });
    void this.updateStorage();
    return session;
  }

  private track(handle: TorrentHandle, e: Omit<Entry, 'handle'>): void {
    this.entries.set(handle.infoHashHex, { handle, ...e });
    handle.on('error', (err: Error) => {
      const entry = this.entries.get(handle.infoHashHex);
      if (entry) entry.error = err.message;
      this.refresh();
    });
    handle.on('done', () => this.refresh());
    const inspect = () => void this.inspectPrivate(handle.infoHashHex);
    handle.on('metadata', () => {
      inspect();
      this.refresh();
    });
    if (handle.metainfo) inspect();
    this.refresh();
    this.timer ??= setInterval(() => this.refresh(), 500);
  }

  /** Looks for the private-share entry in the metadata; opens it when the tab holds its key. */
  private async inspectPrivate(infoHash: string): Promise<void> {
    const entry = this.entries.get(infoHash);
    const infoBytes = entry?.handle.metainfo?.infoBytes;
    if (!entry || !infoBytes || entry.privateShare) return;
    const { openTabShare } = await import('./browser-private.ts');
    const share = await openTabShare(infoBytes, entry.linkKey, tabSecrets);
    if (share) {
      entry.privateShare = share;
      this.refresh();
    }
  }

  private refresh(): void {
    const torrents: BrowserTorrent[] = [];
    for (const [infoHash, e] of this.entries) {
      let s: TorrentStats | undefined;
      let peers: PeerStats[] = [];
      try {
        s = e.handle.stats();
        peers = e.handle.peers();
      } catch (err) {
        e.error ??= (err as Error).message;
      }
      const meta = e.handle.metainfo;
      const ps = e.privateShare;
      torrents.push({
        infoHash,
        name: ps?.manifest?.name ?? s?.name ?? meta?.name,
        length: s?.length ?? meta?.length,
        state: e.error ? 'error' : (s?.state ?? 'metadata'),
        progress: s?.progress ?? 0,
        downloadSpeed: s?.downloadSpeed ?? 0,
        uploadSpeed: s?.uploadSpeed ?? 0,
        downloaded: s?.downloaded ?? 0,
        uploaded: s?.uploaded ?? 0,
        eta: s?.eta ?? Infinity,
        peers: s?.peers ?? peers.length,
        seeds: s?.seeds ?? 0,
        // A private share's files are the ones inside it, when the tab can read them; none otherwise.
        files: ps
          ? ps.manifest
            ? ps.manifest.files.map((f, index) => ({ index, path: f.path.join('/'), length: f.length }))
            : []
          : (meta?.files ?? [])
              .map((f, index) => ({ index, path: f.path.join('/'), length: f.length, pad: f.pad }))
              .filter((f) => !f.pad)
              .map(({ index, path, length }) => ({ index, path, length })),
        magnet: e.magnet,
        shared: e.shared,
        torrent: e.torrent,
        peerList: peers,
        error: e.error ?? s?.error ?? ps?.error,
        encrypted: ps !== undefined,
        decryptable: ps?.decryptable ?? true,
      });
    }
    this.set({ torrents });
    if (this.entries.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private async updateStorage(): Promise<void> {
    try {
      const est = await navigator.storage?.estimate?.();
      if (est) this.set({ storage: { usage: est.usage ?? 0, quota: est.quota ?? 0 } });
    } catch {}
  }

  /** Hashes files in this tab and seeds them over WebRTC. */
  async share(files: File[], onProgress?: (fraction: number) => void): Promise<{ infoHash: string; magnet: string; torrent: Uint8Array; name: string }> {
    const session = await this.session();
    if (this.snap.trackers.length === 0) {
      throw new Error('no WebRTC tracker to announce to: the node runs without its tracker; add one in Settings');
    }
    const res = await session.seedFiles(files, {
      announce: this.snap.trackers,
      onProgress: (hashed, total) => onProgress?.(total > 0 ? hashed / total : 1),
    });
    const name = res.handle.metainfo?.name ?? files[0]?.name ?? res.infoHash;
    this.track(res.handle, { shared: true, magnet: res.magnet, torrent: res.torrent, error: undefined });
    void this.updateStorage();
    return { infoHash: res.infoHash, magnet: res.magnet, torrent: res.torrent, name };
  }

  /** Starts downloading a magnet / infohash / .torrent in this tab; resolves with the infohash.
   *  privateDiscovery: its WebSocket trackers only through onion circuits, with this tab's
   *  addresses stripped from its offers (the tracker never sees the tab). */
  async add(input: string | Uint8Array, opts: { privateDiscovery?: boolean } = {}): Promise<string> {
    const session = await this.session();
    // A private share's link: the key (#k=) stays in this tab; the engine and trackers get the magnet.
    let source = typeof input === 'string' ? input.trim() : input;
    let linkKey: Uint8Array | undefined;
    if (typeof source === 'string' && source.includes('#')) {
      const { splitLink } = await import('@cascade/private-shares');
      ({ uri: source, key: linkKey } = splitLink(source));
    }
    const existing = typeof source === 'string' ? this.findBySource(source) : undefined;
    if (existing) {
      const entry = this.entries.get(existing)!;
      if (linkKey && !entry.privateShare?.decryptable) {
        entry.linkKey = linkKey;
        entry.privateShare = undefined;
        void this.inspectPrivate(existing);
      }
      return existing;
    }
    const handle = await session.add(source, opts.privateDiscovery ? { privateDiscovery: true } : {});
    this.track(handle, { shared: false, magnet: typeof source === 'string' && source.startsWith('magnet:') ? source : undefined, torrent: undefined, error: undefined, ...(linkKey ? { linkKey } : {}) });
    return handle.infoHashHex;
  }

  private findBySource(s: string): string | undefined {
    const m = /xt=urn:btih:([0-9a-f]{40})/i.exec(s) ?? /^([0-9a-f]{40})$/i.exec(s.trim());
    const h = m?.[1]?.toLowerCase();
    return h && this.entries.has(h) ? h : undefined;
  }

  /** The bytes of one file of a torrent in this tab, as a Blob (once the file is complete). */
  async fileBlob(infoHash: string, index: number): Promise<Blob> {
    const session = await this.session();
    const ps = this.entries.get(infoHash)?.privateShare;
    if (!ps) return session.fileBlob(infoHash, index);
    // The torrent's one file is the ciphertext: the plaintext of file `index` is decrypted from it.
    const { decryptFile } = await import('./browser-private.ts');
    return decryptFile(ps, await session.fileBlob(infoHash, 0), index);
  }

  async remove(infoHash: string): Promise<void> {
    const session = await this.session();
    this.entries.delete(infoHash);
    this.refresh();
    await session.remove(infoHash, { deleteData: true }).catch(() => {});
    void this.updateStorage();
  }

  async clearAll(): Promise<void> {
    for (const h of [...this.entries.keys()]) await this.remove(h);
  }
}

/** The node's WebRTC settings for browsers: its WebSocket tracker, and the onion directories a tab
 *  may use (from /api/health). */
async function nodeWebRtcConfig(): Promise<{ trackers: string[]; iceServers: { urls: string | string[] }[] | undefined; directories: string[] }> {
  try {
    const res = await fetch('/api/health');
    if (!res.ok) return { trackers: [], iceServers: undefined, directories: [] };
    const h = (await res.json()) as {
      tracker?: { ws?: string | null } | null;
      webrtc?: { iceServers?: { urls: string | string[] }[] };
      privateDiscovery?: { directories?: unknown } | null;
    };
    const ws = h.tracker?.ws;
    const ice = Array.isArray(h.webrtc?.iceServers) ? h.webrtc.iceServers : undefined;
    const dirs = Array.isArray(h.privateDiscovery?.directories) ? h.privateDiscovery.directories.filter((d): d is string => typeof d === 'string') : [];
    return { trackers: ws ? [reachableFromHere(ws)] : [], iceServers: ice, directories: dirs.map(reachableFromHere) };
  } catch {
    return { trackers: [], iceServers: undefined, directories: [] };
  }
}

/** This tab's WebRTC setup: the user's own trackers and ICE servers (Settings) over the node's,
 *  and the onion directories the node lists. */
export async function tabWebRtc(): Promise<{ trackers: string[]; nodeTrackers: string[]; iceServers: { urls: string | string[] }[] | undefined; directories: string[] }> {
  const node = await nodeWebRtcConfig();
  const cfg = loadPeerConfig();
  return {
    trackers: cfg.trackers.length > 0 ? cfg.trackers : node.trackers,
    nodeTrackers: node.trackers,
    iceServers: cfg.iceServersSet ? cfg.iceServers.map((urls) => ({ urls })) : node.iceServers,
    directories: node.directories,
  };
}

/** This tab's own onion client, as the engine's private discovery: it builds circuits itself, over
 *  WebSocket to node relays and over WebRTC to tabs that relay. Loaded only when the node lists a
 *  directory. */
async function tabPrivateDiscovery(directories: string[], iceServers: RTCIceServer[] | undefined): Promise<unknown> {
  const onion = await import('@cascade/onion/browser');
  const client = new onion.OnionClient({
    relays: onion.directoryRelays(directories),
    dial: onion.browserDialer(iceServers ? { iceServers } : {}),
    prefer: 'ws',
    webrtc: true,
  });
  return onion.onionDiscovery(client);
}

/** The node names its tracker by the address it bound (often 127.0.0.1); a page opened through
 *  another name for the same machine (LAN address, localhost) has to use that name instead. */
export function reachableFromHere(url: string): string {
  try {
    const u = new URL(url);
    const isLoopback = (h: string) => /^(127\.\d+\.\d+\.\d+|localhost|\[::1\]|0\.0\.0\.0|\[::\])$/.test(h);
    // A page that is itself on this machine reaches every loopback address as it is (a test's
    // 127.0.0.x per service); from elsewhere, the node's own name stands for them.
    const wildcard = /^(0\.0\.0\.0|\[::\])$/.test(u.hostname);
    const fromHere = isLoopback(location.hostname ?? '') && !wildcard;
    if (isLoopback(u.hostname) && !fromHere && location.hostname && u.hostname !== location.hostname) u.hostname = location.hostname;
    if (wildcard && location.hostname) u.hostname = location.hostname;
    if (location.protocol === 'https:' && u.protocol === 'ws:') u.protocol = 'wss:';
    return u.toString();
  } catch {
    return url;
  }
}

export const browserPeer = new BrowserPeer();

// Torrents in this tab live in its memory: leaving the page stops them. Ask first.
window.addEventListener('beforeunload', (e) => {
  if (browserPeer.getSnapshot().torrents.length > 0) e.preventDefault();
});

export function useBrowserPeer(): PeerSnapshot {
  return useSyncExternalStore(browserPeer.subscribe, browserPeer.getSnapshot);
}
