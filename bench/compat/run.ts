// bench/compat (issue 21): what the polls of Sonarr/Radarr and remote controls cost a Cascade node
// holding N torrents, beside transmission-daemon 3.00 with the same torrents in the same run:
// Transmission RPC `torrent-get` with the fields `transmission-remote -l` asks, the real
// `transmission-remote -l`, and (Cascade only) qBittorrent's torrents/info and sync/maindata and
// Cascade's own GET /api/torrents. Medians, p90s, bytes and ratios Cascade / Transmission.
//
//   npm run bench:compat -- [--torrents 2000] [--reps 20] [--incomplete 10] [--no-reference] [--keep] [--json out.json]
//
// Run as root, everything runs inside a network namespace with only `lo` up; otherwise in place.
// Either way both programs bind 127.0.0.1 only, with DHT/LPD/PEX off and no tracker in the torrents.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { makeTorrents } from '../scale/torrents.ts';
import { children, exited, freePort, loadAverage, pool, sleep, stopProcess, track } from '../scale/proc.ts';
import { rerunInLoopbackNamespace } from '../scale/netns.ts';
import { addTorrent, api, apiJson, startNode, stopNode, type ListPage, type RunningNode } from '../scale/cascade-node.ts';
import { startDaemon, STATUS, TRANSMISSION, writeSettings, type Daemon } from '../scale/transmission.ts';
import { lineOf, type Sample, type Stat, stat } from './stats.ts';

const REPO = resolve(import.meta.dirname, '../..');
const NETNS_ENV = 'CASCADE_BENCH_COMPAT_NETNS';
const REMOTE = '/usr/bin/transmission-remote';
/** What transmission-remote 3.00 `-l` sends (captured from the real client: remote.c's list keys). */
export const LIST_FIELDS = ['error', 'errorString', 'eta', 'id', 'isFinished', 'leftUntilDone', 'name', 'peersGettingFromUs', 'peersSendingToUs', 'rateDownload', 'rateUpload', 'sizeWhenDone', 'status', 'uploadRatio'];

const { values: argv } = parseArgs({
  options: {
    torrents: { type: 'string', default: '2000' },
    reps: { type: 'string', default: '20' },
    incomplete: { type: 'string', default: '10' },
    'no-reference': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});
const n = Number(argv.torrents);
const reps = Number(argv.reps);
const incompletePct = Number(argv.incomplete);
const usage = (msg: string): never => {
  console.error(`bench/compat: ${msg}`);
  process.exit(2);
};
if (!Number.isInteger(n) || n < 1) usage(`--torrents wants a positive integer, got "${argv.torrents}"`);
if (!Number.isInteger(reps) || reps < 1) usage(`--reps wants a positive integer, got "${argv.reps}"`);
if (!(incompletePct >= 0 && incompletePct <= 100)) usage(`--incomplete wants a percentage 0..100, got "${argv.incomplete}"`);
const reference = !argv['no-reference'];
if (reference && !existsSync(TRANSMISSION)) usage(`${TRANSMISSION} is missing (apt-get install transmission-daemon), or pass --no-reference`);
if (!existsSync(REMOTE)) usage(`${REMOTE} is missing (apt-get install transmission-cli)`);

// Root: run again inside a loopback-only namespace, then remove it.
await rerunInLoopbackNamespace({ envVar: NETNS_ENV, prefix: 'cascade-compat', script: import.meta.filename, fallback: 'bench/compat: cannot create a network namespace; running in place (127.0.0.1 only)' });

const say = (line: string) => console.log(line);
const workDir = mkdtempSync(join(tmpdir(), 'cascade-bench-compat-'));
process.once('SIGINT', () => void interrupted()).once('SIGTERM', () => void interrupted());
async function interrupted(): Promise<void> {
  for (const c of children) c.kill('SIGTERM');
  await sleep(3000);
  for (const c of children) c.kill('SIGKILL');
  if (!argv.keep) rmSync(workDir, { recursive: true, force: true });
  process.exit(130);
}

/** Transmission RPC with the 409 session handshake and (for Cascade) HTTP Basic credentials. */
function rpcClient(url: string, auth?: string) {
  let session = '';
  return async (method: string, args: Record<string, unknown>): Promise<string> => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const headers: Record<string, string> = { 'x-transmission-session-id': session, 'content-type': 'application/json' };
      if (auth) headers.authorization = `Basic ${Buffer.from(auth).toString('base64')}`;
      const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ method, arguments: args }), signal: AbortSignal.timeout(120_000) });
      if (res.status === 409) {
        session = res.headers.get('x-transmission-session-id') ?? '';
        await res.body?.cancel();
        continue;
      }
      const text = await res.text();
      if (!res.ok || !text.includes('"success"')) throw new Error(`${url} ${method}: HTTP ${res.status} ${text.slice(0, 200)}`);
      return text;
    }
    throw new Error(`${url} ${method}: no session id`);
  };
}

