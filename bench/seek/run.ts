// `npm run bench:seek`: how long a seek takes to play again in the page (issue 43 item 7: "time from
// a seek to playback resuming in the page, with the swarm limited to 10 MiB/s, ≤ 2 s").
//
// A node (in this process) adds a magnet of a large WAV that one libtorrent seeder holds, with the
// seeder's upload limited to --rate (10 MiB/s, libtorrent's own limiter, loopback included). Chromium
// opens the node's page as its owner and plays the file the way the detail panel's player does (an
// <audio> on /api/torrents/:hash/files/:i, HTTP Range, the node waiting for pieces not yet there);
// then it seeks to places far ahead of what has arrived and times each seek: from setting
// currentTime to the `seeked` event (data at the new place) and to playback running there again
// (currentTime 0.25 s past the target). The node raises the pieces just ahead of a reader's range
// to the front (reader claims → the picker's urgent ranges); without that a seek waits for
// rarest-first to reach the place: at 10 MiB/s, tens of seconds into a 512 MiB file.
//
// It re-runs itself in a loopback-only network namespace as root (Chromium must not reach past
// loopback: ../../../shared/browser-webrtc.md) and refuses to run with other interfaces up.
//
//   npm run bench:seek -- [--size 512MiB] [--rate 10MiB] [--seeks 5]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { createTorrent } from '@cascade/engine';
import { startServer } from '@cascade/http';
import { ensureWebBuilt } from '../../packages/web/index.ts';
import { loopbackNodeOptions, refuseOutsideLoopback, rerunInLoopbackNamespace } from '../scale/netns.ts';
import { parseSize } from '../../packages/cli/src/output/format.ts';

const { values } = parseArgs({ options: { size: { type: 'string', default: '512MiB' }, rate: { type: 'string', default: '10MiB' }, seeks: { type: 'string', default: '5' } } });
const SIZE = parseSize(values.size!);
const RATE = parseSize(values.rate!);
const SEEKS = Number(values.seeks);
if (!(SIZE >= 64 * 2 ** 20) || !(RATE > 0) || !Number.isInteger(SEEKS) || SEEKS < 1) {
  console.error('--size takes at least 64MiB, --rate a size per second (10MiB), --seeks a positive integer');
  process.exit(2);
}
const PYTHON = '/usr/bin/python3';
const LT_PEER = join(import.meta.dirname, '../limits/lt_peer.py');
if (spawnSync(PYTHON, ['-c', 'import libtorrent'], { stdio: 'ignore' }).status !== 0) {
  console.error('bench:seek needs python3-libtorrent (apt-get install python3-libtorrent)');
  process.exit(2);
}

await rerunInLoopbackNamespace({
  envVar: 'CASCADE_BENCH_SEEK_NETNS',
  prefix: 'cascade-seek',
  script: import.meta.filename,
  fallback: 'cannot make a network namespace: running here only if lo is the only interface',
});
refuseOutsideLoopback();

const BYTES_PER_SECOND = 48_000 * 2 * 2; // 48 kHz, stereo, 16-bit
const work = await mkdtemp(join(tmpdir(), 'cascade-bench-seek-'));
let seeder: ChildProcess | undefined;
let cleanupTasks: (() => Promise<unknown>)[] = [];
async function cleanup(): Promise<void> {
  for (const task of cleanupTasks.reverse()) await task().catch(() => {});
  cleanupTasks = [];
  seeder?.kill('SIGKILL');
  await rm(work, { recursive: true, force: true });
}
process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));

/** A stereo 16-bit 48 kHz PCM WAV of `size` bytes: a tone whose pitch changes each second. */
async function writeWav(path: string, size: number): Promise<void> {
  const data = size - 44;
  const head = Buffer.alloc(44);
  head.write('RIFF', 0, 'ascii');
  head.writeUInt32LE(36 + data, 4);
  head.write('WAVEfmt ', 8, 'ascii');
  head.writeUInt32LE(16, 16);
  head.writeUInt16LE(1, 20);
  head.writeUInt16LE(2, 22);
  head.writeUInt32LE(48_000, 24);
  head.writeUInt32LE(BYTES_PER_SECOND, 28);
  head.writeUInt16LE(4, 32);
  head.writeUInt16LE(16, 34);
  head.write('data', 36, 'ascii');
  head.writeUInt32LE(data, 40);
  const second = Buffer.alloc(BYTES_PER_SECOND);
  const f = await open(path, 'w');
  try {
    await f.write(head);
    for (let written = 0, s = 0; written < data; s++) {
      const hz = 220 + (s % 40) * 11;
      for (let i = 0; i < 48_000; i++) {
        const v = Math.round(Math.sin((2 * Math.PI * hz * i) / 48_000) * 8_000);
        second.writeInt16LE(v, i * 4);
        second.writeInt16LE(v, i * 4 + 2);
      }
      const n = Math.min(second.length, data - written);
      await f.write(second, 0, n);
      written += n;
    }
  } finally {
    await f.close();
  }
}

