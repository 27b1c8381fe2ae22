// What a shared cache (a CDN, a proxy in front of the node) may keep (issue 61 item 5,
// docs/storage/cdn.md). Content-addressed responses say `public, …, immutable` themselves (/ipfs,
// /webseed, the web app's hashed assets). Everything that depends on who asks — the API (/api/*),
// routes behind sign-in, the compatible APIs with their own credentials, and every refusal
// (401/403) — is `private, no-store`, whatever the handler said: a cache must never hand one
// user's answer, or its absence, to another. Streamed responses that bypass Fastify's hooks
// (the decrypted stream) set the same themselves.
import type { FastifyInstance, FastifyRequest } from 'fastify';

export const PERSONAL = 'private, no-store';

function personal(req: FastifyRequest, status: number): boolean {
  if (status === 401 || status === 403) return true;
  const config = req.routeOptions.config;
  if (config?.selfAuth === true) return true;
  if (config?.access !== undefined && config.access !== 'public') return true;
  const url = req.url;
  return url === '/api' || url.startsWith('/api/') || url.startsWith('/api?');
}

export function installCachePolicy(app: FastifyInstance): void {
  app.addHook('onSend', async (req, reply, payload) => {
    if (personal(req, reply.statusCode)) reply.header('cache-control', PERSONAL);
    return payload;
  });
}
