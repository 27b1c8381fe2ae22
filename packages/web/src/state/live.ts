// Live torrent list: the socket's full `torrents` list (on connect, on `torrents:resync`, and every
// second from nodes that predate issue 25), then `torrents:changes` {updated, removed} with only
// what changed; a REST poll while the socket is down. One shared store, kept as a Map by infohash;
// components read it with useSyncExternalStore. A full list is compared with what is known, so
// either way only the torrents that changed get new objects and only they reach onTorrentDelta's
// listeners (list-model.ts keeps the shown, sorted list up to date one change at a time with it).
// Only an owner or member gets the node's torrents: auth.ts turns this on (resetLive(true)) once
// /api/auth/me says so, and starts it over whenever the person or role changes, since the socket's
// handshake carried the session cookie of its time.

import { io, type Socket } from 'socket.io-client';
import { useSyncExternalStore } from 'react';
import { api, normaliseList, type TorrentSummary } from '../api/api.ts';
import { settingsChanged } from '../api/node-options.ts';
import { marketChanged } from '../api/market-api.ts';

export interface LiveState {
  /** Every torrent, in the order the node first listed them. A new array at every change; the
   *  objects of torrents that did not change stay the same (rows compare them by identity first). */
  torrents: TorrentSummary[];
  byHash: ReadonlyMap<string, TorrentSummary>;
  /** Grows by one with every change of the list (see onTorrentDelta). */
  revision: number;
  /** False until the first list arrived (socket or REST). */
  loaded: boolean;
  connected: boolean;
  error: string | undefined;
  /** The socket's story for the connection banner: it was connected and lost the node
   *  ('reconnecting', with the next attempt's time), or has just come back ('reconnected', shown
   *  for a few seconds). undefined: nothing to say (first connect, or all is well). */
  link: 'reconnecting' | 'reconnected' | undefined;
  /** When the next reconnect attempt is due (ms since epoch), while reconnecting. */
  retryAt: number | undefined;
}

/** What one change of the list was: the torrents new or changed, the infohashes gone. */
export interface TorrentDelta {
  revision: number;
  updated: TorrentSummary[];
  removed: string[];
  /** The list was dropped (a sign-out, another person): read it whole again. */
  reset?: true;
}

const INITIAL: LiveState = { torrents: [], byHash: new Map(), revision: 0, loaded: false, connected: false, error: undefined, link: undefined, retryAt: undefined };
let state: LiveState = INITIAL;
const listeners = new Set<() => void>();
let socket: Socket | undefined;
let pollTimer: ReturnType<typeof setInterval> | undefined;
let enabled = false;
/** Bumped on every reset, so an answer from before it is dropped. */
let epoch = 0;

function set(patch: Partial<LiveState>): void {
  state = { ...state, ...patch };
  for (const fn of listeners) fn();
}

const deltaListeners = new Set<(d: TorrentDelta) => void>();
/** The torrents by infohash, changed in place (state.byHash is this map: readers see it as of the
 *  last revision, which is why every change bumps the revision). */
let known = new Map<string, TorrentSummary>();

/** Applies a change to the list; `fromFull`: `updated` is the whole list, so whatever is known and
 *  not in it is gone, and torrents equal to what is known are no change. Tells the delta listeners
 *  (first: they are current when React reads the state) and then the store's. */
function applyChange(incoming: TorrentSummary[], removed: string[], fromFull: boolean, extra: Partial<LiveState> = {}): void {
  const updated: TorrentSummary[] = [];
  const gone: string[] = [];
  let added = false;
  if (fromFull) {
    const seen = new Set<string>();
    for (const t of incoming) {
      seen.add(t.infoHashHex);
      const old = known.get(t.infoHashHex);
      if (old && sameSummary(old, t)) continue;
      if (!old) added = true;
      known.set(t.infoHashHex, t);
      updated.push(t);
    }
    for (const h of known.keys()) if (!seen.has(h)) gone.push(h);
  } else {
    for (const t of incoming) {
      const old = known.get(t.infoHashHex);
      // A row can change in what the page does not show (the seeding clock): no change here.
      if (old && sameSummary(old, t)) continue;
      if (!old) added = true;
      known.set(t.infoHashHex, t);
      updated.push(t);
    }
    for (const h of removed) if (known.has(h)) gone.push(h);
  }
  for (const h of gone) known.delete(h);
  if (updated.length === 0 && gone.length === 0) {
    if (Object.keys(extra).some((k) => state[k as keyof LiveState] !== extra[k as keyof LiveState])) set(extra);
    return;
  }
  // The array keeps the node's order for torrents already known; a Map iterates in insertion order,
  // so an update (set on an existing key) keeps its place and new ones go last.
  const revision = state.revision + 1;
  const torrents = added || gone.length > 0 || state.torrents.length !== known.size ? [...known.values()] : state.torrents.map((t) => known.get(t.infoHashHex)!);
  state = { ...state, ...extra, torrents, byHash: known, revision };
  const delta: TorrentDelta = { revision, updated, removed: gone };
  for (const fn of deltaListeners) fn(delta);
  for (const fn of listeners) fn();
}

