// The tracker's HTTP front end (packages/tracker/src/http/: http.ts, query.ts, admin.ts), called in-process
// with stand-in request/response objects: announce and scrape query strings, passkey paths,
// /stats, /metrics and the private-mode admin API. A client's mistake must come back as a
// bencoded `failure reason` (or a 4xx from the admin API); "internal error", a 5xx, a body that
// does not decode, or no answer at all is a finding.
// Input (JSON): { p: 0 public | 1 private, m: method, u: url, ip: socket address, a?: authorization, b?: body }

import type http from 'node:http';
import { Readable } from 'node:stream';
import { createHttpServer } from '../../../packages/tracker/src/http/http.ts';
import { trackerPath } from '../../../packages/tracker/src/http/query.ts';
import { TrustedProxies } from '../../../packages/tracker/src/core/proxy.ts';
import { decode, isDict, text } from '../../../packages/engine/src/encoding/bencode.ts';
import type { Rng } from '../lib/rng.ts';
import { ADMIN_TOKEN, HOT_HASHES, PASSKEYS, trackerParts } from '../lib/tracker-parts.ts';
import { ACCEPTED, REJECTED, check, finding, fromJson, jsonBytes, type Outcome, type Target } from '../lib/target.ts';

interface Req { p: 0 | 1; m: string; u: string; ip: string; a?: string; b?: string }
type Listener = (req: http.IncomingMessage, res: http.ServerResponse) => void;
const listeners: Listener[] = [];

const esc = (b: Uint8Array) => [...b].map((x) => `%${x.toString(16).padStart(2, '0')}`).join('');
const ROUTES = ['/announce', '/scrape', '/announce', '/announce', '/stats', '/stats.json', '/stats.html', '/metrics', '/admin/users', '/admin/torrents', '/', '/x/announce'];

function hashParam(rng: Rng): string {
  const r = rng.int(10);
  if (r < 5) return esc(Buffer.from(rng.pick(HOT_HASHES), 'hex'));
  if (r < 8) return esc(rng.bytes(20));
  if (r < 9) return rng.pick(['', 'short', 'a'.repeat(20), esc(rng.bytes(19)), esc(rng.bytes(21)), '%', '%zz', 'é'.repeat(10)]);
  return Buffer.from(rng.bytes(20)).toString('latin1').replace(/[^\x21-\x7e]/g, 'x');
}

function query(rng: Rng, scrape: boolean): string {
  if (scrape) return Array.from({ length: rng.chance(0.05) ? 101 : rng.small(5) }, () => `info_hash=${hashParam(rng)}`).join('&');
  const num = () => rng.pick(['0', '1', '-1', '100', '9007199254740991', '9007199254740992', '1e3', '', 'x', '00012', '-0', '99999999999999999999']);
  const port = rng.chance(0.8) ? rng.range(1, 65535) : rng.pick(['0', '65536', '-1', '', 'http']);
  const parts = [`info_hash=${hashParam(rng)}`, `peer_id=${rng.chance(0.9) ? esc(rng.bytes(20)) : hashParam(rng)}`, `port=${port}`];
  if (rng.chance(0.7)) parts.push(`uploaded=${num()}`, `downloaded=${num()}`, `left=${num()}`);
  if (rng.chance(0.5)) parts.push(`event=${rng.pick(['started', 'completed', 'stopped', 'paused', '', 'STARTED', 'x'])}`);
  if (rng.chance(0.4)) parts.push(`numwant=${rng.pick(['0', '-1', '50', '200', '201', '1e9', 'NaN', 'Infinity', '', '3.5'])}`);
  if (rng.chance(0.5)) parts.push(`compact=${rng.pick(['0', '1', '', 'x'])}`);
  if (rng.chance(0.2)) parts.push(`no_peer_id=${rng.pick(['0', '1'])}`);
  const ips = ['10.1.2.3', '::1', '2001:db8::1', '::ffff:1.2.3.4', '::1.2.3.4', '1:2:3:4:5:6:1.2.3.4', 'fe80::1%25eth0', 'example.com', '999.1.1.1', ''];
  if (rng.chance(0.3)) parts.push(`ip=${rng.pick(ips)}`);
  if (rng.chance(0.1)) parts.push('key=abc', 'trackerid=1', 'supportcrypto=1');
  for (let i = parts.length - 1; i > 0 && rng.chance(0.2); i--) {
    const j = rng.int(i + 1);
    [parts[i], parts[j]] = [parts[j]!, parts[i]!];
  }
  return parts.join('&');
}

