// Browser WebRTC throughput (issue 40 item 4): page → page with Cascade's browser bundle against
// page → page with WebTorrent's own browser bundle (webtorrent/dist/webtorrent.min.js, 3.0.21), the
// same file size, the same WebSocket tracker, alternating run by run; optionally node → page and
// page → node (--node). Each pair is two fresh Chromium instances (one seeds bytes it made in the
// page, one downloads the magnet). Printed per client: the rate from the first received byte to the
// last (steady), the time from the add to done (metadata and connection included), and the CPU
// seconds of every Chromium process this bench started over that time, per MiB moved.
// Run as root: it re-runs itself in a loopback-only network namespace (shared/browser-webrtc.md).
//   npm run bench:webrtc -- [MiB=64] [runs=10] [--node]
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { Session, createTorrent, type TorrentHandle } from '../../packages/engine/index.ts';
import { buildBrowserBundle, INDEX_HTML, launchChromium, serveStatic } from '../../packages/engine/test/browser-bundle.ts';
import { startWsTracker } from '../../packages/engine/test/ws-tracker.ts';
import { refuseOutsideLoopback, rerunInLoopbackNamespace } from '../scale/netns.ts';
import { loadAverage, median } from '../scale/proc.ts';
import { childrenCpuSeconds, threadCpuSeconds, threadReport } from './cpu.ts';

await rerunInLoopbackNamespace({
  envVar: 'CASCADE_BENCH_WEBRTC_NS',
  prefix: 'cascade-bench-webrtc',
  script: import.meta.filename,
  fallback: 'could not make a network namespace: running in place',
});
refuseOutsideLoopback();

const MiB = 1024 * 1024;
const positional = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && all[i - 1] !== '--profile');
const withNode = process.argv.includes('--node');
/** Per-thread CPU of each pair (browser 0 seeds, 1 downloads). */
const threads = process.argv.includes('--threads');
/** V8 CPU profiles of both pages of every pair (CDP Profiler), written into this directory. */
const profileDir = process.argv.includes('--profile') ? process.argv[process.argv.indexOf('--profile') + 1] : undefined;
const size = Number(positional[0] ?? 64) * MiB;
const runs = Number(positional[1] ?? 10);
const RTC = { iceServers: [], bindAddress: '127.0.0.1', minAnnounceInterval: 2 };
const require = createRequire(import.meta.url);
const WEBTORRENT = path.join(path.dirname(require.resolve('webtorrent/package.json')), 'dist', 'webtorrent.min.js');
const WT_VERSION = (JSON.parse(readFileSync(path.join(path.dirname(WEBTORRENT), '..', 'package.json'), 'utf8')) as { version: string }).version;

if (profileDir) await fs.mkdir(profileDir, { recursive: true });
const afters: (() => unknown)[] = [];
const t = { after: (fn: () => unknown) => void afters.push(fn) };
const root = await fs.mkdtemp(path.join(os.tmpdir(), 'cascade-bench-rtc-'));
afters.push(() => fs.rm(root, { recursive: true, force: true }));
await buildBrowserBundle(path.join(root, 'dist'));
// One page, both clients: Cascade as window.cascade, WebTorrent's bundle as window.WebTorrent.
await fs.writeFile(path.join(root, 'dist', 'index.html'), INDEX_HTML.replace('window.ready = true;', '') +
  `<script type="module">import WebTorrent from './webtorrent.min.js'; window.WebTorrent = WebTorrent;
   await new Promise((r) => { const w = () => (window.cascade ? r() : setTimeout(w, 10)); w(); }); window.ready = true;</script>`);
const site = await serveStatic(path.join(root, 'dist'), { '/webtorrent.min.js': WEBTORRENT });
afters.push(() => site.close());
const tracker = await startWsTracker();
afters.push(() => tracker.close());
const ws = tracker.url;

/** A Chromium instance of its own with the page loaded; closed after the pair. */
async function page(closers: (() => unknown)[]): Promise<Page> {
  const ctx = await launchChromium({ after: (fn) => void closers.push(fn) });
  const p = await ctx.newPage();
  p.on('pageerror', (e) => console.error('[page error]', e));
  await p.goto(site.url);
  await p.waitForFunction(() => (window as any).ready === true);
  return p;
}

interface Sample { steady: number; totalMs: number; cpuPerMiB: number }

