// List and feed benchmark (issue 25): a real `cascade serve` (DHT off) holding N seeding 4 KiB
// torrents (data in place, added through POST /api/torrents, four requests in flight). Prints, each
// with the load average (the machine is shared):
//   list page    GET /api/torrents?offset=&limit=100 under several sorts (median and worst of 20)
//   whole list   GET /api/torrents (median of 5, bytes)
//   one torrent  GET /api/torrents/:infoHash (median and worst of 50)
//   feed         the `torrents` snapshot's size, then bytes/s of everything the socket receives over
//                20 s of idle, and the server's CPU meanwhile; how long a pause and a new torrent
//                take to reach the page as `torrents:changes`
//   CLI          `cascade list` (all N rows) and `cascade list --limit 20 --sort name`, wall time
// Run: node bench/server-list/run.ts [--torrents 10000] [--dir DIR]  (a --dir kept from an earlier
// run is served again instead of adding N torrents anew; --keep keeps a fresh one)

import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs, promisify } from 'node:util';
import { io } from 'socket.io-client';
import { bencode } from '../../packages/engine/index.ts';

const { values: argv } = parseArgs({
  options: {
    torrents: { type: 'string', default: '10000' },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'idle-seconds': { type: 'string', default: '20' },
    // Write the library straight into a new state DB (one transaction) and let the node load it,
    // instead of N adds through the API: minutes saved on a loaded machine; lists the same.
    direct: { type: 'boolean', default: false },
    // With --direct: stored paused (the node loads them without starting them) rather than seeding.
    paused: { type: 'boolean', default: false },
  },
});
const N = Number(argv.torrents);
const IDLE_S = Number(argv['idle-seconds']);
const root = resolve(import.meta.dirname, '../..');
const nodeBin = join(root, 'node_modules/.bin/node');
const work = argv.dir ? resolve(argv.dir) : mkdtempSync(join(tmpdir(), 'cascade-bench-list-'));
const stateDir = join(work, 'state');
const downloads = join(work, 'downloads');
const reuse = existsSync(join(stateDir, 'cascade.db'));
mkdirSync(stateDir, { recursive: true });
mkdirSync(downloads, { recursive: true });