/** Times one call: milliseconds with the body read, its bytes, and the body. */
async function timed(fn: () => Promise<string>): Promise<{ ms: number; bytes: number; body: string }> {
  const t0 = performance.now();
  const body = await fn();
  return { ms: performance.now() - t0, bytes: Buffer.byteLength(body), body };
}

/** Wall time of `transmission-remote <host:port> -l` (process start included); checks it listed n. */
async function remoteList(hostPort: string, auth: string | undefined): Promise<string> {
  const args = [hostPort, ...(auth ? ['-ne'] : []), '-l'];
  const child = track(spawn(REMOTE, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TR_AUTH: auth ?? '' } }));
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const code = await exited(child);
  // Header line, one line per torrent, "Sum:" line.
  const lines = out.split('\n').filter(Boolean).length;
  if (code !== 0 || lines !== n + 2) throw new Error(`transmission-remote ${hostPort} -l: exit ${code}, ${lines} lines (want ${n + 2}): ${out.slice(0, 300)}`);
  return out;
}

async function qbitLogin(node: RunningNode): Promise<string> {
  const res = await fetch(new URL('/api/v2/auth/login', node.url), { method: 'POST', body: new URLSearchParams({ username: 'cascade', password: node.token }) });
  const sid = /SID=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1];
  if (!res.ok || !sid) throw new Error(`qBittorrent login: ${res.status} ${await res.text()}`);
  return `SID=${sid}`;
}

