// The link emulator for tests and benchmarks (README.md beside this file): two network namespaces
// joined by a userspace forwarder (link.py) that adds delay, jitter, loss and a rate cap with a
// bounded, drop-tail buffer, since this machine's kernel has no netem. Everything started in the
// namespaces reaches only the other one: neither has a route anywhere else. Root only.
//
//   const link = await createLink(parseLinkSpec('rtt=50ms,loss=1%,rate=100mbit'));
//   link.spawn('a', cmd, args)   // runs in namespace A (address link.addrA), B likewise
//   await link.stats(); await link.close();

import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const FORWARDER = join(import.meta.dirname, 'link.py');
const PYTHON = '/usr/bin/python3';

export interface LinkSpec {
  /** One-way delay of each direction, ms (rtt=X gives X/2 each way). */
  delayMs: number;
  /** Each packet's delay varies uniformly by ± this much, ms (never reordering packets). */
  jitterMs: number;
  /** Probability a packet is dropped, per packet and per direction, 0..1. */
  loss: number;
  /** Rate cap of each direction, bits/s (0: none). */
  rateBps: number;
  /** The bottleneck buffer of each direction, bytes: a packet that does not fit is dropped. */
  queueBytes: number;
}

/** Without queue=: 200 ms at the rate cap (a home router's buffer; above LEDBAT's 100 ms target). */
const DEFAULT_QUEUE_MS = 200;

function parseTime(v: string, key: string): number {
  const m = /^(\d+(?:\.\d+)?)(us|ms|s)$/.exec(v);
  if (!m) throw new Error(`link ${key}: "${v}" is not a time (e.g. 50ms)`);
  return Number(m[1]) * (m[2] === 'us' ? 1e-3 : m[2] === 's' ? 1000 : 1);
}

function parseRate(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(bit|kbit|mbit|gbit)$/i.exec(v);
  if (!m) throw new Error(`link rate: "${v}" is not a rate (e.g. 100mbit, 512kbit)`);
  return Number(m[1]) * { bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9 }[m[2]!.toLowerCase() as 'bit']!;
}

/** "rtt=50ms,loss=1%,rate=100mbit[,jitter=5ms][,delay=25ms][,queue=200ms|256KiB]" */
export function parseLinkSpec(text: string): LinkSpec {
  const spec: LinkSpec = { delayMs: 0, jitterMs: 0, loss: 0, rateBps: 0, queueBytes: 0 };
  let queue: string | undefined;
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [key, v] = part.split('=', 2).map((s) => s.trim()) as [string, string | undefined];
    if (v === undefined) throw new Error(`link: "${part}" is not key=value`);
    if (key === 'rtt') spec.delayMs = parseTime(v, key) / 2;
    else if (key === 'delay') spec.delayMs = parseTime(v, key);
    else if (key === 'jitter') spec.jitterMs = parseTime(v, key);
    else if (key === 'rate') spec.rateBps = parseRate(v);
    else if (key === 'queue') queue = v;
    else if (key === 'loss') {
      const m = /^(\d+(?:\.\d+)?)%$/.exec(v);
      if (!m || Number(m[1]) > 100) throw new Error(`link loss: "${v}" is not a percentage (e.g. 1%)`);
      spec.loss = Number(m[1]) / 100;
    } else throw new Error(`link: unknown key "${key}" (rtt, delay, jitter, loss, rate, queue)`);
  }
  if (spec.jitterMs > spec.delayMs) throw new Error('link: jitter larger than the one-way delay');
  if (queue !== undefined && spec.rateBps === 0) throw new Error('link: queue= needs rate=');
  if (spec.rateBps > 0) {
    const bytes = /^(\d+)(B|KiB|MiB)$/.exec(queue ?? '');
    spec.queueBytes = bytes
      ? Number(bytes[1]) * { B: 1, KiB: 1024, MiB: 1 << 20 }[bytes[2] as 'B']
      : Math.round((parseTime(queue ?? `${DEFAULT_QUEUE_MS}ms`, 'queue') / 1000) * (spec.rateBps / 8));
    // At least two full-size packets, or nothing but tiny ones would ever pass.
    spec.queueBytes = Math.max(spec.queueBytes, 3000);
  }
  return spec;
}

export function describeLink(s: LinkSpec): string {
  const parts = [`rtt ${2 * s.delayMs} ms`];
  if (s.jitterMs) parts.push(`jitter ±${s.jitterMs} ms`);
  parts.push(`loss ${+(s.loss * 100).toFixed(3)}%`);
  if (s.rateBps) parts.push(`rate ${+(s.rateBps / 1e6).toFixed(3)} Mbit/s`, `buffer ${Math.round(s.queueBytes / 1024)} KiB (${Math.round((s.queueBytes * 8000) / s.rateBps)} ms)`);
  else parts.push('no rate cap');
  return parts.join(', ');
}

