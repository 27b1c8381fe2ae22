// The service worker (built to dist/sw.js by scripts/pwa/plugin.ts, which fills in the build's file
// list and version). It does two things:
//  - the app shell offline: the page (network first, so a new deploy shows at the next load), the
//    bundle's hashed files (cache first: their names change with their content), icons, manifest;
//  - the share target: files a phone's share sheet posts are kept in this browser and handed to the
//    Share page, which asks the user before anything goes to the node.
// Everything else — the API, the live feed (socket.io), downloads and streams, the tracker, the
// compatible APIs — is never answered here: the worker does not even look at those requests.

// Filled in at build time.
declare const __PRECACHE__: string[];
declare const __VERSION__: string;

// What the worker uses of its global scope (the page's tsconfig has the DOM types, not the worker's).
interface ExtendableEvent extends Event {
  waitUntil(p: Promise<unknown>): void;
}
interface FetchEvent extends ExtendableEvent {
  readonly request: Request;
  respondWith(r: Response | Promise<Response>): void;
}
interface WorkerScope {
  registration: ServiceWorkerRegistration;
  clients: { claim(): Promise<void> };
  skipWaiting(): Promise<void>;
  addEventListener(type: 'install' | 'activate', fn: (e: ExtendableEvent) => void): void;
  addEventListener(type: 'fetch', fn: (e: FetchEvent) => void): void;
}

const sw = self as unknown as WorkerScope;
const SHELL_PREFIX = 'cascade-shell-';
const SHELL_CACHE = `${SHELL_PREFIX}${__VERSION__}`;
/** Shared files waiting for the Share page (src/pwa.ts reads and empties it). */
const SHARE_CACHE = 'cascade-share-target';
/** How long a page load waits for the node before showing the cached page. */
const NETWORK_WAIT_MS = 4000;

const scope = new URL(sw.registration.scope);
/** A request's path below the scope ('' for the app's root), or undefined outside it. */
function scoped(url: URL): string | undefined {
  if (url.origin !== scope.origin || !url.pathname.startsWith(scope.pathname)) return undefined;
  return url.pathname.slice(scope.pathname.length);
}

const PRECACHE = new Set(__PRECACHE__);
/** Never from a cache, whatever else matches: the node's live answers. The worker only handles the
 *  paths below, so this is a second fence should one of them ever sit under these. */
const LIVE = /^(api|socket\.io|announce|scrape|transmission|ipfs|metrics|ice-servers)(\/|$)/;

sw.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(SHELL_CACHE);
      // cache: 'reload' — straight from the node, not from the HTTP cache of an older build.
      await cache.addAll([...PRECACHE].map((p) => new Request(new URL(p, scope), { cache: 'reload' })));
      await sw.skipWaiting();
    })(),
  );
});

sw.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith(SHELL_PREFIX) && name !== SHELL_CACHE) await caches.delete(name);
      }
      await sw.clients.claim();
    })(),
  );
});

sw.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  const path = scoped(url);
  if (path === undefined || LIVE.test(path)) return;
  if (req.method === 'POST' && path === 'share-target') return event.respondWith(receiveShare(req));
  if (req.method !== 'GET') return;
  if (req.mode === 'navigate') {
    if (path === '' || path === 'index.html' || path === 'share-target') event.respondWith(page(req, path));
    return;
  }
  if (path.startsWith('assets/') && !path.endsWith('.map')) return event.respondWith(cacheFirst(req));
  if (PRECACHE.has(path)) return event.respondWith(networkFirst(req));
});

/** The app's page: from the node when it answers (a new build shows at once), else the cached one. */
async function page(req: Request, path: string): Promise<Response> {
  const shell = new URL('./', scope).href;
  try {
    const res = await withTimeout(fetch(req), NETWORK_WAIT_MS, () => caches.match(shell));
    // /share-target?text=… is the same page: keep only the root's copy.
    if (res.ok && path !== 'share-target' && res.type === 'basic') await (await caches.open(SHELL_CACHE)).put(shell, res.clone());
    return res;
  } catch {
    return (await caches.match(shell)) ?? offline();
  }
}

async function networkFirst(req: Request): Promise<Response> {
  try {
    const res = await fetch(req);
    if (res.ok) await (await caches.open(SHELL_CACHE)).put(req, res.clone());
    return res;
  } catch {
    return (await caches.match(req)) ?? offline();
  }
}

async function cacheFirst(req: Request): Promise<Response> {
  const hit = await caches.match(req);
  if (hit) return hit;
  const res = await fetch(req);
  if (res.ok) await (await caches.open(SHELL_CACHE)).put(req, res.clone());
  return res;
}

/** The network's answer, unless it takes longer than `ms` and `fallback` has one. */
function withTimeout(p: Promise<Response>, ms: number, fallback: () => Promise<Response | undefined>): Promise<Response> {
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      void fallback().then((r) => {
        if (r && !done) {
          done = true;
          resolve(r);
        }
      });
    }, ms);
    p.then(
      (r) => {
        clearTimeout(timer);
        if (!done) resolve(r);
        done = true;
      },
      (err: unknown) => {
        clearTimeout(timer);
        if (!done) reject(err);
        done = true;
      },
    );
  });
}

function offline(): Response {
  return new Response('Cascade is offline and this page was not saved for offline use.', { status: 503, headers: { 'content-type': 'text/plain; charset=utf-8' } });
}

/** The share sheet's POST: files wait in this browser for the Share page; a link or text alone
 *  goes on to the Add page (as the GET form of the share target, which the page reads). */
async function receiveShare(req: Request): Promise<Response> {
  let form: FormData;
  try {
    form = await req.formData();
  } catch {
    return Response.redirect(new URL('./#/share', scope).href, 303);
  }
  const files = form.getAll('files').filter((f): f is File => typeof f !== 'string');
  if (files.length > 0) {
    const id = crypto.randomUUID();
    const cache = await caches.open(SHARE_CACHE);
    // Only the newest share waits: one the page never picked up goes.
    for (const key of await cache.keys()) await cache.delete(key);
    for (const [i, f] of files.entries()) {
      const headers = { 'content-type': f.type || 'application/octet-stream', 'x-file-name': encodeURIComponent(f.name), 'x-last-modified': String(f.lastModified) };
      await cache.put(new URL(`share-target/${id}/${i}`, scope).href, new Response(f, { headers }));
    }
    return Response.redirect(new URL(`./#/share?shared=${id}`, scope).href, 303);
  }
  const q = new URLSearchParams();
  for (const k of ['title', 'text', 'url']) {
    const v = form.get(k);
    if (typeof v === 'string' && v) q.set(k, v);
  }
  return Response.redirect(new URL(`share-target?${q}`, scope).href, 303);
}
