// Add-and-restart benchmark (issue 25): a real `cascade serve` (DHT off), N 4 KiB torrents whose data
// is already in the download dir, added through POST /api/torrents as multipart .torrent uploads
// (as the web app and the CLI send them), four requests in flight. Prints:
//   add rate   per thousand and overall, at 1k / 5k / 10k
//   RSS        after the adds, and after a restart once every torrent is seeding again
//   idle CPU   of the server process over 20 s, 5 s after the last add (and after the restart)
//   restart    time from spawn to GET /api/torrents answering total = N; whether any torrent was
//              seen in `checking` after the restart (sampled once a second)
// Every figure is printed with the load average: the machine is shared.
// Run: node bench/add/run.ts [--torrents 10000] [--cpu-prof DIR] [--keep]

import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { bencode } from '../../packages/engine/index.ts';

const { values: argv } = parseArgs({
  options: {
    torrents: { type: 'string', default: '10000' },
    'cpu-prof': { type: 'string' },
    keep: { type: 'boolean', default: false },
    /** Only the restart, on the work dir a run with --keep left (its path as printed). */
    'restart-only': { type: 'string' },
    'idle-seconds': { type: 'string', default: '20' },
    /** Write a heap snapshot of the server (in its cwd, DIR) after the adds and after the restart. */
    'heap-snapshot': { type: 'string' },
  },
});
const N = Number(argv.torrents);
const IDLE_S = Number(argv['idle-seconds']);
const root = resolve(import.meta.dirname, '../..');
const nodeBin = join(root, 'node_modules/.bin/node');
const work = argv['restart-only'] ?? mkdtempSync(join(tmpdir(), 'cascade-bench-add-'));
const stateDir = join(work, 'state');
const downloads = join(work, 'downloads');
mkdirSync(downloads, { recursive: true });

const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
const say = (line: string) => console.log(`${line}   [load ${load()}]`);

// ---- the torrents: 4 KiB single-file, one piece, data in place ----
const torrents: Uint8Array[] = [];
for (let i = 0; i < (argv['restart-only'] ? 0 : N); i++) {
  const data = randomBytes(4096);
  const name = `bench-${i}.bin`;
  writeFileSync(join(downloads, name), data);
  const pieces = createHash('sha1').update(data).digest();
  torrents.push(bencode({ 'created by': 'bench/add', info: { length: 4096, name, 'piece length': 16384, pieces } }));
}
say(`${N} torrents of 4 KiB made in ${work}`);

