// Interop with WebTorrent 3.0.21's own browser bundle (webtorrent/dist/webtorrent.min.js, a devDependency)
// in Chromium: WebTorrent downloads from a Cascade Node hybrid peer and from a Cascade page, and
// Cascade (page and Node) downloads from WebTorrent. Same WebSocket tracker, same loopback-only
// network namespace as browser-peer.browser.test.ts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { Session, createTorrent, type TorrentHandle, type TransferEvent, type WebRtcOptions } from '../index.ts';
import { buildBrowserBundle, chromiumContext, INDEX_HTML, serveStatic } from './browser-bundle.ts';
import { startWsTracker } from './ws-tracker.ts';

const RTC: WebRtcOptions = { iceServers: [], bindAddress: '127.0.0.1', minAnnounceInterval: 2 };
const MiB = 1024 * 1024;
const require = createRequire(import.meta.url);
const WEBTORRENT = path.join(path.dirname(require.resolve('webtorrent/package.json')), 'dist', 'webtorrent.min.js');

let root: string;
let site: { url: string; close(): Promise<void> };
let ws: string;
let closeTracker: () => Promise<void>;

// The page has both: Cascade as window.cascade, WebTorrent's bundle as window.WebTorrent.
const PAGE = INDEX_HTML.replace('window.ready = true;', '') +
  `<script type="module">import WebTorrent from './webtorrent.min.js'; window.WebTorrent = WebTorrent;
   await new Promise((r) => { const w = () => (window.cascade ? r() : setTimeout(w, 10)); w(); }); window.ready = true;</script>`;

before(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'cascade-wt-'));
  const dist = path.join(root, 'dist');
  await buildBrowserBundle(dist);
  await fs.writeFile(path.join(dist, 'index.html'), PAGE);
  site = await serveStatic(dist, { '/webtorrent.min.js': WEBTORRENT });
  const tr = await startWsTracker();
  ws = tr.url;
  closeTracker = () => tr.close();
});

after(async () => {
  await site?.close();
  await closeTracker?.();
  await fs.rm(root, { recursive: true, force: true });
});

/** A page in a fresh browser: a context of the file's one Chromium (to WebRTC, a browser of its own). */
async function openPage(t: { after: (fn: () => unknown) => void }): Promise<Page> {
  const page = await (await chromiumContext(t)).newPage();
  page.on('pageerror', (e) => console.error('[page error]', e));
  await page.goto(site.url);
  await page.waitForFunction(() => (window as any).ready === true);
  return page;
}

