// A real tracker on 127.0.0.1 fed through real sockets: raw HTTP requests (mutated request lines,
// headers, query strings, bodies), raw UDP datagrams, and WebSocket upgrade requests. This is what
// the in-process targets cannot see: Node's HTTP parser, the upgrade path, socket handling. A 5xx,
// an "internal error", a connection left hanging, or a tracker that stops answering the health
// check (HTTP, UDP and WebSocket announces after every batch) is a finding.
// Input (JSON): { k: 'http' | 'udp' | 'ws', d: base64 bytes, id?: true to put a valid UDP connection id first }

import dgram from 'node:dgram';
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { startTracker, type RunningTracker } from '../../../packages/tracker/index.ts';
import { decode, isDict } from '../../../packages/engine/src/encoding/bencode.ts';
import type { Rng } from '../lib/rng.ts';
import { HOT_HASHES } from '../lib/tracker-parts.ts';
import { rawHttp } from '../lib/rawhttp.ts';
import { ACCEPTED, REJECTED, finding, fromJson, jsonBytes, type GenContext, type Outcome, type Target } from '../lib/target.ts';

interface Input { k: 'http' | 'udp' | 'ws'; d: string; id?: boolean }

let tracker: RunningTracker | undefined;
let udp: dgram.Socket | undefined;
const udpReplies: Buffer[] = [];
let onUdpReply = () => {};

async function udpSend(msg: Buffer, withId: boolean): Promise<Buffer | undefined> {
  if (withId && msg.length >= 8) {
    const c = Buffer.alloc(16);
    c.writeBigUInt64BE(0x41727101980n, 0);
    const id = await udpRequest(c);
    id?.copy(msg, 0, 8, 16);
  }
  // Most malformed packets are dropped unanswered: wait briefly, the health check catches the rest.
  return udpRequest(msg, 10);
}

function udpRequest(msg: Buffer, ms = 1000): Promise<Buffer | undefined> {
  udpReplies.length = 0;
  return new Promise((resolve) => {
    const timer = setTimeout(() => ((onUdpReply = () => {}), resolve(undefined)), ms);
    onUdpReply = () => {
      clearTimeout(timer);
      onUdpReply = () => {};
      resolve(udpReplies.shift());
    };
    udp!.send(msg, tracker!.udpPort, '127.0.0.1');
  });
}

async function run(input: Uint8Array): Promise<Outcome> {
  const inp = fromJson<Input>(input);
  const data = Buffer.from(typeof inp?.d === 'string' ? inp.d : '', 'base64');
  if (inp?.k === 'udp') {
    const reply = await udpSend(data, inp.id === true);
    return reply && reply.length >= 4 && reply.readUInt32BE(0) !== 3 ? ACCEPTED : REJECTED;
  }
  const { data: res, timedOut, status } = await rawHttp(tracker!.httpPort, data);
  if (timedOut) return finding('connection still open 5 s after the request was sent and half-closed', `${inp?.k} hang`);
  if (status !== undefined && status >= 500) return finding(`HTTP ${status}`, `${inp?.k} ${status}`);
  if (res.includes('internal error')) return finding('internal error', `${inp?.k} internal error`);
  return status === 200 || status === 101 ? ACCEPTED : REJECTED;
}

const esc = (b: Uint8Array) => [...b].map((x) => `%${x.toString(16).padStart(2, '0')}`).join('');

