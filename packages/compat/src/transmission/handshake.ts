// Who may call the RPC, checked before a body is even read, in Transmission's order: HTTP Basic
// credentials first (401 with WWW-Authenticate, so curl-based clients such as transmission-remote,
// which first try without credentials, retry with them), then the X-Transmission-Session-Id
// anti-CSRF header (409 carrying the right id, which the client stores and resends).

import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CompatOps } from '../ops.ts';

export const SESSION_ID_HEADER = 'X-Transmission-Session-Id';
const REALM = 'Transmission';

/** Transmission's error pages: "<h1>code: reason</h1>" then a paragraph or two. */
export function simplePage(code: number, reason: string, text = ''): string {
  return `<h1>${code}: ${reason}</h1>${text}`;
}

/** The password of a Basic `Authorization` header (any user name), or undefined. */
export function basicPassword(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

export class Handshake {
  /** Without a shared one from the node, one id for this process's lifetime (Transmission's is per
   *  session; a restart makes clients re-ask). */
  readonly #ownId = randomBytes(24).toString('hex');
  readonly #ops: CompatOps;

  constructor(ops: CompatOps) {
    this.#ops = ops;
  }

  /** The id a client must send: the node's (the same on every member of a cluster, so a client
   *  behind a balancer is not sent round 409 after 409), else this process's own. */
  get sessionId(): string {
    return this.#ops.transmissionSessionId?.() ?? this.#ownId;
  }

  /** Replies 401/409 and returns false when the request may not go on. */
  admit(req: FastifyRequest, reply: FastifyReply): boolean {
    reply.header('Server', REALM);
    const password = basicPassword(req.headers.authorization);
    if (password === undefined || !this.#ops.checkPassword(password)) {
      reply
        .code(401)
        .header('WWW-Authenticate', `Basic realm="${REALM}"`)
        .type('text/html; charset=utf-8')
        .send(
          simplePage(
            401,
            'Unauthorized',
            '<p>Unauthorized: give any user name and the Cascade node’s API token as the password (see `cascade token`).</p>',
          ),
        );
      return false;
    }
    const sessionId = this.sessionId;
    if (req.headers[SESSION_ID_HEADER.toLowerCase()] !== sessionId) {
      reply
        .code(409)
        .header(SESSION_ID_HEADER, sessionId)
        .header('Access-Control-Expose-Headers', SESSION_ID_HEADER)
        .type('text/html; charset=utf-8')
        .send(
          simplePage(
            409,
            'Conflict',
            '<p>Your request had an invalid session-id header.</p>' +
              '<p>To fix this, follow these steps:<ol><li> When reading a response, get its X-Transmission-Session-Id header and remember it' +
              '<li> Add the updated header to your outgoing requests' +
              '<li> When you get this 409 error message, resend your request with the updated header</ol></p>' +
              '<p>This requirement has been added to help prevent ' +
              '<a href="https://en.wikipedia.org/wiki/Cross-site_request_forgery">CSRF</a> attacks.</p>' +
              `<p><code>${SESSION_ID_HEADER}: ${sessionId}</code></p>`,
          ),
        );
      return false;
    }
    return true;
  }
}