function fresh(rng: Rng): Req {
  const p = rng.chance(0.3) ? 1 : 0;
  let path = rng.pick(ROUTES);
  const pk = rng.chance(0.8) ? rng.pick(PASSKEYS) : rng.pick(['nope', 'bad key', '..', 'a'.repeat(65), '%41']);
  if (p && path.endsWith('announce') || rng.chance(0.1)) path = rng.chance(0.5) ? `/${pk}${path}` : `${path}/${pk}`;
  if (path === '/scrape' && p && rng.chance(0.7)) path = `/${pk}/scrape`;
  if (path === '/admin/users' && rng.chance(0.3)) path += `/${pk}`;
  const isQuery = /announce|scrape/.test(path);
  const req: Req = {
    p,
    m: rng.chance(0.93) ? 'GET' : rng.pick(['POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']),
    u: isQuery ? `${path}?${query(rng, path.includes('scrape'))}` : path,
    ip: rng.pick(['127.0.0.1', '::ffff:127.0.0.1', '::1', '203.0.113.9', '2001:db8::7']),
  };
  if (path.startsWith('/admin/')) {
    if (rng.chance(0.8)) req.m = rng.chance(0.6) ? 'POST' : 'GET';
    req.a = rng.chance(0.85) ? `Bearer ${ADMIN_TOKEN}` : rng.pick(['Bearer x', 'Basic abc', '', `Bearer ${ADMIN_TOKEN} `]);
    req.b = rng.pick([
      '', '{}', `{"name":"u${rng.int(1000)}"}`, `{"passkey":"${rng.pick(PASSKEYS)}"}`, '{"passkey":"bad key!"}', '{"passkey":""}', '{"passkey":5}',
      `{"infoHash":"${'ab'.repeat(20)}"}`, '{"infoHash":"xyz"}', '[]', 'null', '{', 'x'.repeat(rng.chance(0.05) ? 20_000 : 10), '{"__proto__":{"name":1}}',
    ]);
  }
  return req;
}

function sanitize(u: string): string {
  // Node's HTTP parser never hands over a URL with spaces or control characters.
  return u.replace(/[\x00-\x20\x7f]/g, '') || '/';
}

function call(listener: Listener, r: Req): Promise<{ status: number; body: Buffer; destroyed: boolean } | undefined> {
  return new Promise((resolve) => {
    const req = Object.assign(Readable.from(r.b ? [Buffer.from(r.b)] : []), {
      url: sanitize(r.u), method: r.m, headers: { host: '127.0.0.1', ...(r.a !== undefined ? { authorization: r.a } : {}) },
      socket: { remoteAddress: r.ip },
    }) as unknown as http.IncomingMessage;
    let status = 0;
    const timer = setTimeout(() => resolve(undefined), 5000);
    const done = (body: Buffer, destroyed = false) => {
      clearTimeout(timer);
      resolve({ status, body, destroyed });
    };
    const res = {
      headersSent: false,
      writeHead: (s: number) => {
        status = s;
        res.headersSent = true;
        return res;
      },
      end: (b?: string | Uint8Array) => done(b === undefined ? Buffer.alloc(0) : Buffer.from(b)),
      destroy: () => done(Buffer.alloc(0), true),
    };
    listener(req, res as unknown as http.ServerResponse);
  });
}

