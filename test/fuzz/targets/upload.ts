// POST /api/torrents, the node's door for uploads and adds, on a real node on 127.0.0.1 (engine,
// state DB, DHT off, private URLs refused as by default). Inputs: lib/upload-requests.ts. A finding
// is a 5xx; a reply that shows a server path; a request left hanging; a fetch of any local URL (a
// canary HTTP server on 127.0.0.1 counts requests and must see none); or, after a batch, a node
// that stops answering, an upload's staging folder left behind, or the file of the torrent set up
// as its owner (lib/upload-requests.ts TAKEN) changed or gone.

import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { installNetGuard } from '../lib/netguard.ts';
import { startServer, type RunningServer } from '../../../packages/http/index.ts';
import { encode } from '../../../packages/engine/src/encoding/bencode.ts';
import { Rng } from '../lib/rng.ts';
import { rawHttp, bodyOf } from '../lib/rawhttp.ts';
import { serialize, type ApiRequest } from '../lib/api-requests.ts';
import { TAKEN, generateUpload } from '../lib/upload-requests.ts';
import { ACCEPTED, REJECTED, check, finding, fromJson, jsonBytes, type Outcome, type Target } from '../lib/target.ts';

let server: RunningServer | undefined;
let canary: Server | undefined;
let canaryPort = 1;
let canaryHits = 0;
let root = '';
let takenBytes = Buffer.alloc(0);
let takenHash = '';
const added: string[] = [];

const GOOD_TORRENT = encode({ info: { length: 40000, name: 'canary.bin', 'piece length': 16384, pieces: new Rng(3).bytes(60) } });

function fill(text: string): string {
  return text.replace(/\{token\}/g, server!.token).replace(/\{canary\}/g, String(canaryPort));
}

function bytesOf(r: ApiRequest): Buffer {
  if (r.raw !== undefined) return Buffer.from(fill(Buffer.from(r.raw, 'base64').toString('latin1')), 'latin1');
  const h = r.h.map(([k, v]) => [k, fill(v)] as [string, string]);
  if (!r.anon && !h.some(([k]) => /^(authorization|cookie)$/i.test(k))) h.push(['Authorization', `Bearer ${server!.token}`]);
  const b = r.b === undefined ? undefined : Buffer.from(fill(Buffer.from(r.b, 'base64').toString('latin1')), 'latin1').toString('base64');
  return serialize({ ...r, h, ...(b !== undefined ? { b } : {}) });
}

/** `whole`: the harness's own requests, complete, keep their write side open (see api.ts's request). */
async function send(r: ApiRequest, ms = 30_000, whole = false) {
  const bytes = bytesOf(r);
  const line = bytes.subarray(0, Math.max(0, bytes.indexOf('\r\n'))).toString('latin1').slice(0, 100);
  return { line, ...(await rawHttp(server!.httpPort, bytes, { ms, halfCloseMs: whole ? ms : 250 })) };
}

/** The first response's body: a request with bytes left over gets Node's own 400 after it, on the same connection. */
function firstBody(data: Buffer): string {
  const body = bodyOf(data);
  const len = /\r\ncontent-length: *(\d+)/i.exec(data.subarray(0, data.indexOf('\r\n\r\n')).toString('latin1'));
  return (len ? body.subarray(0, Number(len[1])) : body).toString();
}

const SECRETS = () => [root, tmpdir() + '/', '.cascade-upload-', 'node_modules', '/work/'];

