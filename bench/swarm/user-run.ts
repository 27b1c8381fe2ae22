// The swarm benchmark as a user runs Cascade (issue 40): `cascade seed` and `cascade download` with
// every option at its default (the embedded chain, receipts and content ids included), the
// downloader's whole process timed from start to exit under /usr/bin/time, beside libtorrent's own
// pair in the same invocation. run.ts measures the engine alone; this is what caught nothing of
// the node's extras until issue 40, so it is what guards them now.
//
//   npm run bench:swarm -- --quick            256 MiB, one run per pair (lt→lt, lt→cascade, cascade→cascade,
//                                             cascade→lt), exits 1 past the thresholds
//   npm run bench:swarm -- --user [--size 1GiB --runs 3 --version v2 --pairs …]   the full figures
//
// Prints MB/s (10^6 bytes / wall second of the downloader's process), the ratio to libtorrent →
// libtorrent, the downloader's CPU-s per GiB (user + sys, start-up included) and its peak RSS.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { createTorrent } from '../../packages/engine/index.ts';
import { writeRandom } from './payload.ts';

const HERE = import.meta.dirname;
const ROOT = resolve(HERE, '../..');
const CASCADE = join(ROOT, 'packages/cli/bin/cascade.js');
const LT_PEER = join(HERE, 'lt_peer.py');
const PYTHON = '/usr/bin/python3';
const TIME = '/usr/bin/time';
const GiB = 2 ** 30;
const MB = 1e6;

export interface UserRunOptions {
  size: number;
  pieceLength: number;
  version: 'v1' | 'v2' | 'hybrid';
  runs: number;
  pairs: string[];
  dir: string;
  /** Exit 1 when a Cascade downloader passes this many CPU-s/GiB (median), or… */
  maxCpuPerGiB?: number;
  /** …or a pair with Cascade at either end falls under this ratio to libtorrent → libtorrent (median MB/s). */
  minRatio?: number;
  keep?: boolean;
}

type Impl = 'lt' | 'cascade';
interface Sample {
  mbps: number;
  /** Seconds the downloader's main thread was runnable but had no CPU (NaN off Linux). */
  mainWait: number;
  cpuPerGiB: number;
  rssMB: number;
  seconds: number;
  seedCpu: number;
}

