// The node's HTTP API (Fastify app in packages/http) served by a real node on 127.0.0.1 with
// its engine session, state DB and built-in tracker, DHT off, in a temp state dir. Requests go out
// as raw bytes over TCP. A client's mistake must be a 4xx with a JSON {statusCode, message} (or
// Node's bare 400 for unparseable HTTP); a 5xx, a request left hanging, or a node that stops
// answering /api/health after a batch is a finding. Every TCP connection and UDP datagram the node
// tries to make to anything but 127.0.0.1 is refused (see lib/netguard.ts).

import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { installNetGuard } from '../lib/netguard.ts';
import { startServer, type RunningServer } from '../../../packages/http/index.ts';
import { encode } from '../../../packages/engine/src/encoding/bencode.ts';
import { Rng } from '../lib/rng.ts';
import { rawHttp, bodyOf } from '../lib/rawhttp.ts';
import { generateRequest, serialize, type ApiRequest } from '../lib/api-requests.ts';
import { ACCEPTED, REJECTED, check, finding, fromJson, jsonBytes, type Outcome, type Target } from '../lib/target.ts';

let server: RunningServer | undefined;
let host: Server | undefined;
let root = '';
let torrentHost = 'http://127.0.0.1:1';
const fixed: Record<string, string> = {};
const added: string[] = [];

const GOOD_TORRENT = encode({ info: { length: 40000, name: 'hosted.bin', 'piece length': 16384, pieces: new Rng(9).bytes(60) } });

/** Serves .torrent files for {"uri": "http://…"} adds, on 127.0.0.1. */
async function startTorrentHost(): Promise<void> {
  host = createServer((req, res) => {
    if (req.url === '/good.torrent') return void res.writeHead(200).end(GOOD_TORRENT);
    if (req.url === '/garbage.torrent') return void res.writeHead(200).end('d4:infoi5ee');
    if (req.url === '/empty') return void res.writeHead(200).end();
    if (req.url === '/big') return void res.writeHead(200, { 'content-length': String(64 * 1024 * 1024) }).end();
    res.writeHead(404).end('no');
  });
  await new Promise<void>((r) => host!.listen(0, '127.0.0.1', r));
  torrentHost = `http://127.0.0.1:${(host.address() as AddressInfo).port}`;
}

function fill(path: string, rng: Rng): string {
  const pick = (k: string) => (k === 'token' ? server!.token : k !== 'added' ? fixed[k]! : added.length > 0 ? added[rng.int(added.length)]! : fixed.magnet!);
  return path.replace(/\{(file|meta|magnet|added|token)\}/g, (_, k: string) => pick(k));
}

/** The request as sent: placeholders filled, and the node's API token unless it is anonymous or brings its own credentials. */
function withCredentials(r: ApiRequest, rng: Rng): ApiRequest {
  const h = r.h.map((e) => (Array.isArray(e) && typeof e[1] === 'string' ? ([e[0], fill(e[1], rng)] as [string, string]) : e));
  if (!r.anon && !h.some((e) => Array.isArray(e) && /^(authorization|cookie)$/i.test(String(e[0])))) h.push(['Authorization', `Bearer ${server!.token}`]);
  return { ...r, p: fill(r.p, rng), h };
}

// Longer than fetchTorrentFile's own 20 s limit: a {"uri"} pointing at a port that accepts and never
// answers (the BitTorrent listener, say) is legitimately slow, and must come back as a 4xx in time.
// `whole`: the harness's own requests are complete, so the write side stays open. Half-closing
// after 250 ms makes Node's server drop the answer to a request still being handled (an add on a
// loaded machine), which left the setup with an empty reply in CI.
async function request(r: ApiRequest, ms = 30_000, whole = false) {
  const rng = new Rng(r.p.length);
  const bytes = r.raw !== undefined ? Buffer.from(fill(Buffer.from(r.raw, 'base64').toString('latin1'), rng), 'latin1') : serialize(withCredentials(r, rng));
  const line = bytes.subarray(0, Math.max(0, bytes.indexOf('\r\n'))).toString('latin1').slice(0, 100);
  return { line, ...(await rawHttp(server!.httpPort, bytes, { ms, halfCloseMs: whole ? ms : 250 })) };
}