/** Same fields, same values (tags by content): a full list's unchanged torrents are no change. */
function sameSummary(a: TorrentSummary, b: TorrentSummary): boolean {
  for (const k in b) {
    const key = k as keyof TorrentSummary;
    if (a[key] === b[key]) continue;
    if (key === 'tags' && (a.tags ?? []).join('\u0000') === (b.tags ?? []).join('\u0000')) continue;
    return false;
  }
  return Object.keys(a).length === Object.keys(b).length;
}

/** Calls `fn` with every change of the list, before the store's listeners hear of it. A listener
 *  that finds a revision it did not expect missed one (it subscribed late) and reads the whole list. */
export function onTorrentDelta(fn: (d: TorrentDelta) => void): () => void {
  deltaListeners.add(fn);
  return () => deltaListeners.delete(fn);
}

/** Lists and changes the socket delivered: a REST answer older than one of them is stale. */
let socketLists = 0;

async function poll(): Promise<void> {
  if (!enabled) return;
  const at = epoch;
  const seen = socketLists;
  try {
    const torrents = await api.list();
    // The socket spoke while this read was on its way: its news is newer than this answer.
    if (at === epoch && socketLists === seen) applyChange(torrents, [], true, { loaded: true, error: undefined });
  } catch (err) {
    if (at === epoch) set({ error: (err as Error).message, loaded: true });
  }
}

/** Polls every 2 s until the socket is up. Not at once: a socket dropped because the session
 *  ended is followed by auth.ts's reset, and a read before it would only get a 401. */
function startPolling(): void {
  if (pollTimer) return;
  pollTimer = setInterval(() => void poll(), 2000);
}

function stopPolling(): void {
  if (pollTimer) clearInterval(pollTimer);
  pollTimer = undefined;
}

// Reconnecting: socket.io-client retries a dropped transport by itself, but not a server that said
// goodbye ("io server disconnect": what a node that stops sends every client) nor a handshake its
// middleware refused (a node still starting, a session being re-read). Those are retried here, with
// back-off from 0.5 s doubling to 10 s (and some jitter, so many tabs do not knock at once).
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 10_000;
/** How long "Reconnected" stays up. */
const RECONNECTED_SHOW_MS = 4000;
let retryTimer: ReturnType<typeof setTimeout> | undefined;
let reconnectedTimer: ReturnType<typeof setTimeout> | undefined;
let attempts = 0;
/** The socket was connected once: losing it from then on is a reconnect, worth telling. */
let everConnected = false;

function clearRetry(): void {
  if (retryTimer) clearTimeout(retryTimer);
  retryTimer = undefined;
}

function retryLater(s: Socket): void {
  if (retryTimer || s !== socket) return;
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** attempts);
  const delay = Math.round(base * (0.75 + Math.random() * 0.5));
  attempts++;
  if (everConnected) set({ link: 'reconnecting', retryAt: Date.now() + delay });
  retryTimer = setTimeout(() => {
    retryTimer = undefined;
    if (s === socket && !s.connected) s.connect();
  }, delay);
}

function lost(s: Socket): void {
  if (s !== socket) return;
  if (reconnectedTimer) clearTimeout(reconnectedTimer);
  reconnectedTimer = undefined;
  set({ connected: false, ...(everConnected ? { link: 'reconnecting' as const } : {}) });
  startPolling();
  // `active`: socket.io-client is retrying by itself; otherwise it gave up and it is on us.
  if (!s.active) retryLater(s);
}