/** The seeding page makes `size` random bytes and seeds them with `client`; returns the magnet. */
function seed(p: Page, client: 'cascade' | 'webtorrent'): Promise<string> {
  return p.evaluate(async ({ ws, size, client }) => {
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, Math.min(size, i + 65536)));
    const file = new File([bytes], 'page.bin');
    if (client === 'cascade') {
      const s = await (window as any).cascade.BrowserSession.create({ iceServers: [], minAnnounceInterval: 2 });
      (window as any).seeder = s;
      return (await s.seedFiles([file], { announce: [ws], pieceLength: 256 * 1024 })).magnet as string;
    }
    const wt = new (window as any).WebTorrent({ tracker: { rtcConfig: { iceServers: [] } }, dht: false, lsd: false, webSeeds: false });
    (window as any).seeder = wt;
    const torrent: any = await new Promise((resolve) => wt.seed(file, { announce: [ws], pieceLength: 256 * 1024 }, resolve));
    return torrent.magnetURI as string;
  }, { ws, size, client });
}

/** The downloading page fetches `magnet` with `client`; returns [steady MiB/s, total ms, bytes]. */
function fetchIn(p: Page, client: 'cascade' | 'webtorrent', source: string | number[]): Promise<[number, number, number]> {
  return p.evaluate(async ({ source, ws, client }) => {
    const t0 = performance.now();
    let first = 0;
    let firstBytes = 0;
    const src = typeof source === 'string' ? source : new Uint8Array(source);
    if (client === 'cascade') {
      const s = await (window as any).cascade.BrowserSession.create({ iceServers: [], trackers: [ws], minAnnounceInterval: 2 });
      const t = await s.add(src);
      t.on('transfer', (e: { bytes: number }) => void (first || ((first = performance.now()), (firstBytes = e.bytes))));
      await new Promise((r) => (t.stats().state === 'seeding' ? r(null) : t.once('done', r)));
      const end = performance.now();
      const len = t.stats().length as number;
      await s.close();
      return [((len - firstBytes) / 1048576) / ((end - first) / 1000), end - t0, len] as [number, number, number];
    }
    const wt = new (window as any).WebTorrent({ tracker: { rtcConfig: { iceServers: [] } }, dht: false, lsd: false, webSeeds: false });
    const torrent: any = await new Promise((resolve, reject) => {
      const tt = wt.add(src, { announce: [ws] }, resolve);
      tt.on('error', reject);
      tt.on('download', (n: number) => void (first || ((first = performance.now()), (firstBytes = n))));
    });
    if (!torrent.done) await new Promise((r) => torrent.once('done', r));
    const end = performance.now();
    const len = torrent.length as number;
    await new Promise((r) => wt.destroy(r));
    return [((len - firstBytes) / 1048576) / ((end - first) / 1000), end - t0, len] as [number, number, number];
  }, { source, ws, client });
}

let profiled = 0;

/** Starts V8's sampling profiler in a page (Chromium's DevTools protocol); the function returned
 *  stops it and gives the profile (a .cpuprofile, as Node's --cpu-prof writes). */
async function startProfile(p: Page): Promise<() => Promise<unknown>> {
  const cdp = await p.context().newCDPSession(p);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 250 });
  await cdp.send('Profiler.start');
  return async () => (await cdp.send('Profiler.stop')).profile;
}

async function pagePair(client: 'cascade' | 'webtorrent'): Promise<Sample> {
  const closers: (() => unknown)[] = [];
  try {
    const [a, b] = threads ? [await page(closers), await page(closers)] : await Promise.all([page(closers), page(closers)]);
    const magnet = await seed(a, client);
    const cpu0 = childrenCpuSeconds();
    const th0 = threads ? threadCpuSeconds() : undefined;
    const profiling = profileDir ? await Promise.all([a, b].map((p) => startProfile(p))) : [];
    const [steady, totalMs, len] = await fetchIn(b, client, magnet);
    for (const [i, stop] of profiling.entries()) await fs.writeFile(path.join(profileDir!, `${client}-${i === 0 ? 'seeder' : 'downloader'}-${++profiled}.cpuprofile`), JSON.stringify(await stop()));
    if (th0) console.log(`    ${client}:\n${threadReport(th0, threadCpuSeconds(), size / MiB)}`);
    if (len !== size) throw new Error(`${client}: ${len} bytes, expected ${size}`);
    return { steady, totalMs, cpuPerMiB: (childrenCpuSeconds() - cpu0) / (size / MiB) };
  } finally {
    for (const fn of closers.reverse()) await fn();
  }
}

