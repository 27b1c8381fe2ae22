// Live torrent list: socket.io `torrents` events (one array of stats a second), with a REST poll
// while the socket is down. One shared store; components read it with useSyncExternalStore.

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

function set(patch: Partial<LiveState>): void {
  state = { ...state, ...patch };
  for (const fn of listeners) fn();
}

async function poll(): Promise<void> {
  try {
    const torrents = await api.list();
    set({ torrents, loaded: true, error: undefined });
  } catch (err) {
    set({ error: (err as Error).message, loaded: true });
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
  if (socket) return;
  void poll();
  startPolling();
  socket = io({ path: '/socket.io', transports: ['websocket', 'polling'] });
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
  const s = socket!;
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