async function run(input: Uint8Array): Promise<Outcome> {
  const r = fromJson<ApiRequest>(input);
  if (typeof r !== 'object' || r === null || typeof r.m !== 'string' || typeof r.p !== 'string' || !Array.isArray(r.h)) return REJECTED;
  const res = await request(r);
  // For signatures: the method and the route with infohashes and query strings taken out.
  const [method = '', path = ''] = res.line.split(' ');
  const route = `${method} ${path.replace(/[0-9a-f]{40}|\{\w+\}/gi, 'IH').split('?')[0]!.slice(0, 40)}`;
  if (res.timedOut) return finding(`no complete answer within 30 s to ${res.line}`, `hang ${route}`);
  const status = res.status;
  if (status === undefined) return REJECTED; // Node closed a connection that never made a request
  const body = bodyOf(res.data);
  if (status >= 500) {
    const message = /"message":"([^"]{0,40})/.exec(body.toString())?.[1] ?? '';
    return finding(`HTTP ${status} for ${res.line}: ${body.toString().slice(0, 200)}`, `HTTP ${status} ${route} ${message}`);
  }
  if (status === 200 || status === 201) {
    const m = /"infoHash":"([0-9a-f]{40})"/.exec(body.toString());
    if (m && r.m === 'POST' && !Object.values(fixed).includes(m[1]!) && !added.includes(m[1]!)) added.push(m[1]!);
  }
  // An error names the problem, never where the node keeps its files.
  if (status >= 400) check(!body.toString().includes(root), `a ${status} reply shows a server path: ${body.toString().slice(0, 200)}`);
  // The API's own contract (socket.io and Node's parser answer in their own ways).
  const head = res.data.subarray(0, res.data.indexOf('\r\n\r\n')).toString('latin1');
  if (status >= 400 && r.m !== 'HEAD' && r.p.startsWith('/api/') && /content-type: application\/json/i.test(head)) {
    let e: { statusCode?: unknown; message?: unknown } | undefined;
    try {
      e = JSON.parse(body.toString()) as typeof e;
    } catch {}
    check(e?.statusCode === status && typeof e.message === 'string' && e.message.length > 0, `${status} without a JSON error body`);
  }
  return status < 400 ? ACCEPTED : REJECTED;
}

async function addFixed(key: string, r: ApiRequest): Promise<void> {
  const res = await request(r, 30_000, true);
  const m = /"infoHash":"([0-9a-f]{40})"/.exec(bodyOf(res.data).toString());
  if (!m) throw new Error(`api fuzz setup: could not add the ${key} torrent: ${res.data.toString().slice(0, 300)}`);
  fixed[key] = m[1]!;
}

/** Keeps the node's library small: everything fuzz inputs added goes again after each batch. */
async function cleanup(): Promise<void> {
  for (const ih of added.splice(0)) await request({ m: 'DELETE', p: `/api/torrents/${ih}?deleteData=true`, h: [] }, 30_000, true);
}

async function healthy(): Promise<string | undefined> {
  await cleanup();
  const res = await request({ m: 'GET', p: '/api/health', h: [] }, 5000, true);
  return res.status === 200 ? undefined : `node stopped answering /api/health (${res.timedOut ? 'timeout' : `status ${res.status}`})`;
}

export const target: Target = {
  name: 'api',
  batch: 200,
  hangMs: 120_000,
  seeds: () => [],
  generate: (g) => jsonBytes(generateRequest(g, torrentHost)),
  setup: async () => {
    installNetGuard();
    root = mkdtempSync(join(tmpdir(), 'cascade-fuzz-api-'));
    await startTorrentHost();
    server = await startServer({
      stateDir: join(root, 'state'),
      downloadDir: join(root, 'downloads'),
      host: '127.0.0.1',
      httpPort: 0,
      btPort: 0,
      btHost: '127.0.0.1',
      iceServers: [],
      dht: false,
      trackerPorts: { http: 0, udp: 0 },
      webRoot: join(root, 'no-web-build'),
      allowPrivateUrls: true, // its .torrent host is on 127.0.0.1
      maxUploadBytes: 2 * 1024 * 1024,
      streamWaitMs: 300,
      // No chain: its start (anvil, deployment) only adds load and timing to what is fuzzed here; the
      // chain routes answer 409 without one, which the fuzzer still exercises.
      chain: false,
    });
    await server.ready;
    const boundary = 'fixedfuzzboundary';
    const content = Buffer.from(new Rng(7).bytes(70_000));
    const part = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="clip.mp4"\r\nContent-Type: video/mp4\r\n\r\n`;
    const mp = Buffer.concat([Buffer.from(part), content, Buffer.from(`\r\n--${boundary}--\r\n`)]);
    await addFixed('file', { m: 'POST', p: '/api/torrents', h: [['Content-Type', `multipart/form-data; boundary=${boundary}`]], b: mp.toString('base64') });
    const addJson = (body: unknown): ApiRequest => ({ m: 'POST', p: '/api/torrents', h: [['Content-Type', 'application/json']], b: Buffer.from(JSON.stringify(body)).toString('base64') });
    await addFixed('meta', addJson({ uri: `${torrentHost}/good.torrent`, paused: true }));
    await addFixed('magnet', addJson({ uri: `magnet:?xt=urn:btih:${'5a'.repeat(20)}&dn=fuzz`, paused: true }));
  },
  teardown: async () => {
    await server?.close();
    await new Promise<void>((r) => (host ? host.close(() => r()) : r()));
    rmSync(root, { recursive: true, force: true });
    server = undefined;
    added.length = 0;
  },
  healthy,
  run,
};
