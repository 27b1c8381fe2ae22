// The web UI: static files of the built app (packages/web/dist) with an SPA fallback — any GET that
// is not an API path and not a file gets index.html, so client-side routes survive a reload. Without
// a build, `/` explains how to make one instead of a bare 404.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
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

function isApiPath(url: string): boolean {
  return url === '/api' || url.startsWith('/api/') || url.startsWith('/api?') || url.startsWith('/socket.io');
}

export async function registerWeb(app: FastifyInstance, webRoot: string): Promise<void> {
  const built = existsSync(join(webRoot, 'index.html'));
  if (built) {
    // wildcard: false registers one route per file found at startup, so unknown paths reach the
    // not-found handler below (the SPA fallback) instead of a static 404.
    await app.register(fastifyStatic, { root: webRoot, wildcard: false, index: ['index.html'] });
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
