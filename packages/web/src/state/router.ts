// Hash routing (#/torrents, #/torrents/<infohash>, #/share, …): no server-side fallback needed.
import { useSyncExternalStore } from 'react';

export type View = 'torrents' | 'share' | 'add' | 'rss' | 'assistant' | 'chat' | 'network' | 'rewards' | 'market' | 'settings';
export const VIEWS: View[] = ['torrents', 'share', 'add', 'rss', 'assistant', 'chat', 'network', 'rewards', 'market', 'settings'];

export interface Route {
  view: View;
  /** Second path segment, e.g. the selected infohash in #/torrents/<hash>. */
  param: string | undefined;
  query: URLSearchParams;
}

function parse(hash: string): Route {
  const raw = hash.replace(/^#\/?/, '');
  const [path = '', qs = ''] = raw.split('?');
  const [first, second] = path.split('/');
  const view = (VIEWS as string[]).includes(first ?? '') ? (first as View) : 'torrents';
  return { view, param: second ? decodeURIComponent(second) : undefined, query: new URLSearchParams(qs) };
}

let current = parse(location.hash);
function changed(): void {
  current = parse(location.hash);
  for (const fn of listeners) fn();
}
window.addEventListener('hashchange', changed);
const listeners = new Set<() => void>();

export function useRoute(): Route {
  return useSyncExternalStore(
    (fn) => {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    () => current,
  );
}

export function href(view: View, param?: string): string {
  return `#/${view}${param ? `/${encodeURIComponent(param)}` : ''}`;
}

export function navigate(view: View, param?: string): void {
  location.hash = href(view, param);
}

/** Puts `hash` in the address bar in place of the current entry (no new history step, and Back
 *  does not come back to it): e.g. the Assistant drops the question it was opened with once asked. */
export function replaceRoute(hash: string): void {
  history.replaceState(history.state, '', hash);
  changed();
}

/** The Assistant, about a torrent and with a question to ask at once (the detail panel's "Ask
 *  about this torrent"). */
export function assistantHref(opts: { torrent?: string; ask?: string } = {}): string {
  const q = new URLSearchParams();
  if (opts.torrent) q.set('torrent', opts.torrent);
  if (opts.ask) q.set('ask', opts.ask);
  const qs = q.toString();
  return `#/assistant${qs ? `?${qs}` : ''}`;
}

/** The Market, with the sell form open for a private share (its detail panel's Sell button). */
export function sellHref(infoHash: string): string {
  return `#/market?sell=${encodeURIComponent(infoHash)}`;
}
