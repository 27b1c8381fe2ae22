// The gate as a Fastify hook: each route says what it needs in `config.access` (default: member
// for /api/*, public for the web app's files), and handlers read the admitted caller with callerOf.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { NOBODY, allows, type Access, type Caller, type Gate } from './gate.ts';
import { errorBody } from '../app/http-errors.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
    /** The route authenticates its callers itself (the compatible APIs: Transmission's Basic
     *  credentials, qBittorrent's SID cookie): the gate checks only the Host header. */
    selfAuth?: boolean;
  }
}

const callers = new WeakMap<object, Caller>();

export function callerOf(req: FastifyRequest): Caller {
  return callers.get(req.raw) ?? NOBODY;
}

/** Whether the admitted caller has at least `access` (for a public route that shows more to some). */
export function callerMay(req: FastifyRequest, access: Access): boolean {
  return allows(callerOf(req), access) === undefined;
}

function accessOf(req: FastifyRequest): Access {
  const declared = req.routeOptions.config?.access;
  if (declared) return declared;
  const url = req.url;
  // The API's own description (Swagger UI) tells nothing about the node's state.
  if (url === '/api/docs' || url.startsWith('/api/docs/') || url.startsWith('/api/docs?')) return 'public';
  // Secure by default: an API route that forgot to say is for members (reads: viewers too, the
  // read-only role for dashboards); unknown /api paths too.
  if (!(url === '/api' || url.startsWith('/api/') || url.startsWith('/api?'))) return 'public';
  return req.method === 'GET' || req.method === 'HEAD' ? 'viewer' : 'member';
}

export function installGate(app: FastifyInstance, gate: Gate): void {
  app.addHook('onRequest', async (req, reply) => {
    if (req.routeOptions.config?.selfAuth === true) {
      const refused = gate.checkHost(req.raw);
      if (refused) return reply.code(refused.status).type('application/json; charset=utf-8').send(errorBody(refused.status, refused.message));
      return;
    }
    const r = await gate.admit(req.raw, accessOf(req));
    if ('status' in r) return reply.code(r.status).type('application/json; charset=utf-8').send(errorBody(r.status, r.message));
    callers.set(req.raw, r);
  });
}
