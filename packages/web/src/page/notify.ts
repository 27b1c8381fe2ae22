// Desktop notifications (opt-in, per browser): "Download complete" when a node torrent finishes and
// "Download failed" when one errs, through the browser's Notification API. Off until the person
// turns it on in Settings, which asks the browser's permission; remembered in localStorage.
// Only changes seen while the page is open count: a torrent already complete at load says nothing.
import { onLiveChange, type LiveState } from '../state/live.ts';
import { navigate } from '../state/router.ts';

const KEY = 'cascade.notifications';

export type NotifyStatus = 'on' | 'off' | 'denied' | 'unsupported';

function supported(): boolean {
  return typeof window !== 'undefined' && 'Notification' in window;
}

export function notifyStatus(): NotifyStatus {
  if (!supported()) return 'unsupported';
  if (Notification.permission === 'denied') return 'denied';
  let wanted = false;
  try {
    wanted = localStorage.getItem(KEY) === '1';
  } catch {}
  return wanted && Notification.permission === 'granted' ? 'on' : 'off';
}

/** Turns notifications on (asking the browser's permission first) or off; answers the new status. */
export async function setNotify(on: boolean): Promise<NotifyStatus> {
  if (!supported()) return 'unsupported';
  if (on && Notification.permission !== 'granted') {
    const answer = await Notification.requestPermission();
    if (answer !== 'granted') return answer === 'denied' ? 'denied' : 'off';
  }
  try {
    if (on) localStorage.setItem(KEY, '1');
    else localStorage.removeItem(KEY);
  } catch {}
  return notifyStatus();
}

function show(title: string, body: string, infoHash: string): void {
  try {
    const n = new Notification(title, { body, tag: `cascade-${infoHash}` });
    n.onclick = () => {
      window.focus();
      navigate('torrents', infoHash);
      n.close();
    };
  } catch {
    // Some browsers allow notifications only from a service worker: nothing to show then.
  }
}

interface Seen {
  progress: number;
  state: string;
}

/** Watches the live list for completions and errors; returns the stopper. */
export function startNotifier(): () => void {
  let seen: Map<string, Seen> | undefined;
  return onLiveChange((live: LiveState) => {
    if (!live.loaded) {
      seen = undefined;
      return;
    }
    const now = new Map(live.torrents.map((t) => [t.infoHashHex, { progress: t.progress, state: t.state }]));
    const before = seen;
    seen = now;
    if (!before || notifyStatus() !== 'on') return;
    for (const t of live.torrents) {
      const was = before.get(t.infoHashHex);
      if (!was) continue;
      const name = t.name || t.infoHashHex;
      if (was.progress < 1 && t.progress >= 1 && t.state !== 'error') show('Download complete', name, t.infoHashHex);
      else if (was.state !== 'error' && t.state === 'error') show('Download failed', `${name}${t.error ? `: ${t.error}` : ''}`, t.infoHashHex);
    }
  });
}
