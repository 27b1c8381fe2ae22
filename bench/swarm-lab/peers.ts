// The swarm lab's peers: a Cascade CLI or a libtorrent process in a lab namespace, its JSON lines read
// into a small record (progress, completion, the client's own byte counters).
//
// Cascade runs as users start it (the `cascade` launcher, bin/cascade.js): `cascade seed <torrent> --dir D` and `cascade download <torrent>
// -o D [--seed]`, default options (receipts on), with --no-dht and CASCADE_PORT_MAPPING=off,
// CASCADE_LSD=off; --no-chain when asked. libtorrent runs lt_peer.py (default settings).
import { appendFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { HUB_ADDRESS, stopChild, treeCpuSeconds, type LabPeer, type SwarmLab } from './lab.ts';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
export const CLI_MAIN = join(REPO_ROOT, 'packages/cli/src/main.ts');
/** The `cascade` users run (npm's bin link points here): its launcher turns on Node's compile cache,
 *  the resolve hooks and the memory flags. Started as `node main.ts` instead, each peer spent ~1.3 s
 *  more CPU on start-up, which on 2 cores with 17 peers starting at once was most of "start s". */
export const CLI_BIN = join(REPO_ROOT, 'packages/cli/bin/cascade.js');
export const PYTHON = '/usr/bin/python3';
export const LT_PEER = join(import.meta.dirname, 'lt_peer.py');
export const LT_PY = join(REPO_ROOT, 'test/interop/lt.py');
export const TRACKER_PORT = 6969;
export const ANNOUNCE_URL = `http://${HUB_ADDRESS}:${TRACKER_PORT}/announce`;

export type Client = 'lt' | 'cascade';

export interface PeerProc {
  peer: LabPeer;
  client: Client;
  role: 'seed' | 'down';
  child: ChildProcess;
  /** ms on the swarm clock: spawned, first sign of life (listening/progress), complete, exited. */
  spawnedAt: number;
  readyAt?: number;
  doneAt?: number;
  exitedAt?: number;
  /** Seeding (seed only): the data checked out. */
  seedingAt?: number;
  /** Seed only: its payload uploaded (client's count) when its peers first held every piece between
   *  them (distributed copies ≥ 1, the client's own figure), and when (swarm clock). */
  outUp?: number;
  outAt?: number;
  /** Latest fraction of the wanted pieces verified (0..1). */
  progress: number;
  /** The client's own payload counters at completion (bytes received including duplicates). */
  payloadDown?: number;
  /** What the client itself counts as wasted at completion: libtorrent's redundant + failed bytes;
   *  Cascade's bytes received minus the bytes its sources are credited with (duplicates, dropped). */
  wasted?: number;
  /** Cascade: bytes by source address at completion. */
  sources?: { address: string; downloaded: number }[];
  /** CPU seconds of its process tree, last read. */
  cpu: number;
  /** CPU seconds of its process tree at its first JSON line (its start-up) and at its completion. */
  cpuAtReady?: number;
  cpuAtDone?: number;
  stderr: string;
  lines: number;
}

export interface StartOpts {
  torrent: string;
  dir: string;
  stateDir: string;
  role: 'seed' | 'down';
  /** Downloaders: keep seeding once complete. */
  stay: boolean;
  noChain?: boolean;
  /** The seed super-seeds (BEP 16). */
  superSeed?: boolean;
  clock: () => number;
}

export function startPeer(lab: SwarmLab, peer: LabPeer, client: Client, o: StartOpts): PeerProc {
  let cmd: string;
  let args: string[];
  if (client === 'cascade') {
    cmd = CLI_BIN;
    args = o.role === 'seed'
      ? ['seed', o.torrent, '--dir', o.dir, ...(o.superSeed ? ['--super-seed'] : [])]
      : ['download', o.torrent, '-o', o.dir, ...(o.stay ? ['--seed'] : [])];
    args.push('--json', '--no-dht', '--state-dir', o.stateDir, ...(o.noChain ? ['--no-chain'] : []));
  } else {
    cmd = PYTHON;
    args = [LT_PEER, '--torrent', o.torrent, '--dir', o.dir, ...(o.role === 'seed' ? ['--seed'] : []), ...(o.stay ? ['--stay'] : []), ...(o.role === 'seed' && o.superSeed ? ['--super-seed'] : [])];
  }
  // SWARM_LAB_PROFILE=DIR: each Cascade peer writes a V8 CPU profile there when it exits (read
  // with bench/swarm-lab/profile-top.ts), started as the launcher would start it.
  const profileDir = process.env.SWARM_LAB_PROFILE;
  if (client === 'cascade' && profileDir) {
    args = ['--cpu-prof', '--cpu-prof-dir', profileDir, '--max-semi-space-size=8', '--no-memory-reducer', CLI_BIN, ...args];
    cmd = process.execPath;
  }
  const child = lab.spawn(peer.ns, cmd, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, CASCADE_PORT_MAPPING: 'off', CASCADE_LSD: 'off', HOME: o.stateDir },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const p: PeerProc = { peer, client, role: o.role, child, spawnedAt: o.clock(), progress: 0, cpu: 0, stderr: '', lines: 0 };
  child.stdin!.on('error', () => {});
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => { p.stderr = (p.stderr + d).slice(-20_000); });
  // SWARM_LAB_TRACE=DIR keeps each peer's output lines, stamped with the swarm clock (ms).
  const trace = process.env.SWARM_LAB_TRACE ? join(process.env.SWARM_LAB_TRACE, `${peer.ns}-${o.role}.log`) : undefined;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (trace) appendFileSync(trace, `${o.clock()} ${line}\n`);
    if (!line.startsWith('{')) return;
    let e: Record<string, unknown>;
    try { e = JSON.parse(line) as Record<string, unknown>; } catch { return; }
    p.lines++;
    onEvent(p, e, o.clock());
  });
  child.once('exit', () => { p.exitedAt = o.clock(); });
  return p;
}

