// GET /ice-servers: the ICE servers a WebRTC peer (a node, or a browser on another origin) may use,
// as an RTCConfiguration fragment: this tracker's own STUN service (its UDP port, see stun.ts) and,
// when the operator configured TURN, credentials minted on the spot in coturn's shared-secret scheme
// (`use-auth-secret`): nobody types a TURN password, and a leaked one expires with its TTL.
//
//   {"iceServers": [{"urls": "stun:host:udpPort"},
//                   {"urls": ["turn:…"], "username": "<expiry>:<label>", "credential": "…"}],
//    "ttl": <seconds the credentials last>}
//
// On a private tracker, TURN credentials go only to a registered passkey (`/ice-servers/<passkey>`,
// `/<passkey>/ice-servers` or `?passkey=`), as announces do: a relay costs its operator bandwidth.

import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mintTurnCredentials } from '@cascade/reachability/turn-credentials';
import type { TrackerCore } from '../core/core.ts';
import type { RateLimiter } from '../core/rate-limit.ts';
import { DEFAULT_TURN_TTL, type TurnOptions } from './turn-url.ts';
import type { IceServer } from '@cascade/shapes';

const PASSKEY = /^[A-Za-z0-9_-]{1,64}$/;

export interface IceServersRouteOptions {
  core: TrackerCore;
  limiter: RateLimiter;
  turn?: TurnOptions;
  /** The bound address; a wildcard (0.0.0.0, ::) means "the host the request came in on". */
  host: string;
  /** The UDP port, known once bound. */
  udpPort: () => number;
  /** Where the STUN entry points when the bind is a wildcard and the request names no usable host. */
  fallbackHost: string;
}

/** Undefined when `path` is not an /ice-servers path; else its passkey, if the path carries one. */
export function iceServersPath(path: string): { passkey?: string } | undefined {
  const seg = path.split('/').filter((s) => s !== '');
  const i = seg.lastIndexOf('ice-servers');
  if (i < 0 || i < seg.length - 2) return undefined;
  const passkey = i === seg.length - 2 ? seg[i + 1] : seg[i - 1];
  return passkey === undefined ? {} : { passkey };
}

export function iceServersRoute(o: IceServersRouteOptions) {
  const ttl = o.turn?.ttl ?? DEFAULT_TURN_TTL;
  return async (req: IncomingMessage, res: ServerResponse, ip: string, pathPasskey: string | undefined, query: URLSearchParams): Promise<void> => {
    // Any origin may read it: the web UI is often served from another one than its tracker.
    const cors = { 'access-control-allow-origin': '*' };
    if (req.method === 'OPTIONS') return void res.writeHead(204, { ...cors, 'access-control-allow-methods': 'GET', 'access-control-max-age': '86400' }).end();
    if (req.method !== 'GET') return void res.writeHead(405, { ...cors, allow: 'GET, OPTIONS' }).end();
    if (!o.limiter.allow(ip)) {
      o.core.metrics.rateLimited.http++;
      return json(res, 429, { error: 'rate limited: slow down' }, cors);
    }
    // A path passkey only on a tracker in private mode, where a pre-prefix segment is never taken
    // for one by mistake (a public tracker behind /some-prefix/ice-servers must still answer).
    const passkey = query.get('passkey') ?? (o.core.private ? pathPasskey : undefined);
    const iceServers: IceServer[] = [{ urls: `stun:${stunHost(o, req)}:${o.udpPort()}` }];
    if (o.turn) {
      let label = 'cascade';
      let allowed = !o.core.private;
      if (o.core.private && passkey !== undefined) {
        if (!PASSKEY.test(passkey) || !(await o.core.store.user(passkey))) {
          return json(res, 403, { error: 'unknown passkey: this tracker has no user with that passkey' }, cors);
        }
        allowed = true;
        // coturn logs the user name: a hash of the passkey lets the operator tell users' relay
        // traffic apart without the passkey itself (which would let a log reader announce) in it.
        label = `u${createHash('sha256').update(passkey).digest('hex').slice(0, 16)}`;
      }
      if (allowed) {
        const c = mintTurnCredentials(o.turn.secret, ttl, label);
        iceServers.push({ urls: o.turn.urls, username: c.username, credential: c.credential });
      }
    }
    // Credentials must not sit in a shared cache; the STUN-only answer is cheap to ask again.
    json(res, 200, { iceServers, ttl }, { ...cors, 'cache-control': 'no-store' });
  };
}

/**
 * The STUN host must be one the client can reach. A tracker bound to one address names it; bound
 * to a wildcard, it names the host the client reached its HTTP port by (the Host header, checked
 * to be a plain host name or IP literal), since that is the machine the UDP port is on.
 */
function stunHost(o: IceServersRouteOptions, req: IncomingMessage): string {
  if (o.host !== '0.0.0.0' && o.host !== '::') return o.host.includes(':') ? `[${o.host}]` : o.host;
  const h = req.headers.host;
  if (h) {
    try {
      const { hostname } = new URL(`http://${h}`);
      if (hostname && /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)$/i.test(hostname)) return hostname;
    } catch {
      // An unparsable Host header: fall back below.
    }
  }
  return o.fallbackHost;
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body) + '\n');
}
