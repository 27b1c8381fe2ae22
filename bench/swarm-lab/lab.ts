// The swarm lab's network: one namespace per peer, all on one bridge, each link capped by the kernel.
//
//   hub namespace `sl<4 hex>-hub`: bridge br0 with 10.77.0.1/24 (the tracker listens there), and
//   the bridge end `p<i>` of every peer's veth pair.
//   peer i: namespace `sl<4 hex>-p<i>`, its end `eth0` with 10.77.0.(10+i)/24.
//
// Caps: a tbf qdisc on each end of the pair. The egress of the peer's `eth0` is its upload, the
// egress of the bridge's `p<i>` its download. GSO is off on both ends (gso_max_segs 1) so that the
// kernel's packet counters count wire-sized packets (payload ≈ bytes − 66 × packets, see swarm.ts)
// and tbf meters each segment, not 64 KB lumps.
// tbf burst = max(8 KiB, 20 ms of the rate): above MTU, above one timer tick of tokens (HZ 250 →
// 4 ms), small enough that the cap holds on a 20 ms scale (32 KB/s … 8 MB/s: 8 KiB … 160 KB).
// tbf limit (queue) = burst + max(32 KiB, 100 ms of the rate): a home router's buffer, deep enough
// that a 32 KB/s link still holds a few dozen segments (TCP and LEDBAT see delay, not loss first).
//
// Nothing here touches the host's own network: every link is created directly inside the lab's
// namespaces. Names carry a random id so parallel runs do not collide; everything is removed on
// close(), on t.after, and on SIGINT/SIGTERM/exit.
import { execFile, spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

export interface LabPeer {
  index: number;
  ns: string;
  address: string;
  /** The bridge end of its veth pair, in the hub namespace (the name in the counters). */
  hubIf: string;
  /** Caps in bytes/second. */
  up: number;
  down: number;
}

export interface LinkCounters {
  /** Bytes and packets the peer sent (its upload) and received (its download), on the wire. */
  upBytes: number;
  upPackets: number;
  downBytes: number;
  downPackets: number;
}

/**
 * The lab's /24. 10.77.0.x by default: a private range, which Cascade's dialler treats as a LAN and
 * dials TCP first. SWARM_LAB_NET=internet uses 198.18.77.x (RFC 2544's benchmarking range, still
 * only inside the lab's namespaces), where Cascade races uTP with its head start as it does for
 * peers on the internet; libtorrent makes no such distinction.
 */
export const LAB_PREFIX = process.env.SWARM_LAB_NET === 'internet' ? '198.18.77' : '10.77.0';
export const HUB_ADDRESS = `${LAB_PREFIX}.1`;

/** Throws a clear error unless this runs as root with ip and tc. */
export function requireLabTools(): void {
  if (process.getuid?.() !== 0) throw new Error('the swarm lab needs root (ip netns, tc): run it as root, as `npm test` does');
  const missing = ['ip', 'tc'].filter((t) => spawnSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' }).status !== 0);
  if (missing.length) throw new Error(`the swarm lab needs ${missing.join(', ')} (apt-get install iproute2)`);
}

/** tbf parameters for a rate in bytes/second (see the header). */
export function tbfParams(rate: number): { burst: number; limit: number } {
  const burst = Math.max(8 * 1024, Math.round(rate * 0.02));
  return { burst, limit: burst + Math.max(32 * 1024, Math.round(rate * 0.1)) };
}

const live = new Set<SwarmLab>();
const dirs = new Set<string>();
let hooked = false;
function hookProcess() {
  if (hooked) return;
  hooked = true;
  const cleanup = () => {
    for (const lab of live) lab.closeSync();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    dirs.clear();
  };
  process.on('exit', cleanup);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      cleanup();
      process.kill(process.pid, sig); // the default action now that our handler is gone
    });
  }
}

/** Removes `dir` on exit and on SIGINT/SIGTERM; call the returned function once the caller removed it itself. */
export function removeOnExit(dir: string): () => void {
  hookProcess();
  dirs.add(dir);
  return () => dirs.delete(dir);
}

export async function createSwarmLab(t?: { after: (fn: () => unknown) => void }): Promise<SwarmLab> {
  requireLabTools();
  hookProcess();
  const lab = new SwarmLab(`sl${randomBytes(2).toString('hex')}`);
  live.add(lab);
  t?.after(() => lab.close());
  await lab.init();
  return lab;
}

