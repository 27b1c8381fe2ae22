// The web UI: static files of the built app (packages/web/dist) with an SPA fallback — any GET that
// is not an API path and not a file gets index.html, so client-side routes survive a reload. Without
// a build, `/` explains how to make one instead of a bare 404.
//
// The app is installable (packages/web/scripts/pwa): its hashed bundle files are cached for a year,
// everything else — index.html, the service worker, the manifest, icons — is checked with the node
// at each use, so a new build reaches browsers and their service workers at once.

import { existsSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import fastifyStatic from '@fastify/static';
import { errorBody } from './http-errors.ts';

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

export async function registerWeb(app: FastifyInstance, webRoot: string): Promise<void> {
  const built = existsSync(join(webRoot, 'index.html'));
  if (built) {
    // wildcard: false registers one route per file found at startup, so unknown paths reach the
    // not-found handler below (the SPA fallback) instead of a static 404.
    await app.register(fastifyStatic, {
      root: webRoot,
      wildcard: false,
      index: ['index.html'],
      cacheControl: false,
      setHeaders: (reply: FastifyReply, path: string) => cacheHeaders(webRoot, reply, path),
    });
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
      return reply.type('text/html; charset=utf-8').sendFile('index.html');
    }
    return reply.code(404).send(errorBody(404, `no route ${req.method} ${path}`));
  });
}