function onEvent(p: PeerProc, e: Record<string, unknown>, now: number): void {
  const ev = e.event;
  if (p.readyAt === undefined && (ev === 'listening' || ev === 'progress' || ev === 'metadata')) {
    p.readyAt = now;
    p.cpuAtReady = cpuNow(p);
  }
  if (ev === 'seeding' && p.role === 'seed') p.seedingAt ??= now;
  if (p.role === 'seed' && ev === 'progress' && p.outAt === undefined) {
    const row = p.client === 'cascade' ? e : (e.torrents as Record<string, unknown>[] | undefined)?.[0];
    if (row && Number(row.distributedCopies ?? row.copies) >= 1) {
      p.outAt = now;
      p.outUp = Number(row.uploaded ?? row.up);
    }
  }
  if (p.client === 'cascade') {
    if (ev === 'progress' && typeof e.progress === 'number') p.progress = e.progress;
    if (ev === 'done' && p.doneAt === undefined) {
      p.doneAt = now;
      p.cpuAtDone = cpuNow(p);
      p.progress = 1;
      p.payloadDown = Number(e.downloaded);
      p.sources = (e.sources as { address: string; downloaded: number }[] | undefined)?.map((s) => ({ address: s.address, downloaded: s.downloaded }));
      if (p.sources) p.wasted = p.payloadDown - p.sources.reduce((a, s) => a + s.downloaded, 0);
    }
  } else {
    if (ev === 'progress') {
      const row = (e.torrents as { progress: number }[] | undefined)?.[0];
      if (row && p.doneAt === undefined) p.progress = row.progress;
    }
    if (ev === 'done' && p.doneAt === undefined) {
      p.doneAt = now;
      p.cpuAtDone = cpuNow(p);
      p.progress = 1;
      p.payloadDown = Number(e.down);
      p.wasted = Number(e.redundant) + Number(e.failed);
    }
  }
}

function cpuNow(p: PeerProc): number | undefined {
  return p.child.pid === undefined ? undefined : treeCpuSeconds(p.child.pid);
}

export function sampleCpu(p: PeerProc): void {
  if (p.exitedAt !== undefined) return;
  const c = cpuNow(p);
  if (c !== undefined && c > 0) p.cpu = c;
}

export async function stopPeer(p: PeerProc): Promise<void> {
  sampleCpu(p);
  await stopChild(p.child, 5_000);
}

/** The neutral tracker (`cascade tracker`, the same for both clients) in the hub namespace. */
export async function startTracker(lab: SwarmLab, interval: number): Promise<ChildProcess> {
  const child = lab.spawn(lab.hubNs, process.execPath, [CLI_MAIN, 'tracker', '--host', HUB_ADDRESS, '--http-port', String(TRACKER_PORT), '--udp-port', String(TRACKER_PORT), '--interval', String(interval), '--rate-limit', '0', '--json'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`the lab tracker did not start: ${out}`)), 30_000);
    const on = (d: Buffer) => {
      out += d.toString();
      if (out.includes('"listening"')) { clearTimeout(timer); res(); }
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    child.once('exit', (code) => { clearTimeout(timer); rej(new Error(`the lab tracker exited (${code}): ${out}`)); });
  });
  child.stdout!.resume();
  child.stderr!.resume();
  return child;
}
