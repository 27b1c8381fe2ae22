// WebRTC throughput: node → page, page → page and page → node, one data channel each, through a
// WebSocket tracker. Must run inside a loopback-only network namespace (shared/browser-webrtc.md):
//   ip netns add b && ip netns exec b ip link set lo up
//   ip netns exec b node_modules/.bin/node bench/webrtc/run.ts [MiB=64] [runs=2]; ip netns del b
// Reports MiB/s from the first received block to the last (connection setup excluded), plus the
// total time including signalling and metadata.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { Session, createTorrent, type TorrentHandle } from '../../packages/engine/index.ts';
import { buildBrowserBundle, INDEX_HTML, launchChromium, serveStatic } from '../../packages/engine/test/browser-bundle.ts';
import { startWsTracker } from '../../packages/engine/test/ws-tracker.ts';

const MiB = 1024 * 1024;
const size = Number(process.argv[2] ?? 64) * MiB;
const runs = Number(process.argv[3] ?? 2);
const RTC = { iceServers: [], bindAddress: '127.0.0.1', minAnnounceInterval: 2 };

const afters: (() => unknown)[] = [];
const t = { after: (fn: () => unknown) => void afters.push(fn) };
const root = await fs.mkdtemp(path.join(os.tmpdir(), 'cascade-bench-rtc-'));
afters.push(() => fs.rm(root, { recursive: true, force: true }));
await buildBrowserBundle(path.join(root, 'dist'));
await fs.writeFile(path.join(root, 'dist', 'index.html'), INDEX_HTML);
const site = await serveStatic(path.join(root, 'dist'));
afters.push(() => site.close());
const tracker = await startWsTracker();
afters.push(() => tracker.close());
const ws = tracker.url;

async function page(): Promise<Page> {
  const ctx = await launchChromium(t);
  const p = await ctx.newPage();
  await p.goto(site.url);
  await p.waitForFunction(() => (window as any).ready === true);
  return p;
}

/** Downloads in the page; returns [steady MiB/s, total ms]. */
function pageGet(p: Page, source: number[] | string): Promise<[number, number]> {
  return p.evaluate(async ({ source, ws }) => {
    const { BrowserSession } = (window as any).cascade;
    const s = await BrowserSession.create({ iceServers: [], trackers: [ws], minAnnounceInterval: 2 });
    const t0 = performance.now();
    let first = 0;
    let firstBytes = 0;
    const t = await s.add(typeof source === 'string' ? source : new Uint8Array(source));
    t.on('transfer', (e: { bytes: number }) => {
      if (!first) (first = performance.now()), (firstBytes = e.bytes);
    });
    await new Promise((r) => t.once('done', r));
    const end = performance.now();
    const len = t.stats().length;
    await s.close();
    return [((len - firstBytes) / 1048576) / ((end - first) / 1000), end - t0] as [number, number];
  }, { source, ws });
}

function nodeDone(h: TorrentHandle): Promise<[number, number]> {
  const t0 = Date.now();
  let first = 0;
  h.on('transfer', () => (first ||= Date.now()));
  return new Promise((resolve) => h.once('done', () => resolve([(h.stats().length! / MiB) / ((Date.now() - first) / 1000), Date.now() - t0])));
}

const fmt = ([r, ms]: [number, number]) => `${r.toFixed(1)} MiB/s steady, ${ms.toFixed(0)} ms total`;

for (let run = 0; run < runs; run++) {
  const dir = path.join(root, `run${run}`);
  await fs.mkdir(dir, { recursive: true });
  const src = path.join(dir, 'payload.bin');
  await fs.writeFile(src, randomBytes(size));
  const { torrent } = await createTorrent(src, { pieceLength: 256 * 1024, announce: [ws] });

  // node → page
  const node = await Session.create({ port: 0, host: '127.0.0.1', dht: false, webrtc: RTC });
  const seed = await node.add(torrent, { savePath: dir });
  await new Promise((r) => (seed.stats().state === 'seeding' ? r(null) : seed.once('done', r)));
  const pa = await page();
  console.log(`run ${run} node → page: ${fmt(await pageGet(pa, [...torrent]))}`);
  await node.close();

  // page → page (pa seeds the same torrent from a File it builds from random bytes)
  const magnet = await pa.evaluate(async ({ ws, size }) => {
    const { BrowserSession } = (window as any).cascade;
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
    const s = await BrowserSession.create({ iceServers: [], minAnnounceInterval: 2 });
    (window as any).seeder = s;
    const r = await s.seedFiles([new File([bytes], 'page.bin')], { announce: [ws], pieceLength: 256 * 1024 });
    return r.magnet as string;
  }, { ws, size });
  const pb = await page();
  console.log(`run ${run} page → page: ${fmt(await pageGet(pb, magnet))}`);

  // page → node
  const node2 = await Session.create({ port: 0, host: '127.0.0.1', dht: false, webrtc: RTC });
  const h = await node2.add(magnet, { savePath: path.join(dir, 'n2') });
  console.log(`run ${run} page → node: ${fmt(await nodeDone(h))}`);
  await node2.close();
  await Promise.all([pa.context().close(), pb.context().close()]);
}
for (const fn of afters.reverse()) await fn();