// ---- the server process ----
interface Server {
  proc: ChildProcess;
  url: string;
  token: string;
  spawnedAt: number;
}
let profRun = 0;
async function serve(): Promise<Server> {
  const spawnedAt = performance.now();
  const heap = argv['heap-snapshot'] ? ['--heapsnapshot-signal=SIGUSR2'] : [];
  const prof = argv['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${argv['cpu-prof']}`, `--cpu-prof-name=serve-${++profRun}.cpuprofile`] : [];
  const proc = spawn(
    nodeBin,
    [...heap, ...prof, join(root, 'packages/cli/src/main.ts'), 'serve', '--json', '--state-dir', stateDir, '--download-dir', downloads,
      '--http-port', '0', '--port', '0', '--tracker-port', '0', '--no-dht'],
    // CASCADE_PORT_MAPPING=off, CASCADE_LSD=off: the benchmark's node asks no gateway of this machine's
    // network for a port and multicasts nothing onto its LAN.
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, CASCADE_PORT_MAPPING: 'off', CASCADE_LSD: 'off' }, ...(argv['heap-snapshot'] ? { cwd: argv['heap-snapshot'] } : {}) },
  );
  const url = await new Promise<string>((res, rej) => {
    proc.once('exit', (code) => rej(new Error(`serve exited ${code}`)));
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      try {
        const ev = JSON.parse(line) as { event?: string; url?: string };
        if (ev.event === 'listening' && ev.url) res(ev.url);
      } catch {
        /* human lines */
      }
    });
  });
  const token = readFileSync(join(stateDir, 'api-token'), 'utf8').trim();
  return { proc, url, token, spawnedAt };
}
async function stop(s: Server): Promise<void> {
  const gone = new Promise((r) => s.proc.once('exit', r));
  s.proc.kill('SIGTERM');
  await gone;
}
function procStat(pid: number): { cpuTicks: number; rssMB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const rssKB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
  return { cpuTicks: Number(f[11]) + Number(f[12]), rssMB: rssKB / 1024 };
}
async function heapSnapshot(s: Server): Promise<void> {
  if (!argv['heap-snapshot']) return;
  s.proc.kill('SIGUSR2');
  await sleep(15_000);
}
async function idleCpu(s: Server, seconds: number): Promise<number> {
  const a = procStat(s.proc.pid!);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const b = procStat(s.proc.pid!);
  // Clock ticks are 1/100 s on Linux.
  return ((b.cpuTicks - a.cpuTicks) / 100 / ((performance.now() - t0) / 1000)) * 100;
}
async function list(s: Server): Promise<{ total: number; states: Record<string, number> }> {
  const res = await fetch(`${s.url}/api/torrents`, { headers: { authorization: `Bearer ${s.token}` } });
  const body = (await res.json()) as { torrents: { state: string }[]; total?: number };
  const states: Record<string, number> = {};
  for (const t of body.torrents) states[t.state] = (states[t.state] ?? 0) + 1;
  return { total: body.total ?? body.torrents.length, states };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- adding ----
let s = argv['restart-only'] ? (undefined as unknown as Server) : await serve();
if (!argv['restart-only']) await addAll();
async function addAll(): Promise<void> {
  say(`serving at ${s.url}, RSS ${procStat(s.proc.pid!).rssMB.toFixed(0)} MB`);
  let next = 0;
  let done = 0;
  const t0 = performance.now();
  let lastMark = t0;
  const marks = new Set([1000, 5000, 10_000, N]);
  async function worker(): Promise<void> {
    for (let i = next++; i < N; i = next++) {
      const form = new FormData();
      form.append('torrent', new Blob([new Uint8Array(torrents[i]!)]), `bench-${i}.torrent`);
      const res = await fetch(`${s.url}/api/torrents`, { method: 'POST', body: form, headers: { authorization: `Bearer ${s.token}` } });
      if (res.status !== 201) throw new Error(`add ${i}: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
      done++;
      if (done % 1000 === 0 || marks.has(done)) {
        const now = performance.now();
        const span = done % 1000 === 0 ? 1000 : done % 1000;
        say(`added ${String(done).padStart(6)}: ${((done / (now - t0)) * 1000).toFixed(0)}/s overall, ${((span / (now - lastMark)) * 1000).toFixed(0)}/s over the last ${span}`);
        lastMark = now;
      }
    }
  }
  await Promise.all([worker(), worker(), worker(), worker()]);
  say(`add: ${N} in ${((performance.now() - t0) / 1000).toFixed(1)} s = ${((N / (performance.now() - t0)) * 1000).toFixed(0)}/s`);
  await sleep(5000);
  say(`after adds: RSS ${procStat(s.proc.pid!).rssMB.toFixed(0)} MB; states ${JSON.stringify((await list(s)).states)}`);
  await sleep(2000);
  say(`idle CPU after adds (${IDLE_S} s): ${(await idleCpu(s, IDLE_S)).toFixed(1)}% of one core, RSS ${procStat(s.proc.pid!).rssMB.toFixed(0)} MB`);

  await heapSnapshot(s);
}

// ---- restart ----
if (!argv['restart-only']) await stop(s);
s = await serve();
const listening = performance.now() - s.spawnedAt;
let listedAt: number | undefined;
let checkingSeen = 0;
let seeding = 0;
for (;;) {
  const l = await list(s).catch(() => undefined);
  if (l) {
    if (listedAt === undefined && l.total === N) listedAt = performance.now() - s.spawnedAt;
    checkingSeen = Math.max(checkingSeen, l.states.checking ?? 0);
    seeding = l.states.seeding ?? 0;
    if (seeding === N) break;
  }
  if (performance.now() - s.spawnedAt > 300_000) break;
  // Each full list costs the server a little: often until listed, then every few seconds.
  await sleep(listedAt === undefined ? 100 : 3000);
}
say(`restart: listening after ${(listening / 1000).toFixed(2)} s, all ${N} listed after ${listedAt === undefined ? 'never' : (listedAt / 1000).toFixed(2) + ' s'}, ` +
  `${seeding} seeding after ${((performance.now() - s.spawnedAt) / 1000).toFixed(1)} s, most seen checking at once: ${checkingSeen}`);
await sleep(5000);
say(`after restart: RSS ${procStat(s.proc.pid!).rssMB.toFixed(0)} MB`);
say(`idle CPU after restart (${IDLE_S} s): ${(await idleCpu(s, IDLE_S)).toFixed(1)}% of one core, RSS ${procStat(s.proc.pid!).rssMB.toFixed(0)} MB`);
await heapSnapshot(s);
await stop(s);
if (!argv.keep && !argv['restart-only']) rmSync(work, { recursive: true, force: true });
