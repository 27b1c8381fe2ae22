// The installed app's side of the page: registers the service worker (src/sw/service-worker.ts,
// built to sw.js), and takes what a phone's share sheet sent — files the worker keeps for the Share
// page, a link for the Add page. Imported first by main.tsx: a shared link arrives as
// /share-target?text=…, which must become #/add?link=… before the router reads the address.

/** Where the worker keeps shared files (the same name as in the worker). */
const SHARE_CACHE = 'cascade-share-target';

/** Called by a built app only: dev (vite) has no worker, and hot reload must never be answered
 *  from a cache. */
export function registerServiceWorker(): void {
  if (!('serviceWorker' in navigator) || !window.isSecureContext) return;
  const register = () => void navigator.serviceWorker.register('./sw.js', { scope: './' }).catch((err: unknown) => console.warn('service worker not registered:', err));
  if (document.readyState === 'complete') register();
  else window.addEventListener('load', register, { once: true });
}

/** The link in what was shared: the `url` field, else the first magnet, http(s) URL or infohash in
 *  the text or title, else the text itself (the Add page says what is wrong with it). */
export function sharedLink(q: URLSearchParams): string {
  const url = q.get('url')?.trim();
  if (url) return url;
  const words = `${q.get('text') ?? ''} ${q.get('title') ?? ''}`;
  const found = /magnet:\?\S+/i.exec(words) ?? /https?:\/\/\S+/i.exec(words) ?? /\b(?:[0-9a-f]{40}|[0-9a-f]{64})\b/i.exec(words);
  return (found?.[0] ?? q.get('text') ?? '').trim();
}

/** /share-target?title=…&text=…&url=… (the share target, or what the worker made of a shared
 *  link) → the Add page with the link filled in; the user checks it and adds it. */
function takeSharedLink(): void {
  if (!location.pathname.endsWith('/share-target')) return;
  const link = sharedLink(new URLSearchParams(location.search));
  const root = new URL('./', location.href).pathname;
  history.replaceState(null, '', `${root}#/add${link ? `?link=${encodeURIComponent(link)}` : ''}`);
}
takeSharedLink();

const taken = new Map<string, Promise<File[]>>();

/** The files of share `id` the worker kept, once: they leave the browser's cache as the page takes
 *  them (a reload does not offer them twice). Empty when they are gone or never came. */
export function takeSharedFiles(id: string): Promise<File[]> {
  let p = taken.get(id);
  if (!p) {
    p = readSharedFiles(id);
    taken.set(id, p);
  }
  return p;
}

async function readSharedFiles(id: string): Promise<File[]> {
  if (!('caches' in window) || !/^[0-9a-f-]{36}$/.test(id)) return [];
  const cache = await caches.open(SHARE_CACHE);
  const mine = (await cache.keys()).filter((req) => new URL(req.url).pathname.includes(`/share-target/${id}/`));
  mine.sort((a, b) => Number(a.url.split('/').pop()) - Number(b.url.split('/').pop()));
  const files: File[] = [];
  for (const req of mine) {
    const res = await cache.match(req);
    if (!res) continue;
    const name = decodeURIComponent(res.headers.get('x-file-name') ?? 'shared file');
    const lastModified = Number(res.headers.get('x-last-modified')) || Date.now();
    files.push(new File([await res.blob()], name, { type: res.headers.get('content-type') ?? '', lastModified }));
  }
  for (const req of await cache.keys()) await cache.delete(req);
  return files;
}
