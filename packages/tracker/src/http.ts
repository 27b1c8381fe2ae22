// HTTP announce and scrape (BEP 3, 23, 7, 48). Errors a client caused are answered as a bencoded
// `failure reason` with status 200, which is what clients actually read.

import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { encode } from '../../engine/src/bencode.ts';
import { compactPeers, peerHost } from './peers.ts';
import type { SwarmCounts, SwarmStore } from './store.ts';

export interface HttpOptions {
  store: SwarmStore;
  interval: number;
}

const DEFAULT_NUMWANT = 50;
const MAX_NUMWANT = 200;
const MAX_SCRAPE = 100;
const EVENTS = new Set(['started', 'completed', 'stopped']);

class BadRequest extends Error {}

export function createHttpServer(opts: HttpOptions): http.Server {
  const server = http.createServer((req, res) => {
    handle(opts, req, res).catch(() => reply(res, { 'failure reason': 'internal error' }));
  });
  // Announces are tiny; slow or idle clients only tie up sockets.
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  return server;
}

async function handle(opts: HttpOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  const path = q >= 0 ? raw.slice(0, q) : raw;
  try {
    const query = parseQuery(q >= 0 ? raw.slice(q + 1) : '');
    if (req.method !== 'GET') {
      res.writeHead(405).end();
    } else if (path.endsWith('/announce')) {
      await announce(opts, req, res, query);
    } else if (path.endsWith('/scrape')) {
      await scrape(opts, res, query);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  } catch (err) {
    if (!(err instanceof BadRequest)) throw err;
    reply(res, { 'failure reason': err.message });
  }
}

async function announce(opts: HttpOptions, req: IncomingMessage, res: ServerResponse, query: Map<string, Buffer[]>) {
  const infoHash = bytes(query, 'info_hash', 20);
  const peerId = bytes(query, 'peer_id', 20);
  const port = int(query, 'port', 1, 65535);
  const left = int(query, 'left', 0, Number.MAX_SAFE_INTEGER, 0);
  int(query, 'uploaded', 0, Number.MAX_SAFE_INTEGER, 0);
  int(query, 'downloaded', 0, Number.MAX_SAFE_INTEGER, 0);
  // Clients disagree on "no preference" (absent, -1, huge); none of that is worth a failure.
  const asked = Number(str(query, 'numwant') ?? DEFAULT_NUMWANT);
  const numwant = asked >= 0 ? Math.min(Math.floor(asked), MAX_NUMWANT) : DEFAULT_NUMWANT;
  const event = str(query, 'event');
  // Anything else (empty, BEP 21 "paused") is a regular announce.
  const ev = event && EVENTS.has(event) ? (event as 'started' | 'completed' | 'stopped') : undefined;
  const host = peerHost(req.socket.remoteAddress ?? '', str(query, 'ip'));

  const { peers, counts } = await opts.store.announce({
    infoHashHex: infoHash.toString('hex'),
    peerIdHex: peerId.toString('hex'),
    host,
    port,
    left,
    event: ev,
    numwant: ev === 'stopped' ? 0 : numwant,
  });

  const body: Record<string, unknown> = {
    interval: opts.interval,
    'min interval': Math.max(1, Math.floor(opts.interval / 2)),
    complete: counts.complete,
    incomplete: counts.incomplete,
  };
  if (str(query, 'compact') === '0') {
    const withId = str(query, 'no_peer_id') !== '1';
    body.peers = peers.map((p) => ({
      ip: p.host,
      port: p.port,
      'peer id': withId ? Buffer.from(p.peerIdHex, 'hex') : undefined,
    }));
  } else {
    body.peers = compactPeers(peers, 4);
    const six = compactPeers(peers, 6);
    if (six.length > 0) body.peers6 = six;
  }
  reply(res, body);
}

async function scrape(opts: HttpOptions, res: ServerResponse, query: Map<string, Buffer[]>) {
  const hashes = query.get('info_hash') ?? [];
  if (hashes.length === 0) throw new BadRequest('full scrape is not supported');
  if (hashes.length > MAX_SCRAPE) throw new BadRequest(`at most ${MAX_SCRAPE} info_hash per scrape`);
  const entries: [Buffer, SwarmCounts][] = [];
  for (const h of hashes) {
    if (h.length !== 20) throw new BadRequest('info_hash must be 20 bytes');
    entries.push([h, await opts.store.counts(h.toString('hex'))]);
  }
  res.writeHead(200, { 'content-type': 'text/plain' }).end(encodeScrape(entries));
}

// The `files` keys are raw 20-byte hashes, which the shared encoder (string keys, UTF-8) can't express.
function encodeScrape(entries: [Buffer, SwarmCounts][]): Buffer {
  const unique = new Map(entries.map(([h, c]) => [h.toString('hex'), [h, c] as const]));
  const sorted = [...unique.values()].sort(([a], [b]) => Buffer.compare(a, b));
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

/** Query values as raw bytes: info_hash and peer_id are binary, so URLSearchParams' UTF-8 decoding would corrupt them. */
export function parseQuery(qs: string): Map<string, Buffer[]> {
  const out = new Map<string, Buffer[]>();
  for (const pair of qs.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const key = percentDecode(eq >= 0 ? pair.slice(0, eq) : pair).toString('utf8');
    const value = percentDecode(eq >= 0 ? pair.slice(eq + 1) : '');
    const list = out.get(key);
    if (list) list.push(value);
    else out.set(key, [value]);
  }
  return out;
}

function percentDecode(s: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new BadRequest('malformed percent-encoding');
      out.push(parseInt(hex, 16));
      i += 2;
    } else if (c === 0x2b) {
      out.push(0x20);
    } else if (c < 0x80) {
      out.push(c);
    } else {
      out.push(...Buffer.from(s[i]!, 'utf8'));
    }
  }
  return Buffer.from(out);
}

function bytes(q: Map<string, Buffer[]>, name: string, len: number): Buffer {
  const v = q.get(name)?.[0];
  if (!v) throw new BadRequest(`missing ${name}`);
  if (v.length !== len) throw new BadRequest(`${name} must be ${len} bytes`);
  return v;
}

function str(q: Map<string, Buffer[]>, name: string): string | undefined {
  return q.get(name)?.[0]?.toString('utf8');
}

function int(q: Map<string, Buffer[]>, name: string, min: number, max: number, fallback?: number): number {
  const s = str(q, name);
  if (s === undefined || s === '') {
    if (fallback === undefined) throw new BadRequest(`missing ${name}`);
    return fallback;
  }
  const n = /^-?\d+$/.test(s) ? Number(s) : NaN;
  if (!(n >= min && n <= max)) throw new BadRequest(`invalid ${name}`);
  return n;
}
