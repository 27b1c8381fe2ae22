// Live torrent list: socket.io `torrents` events (one array of stats a second), with a REST poll
// while the socket is down. One shared store; components read it with useSyncExternalStore.
// Only an owner or member gets the node's torrents: auth.ts turns this on (resetLive(true)) once
// /api/auth/me says so, and starts it over whenever the person or role changes, since the socket's
// handshake carried the session cookie of its time.

import { io, type Socket } from 'socket.io-client';
import { useSyncExternalStore } from 'react';
import { api, normaliseList, type TorrentSummary } from './api.ts';

export interface LiveState {
  torrents: TorrentSummary[];
  /** False until the first list arrived (socket or REST). */
  loaded: boolean;
  connected: boolean;
  error: string | undefined;
}

let state: LiveState = { torrents: [], loaded: false, connected: false, error: undefined };
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

async function poll(): Promise<void> {
  if (!enabled) return;
  const at = epoch;
  try {
    const torrents = await api.list();
    if (at === epoch) set({ torrents, loaded: true, error: undefined });
  } catch (err) {
    if (at === epoch) set({ error: (err as Error).message, loaded: true });
  }
}

function startPolling(): void {
  if (pollTimer) return;
  pollTimer = setInterval(() => void poll(), 2000);
}

function stopPolling(): void {
  if (pollTimer) clearInterval(pollTimer);
  pollTimer = undefined;
}

function start(): void {
  if (socket || !enabled) return;
  void poll();
  startPolling();
  // forceNew: a socket from before a reset must not be reused with its old handshake.
  socket = io({ path: '/socket.io', transports: ['websocket', 'polling'], forceNew: true });
  socket.on('connect', () => {
    stopPolling();
    set({ connected: true, error: undefined });
  });
  socket.on('disconnect', () => {
    set({ connected: false });
    startPolling();
  });
  socket.on('connect_error', () => {
    set({ connected: false });
    startPolling();
  });
  socket.on('torrents', (payload: unknown) => {
    set({ torrents: normaliseList(payload), loaded: true, error: undefined });
  });
}

/** Drops the socket and the list; with `member`, connects again (the handshake then carries the
 *  current session cookie). Called by auth.ts whenever who this browser is changes. */
export function resetLive(member: boolean): void {
  epoch++;
  stopPolling();
  const old = socket;
  socket = undefined;
  old?.removeAllListeners();
  old?.disconnect();
  enabled = member;
  state = { torrents: [], loaded: false, connected: false, error: undefined };
  if (member && listeners.size > 0) start();
  for (const fn of listeners) fn();
}

/** Ask for a fresh list now (after an action, instead of waiting for the next tick). */
export function refreshTorrents(): Promise<void> {
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