export class SwarmLab {
  readonly id: string;
  readonly hubNs: string;
  readonly peers: LabPeer[] = [];
  private namespaces: string[] = [];
  private children = new Set<ChildProcess>();
  /** A process that lives in the hub namespace for the lab's life: /proc/<pid>/net/dev is its counters. */
  private keeper: ChildProcess | undefined;

  constructor(id: string) {
    this.id = id;
    this.hubNs = `${id}-hub`;
  }

  async init(): Promise<void> {
    await this.addNs(this.hubNs);
    await ip(['-n', this.hubNs, 'link', 'add', 'br0', 'type', 'bridge']);
    await ip(['-n', this.hubNs, 'link', 'set', 'br0', 'up']);
    await ip(['-n', this.hubNs, 'addr', 'add', `${HUB_ADDRESS}/24`, 'dev', 'br0']);
    this.keeper = this.spawn(this.hubNs, 'sleep', ['infinity'], { stdio: 'ignore' });
    // `ip netns exec` execs sleep in place: once /proc/<pid>/net/dev shows br0 the pid is in the hub.
    for (let i = 0; i < 100 && !this.readNetDev().has('br0'); i++) await new Promise((r) => setTimeout(r, 20));
    if (!this.readNetDev().has('br0')) throw new Error('the lab keeper did not enter the hub namespace');
  }

  private async addNs(name: string): Promise<void> {
    await ip(['netns', 'add', name]);
    this.namespaces.push(name);
    await ip(['-n', name, 'link', 'set', 'lo', 'up']);
  }

  /** A peer namespace on the bridge, its upload and download capped (bytes/second). */
  async addPeer(up: number, down: number): Promise<LabPeer> {
    const index = this.peers.length;
    if (index > 200) throw new Error('at most 200 peers per lab');
    neighbourRoom(index + 2);
    const peer: LabPeer = { index, ns: `${this.id}-p${index}`, address: `${LAB_PREFIX}.${10 + index}`, hubIf: `p${index}`, up, down };
    await this.addNs(peer.ns);
    await ip(['link', 'add', 'eth0', 'netns', peer.ns, 'type', 'veth', 'peer', 'name', peer.hubIf, 'netns', this.hubNs]);
    await ip(['-n', this.hubNs, 'link', 'set', peer.hubIf, 'gso_max_segs', '1']);
    await ip(['-n', peer.ns, 'link', 'set', 'eth0', 'gso_max_segs', '1']);
    await ip(['-n', this.hubNs, 'link', 'set', peer.hubIf, 'master', 'br0', 'up']);
    await ip(['-n', peer.ns, 'link', 'set', 'eth0', 'up']);
    await ip(['-n', peer.ns, 'addr', 'add', `${peer.address}/24`, 'dev', 'eth0']);
    await this.setCap(peer.ns, 'eth0', up);
    await this.setCap(this.hubNs, peer.hubIf, down);
    this.peers.push(peer);
    return peer;
  }

  private async setCap(ns: string, dev: string, rate: number): Promise<void> {
    const { burst, limit } = tbfParams(rate);
    await run('tc', ['-n', ns, 'qdisc', 'replace', 'dev', dev, 'root', 'tbf', 'rate', `${Math.round(rate)}bps`, 'burst', String(burst), 'limit', String(limit)]);
  }

  /** Every peer link's wire counters now, by hubIf (read from the hub namespace, no process spawned). */
  counters(): Map<string, LinkCounters> {
    const out = new Map<string, LinkCounters>();
    for (const [dev, c] of this.readNetDev()) {
      // On the bridge end, received = what the peer sent; transmitted = what it was sent.
      out.set(dev, { upBytes: c.rxBytes, upPackets: c.rxPackets, downBytes: c.txBytes, downPackets: c.txPackets });
    }
    return out;
  }

  private readNetDev(): Map<string, { rxBytes: number; rxPackets: number; txBytes: number; txPackets: number }> {
    const out = new Map<string, { rxBytes: number; rxPackets: number; txBytes: number; txPackets: number }>();
    const pid = this.keeper?.pid;
    if (pid === undefined) return out;
    let text = '';
    try { text = readFileSync(`/proc/${pid}/net/dev`, 'utf8'); } catch { return out; }
    for (const line of text.split('\n').slice(2)) {
      const m = /^\s*([^:]+):\s*(.*)$/.exec(line);
      if (!m) continue;
      const f = m[2]!.trim().split(/\s+/).map(Number);
      out.set(m[1]!, { rxBytes: f[0]!, rxPackets: f[1]!, txBytes: f[8]!, txPackets: f[9]! });
    }
    return out;
  }

