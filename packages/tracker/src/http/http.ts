// HTTP announce and scrape (BEP 3, 23, 7, 48), plus /stats, /metrics and the admin API. Errors a
// client caused are answered as a bencoded `failure reason` with status 200, which is what
// clients actually read.

import type http from 'node:http';
import { nodeHttp } from '@cascade/engine/lazy-builtins';
import { isIP } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { encode } from '@cascade/engine/bencode';
import type { AdminApi } from './admin.ts';
import { handleAdmin } from './admin.ts';
import { iceServersPath } from '../ice/ice-servers.ts';
import type { iceServersRoute } from '../ice/ice-servers.ts';
import type { TrackerCore } from '../core/core.ts';
import { compactPeers, isLoopback, normalizeIp, peerHost } from '../core/peers.ts';
import { BadRequest, bytes, int, parseQuery, str, trackerPath } from './query.ts';
import type { RateLimiter } from '../core/rate-limit.ts';
import type { StatsSource } from './stats.ts';
import { metricsText, statsHtml } from './stats.ts';
import type { SwarmCounts } from '../store/store.ts';
import type { TrustedProxies } from '../core/proxy.ts';

export interface HttpOptions {
  core: TrackerCore;
  limiter: RateLimiter;
  stats: StatsSource;
  /** Present in private mode. */
  admin?: AdminApi;
  /** Proxies whose X-Forwarded-For names the real client. */
  proxies: TrustedProxies;
  /** The onion relay directory at /relays (relays.ts); omitted = none. */
  relays?: (req: IncomingMessage, res: ServerResponse, ip: string) => Promise<void>;
  /** GET /ice-servers (ice-servers.ts); omitted = none. */
  iceServers?: ReturnType<typeof iceServersRoute>;
}

const MAX_SCRAPE = 100;
const EVENTS = new Set(['started', 'completed', 'stopped']);

export function createHttpServer(opts: HttpOptions): http.Server {
  const server = nodeHttp().createServer({ maxHeaderSize: 8192 }, (req, res) => {
    handle(opts, req, res).catch(() => {
      opts.core.failure('http');
      reply(res, { 'failure reason': 'internal error' });
    });
  });
  // Announces are tiny; slow or idle clients only tie up sockets.
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  // Garbage instead of HTTP: answer 400 if the socket still can take it, and never crash.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\n\r\n`);
    else socket.destroy();
  });
  return server;
}

async function handle(opts: HttpOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  const path = q >= 0 ? raw.slice(0, q) : raw;
  const ip = opts.proxies.clientAddress(req);
  const route = trackerPath(path);
  try {
    if (route && req.method === 'GET') {
      if (!opts.limiter.allow(ip)) {
        opts.core.metrics.rateLimited.http++;
        return reply(res, { 'failure reason': 'rate limited: slow down' });
      }
      const query = parseQuery(q >= 0 ? raw.slice(q + 1) : '');
      if (route.action === 'announce') return await announce(opts, ip, res, query, route.passkey);
      return await scrape(opts, res, query, route.passkey);
    }
    if (route) return void res.writeHead(405, { allow: 'GET' }).end();
    if (path === '/relays' && opts.relays) {
      if (req.method === 'POST' && !opts.limiter.allow(ip)) return void res.writeHead(429).end();
      return await opts.relays(req, res, ip);
    }
    const ice = opts.iceServers && iceServersPath(path);
    if (ice) return await opts.iceServers!(req, res, ip, ice.passkey, new URLSearchParams(q >= 0 ? raw.slice(q + 1) : ''));
    if (path.startsWith('/admin/') && opts.admin) return await handleAdmin(opts.admin, req, res, path);
    if (req.method === 'GET' && (path === '/stats' || path === '/stats.json' || path === '/stats.html')) {
      const snap = await opts.stats.snapshot();
      const html = path === '/stats.html' || (path === '/stats' && /text\/html/.test(req.headers.accept ?? ''));
      if (html) return void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(statsHtml(snap));
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(snap) + '\n');
    }
    if (req.method === 'GET' && path === '/metrics') {
      const snap = await opts.stats.snapshot();
      return void res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(metricsText(snap, opts.core));
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  } catch (err) {
    if (!(err instanceof BadRequest)) throw err;
    opts.core.failure('http');
    reply(res, { 'failure reason': err.message });
  }
}