const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
const say = (line: string) => console.log(`${line}   [load ${load()}]`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function makeInfo(i: number): { length: number; name: string; 'piece length': number; pieces: Buffer } {
  const data = randomBytes(4096);
  const name = `bench-${i}.bin`;
  writeFileSync(join(downloads, name), data);
  const pieces = createHash('sha1').update(data).digest();
  return { length: 4096, name, 'piece length': 16384, pieces };
}
function makeTorrent(i: number): Uint8Array {
  return bencode({ 'created by': 'bench/server-list', info: makeInfo(i) });
}
if (!reuse && argv.direct) {
  const { StateDB } = await import('../../packages/node/index.ts');
  const db = await StateDB.open(stateDir);
  // Not written for a crash: no sync per row (each resume save is a transaction of its own).
  // (The bench's own SQLite file: a PRAGMA, which the node's SQL never uses.)
  await db.store.run('PRAGMA synchronous = OFF');
  {
    for (let i = 0; i < N; i++) {
      const info = makeInfo(i);
      const torrent = bencode({ 'created by': 'bench/server-list', info });
      const infoHash = createHash('sha1').update(bencode(info)).digest('hex');
      await db.records.add({ infoHash, name: info.name, source: new Uint8Array(torrent), savePath: downloads, status: argv.paused ? 'paused' : 'seeding', length: 4096, pieceCount: 1 });
      // Resume data as a node that seeded it would have left: the one piece, the file's size and mtime.
      const mtimeMs = statSync(join(downloads, info.name)).mtimeMs;
      await db.resume.save(infoHash, { have: new Uint8Array([0x80]), files: [{ length: 4096, mtimeMs }] });
    }
  }
  await db.close();
  say(`wrote ${N} torrents into ${stateDir}`);
}
const direct = !reuse && argv.direct;

interface Server {
  proc: ChildProcess;
  url: string;
  token: string;
}
async function serve(): Promise<Server> {
  const proc = spawn(
    nodeBin,
    [join(root, 'packages/cli/src/main.ts'), 'serve', '--json', '--state-dir', stateDir, '--download-dir', downloads,
      '--http-port', '0', '--port', '0', '--tracker-port', '0', '--no-dht'],
    // CASCADE_PORT_MAPPING=off, CASCADE_LSD=off: the benchmark's node asks no gateway of this machine's
    // network for a port and multicasts nothing onto its LAN.
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, CASCADE_PORT_MAPPING: 'off', CASCADE_LSD: 'off' } },
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
  return { proc, url, token: readFileSync(join(stateDir, 'api-token'), 'utf8').trim() };
}
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}
const s = await serve();
// However this run ends, the server goes with it.
process.on('exit', () => s.proc.kill('SIGKILL'));
const auth = { authorization: `Bearer ${s.token}` };
async function get(path: string): Promise<{ ms: number; bytes: number; body: any }> {
  const t0 = performance.now();
  const res = await fetch(s.url + path, { headers: auth });
  const text = await res.text();
  const ms = performance.now() - t0;
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${text.slice(0, 200)}`);
  return { ms, bytes: text.length, body: JSON.parse(text) };
}
async function total(): Promise<number> {
  return (await get('/api/torrents?limit=1')).body.total;
}

// ---- the library ----
if (!reuse && !direct) {
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < N; i = next++) {
      const form = new FormData();
      form.append('torrent', new Blob([new Uint8Array(makeTorrent(i))]), `bench-${i}.torrent`);
      const res = await fetch(`${s.url}/api/torrents`, { method: 'POST', body: form, headers: auth });
      if (res.status !== 201) throw new Error(`add ${i}: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
      if ((i + 1) % 2000 === 0) say(`added ${i + 1}`);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  say(`added ${N} in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
} else {
  const t0 = performance.now();
  while ((await total().catch(() => 0)) < N) await sleep(200);
  say(`served ${work} again: ${N} listed after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
// Settle: every torrent seeding, or paused as stored (a restart may start them a few at a time).
const want = argv.paused && (direct || reuse) ? 'paused' : 'seeding';
for (let i = 0; i < 1200; i++) {
  const n = (await get(`/api/torrents?state=${want}&limit=1`)).body.total;
  if (n >= N) break;
  if (i % 30 === 0) say(`${n} of ${N} ${want}`);
  await sleep(1000);
}
await sleep(3000);
say(`${await total()} torrents, ${(await get(`/api/torrents?state=${want}&limit=1`)).body.total} ${want}`);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (xs: number[]) => `median ${median(xs).toFixed(1)} ms, worst ${Math.max(...xs).toFixed(1)} ms`;
async function timed(path: string, rounds: number): Promise<{ times: number[]; bytes: number }> {
  await get(path); // warm
  const times: number[] = [];
  let bytes = 0;
  for (let r = 0; r < rounds; r++) {
    const x = await get(path);
    times.push(x.ms);
    bytes = x.bytes;
  }
  return { times, bytes };
}

// ---- HTTP ----
for (const q of ['limit=100', 'offset=5000&limit=100', 'sort=name&limit=100', 'sort=name&order=desc&offset=9900&limit=100', 'sort=size&order=desc&offset=3000&limit=100',
  'sort=uploadSpeed&order=desc&limit=100', 'search=bench-99&limit=100', 'state=seeding&sort=addedAt&offset=7000&limit=100']) {
  const r = await timed(`/api/torrents?${q}`, 20);
  say(`page  ${q.padEnd(48)} ${fmt(r.times)}, ${r.bytes} B`);
}
const whole = await timed('/api/torrents', 5);
say(`whole GET /api/torrents                                ${fmt(whole.times)}, ${(whole.bytes / 1e6).toFixed(2)} MB`);
const wholeSorted = await timed('/api/torrents?sort=name', 5);
say(`whole GET /api/torrents?sort=name                      ${fmt(wholeSorted.times)}`);
const hashes: string[] = (await get(`/api/torrents?limit=50&offset=${Math.floor(N / 2)}`)).body.torrents.map((e: { infoHash: string }) => e.infoHash);
const single: number[] = [];
for (const ih of hashes) single.push((await get(`/api/torrents/${ih}`)).ms);
say(`one   GET /api/torrents/:infoHash (50 torrents)         ${fmt(single)}`);

// ---- the feed ----
{
  await sleep(2000);
  const c = cpuTicks(s.proc.pid!);
  const a = performance.now();
  await sleep(IDLE_S * 1000);
  const secs = (performance.now() - a) / 1000;
  say(`idle ${secs.toFixed(0)} s, no page connected: server CPU ${(((cpuTicks(s.proc.pid!) - c) / 100 / secs) * 100).toFixed(1)}% of one core`);
}
const socket = io(s.url, { forceNew: true, reconnection: false, transports: ['websocket'], extraHeaders: auth });
let bytes = 0;
socket.io.on('packet', (p: { data?: unknown }) => {
  bytes += typeof p.data === 'string' ? p.data.length : JSON.stringify(p.data ?? '').length;
});
const changes: { at: number; updated: { infoHash: string; state: string; name: string | null }[]; removed: string[] }[] = [];
socket.on('torrents:changes', (c: { updated: { infoHash: string; state: string; name: string | null }[]; removed: string[] }) => changes.push({ at: performance.now(), ...c }));
const t0 = performance.now();
const snapshot = await new Promise<{ torrents: unknown[] }>((res) => socket.once('torrents', res));
say(`feed: snapshot of ${snapshot.torrents.length} rows in ${(performance.now() - t0).toFixed(0)} ms, ${(bytes / 1e6).toFixed(2)} MB`);
await sleep(2000);
bytes = 0;
changes.length = 0;
const c0 = cpuTicks(s.proc.pid!);
const i0 = performance.now();
await sleep(IDLE_S * 1000);
const seconds = (performance.now() - i0) / 1000;
say(`feed: idle ${seconds.toFixed(0)} s with the page connected: ${(bytes / seconds).toFixed(0)} B/s (${changes.length} torrents:changes, ` +
  `${changes.reduce((n, c) => n + c.updated.length, 0)} rows); server CPU ${(((cpuTicks(s.proc.pid!) - c0) / 100 / seconds) * 100).toFixed(1)}% of one core`);

async function reach(what: string, act: () => Promise<unknown>, seen: (c: (typeof changes)[number]) => boolean): Promise<void> {
  const from = changes.length;
  const a = performance.now();
  await act();
  const acted = performance.now();
  for (;;) {
    const hit = changes.slice(from).find(seen);
    if (hit) {
      say(`feed: ${what} reached the page ${(hit.at - a).toFixed(0)} ms after the request (${(hit.at - acted).toFixed(0)} ms after its answer), ${hit.updated.length} row(s)`);
      return;
    }
    if (performance.now() - a > 10_000) return say(`feed: ${what} not seen within 10 s`);
    await sleep(5);
  }
}
const ih = hashes[0]!;
const post = (path: string, body?: FormData) => fetch(s.url + path, { method: 'POST', headers: auth, ...(body ? { body } : {}) }).then((r) => r.text());
const pause = () => reach('a pause', () => post(`/api/torrents/${ih}/pause`), (c) => c.updated.some((e) => e.infoHash === ih && e.state === 'paused'));
const resume = () => reach('a resume', () => post(`/api/torrents/${ih}/resume`), (c) => c.updated.some((e) => e.infoHash === ih && e.state !== 'paused'));
if (want === 'paused') {
  await resume();
  await sleep(1500);
  await pause();
} else {
  await pause();
  await resume();
}
await sleep(1500);
const form = new FormData();
form.append('file', new Blob([randomBytes(5000)]), `bench-new-${Date.now()}.bin`);
await reach('a new torrent', () => post('/api/torrents', form), (c) => c.updated.some((e) => e.name?.startsWith('bench-new-') ?? false));
socket.disconnect();

// ---- the CLI ----
const run = promisify(execFile);
for (const args of [['list'], ['list', '--limit', '20', '--sort', 'name']]) {
  const a = performance.now();
  const { stdout } = await run(nodeBin, [join(root, 'packages/cli/src/main.ts'), ...args, '--state-dir', stateDir], { maxBuffer: 64 * 1024 * 1024 });
  say(`cli:  cascade ${args.join(' ').padEnd(30)} ${((performance.now() - a) / 1000).toFixed(2)} s, ${stdout.split('\n').length} lines`);
}

const gone = new Promise((r) => s.proc.once('exit', r));
s.proc.kill('SIGTERM');
await gone;
if (!argv.keep && !argv.dir) rmSync(work, { recursive: true, force: true });
