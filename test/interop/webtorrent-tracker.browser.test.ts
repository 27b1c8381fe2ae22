// WebTorrent's own browser bundle, unchanged, works against Cascade's tracker (run as its CLI, in its
// own process): one WebTorrent page seeds, another downloads the magnet over WebRTC found through the
// tracker's WebSocket protocol, and the tracker's /stats shows the swarm. No Cascade peer is involved.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import type { StatsSnapshot } from '../../packages/tracker/index.ts';
import { launchChromium, serveStatic } from '../../packages/engine/test/browser-bundle.ts';
import { REPO_ROOT, spawnJson, stop, waitForEvent, type JsonProc } from './helpers.ts';

const require = createRequire(import.meta.url);
const WEBTORRENT = path.join(path.dirname(require.resolve('webtorrent/package.json')), 'dist', 'webtorrent.min.js');
const PAGE = `<!doctype html><meta charset="utf-8"><title>webtorrent</title>
<script type="module">import WebTorrent from './webtorrent.min.js'; window.WebTorrent = WebTorrent; window.ready = true;</script>`;
const SIZE = 2 * 1024 * 1024 + 7;

let root: string;
let site: { url: string; close(): Promise<void> };
let tracker: JsonProc;
let wsUrl: string;
let statsUrl: string;

before(async () => {
  tracker = spawnJson('tracker', process.execPath, [
    path.join(REPO_ROOT, 'packages/tracker/src/cli.ts'),
    '--json', '--host', '127.0.0.1', '--http-port', '0', '--udp-port', '0', '--ws', '--rate-limit', '0',
  ]);
  const listening = await waitForEvent(tracker, 'listening', { timeoutMs: 15_000 });
  wsUrl = listening.ws as string;
  statsUrl = listening.stats as string;
  assert.match(wsUrl, /^ws:\/\/127\.0\.0\.1:\d+\/announce$/);
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'cascade-wt-tracker-'));
  await fs.writeFile(path.join(root, 'index.html'), PAGE);
  site = await serveStatic(root, { '/webtorrent.min.js': WEBTORRENT });
});

after(async () => {
  await site?.close();
  if (tracker) await stop(tracker);
  if (root) await fs.rm(root, { recursive: true, force: true });
});

async function openPage(t: { after: (fn: () => unknown) => void }): Promise<Page> {
  const page = await (await launchChromium(t)).newPage();
  page.on('pageerror', (e) => console.error('[page error]', e));
  await page.goto(site.url);
  await page.waitForFunction(() => (window as any).ready === true);
  return page;
}

/** Polls /stats until `ok` holds (its totals are cached for up to a second); returns the last snapshot. */
async function statsUntil(ok: (s: StatsSnapshot) => boolean, ms = 10_000): Promise<StatsSnapshot> {
  const deadline = Date.now() + ms;
  for (;;) {
    const s = (await (await fetch(statsUrl)).json()) as StatsSnapshot;
    if (ok(s) || Date.now() > deadline) return s;
    await new Promise((r) => setTimeout(r, 250));
  }
}

const totals = (s: StatsSnapshot) => ({ torrents: s.torrents, peers: s.peers, seeders: s.seeders, leechers: s.leechers });

test('WebTorrent pages seed and download through the Cascade tracker', { timeout: 60_000 }, async (t) => {
  const [seeder, leecher] = await Promise.all([openPage(t), openPage(t)]);

  const seeded = await seeder.evaluate(async ({ ws, size }) => {
    const WebTorrent = (window as any).WebTorrent;
    const client = new WebTorrent({ tracker: { rtcConfig: { iceServers: [] } }, dht: false, lsd: false, webSeeds: false });
    (window as any).wt = client;
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, Math.min(size, i + 65536)));
    const torrent: any = await new Promise((resolve) => client.seed(new File([bytes], 'from-webtorrent.bin'), { announce: [ws] }, resolve));
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
    return { magnet: torrent.magnetURI as string, sha256: [...digest].map((b) => b.toString(16).padStart(2, '0')).join('') };
  }, { ws: wsUrl, size: SIZE });

  // The leecher must not announce before the seeder is in the swarm: its offers would find nobody,
  // and its next announce is up to two minutes away.
  const alone = await statsUntil((s) => s.seeders === 1);
  assert.deepEqual(totals(alone), { torrents: 1, peers: 1, seeders: 1, leechers: 0 });

  const got = await leecher.evaluate(async ({ magnet, ws }) => {
    const WebTorrent = (window as any).WebTorrent;
    const client = new WebTorrent({ tracker: { rtcConfig: { iceServers: [] } }, dht: false, lsd: false, webSeeds: false });
    (window as any).wt = client;
    const t0 = performance.now();
    const torrent: any = await new Promise((resolve, reject) => {
      const t = client.add(magnet, { announce: [ws] }, resolve);
      t.on('error', reject);
    });
    await new Promise<void>((resolve, reject) => {
      if (torrent.done) return resolve();
      torrent.once('done', resolve);
      setTimeout(() => reject(new Error(`WebTorrent download timed out at ${torrent.progress}`)), 40_000);
    });
    const ms = performance.now() - t0;
    const buf = await torrent.files[0].arrayBuffer();
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', buf));
    // WebTorrent keeps each peer's simple-peer as peer.conn, its RTCPeerConnection as conn._pc.
    const pairs: { local: string; remote: string }[] = [];
    for (const peer of torrent._peers.values()) {
      const stats: Map<string, any> = await peer.conn._pc.getStats();
      for (const s of stats.values()) {
        if (s.type !== 'transport' || !s.selectedCandidatePairId) continue;
        const pair = stats.get(s.selectedCandidatePairId);
        const at = (c: any) => `${c.address}:${c.port}`;
        pairs.push({ local: at(stats.get(pair.localCandidateId)), remote: at(stats.get(pair.remoteCandidateId)) });
      }
    }
    return { sha256: [...digest].map((b) => b.toString(16).padStart(2, '0')).join(''), bytes: buf.byteLength, ms, pairs };
  }, { magnet: seeded.magnet, ws: wsUrl });
  t.diagnostic(`WebTorrent → WebTorrent via the Cascade tracker: ${got.bytes} bytes in ${got.ms.toFixed(0)} ms (includes metadata)`);

  assert.equal(got.bytes, SIZE);
  assert.equal(got.sha256, seeded.sha256);
  assert.ok(got.pairs.length > 0, 'the leecher has a selected ICE candidate pair');
  for (const p of got.pairs) {
    assert.match(p.local, /^127\.0\.0\.1:\d+$/, `local candidate ${p.local}`);
    assert.match(p.remote, /^127\.0\.0\.1:\d+$/, `remote candidate ${p.remote}`);
  }

  // The leecher's `completed` announce makes it a seeder too.
  const full = await statsUntil((s) => s.seeders === 2);
  assert.deepEqual(totals(full), { torrents: 1, peers: 2, seeders: 2, leechers: 0 });
  assert.equal(full.wsConnections, 2);
  assert.ok(full.announces.ws >= 3, `ws announces: ${full.announces.ws}`);
  assert.equal(full.announces.http, 0);
  assert.equal(full.announces.udp, 0);
  assert.deepEqual(full.failures, { http: 0, udp: 0, ws: 0 });
});
