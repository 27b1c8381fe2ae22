// Transmission RPC (spec 17, as Transmission 4.0 ships; 3.00's transmission-remote too) at
// /transmission/rpc and /transmission/rpc/ (3.00's client adds the slash). Registered in a Fastify
// context of its own, so that any body (transmission-remote posts JSON as form-urlencoded, others
// send no content type at all) arrives as raw bytes with its own size limit and errors answer the
// way Transmission does, not as Cascade's JSON errors.
//
// Order, as in Transmission: the node's gate checks the Host; then Basic credentials (401), then the
// session id (409), before the body is read; then the body is a JSON request
// {method, arguments, tag} answered with HTTP 200 and {result, arguments, tag}.

import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CompatOps } from '../ops.ts';
import { Handshake, simplePage } from './handshake.ts';
import type { TransmissionRpc } from './methods.ts';
import { RpcError, messageOf, type Args } from './args.ts';

/** A base64 .torrent of Cascade's largest (10 MiB) plus the JSON around it. */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;
export const RPC_PATHS = ['/transmission/rpc', '/transmission/rpc/'];

interface Answer {
  result: string;
  arguments: Record<string, unknown>;
  tag?: number;
}

export function transmissionRoutes(app: FastifyInstance, ops: CompatOps): void {
  const handshake = new Handshake(ops);
  // The methods (their views, ids, session memory: a dozen modules) are loaded by the first RPC
  // request, not at every node's start (issue 64 item 4); the handshake answers before them.
  let rpc: Promise<TransmissionRpc> | undefined;
  const methods = () => (rpc ??= import('./methods.ts').then((m) => new m.TransmissionRpc(ops, () => handshake.sessionId)));

  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_BODY_BYTES }, (_req, body, done) => done(null, body));
    scope.setErrorHandler((err: FastifyError, _req, reply) => {
      const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
      const text = status === 413 ? `<p>A request may be at most ${MAX_BODY_BYTES} bytes.</p>` : `<p>${escapeHtml(err.message)}</p>`;
      reply.code(status).type('text/html; charset=utf-8').send(simplePage(status, status === 413 ? 'Payload Too Large' : 'Error', text));
    });
    // Fastify treats /transmission/rpc/ as a path of its own: both are routes.
    for (const url of RPC_PATHS) scope.route({
      method: ['GET', 'POST'],
      url,
      config: { access: 'public', selfAuth: true },
      // Another client's API, documented by that client: not part of Cascade's OpenAPI document.
      schema: { hide: true },
      onRequest: async (req: FastifyRequest, reply: FastifyReply) => {
        if (!handshake.admit(req, reply)) return reply;
      },
      handler: async (req, reply) => {
        if (req.method !== 'POST') {
          return reply.code(405).header('Allow', 'POST').type('text/html; charset=utf-8').send(simplePage(405, 'Method Not Allowed', '<p>Send RPC requests with POST.</p>'));
        }
        return reply.type('application/json; charset=utf-8').send(JSON.stringify(await answer(await methods(), req.body)));
      },
    });
  });
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function answer(rpc: TransmissionRpc, body: unknown): Promise<Answer> {
  let request: unknown;
  try {
    const text = Buffer.isBuffer(body) ? body.toString('utf8') : '';
    if (text.trim() === '') return { result: 'no method name: the request body is empty (send {"method": …, "arguments": {…}})', arguments: {} };
    request = JSON.parse(text);
  } catch (err) {
    return { result: `malformed JSON request: ${messageOf(err)}`, arguments: {} };
  }
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    return { result: 'the request must be a JSON object {"method": …, "arguments": {…}, "tag": …}', arguments: {} };
  }
  const { method, arguments: args, tag } = request as Record<string, unknown>;
  const out = (result: string, a: Record<string, unknown> = {}): Answer => ({
    result,
    arguments: a,
    ...(typeof tag === 'number' && Number.isInteger(tag) ? { tag } : {}),
  });
  if (typeof method !== 'string') return out('no method name');
  const run = Object.hasOwn(rpc.methods, method) ? rpc.methods[method] : undefined;
  if (!run) return out('method name not recognized');
  if (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args))) return out('"arguments" must be a JSON object');
  try {
    return out('success', await run((args ?? {}) as Args));
  } catch (err) {
    // The node's errors carry messages fit to show (400/404/409 …); anything else is still an answer, never a 5xx.
    return out(err instanceof RpcError ? err.message : messageOf(err));
  }
}