function done(h: TorrentHandle, ms = 90_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out: ${JSON.stringify(h.stats())}`)), ms);
    if (h.stats().state === 'seeding') return clearTimeout(timer), resolve();
    h.once('done', () => (clearTimeout(timer), resolve()));
    h.once('error', (e: Error) => (clearTimeout(timer), reject(e)));
  });
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** WebTorrent in the page downloads `source` and returns the SHA-256 of its first file and its peers. */
function webtorrentDownload(page: Page, source: string | number[]): Promise<{ sha256: string; peers: string[]; ms: number }> {
  return page.evaluate(async ({ source, ws }) => {
    const WebTorrent = (window as any).WebTorrent;
    const client = new WebTorrent({ tracker: { rtcConfig: { iceServers: [] } }, dht: false, lsd: false, webSeeds: false });
    client.on('error', (e: Error) => console.error('webtorrent error', e));
    const t0 = performance.now();
    const torrent: any = await new Promise((resolve, reject) => {
      const t = client.add(typeof source === 'string' ? source : new Uint8Array(source), { announce: [ws] }, resolve);
      t.on('error', reject);
    });
    const peers = new Set<string>();
    torrent.on('wire', (wire: any) => peers.add(wire.peerId));
    for (const w of torrent.wires) peers.add(w.peerId);
    await new Promise<void>((resolve, reject) => {
      if (torrent.done) return resolve();
      torrent.once('done', resolve);
      setTimeout(() => reject(new Error(`WebTorrent download timed out at ${torrent.progress}`)), 80_000);
    });
    const ms = performance.now() - t0;
    const buf = await torrent.files[0].arrayBuffer();
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', buf));
    (window as any).wt = client;
    return { sha256: [...digest].map((b) => b.toString(16).padStart(2, '0')).join(''), peers: [...peers], ms };
  }, { source, ws });
}

/** WebTorrent in the page seeds `size` random bytes; returns its magnet and the data's SHA-256. */
function webtorrentSeed(page: Page, size: number, name: string): Promise<{ magnet: string; sha256: string }> {
  return page.evaluate(async ({ ws, size, name }) => {
    const WebTorrent = (window as any).WebTorrent;
    const client = new WebTorrent({ tracker: { rtcConfig: { iceServers: [] } }, dht: false, lsd: false, webSeeds: false });
    (window as any).wt = client;
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, Math.min(size, i + 65536)));
    const file = new File([bytes], name);
    const torrent: any = await new Promise((resolve) => client.seed(file, { announce: [ws] }, resolve));
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
    return { magnet: torrent.magnetURI as string, sha256: [...digest].map((b) => b.toString(16).padStart(2, '0')).join('') };
  }, { ws, size, name });
}

test('WebTorrent in a browser downloads from a Cascade Node hybrid peer', async (t) => {
  const dir = path.join(root, 'a');
  await fs.mkdir(dir, { recursive: true });
  // 17 pieces of 128 KiB, the last one short: as much as 8 MiB proved, at a quarter of the CPU.
  const data = randomBytes(2 * MiB + 5);
  await fs.writeFile(path.join(dir, 'to-webtorrent.bin'), data);
  const { torrent } = await createTorrent(path.join(dir, 'to-webtorrent.bin'), { pieceLength: 128 * 1024, announce: [ws] });
  const node = await Session.create({ port: 0, host: '127.0.0.1', dht: false, webrtc: RTC });
  t.after(() => node.close());
  const seed = await node.add(torrent, { savePath: dir });
  await done(seed);
  const page = await openPage(t);
  const r = await webtorrentDownload(page, [...torrent]);
  t.diagnostic(`node → WebTorrent page: ${data.length} bytes in ${r.ms.toFixed(0)} ms`);
  assert.equal(r.sha256, sha256(data));
  assert.deepEqual(r.peers, [node.peerIdHex]);
  assert.ok(seed.stats().uploaded >= data.length);
  assert.ok(seed.peers().every((p) => p.transport === 'webrtc'));
});

test('WebTorrent in a browser downloads what a Cascade page seeds, and the reverse', async (t) => {
  const [cascadePage, wtPage] = await Promise.all([openPage(t), openPage(t)]);
  // Cascade page → WebTorrent page
  const size = 3 * MiB + 17;
  const seeded = await cascadePage.evaluate(async ({ ws, size }) => {
    const { BrowserSession } = (window as any).cascade;
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, Math.min(size, i + 65536)));
    const s = await BrowserSession.create({ iceServers: [], minAnnounceInterval: 2 });
    (window as any).session = s;
    const r = await s.seedFiles([new File([bytes], 'cascade-made.bin')], { announce: [ws] });
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
    return { magnet: r.magnet as string, peerId: s.peerIdHex as string, sha256: [...digest].map((b) => b.toString(16).padStart(2, '0')).join('') };
  }, { ws, size });
  const got = await webtorrentDownload(wtPage, seeded.magnet);
  t.diagnostic(`Cascade page → WebTorrent page: ${size} bytes in ${got.ms.toFixed(0)} ms (includes metadata)`);
  assert.equal(got.sha256, seeded.sha256);
  assert.deepEqual(got.peers, [seeded.peerId]);

  // WebTorrent page → Cascade page (a fresh WebTorrent client in a third browser seeds)
  const wtSeeder = await openPage(t);
  const wt = await webtorrentSeed(wtSeeder, 2 * MiB + 99, 'webtorrent-made.bin');
  const back = await cascadePage.evaluate(async ({ magnet }) => {
    const s = (window as any).session;
    const t0 = performance.now();
    const t = await s.add(magnet);
    const transports = new Set<string>();
    t.on('transfer', () => t.peers().forEach((p: { transport: string }) => transports.add(p.transport)));
    await new Promise<void>((resolve, reject) => {
      t.once('done', resolve);
      setTimeout(() => reject(new Error('timed out ' + JSON.stringify(t.stats()))), 80_000);
    });
    const blob: Blob = await s.fileBlob(t.infoHashHex, 0);
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()));
    return {
      ms: performance.now() - t0,
      sha256: [...digest].map((b) => b.toString(16).padStart(2, '0')).join(''),
      name: t.metainfo.name as string,
      clients: t.peers().map((p: { client?: string }) => p.client ?? ''),
      transports: [...transports],
    };
  }, { magnet: wt.magnet });
  t.diagnostic(`WebTorrent page → Cascade page: ${2 * MiB + 99} bytes in ${back.ms.toFixed(0)} ms (includes metadata)`);
  assert.equal(back.sha256, wt.sha256);
  assert.equal(back.name, 'webtorrent-made.bin');
  assert.deepEqual(back.transports, ['webrtc']);
});

test('a Cascade Node session downloads from WebTorrent in a browser', async (t) => {
  const page = await openPage(t);
  const wt = await webtorrentSeed(page, 4 * MiB + 1, 'wt-to-node.bin');
  const node = await Session.create({ port: 0, host: '127.0.0.1', dht: false, webrtc: RTC });
  t.after(() => node.close());
  const out = path.join(root, 'c');
  const h = await node.add(wt.magnet, { savePath: out });
  const sources = new Set<string>();
  h.on('transfer', (e: TransferEvent) => sources.add(e.peer));
  await done(h);
  assert.equal(sha256(await fs.readFile(path.join(out, 'wt-to-node.bin'))), wt.sha256);
  assert.equal(sources.size, 1);
  const [src] = sources;
  assert.match(src!, /^webrtc:[0-9a-f]{40}$/);
  // WebTorrent's peer ids start with -WW (client "WebTorrent").
  assert.match(Buffer.from(src!.slice(7), 'hex').toString('latin1'), /^-WW\d{4}-/);
});