function httpRequest(rng: Rng, ws: boolean): string {
  const path = rng.pick(['/announce', '/announce', '/scrape', '/stats', '/metrics', '/x/announce', '/', '/stats.html']);
  const hash = esc(Buffer.from(rng.pick(HOT_HASHES), 'hex'));
  const q = `info_hash=${hash}&peer_id=${esc(rng.bytes(20))}&port=${rng.range(1, 65535)}&left=${rng.pick([0, 10])}&compact=${rng.int(2)}`;
  const url = path.endsWith('announce') || path.endsWith('scrape') ? `${path}?${q}` : path;
  const headers = [`Host: 127.0.0.1`, 'Connection: close'];
  if (ws) headers.push('Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${Buffer.from(rng.bytes(16)).toString('base64')}`, 'Sec-WebSocket-Version: 13');
  const extra = ['Accept: text/html', 'Content-Length: 5', 'Transfer-Encoding: chunked', `X-Long: ${'a'.repeat(rng.pick([10, 9000]))}`, 'Expect: 100-continue'];
  if (rng.chance(0.2)) headers.push(rng.pick(extra));
  const method = rng.chance(0.9) ? 'GET' : rng.pick(['POST', 'HEAD', 'PUT', 'CONNECT', 'GARBAGE']);
  return `${method} ${url} HTTP/1.${rng.chance(0.95) ? 1 : 0}\r\n${headers.join('\r\n')}\r\n\r\n${rng.chance(0.1) ? 'hello' : ''}`;
}

function udpPacket(rng: Rng): Buffer {
  const b = Buffer.alloc(rng.pick([16, 98, 16 + 20 * rng.range(1, 74), rng.small(1600)]));
  if (b.length >= 16) {
    b.writeUInt32BE(rng.int(4), 8);
    b.writeUInt32BE(rng.u32(), 12);
  }
  if (b.length >= 36) Buffer.from(rng.pick(HOT_HASHES), 'hex').copy(b, 16);
  if (b.length >= 98) b.writeUInt16BE(rng.range(0, 65535), 96);
  return b;
}

const HTTP_TOKENS = [
  '\r\n', '\r\n\r\n', ' ', ':', '%', '%zz', '?', '&', '=', '/', '\n', '\0', 'HTTP/1.1',
  'Content-Length: 99999999999', 'Transfer-Encoding: chunked\r\n', 'Upgrade: websocket\r\n', 'Sec-WebSocket-Version: 8\r\n',
];

function generate(g: GenContext): Uint8Array {
  const { rng } = g;
  const k = rng.pick(['http', 'http', 'udp', 'ws'] as const);
  let d = k === 'udp' ? udpPacket(rng) : Buffer.from(httpRequest(rng, k === 'ws'), 'latin1');
  if (rng.chance(0.7)) d = Buffer.from(g.mutate(d, k === 'udp' ? { binary: true, maxLen: 2000 } : { dict: HTTP_TOKENS, maxLen: 64 * 1024 }));
  return jsonBytes({ k, d: d.toString('base64'), ...(k === 'udp' && rng.chance(0.8) ? { id: true } : {}) });
}

async function healthy(): Promise<string | undefined> {
  const problems: string[] = [];
  try {
    const query = `info_hash=${esc(new Uint8Array(20).fill(1))}&peer_id=${esc(new Uint8Array(20).fill(2))}&port=1&left=0`;
    const res = await fetch(`${tracker!.httpAnnounceUrl}?${query}`, { signal: AbortSignal.timeout(5000) });
    const v = decode(new Uint8Array(await res.arrayBuffer())).value;
    if (!isDict(v) || typeof v['interval'] !== 'number') problems.push('HTTP announce failed');
  } catch (err) {
    problems.push(`HTTP announce: ${(err as Error).message}`);
  }
  const c = Buffer.alloc(16);
  c.writeBigUInt64BE(0x41727101980n, 0);
  if (!(await udpRequest(c, 2000))) problems.push('no UDP connect reply');
  try {
    const ws = new WebSocket(tracker!.httpAnnounceUrl.replace('http:', 'ws:'));
    await once(ws, 'open', { signal: AbortSignal.timeout(5000) });
    ws.terminate();
  } catch (err) {
    problems.push(`WebSocket: ${(err as Error).message}`);
  }
  return problems.length > 0 ? `tracker unhealthy: ${problems.join('; ')}` : undefined;
}

export const target: Target = {
  name: 'tracker-net',
  batch: 200,
  hangMs: 60_000,
  seeds: () => [],
  generate,
  setup: async () => {
    tracker = await startTracker({ host: '127.0.0.1', ws: true, rateLimit: false, interval: 60 });
    udp = dgram.createSocket('udp4');
    udp.on('message', (m) => (udpReplies.push(m), onUdpReply()));
    udp.bind(0, '127.0.0.1');
    await once(udp, 'listening');
  },
  teardown: async () => {
    udp?.close();
    await tracker?.close();
    tracker = undefined;
  },
  healthy,
  run,
};