/** node → page and page → node with Cascade on both ends (the engine's Node session in this process). */
async function nodePairs(run: number): Promise<void> {
  const dir = path.join(root, `run${run}`);
  await fs.mkdir(dir, { recursive: true });
  const src = path.join(dir, 'payload.bin');
  await fs.writeFile(src, randomBytes(size));
  const { torrent } = await createTorrent(src, { pieceLength: 256 * 1024, announce: [ws] });
  const closers: (() => unknown)[] = [];
  try {
    const node = await Session.create({ port: 0, host: '127.0.0.1', dht: false, webrtc: RTC });
    const s = await node.add(torrent, { savePath: dir });
    await new Promise((r) => (s.stats().state === 'seeding' ? r(null) : s.once('done', r)));
    const pa = await page(closers);
    const [r1, ms1] = await fetchIn(pa, 'cascade', [...torrent]);
    console.log(`  run ${run + 1} node → page: ${r1.toFixed(1)} MiB/s steady, ${ms1.toFixed(0)} ms total`);
    await node.close();
    const magnet = await seed(pa, 'cascade');
    const node2 = await Session.create({ port: 0, host: '127.0.0.1', dht: false, webrtc: RTC });
    const h = await node2.add(magnet, { savePath: path.join(dir, 'n2') });
    const [r2, ms2] = await nodeDone(h);
    console.log(`  run ${run + 1} page → node: ${r2.toFixed(1)} MiB/s steady, ${ms2.toFixed(0)} ms total`);
    await node2.close();
  } finally {
    for (const fn of closers.reverse()) await fn();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

function nodeDone(h: TorrentHandle): Promise<[number, number]> {
  const t0 = Date.now();
  let first = 0;
  h.on('transfer', () => (first ||= Date.now()));
  return new Promise((resolve) => h.once('done', () => resolve([(h.stats().length! / MiB) / ((Date.now() - first) / 1000), Date.now() - t0])));
}

try {
  console.log(`load average at the start: ${loadAverage()} (${os.cpus().length} CPUs)`);
  console.log(`page → page, ${size / MiB} MiB, ${runs} alternating run(s) per client; Cascade's browser bundle against WebTorrent ${WT_VERSION}'s (webtorrent.min.js), one WebSocket tracker, Chromium in a loopback-only namespace`);
  const samples = { cascade: [] as Sample[], webtorrent: [] as Sample[] };
  for (let run = 0; run < runs; run++) {
    // Alternating which goes first: the machine is shared, load drifts.
    const order = run % 2 === 0 ? (['cascade', 'webtorrent'] as const) : (['webtorrent', 'cascade'] as const);
    for (const client of order) {
      const s = await pagePair(client);
      samples[client].push(s);
      console.log(`  run ${run + 1} ${client.padEnd(10)} ${s.steady.toFixed(1).padStart(6)} MiB/s steady  ${(s.totalMs / 1000).toFixed(2)} s total  ${(s.cpuPerMiB * 1000).toFixed(0)} CPU-ms/MiB (both browsers)`);
    }
    if (withNode) await nodePairs(run);
  }
  console.log(`load average at the end: ${loadAverage()}`);
  const m = (c: 'cascade' | 'webtorrent', k: keyof Sample) => median(samples[c].map((s) => s[k]));
  console.log(`\nmedian of ${runs}          steady MiB/s   whole-transfer MiB/s   CPU-ms/MiB (both browsers)`);
  for (const c of ['cascade', 'webtorrent'] as const) {
    const whole = median(samples[c].map((s) => size / MiB / (s.totalMs / 1000)));
    console.log(`${(c === 'cascade' ? 'Cascade page → page' : 'WebTorrent page → page').padEnd(24)}${m(c, 'steady').toFixed(1).padStart(10)}${whole.toFixed(1).padStart(22)}${(m(c, 'cpuPerMiB') * 1000).toFixed(0).padStart(20)}`);
  }
  const wholeOf = (c: 'cascade' | 'webtorrent') => median(samples[c].map((s) => size / MiB / (s.totalMs / 1000)));
  console.log(`Cascade / WebTorrent: ${(m('cascade', 'steady') / m('webtorrent', 'steady')).toFixed(2)}x steady, ${(wholeOf('cascade') / wholeOf('webtorrent')).toFixed(2)}x whole transfer, ${(m('cascade', 'cpuPerMiB') / m('webtorrent', 'cpuPerMiB')).toFixed(2)}x CPU per MiB (target ≥ 2x)`);
} finally {
  for (const fn of afters.reverse()) await fn();
}
