// The web UI: static files of the built app (packages/web/dist) with an SPA fallback — any GET that
// is not an API path and not a file gets index.html, so client-side routes survive a reload. Without
// a build, `/` explains how to make one instead of a bare 404.
//
// The app is installable (packages/web/scripts/pwa): its hashed bundle files are cached for a year,
// everything else — index.html, the service worker, the manifest, icons — is checked with the node
// at each use, so a new build reaches browsers and their service workers at once.
//
// @fastify/static (with @fastify/send, mime, glob...: ~30 modules, ~0.05 CPU-s with its listing)
// loads with the first request for the app, on an instance of its own (pass-through.ts): here, at
// start, are the routes it registers with wildcard: false, one per file (the same listing as its
// glob), and for the folder of an index.html.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { errorBody } from './http-errors.ts';
import { passThrough } from './pass-through.ts';

export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../../web/dist', import.meta.url));

const NO_BUILD_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Cascade</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40em; margin: 4em auto; line-height: 1.5">
<h1>Cascade node is running</h1>
<p>The web app is not built yet. Build it with</p>
<pre>npm run build -w @cascade/web</pre>
<p>and reload this page. The HTTP API works already: see <a href="/api/docs">/api/docs</a>.</p>
</body></html>
`;

/** Cache headers by file: `path` is the file's path on disk, below `webRoot`. */
function cacheHeaders(webRoot: string, reply: FastifyReply, path: string): void {
  const file = relative(webRoot, path).split(sep).join('/');
  // Vite names the bundle's files by their content: a changed file is a new name.
  if (file.startsWith('assets/')) reply.header('cache-control', 'public, max-age=31536000, immutable');
  else reply.header('cache-control', 'no-cache');
  // A browser checks a worker script for updates itself, but a stale one must never come from a cache.
  if (file === 'sw.js') reply.header('cache-control', 'no-cache, no-store');
  if (file.endsWith('.webmanifest')) reply.header('content-type', 'application/manifest+json; charset=utf-8');
}

function isApiPath(url: string): boolean {
  return url === '/api' || url.startsWith('/api/') || url.startsWith('/api?') || url.startsWith('/socket.io');
}

/** The files below `root` as @fastify/static's glob('**', {nodir, follow, dot: false}) lists them:
 *  relative paths with `/`, no dotfile or dot-folder, symbolic links followed. */
function filesBelow(root: string, dir = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, dir))) {
    if (name.startsWith('.')) continue;
    const path = dir === '' ? name : `${dir}/${name}`;
    const stat = statSync(join(root, path), { throwIfNoEntry: false });
    if (stat?.isDirectory()) out.push(...filesBelow(root, path));
    else if (stat?.isFile()) out.push(path);
  }
  return out;
}

/** The static app, made at the first request for it: @fastify/static as it was registered here. */
async function staticApp(app: FastifyInstance, webRoot: string): Promise<FastifyInstance> {
  const { default: fastifyStatic } = await import('@fastify/static');
  const inner = Fastify();
  inner.setErrorHandler(app.errorHandler);
  // wildcard: false registers one route per file found at startup, so unknown paths reach the
  // not-found handler below (the SPA fallback) instead of a static 404.
  await inner.register(fastifyStatic, {
    root: webRoot,
    wildcard: false,
    index: ['index.html'],
    cacheControl: false,
    setHeaders: (reply: FastifyReply, path: string) => cacheHeaders(webRoot, reply, path),
  });
  await inner.ready();
  return inner;
}

export async function registerWeb(app: FastifyInstance, webRoot: string): Promise<void> {
  const built = existsSync(join(webRoot, 'index.html'));
  const files = passThrough(() => staticApp(app, webRoot));
  if (built) {
    // @fastify/static's routes (its setUpHeadAndGet): each file's, then each index.html's folder's.
    const serve = (url: string) => app.route({ method: ['HEAD', 'GET'], url, schema: { hide: true }, handler: (req, reply) => files(req, reply) });
    const list = filesBelow(webRoot);
    for (const file of list) serve(`/${file}`);
    const indexDirs = new Set(list.filter((f) => posix.basename(f) === 'index.html').map((f) => posix.dirname(`/${f}`)));
    for (const dir of indexDirs) serve(dir.endsWith('/') ? dir : `${dir}/`);
    // The phone's share sheet posts shared files here. The app's service worker answers it and
    // keeps them in the browser for the Share page; this answers only when no worker runs (not yet
    // installed, or cleared): the node keeps nothing it was not asked to, and the page says the
    // files did not come through.
    app.post('/share-target', { config: { access: 'public' }, schema: { hide: true } }, async (_req, reply) => reply.code(303).header('location', './#/share?shared=none').send());
  } else {
    app.get('/', { schema: { hide: true } }, async (_req, reply) => reply.type('text/html; charset=utf-8').send(NO_BUILD_PAGE));
  }
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0]!;
    if (built && (req.method === 'GET' || req.method === 'HEAD') && !isApiPath(req.url)) {
      return files(req, reply, '/index.html');
    }
    return reply.code(404).send(errorBody(404, `no route ${req.method} ${path}`));
  });
}