async function run(input: Uint8Array): Promise<Outcome> {
  let r: ApiRequest;
  try {
    r = fromJson<ApiRequest>(input);
  } catch {
    return REJECTED;
  }
  if (typeof r !== 'object' || r === null || typeof r.m !== 'string' || typeof r.p !== 'string' || !Array.isArray(r.h)) return REJECTED;
  const hitsBefore = canaryHits;
  const res = await send(r);
  const kind = /content-type: multipart/i.test(bytesOf(r).toString('latin1', 0, 4096)) ? 'multipart' : 'json';
  if (canaryHits > hitsBefore) return finding(`a local URL was fetched (${canaryHits - hitsBefore} request(s) reached 127.0.0.1:${canaryPort})`, `ssrf ${kind}`);
  if (res.timedOut) return finding(`no complete answer within 30 s to ${res.line}`, `hang ${kind}`);
  const status = res.status;
  if (status === undefined) return REJECTED; // Node closed a connection that never made a request
  const body = firstBody(res.data);
  if (status >= 500) {
    const message = /"message":"([^"]{0,40})/.exec(body)?.[1] ?? '';
    return finding(`HTTP ${status} for a ${kind} add: ${body.slice(0, 200)}`, `HTTP ${status} ${kind} ${message}`);
  }
  const leaked = SECRETS().find((s) => body.includes(s));
  if (leaked) return finding(`a ${status} reply shows a server path (${leaked}): ${body.slice(0, 200)}`, `path in ${status} ${kind}`);
  if (status === 200 || status === 201) {
    const m = /"infoHash":"([0-9a-f]{40})"/.exec(body);
    if (m && m[1] !== takenHash && !added.includes(m[1]!)) added.push(m[1]!);
  }
  const head = res.data.subarray(0, res.data.indexOf('\r\n\r\n')).toString('latin1');
  if (status >= 400 && /content-type: application\/json/i.test(head)) {
    let e: { statusCode?: unknown; message?: unknown } | undefined;
    try {
      e = JSON.parse(body) as typeof e;
    } catch {}
    check(e?.statusCode === status && typeof e.message === 'string' && e.message.length > 0, `${status} without a JSON error body`);
  }
  return status < 400 ? ACCEPTED : REJECTED;
}

async function healthy(): Promise<string | undefined> {
  for (const ih of added.splice(0)) await send({ m: 'DELETE', p: `/api/torrents/${ih}?deleteData=true`, h: [] }, 30_000, true);
  const res = await send({ m: 'GET', p: '/api/health', h: [] }, 5000, true);
  if (res.status !== 200) return `node stopped answering /api/health (${res.timedOut ? 'timeout' : `status ${res.status}`})`;
  const downloads = join(root, 'downloads');
  const staging = readdirSync(downloads).filter((f) => f.startsWith('.cascade-upload-'));
  if (staging.length > 0) return `upload staging left behind: ${staging.join(', ')}`;
  const taken = join(downloads, TAKEN);
  if (!existsSync(taken) || !readFileSync(taken).equals(takenBytes)) return `${TAKEN}, owned by a torrent set up first, was changed or deleted`;
  if (canaryHits > 0) return `the canary on 127.0.0.1 was fetched ${canaryHits} time(s)`;
  return undefined;
}

export const target: Target = {
  name: 'upload',
  batch: 100,
  hangMs: 120_000,
  seeds: () => [],
  generate: (g) => jsonBytes(generateUpload(g)),
  setup: async () => {
    installNetGuard();
    root = mkdtempSync(join(tmpdir(), 'cascade-fuzz-upload-'));
    canary = createServer((req, res) => {
      canaryHits++;
      if (req.url === '/redirect') return void res.writeHead(302, { location: '/good.torrent' }).end();
      res.writeHead(200).end(GOOD_TORRENT);
    });
    await new Promise<void>((r) => canary!.listen(0, '127.0.0.1', r));
    canaryPort = (canary.address() as AddressInfo).port;
    server = await startServer({
      chain: false, // no embedded chain: not what this is about
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
      maxUploadBytes: 2 * 1024 * 1024,
    });
    await server.ready;
    // The owner of TAKEN: uploads and torrents naming that file must not touch it.
    takenBytes = Buffer.from(new Rng(11).bytes(50_000));
    const b = 'fixeduploadboundary';
    const head = `--${b}\r\nContent-Disposition: form-data; name="file"; filename="${TAKEN}"\r\nContent-Type: application/octet-stream\r\n\r\n`;
    const mp = Buffer.concat([Buffer.from(head), takenBytes, Buffer.from(`\r\n--${b}--\r\n`)]);
    const res = await send({ m: 'POST', p: '/api/torrents', h: [['Content-Type', `multipart/form-data; boundary=${b}`]], b: mp.toString('base64') }, 30_000, true);
    const m = /"infoHash":"([0-9a-f]{40})"/.exec(bodyOf(res.data).toString());
    if (!m) throw new Error(`upload fuzz setup: could not share ${TAKEN}: ${res.data.toString().slice(0, 300)}`);
    takenHash = m[1]!;
  },
  teardown: async () => {
    await server?.close();
    await new Promise<void>((r) => (canary ? canary.close(() => r()) : r()));
    rmSync(root, { recursive: true, force: true });
    server = undefined;
    canaryHits = 0;
    added.length = 0;
  },
  healthy,
  run,
};
