// The soak's node: `cascade serve` of this checkout (src/main.ts on this Node 24) on embedded
// defaults — SQLite in its state dir, the built-in tracker, the embedded chain — bound to one
// loopback address, every port OS-assigned, no port mapping, no LSD multicast. Its API with the
// node's token, and a stop that waits for it (SIGTERM, then SIGKILL after a grace).

import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const REPO = join(import.meta.dirname, '..', '..');
export const CLI_MAIN = join(REPO, 'packages/cli/src/main.ts');
/** Environment for every Cascade process the soak starts: nothing reaches past this machine. */
export const QUIET_ENV = { CASCADE_PORT_MAPPING: 'off', CASCADE_LSD: 'off' };
// What packages/cli/bin/cascade.js (and so `npm start`) gives every node it starts, so the soak
// measures the node users run: without them each cluster member held ~50 MB more (30 Nov, 2-hour
// runs: RSS 338-377 MB against 286-317 MB).
export const NODE_FLAGS = ['--max-semi-space-size=8', '--no-memory-reducer'];
export const NODE_ENV = { GLIBC_TUNABLES: process.env.GLIBC_TUNABLES ?? 'glibc.malloc.arena_max=2' };

/** Every child process the soak started and that still runs: stopped by cleanup (and on SIGINT). */
export const children = new Set<ChildProcess>();

export function track<C extends ChildProcess>(child: C): C {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** SIGTERM, SIGKILL after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 30_000): Promise<void> {
  const done = exited(child);
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await done;
  clearTimeout(timer);
}

export interface SoakNode {
  child: ChildProcess;
  pid: number;
  /** The loopback address it is bound to. */
  host: string;
  url: string;
  token: string;
  stateDir: string;
  downloadDir: string;
  bittorrentPort: number;
  dhtPort: number | undefined;
  trackerHttpPort: number;
  /** Where the node's stdout and stderr go (the "log size" the soak watches). */
  logPath: string;
}

export interface NodeStart {
  host: string;
  stateDir: string;
  downloadDir: string;
  logPath: string;
  /** DHT bootstrap nodes on loopback (the DHT is on when given, off otherwise). */
  dhtBootstrap?: string;
  /** Its HTTP port (a cluster member's, named in its --cluster-url before it starts); else OS-assigned. */
  httpPort?: number;
  extraArgs?: string[];
  /** The process as soon as it is spawned (the crash harness kills some during their start). */
  onSpawn?: (child: ChildProcess) => void;
  /** Each line of the log stamped with the time it came (the crash harness: read beside its ops.log). */
  stampLog?: boolean;
}

export async function startNode(o: NodeStart): Promise<SoakNode> {
  const args = [
    CLI_MAIN, 'serve', '--json', '--host', o.host, '--http-port', String(o.httpPort ?? 0), '--port', '0', '--tracker-port', '0',
    '--state-dir', o.stateDir, '--download-dir', o.downloadDir, '--allow-private-urls',
    ...(o.dhtBootstrap ? ['--dht-bootstrap', o.dhtBootstrap] : ['--no-dht']),
    ...(o.extraArgs ?? []),
  ];
  const child = track(spawn(process.execPath, [...NODE_FLAGS, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...QUIET_ENV, ...NODE_ENV } }));
  o.onSpawn?.(child);
  const log = createWriteStream(o.logPath, { flags: 'a' });
  const stamp = o.stampLog ? () => `${new Date().toISOString()} ` : () => '';
  if (o.stampLog) createInterface({ input: child.stderr! }).on('line', (line) => log.write(`${stamp()}${line}\n`));
  else child.stderr!.pipe(log);
  const lines = createInterface({ input: child.stdout! });
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    let listening: Record<string, unknown> | undefined;
    const timer = setTimeout(() => reject(new Error(`cascade serve: not serving within 180 s; see ${o.logPath}`)), 180_000);
    lines.on('line', (line) => {
      log.write(`${stamp()}${line}\n`);
      let ev: Record<string, unknown>;
      try {
        ev = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      if (ev.event === 'listening') listening = ev;
      if (ev.event === 'serving' && listening) {
        clearTimeout(timer);
        resolve(listening);
      }
    });
    void exited(child).then(() => {
      clearTimeout(timer);
      reject(new Error(`cascade serve exited (${child.exitCode ?? child.signalCode}) before serving; see ${o.logPath}`));
    });
  });
  const token = readFileSync(join(o.stateDir, 'api-token'), 'utf8').trim();
  return {
    child, pid: child.pid!, host: o.host, url: String(ready.url), token, stateDir: o.stateDir, downloadDir: o.downloadDir,
    bittorrentPort: Number(ready.bittorrentPort ?? ready.port), dhtPort: ready.dhtPort === undefined ? undefined : Number(ready.dhtPort),
    trackerHttpPort: Number(ready.trackerHttpPort), logPath: o.logPath,
  };
}

/** A request the node must answer within this long; longer is a stuck node, reported as such. */
const REQUEST_TIMEOUT_MS = 60_000;

export async function api(node: SoakNode, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (!headers.has('authorization')) headers.set('authorization', `Bearer ${node.token}`);
  const url = new URL(path, node.url);
  return fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS), ...init, headers }).catch((err: Error) => {
    // Which request went unanswered, and where (a cluster has several nodes).
    throw new Error(`${init.method ?? 'GET'} ${url.href}: ${err.name === 'TimeoutError' ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s` : err.message}`, { cause: err });
  });
}

/** A JSON request that must succeed (2xx); its body. */
export async function apiJson<T = any>(node: SoakNode, path: string, init: RequestInit = {}): Promise<T> {
  const json = init.body !== undefined && typeof init.body === 'string';
  const res = await api(node, path, json ? { ...init, headers: { 'content-type': 'application/json', ...(init.headers as Record<string, string>) } } : init);
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${text.slice(0, 300)}`);
  return (text ? JSON.parse(text) : undefined) as T;
}
