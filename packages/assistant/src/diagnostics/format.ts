// Small helpers the checks share: how numbers and times read in evidence, and the actions (an API
// request for the UI's button, the same step as a `cascade` command for the CLI).
import type { AssistantAction } from '../types.ts';

/** "12:02:15" (UTC, so evidence reads the same wherever it is shown). */
export function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19) + ' UTC';
}

/** "45 s", "12 min", "3 h", "2 days". */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 90) return `${s} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  if (s < 48 * 3600) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} days`;
}

/** "3 min ago" from a time in ms. */
export function ago(ms: number, now: number): string {
  return `${duration((now - ms) / 1000)} ago`;
}

export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function rate(n: number): string {
  return `${bytes(n)}/s`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function short(infoHash: string): string {
  return infoHash.slice(0, 8);
}

// ---- actions ----

export function torrentAction(
  id: string,
  label: string,
  infoHash: string,
  verb: 'resume' | 'recheck' | 'announce' | 'pause',
): AssistantAction {
  return {
    id,
    label,
    request: { method: 'POST', path: `/api/torrents/${infoHash}/${verb}` },
    command: `cascade ${verb} ${short(infoHash)}`,
  };
}

export const reannounce = (ih: string) => torrentAction('reannounce', 'Re-announce now', ih, 'announce');
export const resume = (ih: string) => torrentAction('resume', 'Resume', ih, 'resume');
export const recheck = (ih: string) => torrentAction('recheck', 'Check the data again', ih, 'recheck');

export function openSettings(label = 'Open Settings'): AssistantAction {
  return { id: 'open-settings', label, href: '#/settings', command: 'cascade settings' };
}

export function openNetwork(): AssistantAction {
  return { id: 'open-network', label: 'Open Network', href: '#/network', command: 'cascade health' };
}

export function patchTorrent(id: string, label: string, infoHash: string, body: Record<string, unknown>, command: string): AssistantAction {
  return { id, label, request: { method: 'PATCH', path: `/api/torrents/${infoHash}`, body }, command };
}

export function patchSettings(id: string, label: string, body: Record<string, unknown>, command: string): AssistantAction {
  return { id, label, request: { method: 'PATCH', path: '/api/settings', body }, command };
}