async function qbitGet(node: RunningNode, cookie: string, path: string): Promise<string> {
  const res = await fetch(new URL(path, node.url), { headers: { cookie }, signal: AbortSignal.timeout(120_000) });
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${text.slice(0, 200)}`);
  return text;
}

/** Polls until nothing is checking and the states have not moved for 5 s; the states then. */
async function settled(list: () => Promise<string[]>, label: string, want: number): Promise<Record<string, number>> {
  const t0 = performance.now();
  let lastSaid = t0;
  let last = '';
  let stableSince = t0;
  for (;;) {
    const states: Record<string, number> = {};
    for (const s of await list()) states[s] = (states[s] ?? 0) + 1;
    const total = Object.values(states).reduce((a, b) => a + b, 0);
    const key = JSON.stringify(states);
    if (key !== last) (last = key), (stableSince = performance.now());
    const checking = (states.checking ?? 0) + (states['check-wait'] ?? 0);
    if (total >= want && checking === 0 && performance.now() - stableSince > 5000) return states;
    if (performance.now() - lastSaid > 30_000) {
      lastSaid = performance.now();
      say(`  ${label}: ${((lastSaid - t0) / 1000).toFixed(0)} s: ${key}`);
    }
    await sleep(500);
  }
}

let failed = false;
let node: RunningNode | null = null;
let daemon: Daemon | null = null;
try {
  const startLoad = loadAverage();
  say(`bench/compat: ${n} torrents (${incompletePct}% without data), ${reps} repetitions; ${process.env[NETNS_ENV] ? `network namespace ${process.env[NETNS_ENV]} (lo only)` : 'no namespace, 127.0.0.1 only'}`);
  say(`load average at start: ${startLoad}; work dir ${workDir}`);
  const dataDir = join(workDir, 'data');
  const torrents = makeTorrents(n, dataDir, join(workDir, 'torrents'));
  // Every (100 / pct)-th torrent loses its data: it stays incomplete (downloading, no peers).
  const step = incompletePct > 0 ? 100 / incompletePct : Infinity;
  const incomplete = new Set<string>();
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(step) || Math.floor((i + 1) / step) === Math.floor(i / step)) continue;
    unlinkSync(join(dataDir, torrents[i]!.name));
    incomplete.add(torrents[i]!.infoHash);
  }
  const missing = incomplete.size;
  say(`made ${n} torrents of 4 KiB, ${missing} without their data`);

  mkdirSync(join(workDir, 'state'));
  node = await startNode({ root: REPO, stateDir: join(workDir, 'state'), downloadDir: dataDir, logPath: join(workDir, 'cascade.log') });
  let trPort = 0;
  if (reference) {
    trPort = await freePort();
    writeSettings(join(workDir, 'transmission-config'), dataDir, trPort, await freePort());
    daemon = await startDaemon(join(workDir, 'transmission-config'), trPort, join(workDir, 'transmission.log'));
  }
  say(`cascade ${node.pid} at ${node.url}${daemon ? `; transmission-daemon ${daemon.pid} on 127.0.0.1:${trPort}` : ''}; adding, four in flight each…`);
  const t0 = performance.now();
  const cn = node;
  // Cascade queues downloads (a few active at once): torrents whose data is missing, added first,
  // would hold every slot and leave the rest queued unchecked. So the complete ones go first and
  // settle (seeding), then the incomplete ones (downloading, the rest of them queued, as a user's
  // library with a few stalled downloads looks). Transmission's queues are off: one phase.
  const complete = torrents.filter((t) => !incomplete.has(t.infoHash));
  const partial = torrents.filter((t) => incomplete.has(t.infoHash));
  const cascadeStatesOf = async () => (await apiJson<ListPage>(cn, '/api/torrents')).torrents.map((t) => t.state);
  const addToCascade = async () => {
    await pool(complete.length, 4, (i) => addTorrent(cn, complete[i]!.bytes, dataDir, complete[i]!.name));
    await settled(cascadeStatesOf, 'cascade (complete ones)', complete.length);
    await pool(partial.length, 4, (i) => addTorrent(cn, partial[i]!.bytes, dataDir, partial[i]!.name));
  };
  await Promise.all([
    addToCascade(),
    daemon && pool(n, 4, async (i) => void (await daemon!.rpc.call('torrent-add', { metainfo: Buffer.from(torrents[i]!.bytes).toString('base64'), 'download-dir': dataDir }))),
  ]);
  say(`added to both in ${((performance.now() - t0) / 1000).toFixed(1)} s; waiting until nothing is checking (Transmission verifies ~10 torrents/s)…`);
  const cascadeStates = await settled(cascadeStatesOf, 'cascade', n);
  const trStates = daemon
    ? await settled(async () => (await daemon!.rpc.call<{ torrents: { status: number }[] }>('torrent-get', { fields: ['status'] })).torrents.map((t) => STATUS[t.status] ?? String(t.status)), 'transmission', n)
    : null;
  say(`states: cascade ${JSON.stringify(cascadeStates)}${trStates ? `, transmission ${JSON.stringify(trStates)}` : ''} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  await sleep(3000);

  const cascadeRpc = rpcClient(new URL('/transmission/rpc', cn.url).href, `bench:${cn.token}`);
  const trRpc = daemon ? rpcClient(daemon.rpc.url) : null;
  const cookie = await qbitLogin(cn);
  const cascadeHostPort = new URL(cn.url).host;
  const samples: Record<string, Sample[]> = {};
  const add = (key: string, s: Sample) => (samples[key] ??= []).push(s);
  // One warm-up round (not counted), then `reps` rounds; each round calls every probe once, so a
  // load spike on the shared machine touches both sides alike.
  let rid = 0;
  for (let r = -1; r < reps; r++) {
    const keep = (key: string, s: { ms: number; bytes: number }) => r >= 0 && add(key, { ms: s.ms, bytes: s.bytes });
    keep('rpc.cascade', await timed(() => cascadeRpc('torrent-get', { fields: LIST_FIELDS })));
    if (trRpc) keep('rpc.transmission', await timed(() => trRpc('torrent-get', { fields: LIST_FIELDS })));
    keep('remote.cascade', await timed(() => remoteList(cascadeHostPort, `bench:${cn.token}`)));
    if (daemon) keep('remote.transmission', await timed(() => remoteList(`127.0.0.1:${trPort}`, undefined)));
    keep('qbit.info', await timed(() => qbitGet(cn, cookie, '/api/v2/torrents/info')));
    const full = await timed(() => qbitGet(cn, cookie, '/api/v2/sync/maindata?rid=0'));
    keep('qbit.sync0', full);
    rid = (JSON.parse(full.body) as { rid: number }).rid;
    const inc = await timed(() => qbitGet(cn, cookie, `/api/v2/sync/maindata?rid=${rid}`));
    keep('qbit.syncInc', inc);
    // The floor of any qBittorrent call on this machine now (session check, routing, HTTP): what an
    // idle maindata poll costs beyond it is the poll's own work.
    keep('qbit.floor', await timed(() => qbitGet(cn, cookie, '/api/v2/app/version')));
    keep('cascade.list', await timed(async () => {
      const res = await api(cn, '/api/torrents');
      const text = await res.text();
      if (!res.ok) throw new Error(`GET /api/torrents: ${res.status}`);
      return text;
    }));
  }
  const stats: Record<string, Stat> = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, stat(v)]));
  const endLoad = loadAverage();
  const rows: [string, string, string | null][] = [
    ['RPC torrent-get, `-l` fields', 'rpc.cascade', 'rpc.transmission'],
    ['transmission-remote -l (wall)', 'remote.cascade', 'remote.transmission'],
    ['qBit torrents/info (all)', 'qbit.info', null],
    ['qBit sync/maindata rid=0', 'qbit.sync0', null],
    ['qBit sync/maindata rid=last', 'qbit.syncInc', null],
    ['qBit app/version (HTTP floor)', 'qbit.floor', null],
    ['Cascade GET /api/torrents', 'cascade.list', null],
  ];
  say('');
  say(`${n} torrents, ${reps} repetitions — load average at start ${startLoad}, at end ${endLoad} (2 cores, shared)`);
  say(`${'call'.padEnd(32)} ${'Cascade med / p90 ms'.padEnd(22)} ${'bytes'.padStart(9)}   ${'Transmission med / p90'.padEnd(22)} ${'bytes'.padStart(9)}   ratio med (p90)`);
  for (const [label, c, t] of rows) say(lineOf(label, stats[c]!, t ? stats[t] : undefined));
  // Issue 45's targets, each call against the native list (or the floor) of the same round: on a
  // shared machine the load moves between rounds more than between the calls of one round.
  const perRound = (key: string, ref: string, f: (a: number, b: number) => number) => {
    const v = samples[key]!.map((x, i) => f(x.ms, samples[ref]![i]!.ms)).sort((a, b) => a - b);
    return v[v.length >> 1]!;
  };
  say('');
  say(`per round, median: torrent-get ÷ GET /api/torrents ${perRound('rpc.cascade', 'cascade.list', (a, b) => a / b).toFixed(2)}× (target ≤ 1.5×), torrents/info ÷ GET /api/torrents ${perRound('qbit.info', 'cascade.list', (a, b) => a / b).toFixed(2)}× (≤ 1.5×), idle maindata ${stats['qbit.syncInc']!.medianMs.toFixed(1)} ms, ${perRound('qbit.syncInc', 'qbit.floor', (a, b) => a - b).toFixed(1)} ms above the HTTP floor (≤ 5 ms, ≤ 1 KB: ${stats['qbit.syncInc']!.bytes} B)`);
  if (argv.json) {
    writeFileSync(argv.json, JSON.stringify({ n, reps, incomplete: missing, date: new Date().toISOString(), load: { start: startLoad, end: endLoad }, states: { cascade: cascadeStates, transmission: trStates }, listFields: LIST_FIELDS, stats, samples }, null, 2) + '\n');
    say(`results written to ${argv.json}`);
  }
} catch (err) {
  failed = true;
  console.error(`bench/compat: ${(err as Error).stack ?? String(err)}`);
  console.error(`logs: ${join(workDir, 'cascade.log')}, ${join(workDir, 'transmission.log')}${argv.keep ? '' : ' (pass --keep to keep them)'}`);
} finally {
  if (node) await stopNode(node);
  if (daemon) await stopProcess(daemon.child);
  if (!argv.keep) rmSync(workDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
}
process.exit(failed ? 1 : 0);