  /** Runs a command in a namespace to completion; rejects on a non-zero exit. */
  exec(ns: string, cmd: string, args: string[] = [], timeoutMs = 30_000): Promise<string> {
    return run('ip', ['netns', 'exec', ns, cmd, ...args], timeoutMs);
  }

  /** Starts a long-lived command in a namespace, in its own process group (killed on close). */
  spawn(ns: string, cmd: string, args: string[] = [], opts: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: 'ignore', ...opts, detached: true });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  async close(): Promise<void> {
    live.delete(this);
    await Promise.all([...this.children].map(stopChild));
    for (const ns of this.namespaces.reverse()) await ip(['netns', 'del', ns]).catch(() => {});
    this.namespaces = [];
    if (live.size === 0) restoreNeighbourRoom();
  }

  /** For exit and signal handlers: nothing asynchronous runs there. */
  closeSync(): void {
    live.delete(this);
    for (const child of this.children) killGroup(child, 'SIGKILL');
    for (const ns of this.namespaces.reverse()) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    this.namespaces = [];
    if (live.size === 0) restoreNeighbourRoom();
  }
}

/**
 * The kernel's neighbour tables (ARP, and IPv6's) are one for all namespaces, and a lab's full
 * mesh of n hosts keeps about n² entries: past gc_thresh3 (1024 by default) a new neighbour is
 * refused ('neighbor table overflow' in the kernel log), so at N = 32 the last peers to start
 * reached no other peer until entries went stale a minute later. Every dial of theirs timed out
 * and no dial to them got through: the one-minute stalls of N = 32 (a Cascade peer at 60-66 s, a
 * libtorrent one at 40 s, in earlier sittings). The limits are raised while a lab runs, and put back.
 */
const NEIGHBOUR_LIMITS = ['ipv4', 'ipv6'].flatMap((family) => ['gc_thresh2', 'gc_thresh3'].map((k) => `/proc/sys/net/${family}/neigh/default/${k}`));
let neighbourSaved: Map<string, string> | undefined;
let neighbourWarned = false;

function neighbourRoom(hosts: number): void {
  const soft = 2 * hosts * hosts;
  for (const path of NEIGHBOUR_LIMITS) {
    const want = path.endsWith('gc_thresh3') ? 2 * soft : soft;
    try {
      const now = readFileSync(path, 'utf8').trim();
      if (Number(now) >= want) continue;
      (neighbourSaved ??= new Map()).has(path) || neighbourSaved.set(path, now);
      writeFileSync(path, String(want));
    } catch (err) {
      if (!neighbourWarned) (neighbourWarned = true), console.warn(`[swarm-lab] cannot raise ${path} (${(err as Error).message}): past ~30 peers the last ones may not reach the others`);
    }
  }
}

function restoreNeighbourRoom(): void {
  for (const [path, value] of neighbourSaved ?? []) {
    try { writeFileSync(path, value); } catch { /* left raised */ }
  }
  neighbourSaved = undefined;
}

function run(cmd: string, args: string[], timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout));
  });
}

function ip(args: string[]): Promise<string> {
  return run('ip', args);
}

export function killGroup(child: ChildProcess, sig: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try { process.kill(-child.pid, sig); } catch { try { child.kill(sig); } catch { /* gone */ } }
}

export async function stopChild(child: ChildProcess, graceMs = 3_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  killGroup(child, 'SIGTERM');
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** CPU seconds (user + system, own and reaped children) of `pid` and every live descendant. */
export function treeCpuSeconds(pid: number): number {
  const ticks = 100; // USER_HZ on Linux
  let total = 0;
  const visit = (p: number, depth: number) => {
    if (depth > 8) return;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // fields after the name: state(0) … utime(11) stime(12) cutime(13) cstime(14)
      total += (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / ticks;
    } catch { return; }
    const kids: string[] = [];
    for (const task of readdirTasks(p)) {
      try { kids.push(...readFileSync(`/proc/${p}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)); } catch { /* gone */ }
    }
    for (const k of kids) visit(Number(k), depth + 1);
  };
  visit(pid, 0);
  return total;
}

function readdirTasks(pid: number): string[] {
  // Children hang off the thread that forked them: walk every thread's list.
  try { return readdirSync(`/proc/${pid}/task`); } catch { return []; }
}