function parsePair(s: string): { seed: Impl; dl: Impl } {
  const m = /^(lt|cascade)-(lt|cascade)$/.exec(s);
  if (!m) throw new Error(`bad pair "${s}": seeder-downloader with lt|cascade, e.g. lt-cascade`);
  return { seed: m[1] as Impl, dl: m[2] as Impl };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** A seeder process: its port once its data is checked, and its CPU when stopped. */
async function startSeeder(impl: Impl, torrent: string, dir: string, stateDir: string): Promise<{ port: number; stop: () => Promise<number> }> {
  const args = impl === 'lt'
    ? [PYTHON, [LT_PEER, 'seed', torrent, dir]] as const
    : [process.execPath, [CASCADE, 'seed', torrent, '--dir', dir, '--port', '0', '--no-dht', '--json', '--state-dir', stateDir]] as const;
  const child = spawn(args[0], [...args[1]], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, CASCADE_PORT_MAPPING: 'off', CASCADE_LSD: 'off' } });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-4000)));
  const events = () => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>);
  const readyEvent = impl === 'lt' ? 'ready' : 'seeding';
  const end = Date.now() + 120_000;
  while (!events().some((e) => e.event === readyEvent)) {
    if (child.exitCode !== null || Date.now() > end) throw new Error(`${impl} seeder did not start: ${err.trim().split('\n').slice(-3).join(' / ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const port = events().find((e) => e.event === 'listening')!.port as number;
  let stopped: Promise<number> | undefined;
  return {
    port,
    stop: () => (stopped ??= (async () => {
      // Its CPU over its life, from /proc before it goes (user + sys ticks).
      let cpu = NaN;
      try {
        const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        cpu = (Number(f[11]) + Number(f[12])) / 100;
      } catch {}
      if (impl === 'lt') child.stdin!.end();
      else child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
      clearTimeout(t);
      return cpu;
    })()),
  };
}

/**
 * Seconds the main thread of /usr/bin/time's child (the downloader) has spent runnable but without a
 * CPU so far (/proc schedstat), or undefined once it is gone. On 2 cores shared with other work this
 * is what makes single runs swing: a Cascade download's wall time is its main thread's CPU (steady)
 * plus this wait (issue 40: 0.44–0.92 s of 1.2–1.9 s transfers in one invocation at load 4).
 */
function mainThreadWait(timePid: number): number | undefined {
  try {
    const child = readFileSync(`/proc/${timePid}/task/${timePid}/children`, 'utf8').trim().split(' ')[0];
    if (!child) return undefined;
    if (!readdirSync(`/proc/${child}/task`).includes(child)) return undefined;
    return Number(readFileSync(`/proc/${child}/task/${child}/schedstat`, 'utf8').split(' ')[1]) / 1e9;
  } catch {
    return undefined;
  }
}

/**
 * The machine's steal so far, in seconds (/proc/stat's first line): time the hypervisor ran
 * something else on this VM's virtual CPUs. It is wall time no process here is charged for, so a
 * run that meets more of it is slower at the same CPU per GiB. NaN where there is no /proc/stat.
 */
function stealSeconds(): number {
  try {
    const steal = Number(readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/)[8]);
    return steal / 100; // USER_HZ
  } catch {
    return NaN;
  }
}

/** The downloader's whole process under /usr/bin/time: wall seconds, CPU-s, peak RSS, and its main
 *  thread's wait for a CPU (sampled every 100 ms: the last ≤ 100 ms are not counted). */
async function download(impl: Impl, torrent: string, out: string, port: number, timeoutMs: number): Promise<{ seconds: number; cpu: number; rssMB: number; mainWait: number; switches: [number, number]; steal: number }> {
  const cmd = impl === 'lt'
    ? [PYTHON, LT_PEER, 'download', torrent, out, `127.0.0.1:${port}`]
    : [process.execPath, CASCADE, 'download', torrent, '-o', out, '--peer', `127.0.0.1:${port}`, '--no-dht', '--port', '0', '--state-dir', `${out}.state`];
  const timeFile = `${out}.time`;
  const steal0 = stealSeconds();
  const t0 = performance.now();
  // stdin stays open: libtorrent's peer takes its end as 'stop'.
  // Its own process group: a timeout kills the downloader too, not only /usr/bin/time.
  const child = spawn(TIME, ['-o', timeFile, '-f', '%U %S %M %w %c', ...cmd], { stdio: ['pipe', 'ignore', 'pipe'], detached: true, env: { ...process.env, CASCADE_PORT_MAPPING: 'off', CASCADE_LSD: 'off' } });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-4000)));
  // libtorrent moves data on threads of its own (Python's main thread idles): Cascade only.
  let mainWait = NaN;
  const sampler = setInterval(() => {
    const w = impl === 'cascade' ? mainThreadWait(child.pid!) : undefined;
    if (w !== undefined) mainWait = w;
  }, 100);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {}
  }, timeoutMs);
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  clearTimeout(timer);
  clearInterval(sampler);
  const seconds = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`${impl} download ${timedOut ? `did not exit within ${timeoutMs / 1000} s` : `exited ${code}`}: ${err.trim().split('\n').slice(-3).join(' / ')}`);
  const [u, s, m, w, c] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  return { seconds, cpu: u! + s!, rssMB: (m! * 1024) / MB, mainWait, switches: [w!, c!], steal: stealSeconds() - steal0 };
}

export async function userRun(o: UserRunOptions): Promise<number> {
  if (spawnSync(PYTHON, ['-c', 'import libtorrent'], { stdio: 'ignore' }).status !== 0) {
    console.error('bench:swarm: python3-libtorrent is not installed (apt-get install python3-libtorrent): the reference is missing');
    return 2;
  }
  if (!existsSync(TIME)) {
    console.error('bench:swarm: /usr/bin/time is missing (apt-get install time): the downloader cannot be measured');
    return 2;
  }
  const pairs = o.pairs.map((p) => ({ name: p, ...parsePair(p) }));
  if (!pairs.some((p) => p.name === 'lt-lt')) pairs.unshift({ name: 'lt-lt', seed: 'lt', dl: 'lt' });
  const root = await mkdtemp(join(o.dir, 'cascade-user-bench-'));
  try {
    const data = join(root, 'data');
    await mkdir(data);
    const file = join(data, 'payload.bin');
    await writeRandom(file, o.size);
    const { torrent, metainfo } = await createTorrent(file, { pieceLength: o.pieceLength, version: o.version, createdBy: 'cascade swarm bench' });
    const torrentPath = join(root, 'payload.torrent');
    await writeFile(torrentPath, torrent);
    const timeoutMs = (60 + o.size / (10 * MB)) * 1000;
    // A one-piece torrent: what a download costs whatever its size (process start, the node, the
    // chain when the seeder is a Cascade peer). Subtracted, the rest is the cost per byte, which a
    // 256 MiB run shows as well as a 1 GiB one.
    const tinyDir = join(root, 'tiny');
    await mkdir(tinyDir);
    await writeRandom(join(tinyDir, 'payload.bin'), 16 * 1024);
    const tinyTorrent = join(root, 'tiny.torrent');
    await writeFile(tinyTorrent, (await createTorrent(join(tinyDir, 'payload.bin'), { pieceLength: 16 * 1024, version: o.version })).torrent);
    /** Each pair's one-piece downloads: CPU-s and wall seconds. */
    const fixed = new Map<string, { cpu: number; seconds: number }[]>();
    const samples = new Map<string, Sample[]>(pairs.map((p) => [p.name, []]));
    const cpuTag = `${cpus().length} cores`;
    console.log(`bench:swarm (as users run it): ${(o.size / 2 ** 20).toFixed(0)} MiB ${o.version}, ${metainfo.pieceCount} pieces of ${o.pieceLength / 1024} KiB, ${o.runs} run(s) per pair, ${cpuTag}, load ${loadavg()[0]!.toFixed(2)}`);
    // Run 0 of the first pair warms the page cache and the compile cache; it is not counted.
    for (let run = 0; run <= o.runs; run++) {
      for (const p of run === 0 ? pairs.slice(0, 1) : pairs) {
        const seeder = await startSeeder(p.seed, torrentPath, data, join(root, `seed-state-${run}-${p.name}`));
        const out = join(root, `out-${run}-${p.name}`);
        try {
          const r = await download(p.dl, torrentPath, out, seeder.port, timeoutMs);
          const got = await stat(join(out, 'payload.bin')).catch(() => undefined);
          if (got?.size !== o.size) throw new Error(`${p.name}: the download holds ${got?.size ?? 'no'} bytes`);
          const seedCpu = await seeder.stop();
          if (run > 0) {
            const s = { mbps: o.size / r.seconds / MB, cpuPerGiB: (r.cpu * GiB) / o.size, rssMB: r.rssMB, seconds: r.seconds, seedCpu, mainWait: r.mainWait };
            samples.get(p.name)!.push(s);
            console.log(`  run ${run} ${p.name.padEnd(16)} ${s.mbps.toFixed(1).padStart(7)} MB/s  ${s.seconds.toFixed(2)} s  ${s.cpuPerGiB.toFixed(2)} CPU-s/GiB  ${s.rssMB.toFixed(0)} MB RSS  ${Number.isNaN(s.mainWait) ? '' : `main thread waited ${s.mainWait.toFixed(2)} s for a CPU  `}(seeder ${seedCpu.toFixed(2)} CPU-s)  switches ${r.switches[0]} / ${r.switches[1]}  steal ${r.steal.toFixed(2)} s  load ${loadavg()[0]!.toFixed(2)}`);
          }
        } finally {
          await seeder.stop();
          if (!o.keep) await rm(out, { recursive: true, force: true }), await rm(`${out}.state`, { recursive: true, force: true });
        }
        await new Promise((r) => setTimeout(r, 1000));
        if (run > 0) {
          const seeder = await startSeeder(p.seed, tinyTorrent, tinyDir, join(root, `tiny-seed-${run}-${p.name}`));
          const out = join(root, `tiny-${run}-${p.name}`);
          try {
            const r = await download(p.dl, tinyTorrent, out, seeder.port, 60_000);
            fixed.set(p.name, [...(fixed.get(p.name) ?? []), { cpu: r.cpu, seconds: r.seconds }]);
          } finally {
            await seeder.stop();
            await rm(out, { recursive: true, force: true });
            await rm(`${out}.state`, { recursive: true, force: true });
          }
        }
      }
    }
    const base = median(samples.get('lt-lt')!.map((s) => s.mbps));
    console.log(`\npair              MB/s (median)  ×lt→lt  dl CPU-s/GiB  start-up CPU-s  per-byte CPU-s/GiB  dl RSS MB  seed CPU-s  dl main CPU-wait s  start-up s  MB/s after start-up`);
    console.log(`  (MB = 10^6 bytes; the downloader's whole process: CPU-s/GiB with its start-up; start-up = the same pair's one-piece download; per-byte = the rest; seed CPU-s = the seeder's whole life, its check of the data included; CPU-wait = the downloader's main thread runnable without a CPU: other work on the machine, or the pair's own threads; start-up s = the one-piece download's wall time, process start to exit (libtorrent dials a peer on its next session tick, up to 500 ms); MB/s after start-up = the payload over the median wall time less that)`);
    const failures: string[] = [];
    for (const p of pairs) {
      const xs = samples.get(p.name)!;
      const mbps = median(xs.map((s) => s.mbps));
      const cpu = median(xs.map((s) => s.cpuPerGiB));
      const rss = Math.max(...xs.map((s) => s.rssMB));
      const ratio = mbps / base;
      const tiny = fixed.get(p.name) ?? [];
      const start = median(tiny.map((t) => t.cpu));
      const perByte = ((median(xs.map((s) => (s.cpuPerGiB * o.size) / GiB)) - start) * GiB) / o.size;
      const seedCpu = median(xs.map((s) => s.seedCpu));
      const startWall = median(tiny.map((t) => t.seconds));
      // A payload that moves in less than a start-up's time has no rate after it worth printing.
      const rest = median(xs.map((s) => s.seconds)) - startWall;
      const afterStart = rest >= 0.05 ? (o.size / rest / MB).toFixed(1) : '–';
      console.log(`${p.name.padEnd(16)} ${mbps.toFixed(1).padStart(9)}      ${ratio.toFixed(2).padStart(5)}   ${cpu.toFixed(2).padStart(8)}       ${start.toFixed(2).padStart(8)}          ${perByte.toFixed(2).padStart(8)}        ${rss.toFixed(0).padStart(6)}  ${seedCpu.toFixed(2).padStart(9)}  ${(p.dl === 'cascade' ? median(xs.map((s) => s.mainWait)).toFixed(2) : '–').padStart(12)}  ${startWall.toFixed(2).padStart(10)}  ${afterStart.padStart(19)}`);
      if (p.dl !== 'cascade' && p.seed !== 'cascade') continue;
      if (p.dl === 'cascade' && o.maxCpuPerGiB !== undefined && !(perByte <= o.maxCpuPerGiB)) failures.push(`${p.name}: the download took ${perByte.toFixed(2)} CPU-s per GiB beyond its start-up (limit ${o.maxCpuPerGiB})`);
      if (o.minRatio !== undefined && !(ratio >= o.minRatio)) failures.push(`${p.name}: ${ratio.toFixed(2)}× libtorrent → libtorrent (limit ${o.minRatio}×)`);
    }
    for (const f of failures) console.log(`FAIL: ${f}`);
    if (o.maxCpuPerGiB !== undefined) console.log(failures.length === 0 ? `OK: within ${o.maxCpuPerGiB} CPU-s/GiB and ${o.minRatio ?? 0}× libtorrent` : 'find what made the download path slower before landing (bench/swarm/README.md)');
    return failures.length === 0 ? 0 : 1;
  } finally {
    if (!o.keep) await rm(root, { recursive: true, force: true });
    else console.log(`kept ${root}`);
  }
}