try {
  await ensureWebBuilt({ quiet: true });
  const seedDir = join(work, 'seed');
  await mkdir(seedDir);
  const wav = join(seedDir, 'long-tone.wav');
  await writeWav(wav, SIZE);
  const { torrent, metainfo } = await createTorrent(wav, { pieceLength: 2 ** 20 });
  const torrentPath = join(work, 'long-tone.torrent');
  await writeFile(torrentPath, torrent);

  seeder = spawn(PYTHON, [LT_PEER, 'seed', torrentPath, seedDir, '0', String(RATE)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: seeder.stdout! });
  let seederPort = 0;
  for await (const line of lines) {
    if (line.startsWith('port ')) seederPort = Number(line.slice(5));
    if (line === 'seeding') break;
  }
  if (!seederPort) throw new Error('the libtorrent seeder did not start');

  const stateDir = join(work, 'node');
  const server = await startServer(loopbackNodeOptions(stateDir));
  cleanupTasks.push(() => server.close());
  await server.ready;
  const api = (path: string, init: RequestInit = {}) =>
    fetch(new URL(path, server.url), { ...init, headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json', ...init.headers } });

  const profile = join(work, 'chromium');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--autoplay-policy=no-user-gesture-required'],
  });
  cleanupTasks.push(() => context.close());
  const page = await context.newPage();
  await page.goto(server.url);
  await page.locator('[data-testid="claim-code"]').fill((await readFile(join(stateDir, 'claim-code'), 'utf8')).trim());
  await page.locator('[data-testid="claim-node"]').click();
  await page.locator('[data-testid="whoami"].role-owner').waitFor({ timeout: 30_000 });

  const hash = Buffer.from(metainfo.infoHash).toString('hex');
  const added = await api('/api/torrents', { method: 'POST', body: JSON.stringify({ uri: `magnet:?xt=urn:btih:${hash}`, peers: [`127.0.0.1:${seederPort}`] }) });
  if (!added.ok) throw new Error(`add: ${added.status} ${await added.text()}`);
  const detail = async () => (await (await api(`/api/torrents/${hash}`)).json()) as { progress: number; state: string; files?: unknown[] };
  const progress = async () => (await detail()).progress;
  // A magnet: the file exists for the player once the metadata has come from the seeder.
  for (const t0 = Date.now(); ; ) {
    const d = await detail();
    if (d.state !== 'metadata' && (d.files?.length ?? 0) > 0) break;
    if (Date.now() - t0 > 30_000) throw new Error(`no metadata from the seeder within 30 s (${d.state})`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const duration = (SIZE - 44) / BYTES_PER_SECOND;

  console.log(`bench:seek: a ${(SIZE / 2 ** 20).toFixed(0)} MiB WAV (${(duration / 60).toFixed(1)} min), 1 MiB pieces, libtorrent seeding at ${(RATE / 2 ** 20).toFixed(1)} MiB/s, load ${loadavg()[0]!.toFixed(2)}`);
  // The first start: the element asks for the start of the file (and the WAV header) as soon as it exists.
  const start = await page.evaluate(async (src) => {
    const el = document.createElement('audio');
    el.muted = true;
    el.preload = 'auto';
    document.body.append(el);
    (window as unknown as { player: HTMLAudioElement }).player = el;
    const t0 = performance.now();
    el.src = src;
    await el.play();
    await new Promise<void>((resolve) => {
      const tick = () => (el.currentTime > 0.25 ? resolve() : requestAnimationFrame(tick));
      tick();
    });
    return performance.now() - t0;
  }, `/api/torrents/${hash}/files/0`);
  console.log(`  first start                     ${(start / 1000).toFixed(2)} s to playing`);

  // Places spread over the file, visited out of order, each far from the last.
  const fractions = [0.83, 0.31, 0.62, 0.12, 0.94, 0.47, 0.71, 0.22].slice(0, SEEKS);
  const results: { seeked: number; playing: number }[] = [];
  for (const f of fractions) {
    const before = await progress();
    const target = Math.floor(duration * f);
    const r = await page.evaluate(async (to) => {
      const el = (window as unknown as { player: HTMLAudioElement }).player;
      const t0 = performance.now();
      let seeked = NaN;
      el.addEventListener('seeked', () => (seeked = performance.now() - t0), { once: true });
      el.currentTime = to;
      await new Promise<void>((resolve, reject) => {
        const give = setTimeout(() => reject(new Error(`no playback at ${to} s within 120 s`)), 120_000);
        const tick = () => (el.currentTime > to + 0.25 && !el.seeking ? (clearTimeout(give), resolve()) : requestAnimationFrame(tick));
        tick();
      });
      return { seeked, playing: performance.now() - t0 };
    }, target);
    results.push(r);
    console.log(`  seek to ${String(target).padStart(5)} s (${(f * 100).toFixed(0).padStart(2)}% in, ${(before * 100).toFixed(0).padStart(3)}% downloaded)   ${(r.seeked / 1000).toFixed(2)} s to seeked, ${(r.playing / 1000).toFixed(2)} s to playing`);
  }
  const sorted = results.map((r) => r.playing).sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const worst = sorted.at(-1)!;
  console.log(`  seek → playing: median ${(median / 1000).toFixed(2)} s, worst ${(worst / 1000).toFixed(2)} s (target ≤ 2 s)`);
  await cleanup();
  process.exit(worst <= 2000 ? 0 : 1);
} catch (err) {
  console.error(`bench:seek: ${(err as Error).stack ?? err}`);
  await cleanup();
  process.exit(1);
}
