// Answering from a Fastify instance of its own, made at the first request: how the API docs
// (docs.ts) and the web app's files (web.ts) load their plugins (Swagger, @fastify/static) at
// their first use instead of with every node. This app keeps the routes, with the patterns the
// plugins would have registered (so the gate, the cache policy and the request counter see the
// same routes); each request is passed to the inner instance (inject) and its answer sent as this
// app's. A 404 of the inner instance (a file it does not have) is this app's not-found, as the
// plugins' own callNotFound made it.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Headers of the inner answer this app's reply sets itself (or that belong to the connection). */
const OWN_HEADERS = new Set(['content-length', 'date', 'connection', 'keep-alive', 'transfer-encoding']);

export type PassThrough = (req: FastifyRequest, reply: FastifyReply, url?: string) => Promise<FastifyReply>;

/** A handler answering each request (at `url`, default its own) as the instance `make` makes does. */
export function passThrough(make: () => Promise<FastifyInstance>): PassThrough {
  let inner: Promise<FastifyInstance> | undefined;
  return async (req, reply, url = req.url) => {
    const app = await (inner ??= make().catch((err: unknown) => {
      inner = undefined;
      throw err;
    }));
    // GET for a HEAD too: this app answers a HEAD with the GET's headers and no body, as before.
    const res = await app.inject({ method: 'GET', url, headers: req.headers });
    if (res.statusCode === 404) {
      reply.callNotFound();
      return reply;
    }
    reply.code(res.statusCode);
    for (const [name, value] of Object.entries(res.headers)) if (value !== undefined && !OWN_HEADERS.has(name)) reply.header(name, value);
    // No body and no type (a redirect): none here either, nor the type a Buffer would be given.
    return res.rawPayload.length === 0 && res.headers['content-type'] === undefined ? reply.send() : reply.send(res.rawPayload);
  };
}
