// URLs that come inside a torrent (issue 44, item 5): its web seeds (url-list) and trackers
// (announce-list: http, udp, ws) pass the guard that URLs typed into the node pass. On a node whose
// API listens beyond this machine (here: every interface, 0.0.0.0) a torrent pointing them at
// 127.0.0.1 or 10.x is never fetched from or announced to; on a loopback node (tests, and a LAN
// node likewise) the same torrent still downloads from its web seed, as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTorrent } from '../../packages/engine/index.ts';
import { formWith, patternBytes, startTestServer } from '../../packages/http/test/server-helpers.ts';
import { until } from '../../packages/http/test/model-helpers.ts';
import type { TestContext } from 'node:test';

const SIZE = 100_000;

/** An HTTP server on 127.0.0.1 that serves `data` as a web seed and records every request and
 *  WebSocket upgrade; a UDP socket that records every datagram. */
async function recorders(t: TestContext, data: Uint8Array) {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    const m = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? '');
    if (!m) return res.writeHead(200, { 'content-length': data.length }).end(data);
    const [a, b] = [Number(m[1]), Number(m[2])];
    res.writeHead(206, { 'content-length': b - a + 1 }).end(data.subarray(a, b + 1));
  });
  server.on('upgrade', (req, socket) => (hits.push(`upgrade ${req.url}`), socket.destroy()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const udp = dgram.createSocket('udp4');
  udp.on('message', () => hits.push('udp'));
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
  t.after(() => (server.closeAllConnections(), server.close(), udp.close()));
  return { hits, port: (server.address() as { port: number }).port, udpPort: udp.address().port };
}

async function torrentPointingAt(t: TestContext, port: number, udpPort: number): Promise<{ torrent: Uint8Array; data: Uint8Array }> {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-torrent-urls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const data = patternBytes(SIZE, 5);
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src', 'seeded.bin'), data);
  const { torrent } = await createTorrent(join(dir, 'src', 'seeded.bin'), {
    pieceLength: 16384,
    webSeeds: [`http://127.0.0.1:${port}/seeded.bin`, `http://10.255.255.1:${port}/seeded.bin`, `http://127.0.0.7:${port}/seeded.bin`],
    announce: [`http://127.0.0.1:${port}/announce`, `udp://127.0.0.1:${udpPort}/announce`, `ws://127.0.0.1:${port}/announce`, `http://10.255.255.1/announce`],
  });
  return { torrent, data };
}

test('a node reachable beyond this machine never fetches or announces to the private URLs a torrent names', { timeout: 60_000 }, async (t) => {
  const data = patternBytes(SIZE, 5);
  const rec = await recorders(t, data);
  const { torrent } = await torrentPointingAt(t, rec.port, rec.udpPort);
  const s = await startTestServer(t, { host: '0.0.0.0' });
  const added = await s.json('/api/torrents', { method: 'POST', body: formWith([['x.torrent', torrent]], 'torrent') });
  assert.equal(added.status, 201, JSON.stringify(added.body));
  const ih = added.body.infoHash as string;
  const h = s.node.session.get(ih)!;
  // Every tracker has been tried and refused (an announce to the refused ones fails without a packet).
  const refused = await until('the trackers refused', async () => {
    // The torrent's own (the node's built-in tracker comes as well, and answers).
    const ts = h.trackers().filter((x) => x.url.includes(`:${rec.port}/`) || x.url.includes(`:${rec.udpPort}/`) || x.url.includes('10.255.255.1'));
    return ts.length === 4 && ts.every((x) => (x.lastError ?? x.message) !== undefined) ? ts : undefined;
  }, 20_000).catch((err) => {
    throw new Error(`${err.message}: ${JSON.stringify(h.trackers())}; hits ${rec.hits.join(', ')}`);
  });
  t.diagnostic(refused.map((x) => `${x.url}: ${x.lastError ?? x.message}`).join('\n'));
  for (const x of refused) assert.match(String(x.lastError ?? x.message), /local or private address/, x.url);
  // Web seeds get as long again to try.
  await new Promise((r) => setTimeout(r, 2000));
  assert.deepEqual(rec.hits, [], 'nothing reached the recorders');
  assert.equal(h.stats().progress, 0);
});

test('a loopback node (a test, a LAN) still downloads from the web seed the torrent names', { timeout: 60_000 }, async (t) => {
  const data = patternBytes(SIZE, 5);
  const rec = await recorders(t, data);
  const { torrent } = await torrentPointingAt(t, rec.port, rec.udpPort);
  const s = await startTestServer(t); // its API on 127.0.0.1
  const added = await s.json('/api/torrents', { method: 'POST', body: formWith([['x.torrent', torrent]], 'torrent') });
  assert.equal(added.status, 201, JSON.stringify(added.body));
  const h = s.node.session.get(added.body.infoHash)!;
  await until('the download', async () => (h.stats().progress === 1 ? true : undefined), 30_000);
  assert.ok(rec.hits.some((x) => x.startsWith('GET /seeded.bin')), rec.hits.join(', '));
});