async function announce(opts: HttpOptions, clientIp: string, res: ServerResponse, query: Map<string, Buffer[]>, passkey: string | undefined) {
  const { core } = opts;
  const infoHash = bytes(query, 'info_hash', 20);
  const peerId = bytes(query, 'peer_id', 20);
  // 0: a look-up, answered and not listed (TrackerCore.stored).
  const port = int(query, 'port', 0, 65535);
  const left = int(query, 'left', 0, Number.MAX_SAFE_INTEGER, 0);
  const uploaded = int(query, 'uploaded', 0, Number.MAX_SAFE_INTEGER, 0);
  const downloaded = int(query, 'downloaded', 0, Number.MAX_SAFE_INTEGER, 0);
  const asked = str(query, 'numwant');
  const event = str(query, 'event');
  // Anything else (empty, BEP 21 "paused") is a regular announce.
  const ev = event && EVENTS.has(event) ? (event as 'started' | 'completed' | 'stopped') : undefined;
  const host = peerHost(clientIp, str(query, 'ip'));

  const out = await core.announce(
    {
      infoHashHex: infoHash.toString('hex'),
      peerIdHex: peerId.toString('hex'),
      kind: 'ip',
      host,
      port,
      owner: '',
      left,
      uploaded,
      downloaded,
      event: ev,
      numwant: core.numwant(asked === undefined ? undefined : Number(asked)),
      passkey,
      compact: str(query, 'compact') !== '0',
    },
    'http',
  );
  if (!out.ok) return reply(res, { 'failure reason': out.reason });
  const also = port > 0 ? otherAddress(clientIp, host, str(query, 'ipv4'), str(query, 'ipv6'), core.private) : undefined;
  if (also) await core.alsoAt({ infoHashHex: infoHash.toString('hex'), peerIdHex: peerId.toString('hex'), kind: 'ip', host: also, port, owner: '', left, uploaded, downloaded, event: ev, numwant: 0 }, also);
  const { peers, counts } = out;

  const body: Record<string, unknown> = {
    interval: core.interval,
    'min interval': core.minInterval,
    complete: counts.complete,
    incomplete: counts.incomplete,
  };
  if (str(query, 'compact') === '0') {
    const withId = str(query, 'no_peer_id') !== '1';
    body.peers = peers.map((p) => ({
      ip: p.host,
      port: p.port,
      'peer id': withId ? Buffer.from(core.peerIdOf(p), 'hex') : undefined,
    }));
  } else {
    // The memory store hands compact bytes; the Redis store objects. Either may come.
    const join = (packed: Buffer | undefined, fromObjects: Buffer) => (!packed ? fromObjects : fromObjects.length === 0 ? packed : Buffer.concat([packed, fromObjects]));
    body.peers = join(out.compact4, compactPeers(peers, 4));
    const six = join(out.compact6, compactPeers(peers, 6));
    if (six.length > 0) body.peers6 = six;
  }
  reply(res, body);
}

/**
 * BEP 7: the address of the other family a client names in `ipv4=` / `ipv6=` (libtorrent sends
 * them for private torrents, from listen sockets on global addresses; Transmission its global IPv6
 * address). Believed as `ip=` is, from loopback, and from anyone in private mode, where a passkey
 * answers for it: elsewhere it would let anyone list a third party's address in a swarm.
 */
function otherAddress(clientIp: string, host: string, ipv4: string | undefined, ipv6: string | undefined, privateMode: boolean): string | undefined {
  if (!privateMode && !isLoopback(normalizeIp(clientIp))) return undefined;
  const six = host.includes(':');
  const named = six ? ipv4 : ipv6;
  if (!named) return undefined;
  // A bracketed or port-suffixed form ([v6]:port, a.b.c.d:port) names the address; the port is the announce's.
  const addr = six ? named.replace(/:\d+$/, '') : named.replace(/^\[(.*)\](:\d+)?$/, '$1');
  if (isIP(addr) !== (six ? 4 : 6)) return undefined;
  const a = normalizeIp(addr.toLowerCase());
  if (a === host || isIP(a) !== (six ? 4 : 6)) return undefined;
  // No one can dial these.
  if (six ? a === '0.0.0.0' || Number(a.split('.')[0]) >= 224 : a === '::' || a.startsWith('ff') || a.startsWith('::ffff:')) return undefined;
  return a;
}

async function scrape(opts: HttpOptions, res: ServerResponse, query: Map<string, Buffer[]>, passkey: string | undefined) {
  const hashes = query.get('info_hash') ?? [];
  if (hashes.length === 0) throw new BadRequest('full scrape is not supported');
  if (hashes.length > MAX_SCRAPE) throw new BadRequest(`at most ${MAX_SCRAPE} info_hash per scrape`);
  for (const h of hashes) if (h.length !== 20) throw new BadRequest('info_hash must be 20 bytes');
  const out = await opts.core.scrape([...new Set(hashes.map((h) => h.toString('hex')))], passkey, 'http');
  if (!out.ok) return reply(res, { 'failure reason': out.reason });
  res.writeHead(200, { 'content-type': 'text/plain' }).end(encodeScrape(out.files));
}

// The `files` keys are raw 20-byte hashes, which the shared encoder (string keys, UTF-8) can't express.
function encodeScrape(entries: [string, SwarmCounts][]): Buffer {
  const sorted = entries.map(([h, c]) => [Buffer.from(h, 'hex'), c] as const).sort(([a], [b]) => Buffer.compare(a, b));
  const parts: Buffer[] = [Buffer.from('d5:filesd')];
  for (const [h, c] of sorted) {
    const stats = encode({ complete: c.complete, downloaded: c.downloaded, incomplete: c.incomplete });
    parts.push(Buffer.from('20:'), h, Buffer.from(stats));
  }
  parts.push(Buffer.from('ee'));
  return Buffer.concat(parts);
}

function reply(res: ServerResponse, body: Record<string, unknown>): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain' }).end(encode(body));
}

export { parseQuery };