export interface DirectionStats {
  packets: number;
  bytes: number;
  /** Dropped by loss=. */
  lost: number;
  /** Dropped because the buffer was full. */
  overflow: number;
  delivered: number;
  deliveredBytes: number;
  writeErrors: number;
  maxQueueBytes: number;
  /** The buffer's wait at the moment of the stats request (what a packet arriving then would queue for), ms. */
  queueMs: number;
}

export interface Link {
  readonly spec: LinkSpec;
  /** The TCP congestion control in both namespaces. */
  readonly tcp: string;
  readonly nsA: string;
  readonly nsB: string;
  /** Namespace A's address (B reaches A there), and B's. */
  readonly addrA: string;
  readonly addrB: string;
  /** Starts a process inside namespace A or B. */
  spawn(side: 'a' | 'b', cmd: string, args: string[], opts?: SpawnOptions): ChildProcess;
  /** Counters of A→B and B→A. */
  stats(): Promise<{ ab: DirectionStats; ba: DirectionStats }>;
  close(): Promise<void>;
}

/** What is still open, undone synchronously if the process exits first. */
const cleanups = new Set<() => void>();
process.on('exit', () => {
  for (const c of cleanups) c();
});

/** Two fresh namespaces and the forwarder between them; rejects (cleaned up) when not root. */
/** `tcp`: the TCP congestion control across the link, CUBIC unless given (this machine's default is
 *  BBR, which ignores random loss and keeps queues short: not what most uplinks carry). It is set on
 *  the route to the other side: a namespace may only make the host's allowed ones its default. */
export async function createLink(spec: LinkSpec, opts: { seed?: number; tcp?: string } = {}): Promise<Link> {
  if (process.getuid?.() !== 0) throw new Error('the link emulator needs root (network namespaces and TUN devices)');
  const id = randomBytes(3).toString('hex');
  const nsA = `lk${id}-a`;
  const nsB = `lk${id}-b`;
  // 198.18.0.0/15 is reserved for benchmarking (RFC 2544), and is not a "local" range to the
  // engine's dial policy, so peers here are dialled as the Internet's are. Alone in its namespaces.
  const addrA = '198.18.50.1';
  const addrB = '198.18.50.2';
  const madeNs: string[] = [];
  const removeNs = () => {
    for (const ns of madeNs.splice(0)) spawnSync('ip', ['netns', 'del', ns]);
  };
  for (const ns of [nsA, nsB]) {
    const r = spawnSync('ip', ['netns', 'add', ns], { encoding: 'utf8' });
    if (r.status !== 0) {
      removeNs();
      throw new Error(`ip netns add ${ns}: ${r.stderr.trim()}`);
    }
    madeNs.push(ns);
  }
  const args = ['--ns-a', nsA, '--ns-b', nsB, '--addr-a', addrA, '--addr-b', addrB, '--tun-a', `lkt${id}a`, '--tun-b', `lkt${id}b`,
    '--delay-us', String(Math.round(spec.delayMs * 1000)), '--jitter-us', String(Math.round(spec.jitterMs * 1000)),
    '--loss', String(spec.loss), '--rate-bps', String(spec.rateBps), '--queue-bytes', String(spec.queueBytes),
    '--tcp', opts.tcp ?? 'cubic', ...(opts.seed !== undefined ? ['--seed', String(opts.seed)] : [])];
  const fwd = spawn(PYTHON, [FORWARDER, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  fwd.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
  const waiting: ((e: Record<string, any>) => void)[] = [];
  createInterface({ input: fwd.stdout! }).on('line', (line) => {
    if (!line.startsWith('{')) return;
    const e = JSON.parse(line) as Record<string, any>;
    waiting.shift()?.(e);
  });
  const exited = new Promise<void>((res) => fwd.once('exit', () => res()));
  try {
    await Promise.race([
      new Promise<void>((res) => waiting.push(() => res())),
      exited.then(() => {
        throw new Error(`link forwarder exited: ${stderr.trim().split('\n').slice(-3).join(' / ')}`);
      }),
    ]);
  } catch (err) {
    removeNs();
    throw err;
  }
  let closed = false;
  const cleanup = () => {
    fwd.kill('SIGKILL');
    removeNs();
  };
  cleanups.add(cleanup);
  const link: Link = {
    spec, tcp: opts.tcp ?? 'cubic', nsA, nsB, addrA, addrB,
    spawn: (side, cmd, a, o = {}) => spawn('ip', ['netns', 'exec', side === 'a' ? nsA : nsB, cmd, ...a], o),
    stats: () => {
      const p = new Promise<Record<string, any>>((res) => waiting.push(res));
      fwd.stdin!.write('stats\n');
      return p.then((e) => ({ ab: e.ab, ba: e.ba }));
    },
    close: async () => {
      if (closed) return;
      closed = true;
      cleanups.delete(cleanup);
      fwd.stdin!.end();
      const t = setTimeout(() => fwd.kill('SIGKILL'), 2000);
      if (fwd.exitCode === null && fwd.signalCode === null) await exited;
      clearTimeout(t);
      removeNs();
    },
  };
  return link;
}
