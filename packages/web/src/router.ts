// Hash routing (#/torrents, #/torrents/<infohash>, #/share, …): no server-side fallback needed.
import { useSyncExternalStore } from 'react';

export type View = 'torrents' | 'share' | 'add' | 'rss' | 'chat' | 'network' | 'settings';
export const VIEWS: View[] = ['torrents', 'share', 'add', 'rss', 'chat', 'network', 'settings'];

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
window.addEventListener('hashchange', () => {
  current = parse(location.hash);
  for (const fn of listeners) fn();
});
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
