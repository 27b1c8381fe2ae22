// BEP 19: a torrent whose only source is an HTTP server downloads from it with Range requests,
// and a web seed serving wrong bytes is banned instead of poisoning the download.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Session, createTorrent, type TorrentHandle } from '../index.ts';
import { assertSameBytes } from '../../../scripts/assert-bytes.ts';

/** Serves `root` with single-range support; `tamper` flips a byte in every response when set. */
async function rangeServer(root: string, tamper = false, host = '127.0.0.1'): Promise<{ url: string; ranges: number; close(): Promise<void> }> {
  const state = { ranges: 0 };
  const server = http.createServer(async (req, res) => {
    try {
      const file = path.join(root, decodeURIComponent(new URL(req.url!, 'http://x').pathname));
      const data = await fs.readFile(file);
      const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
      if (!m) return res.writeHead(200).end(data);
      state.ranges++;
      const body = Buffer.from(data.subarray(Number(m[1]), Number(m[2]) + 1));
      if (tamper) body[0]! ^= 0xff;
      res.writeHead(206, { 'content-range': `bytes ${m[1]}-${m[2]}/${data.length}` }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${(server.address() as AddressInfo).port}/`,
    get ranges() {
      return state.ranges;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

function waitFor(h: TorrentHandle, event: string, ms = 20_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event}: ${JSON.stringify(h.stats())}`)), ms);
    h.once(event, (v: unknown) => (clearTimeout(timer), resolve(v)));
  });
}

test('a multi-file torrent downloads from its web seed alone', async (t) => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'cascade-webseed-'));
  t.after(() => fs.rm(root, { recursive: true, force: true }));
  const src = path.join(root, 'www', 'album');
  await fs.mkdir(path.join(src, 'disc 1'), { recursive: true });
  const a = randomBytes(300_001), b = randomBytes(123_457);
  await fs.writeFile(path.join(src, 'disc 1', 'a track.bin'), a);
  await fs.writeFile(path.join(src, 'b.bin'), b);
  const server = await rangeServer(path.join(root, 'www'));
  t.after(() => server.close());
  const { torrent } = await createTorrent(src, { pieceLength: 32 * 1024, webSeeds: [server.url] });

  const session = await Session.create({ host: '127.0.0.1', dht: false });
  t.after(() => session.close());
  const h = await session.add(torrent, { savePath: path.join(root, 'out') });
  await waitFor(h, 'done');
  assertSameBytes(await fs.readFile(path.join(root, 'out', 'album', 'disc 1', 'a track.bin')), a);
  assertSameBytes(await fs.readFile(path.join(root, 'out', 'album', 'b.bin')), b);
  assert.ok(server.ranges > 0);
  const seed = h.peers().find((p) => p.transport === 'webseed');
  assert.equal(seed?.address, server.url);
  assert.ok(seed!.downloaded >= a.length + b.length);
  // The session's totals say the same by transport (the node's cascade_bytes_total).
  const c = session.counters();
  assert.ok(c.bytesReceived.webseed >= a.length + b.length && c.bytesReceived.webseed <= seed!.downloaded, `${c.bytesReceived.webseed} B from the web seed`);
  assert.equal(c.bytesReceived.tcp + c.bytesReceived.webrtc, 0);
});

test('a web seed at an IPv6 literal (http://[::1]:port/) serves a torrent alone', async (t) => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'cascade-webseed6-'));
  t.after(() => fs.rm(root, { recursive: true, force: true }));
  await fs.mkdir(path.join(root, 'www'));
  const data = randomBytes(200_000);
  await fs.writeFile(path.join(root, 'www', 'six.bin'), data);
  const server = await rangeServer(path.join(root, 'www'), false, '::1');
  t.after(() => server.close());
  assert.match(server.url, /^http:\/\/\[::1\]:\d+\/$/);
  const { torrent } = await createTorrent(path.join(root, 'www', 'six.bin'), { pieceLength: 32 * 1024, webSeeds: [server.url] });
  const session = await Session.create({ dht: false, webrtc: false });
  t.after(() => session.close());
  const h = await session.add(torrent, { savePath: path.join(root, 'out') });
  await waitFor(h, 'done');
  assertSameBytes(await fs.readFile(path.join(root, 'out', 'six.bin')), data);
  assert.ok(server.ranges > 0);
});

test('a web seed serving corrupt bytes is banned', async (t) => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'cascade-webseed-'));
  t.after(() => fs.rm(root, { recursive: true, force: true }));
  await fs.mkdir(path.join(root, 'www'));
  await fs.writeFile(path.join(root, 'www', 'f.bin'), randomBytes(100_000));
  const server = await rangeServer(path.join(root, 'www'), true);
  t.after(() => server.close());
  const { torrent } = await createTorrent(path.join(root, 'www', 'f.bin'), { pieceLength: 16 * 1024, webSeeds: [server.url] });
  const session = await Session.create({ host: '127.0.0.1', dht: false });
  t.after(() => session.close());
  const h = await session.add(torrent, { savePath: path.join(root, 'out') });
  const banned = (await waitFor(h, 'peer-banned')) as { address: string };
  assert.equal(banned.address, `webseed:${server.url}`);
  assert.equal(h.stats().verifiedPieces, 0);
});

test('a download limit holds for a web seed too', async (t) => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'cascade-webseed-'));
  t.after(() => fs.rm(root, { recursive: true, force: true }));
  await fs.mkdir(path.join(root, 'www'));
  const file = path.join(root, 'www', 'big.bin');
  await fs.writeFile(file, randomBytes(12 * 1024 * 1024));
  const server = await rangeServer(path.join(root, 'www'));
  t.after(() => server.close());
  const { torrent } = await createTorrent(file, { pieceLength: 256 * 1024, webSeeds: [server.url] });
  const session = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false });
  t.after(() => session.close());
  session.setRateLimits({ download: 1024 * 1024 });
  const h = await session.add(torrent, { savePath: path.join(root, 'out') });
  await new Promise((r) => setTimeout(r, 1000));
  const b0 = h.stats().downloaded, t0 = Date.now();
  await new Promise((r) => setTimeout(r, 5000));
  const rate = ((h.stats().downloaded - b0) * 1000) / (Date.now() - t0);
  // Over the limit never (+10%); under it only loosely: a loaded test machine can starve the fetch
  // loop, and bench/limits measures the ±10% on an idle one.
  const mib = rate / (1024 * 1024);
  assert.ok(mib < 1.1 && mib > 0.5, `web seed at ${mib.toFixed(3)} MiB/s under a 1 MiB/s limit`);
});
