// This tab as an onion relay for others (issue 14, docs/onion.md "Tab relays"): opt-in, and only
// while the tab is open. The choice is remembered in this browser, so a reload relays again; the
// relay's identity is made afresh each time and never linked to the user's own key.
import { useSyncExternalStore } from 'react';
import type { RunningTabRelay, TabRelayStatus } from '@cascade/onion/browser';
import { tabWebRtc } from './browser-peer.ts';

const KEY = 'cascade.tabRelay';

export interface TabRelayState {
  /** The user asked for it (remembered in this browser). */
  on: boolean;
  /** Starting: looking for a node relay to signal through. */
  starting: boolean;
  status: TabRelayStatus | undefined;
  error: string | undefined;
}

class TabRelayStore {
  private state: TabRelayState = { on: false, starting: false, status: undefined, error: undefined };
  private listeners = new Set<() => void>();
  private relay: RunningTabRelay | undefined;
  private poll: ReturnType<typeof setInterval> | undefined;

  subscribe = (fn: () => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };
  getSnapshot = () => this.state;

  private set(patch: Partial<TabRelayState>): void {
    this.state = { ...this.state, ...patch };
    for (const fn of this.listeners) fn();
  }

  /** Relays again if the user opted in before (called once when the app loads). */
  resume(): void {
    if (remembered() && !this.state.on) void this.start();
  }

  async start(): Promise<void> {
    if (this.state.on) return;
    remember(true);
    this.set({ on: true, starting: true, error: undefined });
    try {
      if (typeof RTCPeerConnection !== 'function') throw new Error('this browser has no WebRTC');
      const [onion, rtc] = await Promise.all([import('@cascade/onion/browser'), tabWebRtc()]);
      if (!this.state.on) return;
      if (rtc.directories.length === 0) throw new Error('this node lists no relay directory (it runs without --directory)');
      this.relay = onion.startTabRelay({
        directories: rtc.directories,
        ...(rtc.iceServers ? { iceServers: rtc.iceServers } : {}),
        onEvent: (name, fields) => {
          if (name === 'tab-relay-error') this.set({ error: String(fields.error) });
          if (name === 'tab-relay-registered') this.set({ error: undefined });
          this.refresh();
        },
      });
      this.poll = setInterval(() => this.refresh(), 1000);
      this.set({ starting: false });
      this.refresh();
    } catch (err) {
      this.set({ starting: false, error: (err as Error).message });
    }
  }

  stop(): void {
    remember(false);
    clearInterval(this.poll);
    this.relay?.close();
    this.relay = undefined;
    this.set({ on: false, starting: false, status: undefined, error: undefined });
  }

  private refresh(): void {
    if (this.relay) this.set({ status: this.relay.status() });
  }
}

function remembered(): boolean {
  try {
    return localStorage.getItem(KEY) === 'on';
  } catch {
    return false;
  }
}

function remember(on: boolean): void {
  try {
    if (on) localStorage.setItem(KEY, 'on');
    else localStorage.removeItem(KEY);
  } catch {
    // Storage refused (private mode): the choice lasts this page only.
  }
}

export const tabRelay = new TabRelayStore();

export function useTabRelay(): TabRelayState {
  return useSyncExternalStore(tabRelay.subscribe, tabRelay.getSnapshot);
}