async function run(input: Uint8Array): Promise<Outcome> {
  const r = fromJson<Req>(input);
  if (typeof r !== 'object' || r === null || typeof r.u !== 'string' || typeof r.m !== 'string' || typeof r.ip !== 'string') return REJECTED;
  const out = await call(listeners[r.p ? 1 : 0]!, r);
  if (!out) return finding('no response within 5 s', 'no response');
  if (out.destroyed) return finding('response destroyed');
  if (out.status >= 500) return finding(`HTTP ${out.status}`);
  const path = sanitize(r.u).split('?')[0]!;
  if (out.body.includes('internal error')) {
    const where = path.replace(/[^/]+\/(announce|scrape)/, 'PK/$1').replace(/(announce|scrape|users)\/.*/, '$1/X');
    return finding(`internal error for ${r.m} ${path.slice(0, 80)}`, `internal error: ${r.m} ${where}`);
  }
  const route = trackerPath(path);
  if (!route && path.startsWith('/admin/') && r.p === 1) {
    check([200, 201, 400, 401, 404, 413].includes(out.status), `admin answered ${out.status}`);
    try {
      JSON.parse(out.body.toString());
    } catch {
      check(false, 'admin answer is not JSON');
    }
    return out.status < 300 ? ACCEPTED : REJECTED;
  }
  if (out.status !== 200) return REJECTED; // 404 and 405 for what is not a tracker route
  if (!route || r.m !== 'GET') return ACCEPTED;
  const v = decode(out.body).value;
  check(isDict(v), 'tracker answer is not a bencoded dictionary');
  if (text(v['failure reason']) !== undefined) return REJECTED;
  if (v['files'] !== undefined) {
    check(isDict(v['files']), 'scrape files is not a dictionary');
    return ACCEPTED;
  }
  const peers = v['peers'];
  check(Array.isArray(peers) || (peers instanceof Uint8Array && peers.length % 6 === 0), 'compact peers not a multiple of 6 bytes');
  const six = v['peers6'];
  check(six === undefined || (six instanceof Uint8Array && six.length % 18 === 0), 'peers6 not a multiple of 18 bytes');
  check(typeof v['interval'] === 'number' && typeof v['complete'] === 'number' && typeof v['incomplete'] === 'number', 'announce answer lacks counts');
  return ACCEPTED;
}

const latin1 = (s: string) => Buffer.from(s, 'latin1');
const URL_TOKENS = ['&', '=', '%', '%2', '%zz', '%00', '+', '?', '/', '//', 'info_hash=', 'port=', 'numwant=', 'ip=', '&compact=0', '/announce', '/scrape'];
const JSON_TOKENS = ['{', '}', '"', ':', ',', 'null', '"passkey"', '"infoHash"'];
const stores: { close(): unknown }[] = [];

export const target: Target = {
  name: 'tracker-http',
  seeds: () => [],
  generate: (g) => {
    const r = fresh(g.rng);
    if (g.rng.chance(0.6)) r.u = Buffer.from(g.mutate(latin1(r.u), { dict: URL_TOKENS })).toString('latin1');
    if (r.b !== undefined && g.rng.chance(0.3)) r.b = Buffer.from(g.mutate(Buffer.from(r.b), { dict: JSON_TOKENS })).toString('utf8');
    return jsonBytes(r);
  },
  setup: async () => {
    // Loopback counts as a proxy, so forwarded-for headers in generated requests are parsed too.
    const proxies = new TrustedProxies(['127.0.0.1', '::1']);
    for (const isPrivate of [false, true]) {
      const parts = await trackerParts(isPrivate);
      stores.push(parts.store);
      const server = createHttpServer({ core: parts.core, limiter: parts.limiter, stats: parts.stats, admin: parts.admin, proxies });
      listeners.push(server.listeners('request')[0] as Listener);
    }
  },
  teardown: async () => {
    for (const s of stores.splice(0)) await s.close();
    listeners.length = 0;
  },
  run,
};