function start(): void {
  if (socket || !enabled) return;
  // The socket sends the whole list on connect: no REST read besides it (at 10,000 torrents each
  // is megabytes), unless it has not connected within the poll's first 2 s.
  startPolling();
  // forceNew: a socket from before a reset must not be reused with its old handshake.
  const s = io({
    path: '/socket.io',
    transports: ['websocket', 'polling'],
    forceNew: true,
    reconnectionDelay: BACKOFF_MIN_MS,
    reconnectionDelayMax: BACKOFF_MAX_MS,
  });
  socket = s;
  s.on('connect', () => {
    if (s !== socket) return;
    stopPolling();
    clearRetry();
    attempts = 0;
    const back = everConnected && state.link === 'reconnecting';
    everConnected = true;
    set({ connected: true, error: undefined, retryAt: undefined, ...(back ? { link: 'reconnected' as const } : {}) });
    if (back) {
      // The node may have changed while we were away: the socket sends the list on connect, and
      // a REST read covers the moment in between.
      void poll();
      if (reconnectedTimer) clearTimeout(reconnectedTimer);
      reconnectedTimer = setTimeout(() => {
        reconnectedTimer = undefined;
        if (state.link === 'reconnected') set({ link: undefined });
      }, RECONNECTED_SHOW_MS);
    }
  });
  s.on('disconnect', () => lost(s));
  s.on('connect_error', () => lost(s));
  s.on('torrents', (payload: unknown) => {
    if (s !== socket) return;
    socketLists++;
    applyChange(normaliseList(payload), [], true, { loaded: true, error: undefined });
  });
  // Settings changed anywhere (another page, the CLI, a remote): the Settings form and the turtle follow.
  s.on('settings', (payload: unknown) => {
    if (s !== socket || !payload || typeof payload !== 'object') return;
    settingsChanged.dispatchEvent(new CustomEvent('change', { detail: payload }));
  });
  // A market listing or order of this node changed (issue 62): an open Market page takes it.
  s.on('market', (payload: unknown) => {
    if (s !== socket || !payload || typeof payload !== 'object') return;
    marketChanged.dispatchEvent(new CustomEvent('change', { detail: payload }));
  });
  s.on('torrents:changes', (payload: unknown) => {
    if (s !== socket) return;
    const p = payload && typeof payload === 'object' ? (payload as { updated?: unknown; removed?: unknown }) : {};
    socketLists++;
    const removed = Array.isArray(p.removed) ? p.removed.filter((h): h is string => typeof h === 'string').map((h) => h.toLowerCase()) : [];
    applyChange(normaliseList(p.updated ?? []), removed, false);
    // Changes on top of a list never received (the snapshot was lost): ask for the whole list.
    if (!state.loaded) s.emit('torrents:resync');
  });
}

/** Try to reconnect now (the banner's "Retry now"), instead of waiting for the back-off. */
export function reconnectNow(): void {
  const s = socket;
  if (!s || s.connected) return;
  clearRetry();
  attempts = 0;
  s.disconnect().connect();
  void poll();
}

/** Drops the socket and the list; with `member`, connects again (the handshake then carries the
 *  current session cookie). Called by auth.ts whenever who this browser is changes. */
export function resetLive(member: boolean): void {
  epoch++;
  stopPolling();
  clearRetry();
  if (reconnectedTimer) clearTimeout(reconnectedTimer);
  reconnectedTimer = undefined;
  attempts = 0;
  everConnected = false;
  const old = socket;
  socket = undefined;
  old?.removeAllListeners();
  old?.disconnect();
  enabled = member;
  known = new Map();
  state = { ...INITIAL, byHash: known, revision: state.revision + 1 };
  for (const fn of deltaListeners) fn({ revision: state.revision, updated: [], removed: [], reset: true });
  if (member && listeners.size > 0) start();
  for (const fn of listeners) fn();
}

/** After an action: the node pushes the change over the socket at once (no need to read all of
 *  its torrents — megabytes at 10,000); without a socket, read the list now. */
export function refreshTorrents(): Promise<void> {
  if (socket?.connected) return Promise.resolve();
  return poll();
}

export function getSocket(): Socket | undefined {
  return socket;
}

export function liveSnapshot(): LiveState {
  return state;
}

function subscribe(fn: () => void): () => void {
  start();
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Calls `fn` with every new state (not React: the notifier). Returns the unsubscriber. */
export function onLiveChange(fn: (s: LiveState) => void): () => void {
  const listener = () => fn(state);
  return subscribe(listener);
}

export function useLive(): LiveState {
  return useSyncExternalStore(subscribe, () => state);
}

/** Live detail of one torrent (`subscribe` → `torrent:<hash>` each second). Returns the unsubscriber;
 *  `fn(null)` means the node dropped the torrent. Without a socket nothing arrives: poll instead. */
export function watchTorrent(infoHash: string, fn: (detail: Record<string, unknown> | null) => void): () => void {
  start();
  const s = socket;
  if (!s) return () => {};
  const ih = infoHash.toLowerCase();
  const event = `torrent:${ih}`;
  const handler = (d: unknown) => fn(d && typeof d === 'object' ? (d as Record<string, unknown>) : null);
  const sub = () => s.emit('subscribe', ih);
  s.on(event, handler);
  s.on('connect', sub);
  if (s.connected) sub();
  return () => {
    s.off(event, handler);
    s.off('connect', sub);
    if (s.connected) s.emit('unsubscribe', ih);
  };
}
