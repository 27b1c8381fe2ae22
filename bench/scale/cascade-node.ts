// Driving a Cascade node as a separate process: `cascade serve` of a given checkout on 127.0.0.1
// (fresh state dir, DHT off, every port OS-assigned), its API with the node's token, `cascade list`.

import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { exited, sleep, stopProcess, timeMs, track } from './proc.ts';

export interface RunningNode {
  child: ChildProcess;
  pid: number;
  url: string;
  token: string;
  /** Seconds from spawn to the `listening` event (API up). */
  listeningAfter: number;
  /** Resolves with seconds from spawn to the `serving` event (library loaded). */
  serving: Promise<number>;
}

export interface NodeSetup {
  root: string;
  stateDir: string;
  downloadDir: string;
  /** stderr of every start is appended here (for a node that fails). */
  logPath: string;
}

const cliMain = (root: string) => join(root, 'packages/cli/src/main.ts');
const cliBin = (root: string) => join(root, 'packages/cli/bin/cascade.js');

/**
 * How to run `cascade` of `root` as a user's shell does: the launcher bin/cascade.js (it turns on
 * Node's compile cache) with the Node flags and environment its shell part (or, in older
 * checkouts, its `#!/usr/bin/env -S node …` line) gives Node (V8's heap settings, the malloc
 * arenas), on this Node 24. A checkout without the launcher runs src/main.ts.
 */
export function cascadeCommand(root: string): string[] {
  const bin = cliBin(root);
  if (!existsSync(bin)) return [cliMain(root)];
  return [...launcherLine(bin).flags, bin];
}

/** The environment the launcher sets (GLIBC_TUNABLES: the malloc arenas). */
export function cascadeEnv(root: string): Record<string, string> {
  const bin = cliBin(root);
  return existsSync(bin) ? launcherLine(bin).env : {};
}

/**
 * The launcher's Node flags and environment, from either form it has had:
 * `#!/usr/bin/env -S [NAME=VALUE…] node [flags…]`, or a `#!/bin/sh` line followed by a shell line
 * that runs `exec env [NAME=VALUE…] "…/node" [flags…] "$f"` (the Node flags must not be lost: a run
 * without them measures another memory profile than users get). Throws when neither is found.
 */
export function launcherLine(bin: string): { env: Record<string, string>; flags: string[] } {
  const [first = '', second = ''] = readFileSync(bin, 'utf8').split('\n', 2);
  const viaEnv = /^#!\S*env -S (.*)$/.exec(first)?.[1];
  const viaShell = /exec env ((?:[A-Z_][A-Z0-9_]*=\S+\s+)*)"?\S*node"?((?:\s+--\S+)*)\s+"\$f"/.exec(second);
  let words: string[];
  if (viaEnv !== undefined) words = viaEnv.split(/\s+/).filter(Boolean);
  else if (viaShell) words = [...viaShell[1]!.split(/\s+/).filter(Boolean), 'node', ...viaShell[2]!.split(/\s+/).filter(Boolean)];
  else throw new Error(`${bin}: cannot read the launcher's Node flags (neither a #!/usr/bin/env -S line nor an "exec env … node … \"$f\"" line)`);
  const env: Record<string, string> = {};
  while (words.length > 0 && /^[A-Z_][A-Z0-9_]*=/.test(words[0]!)) {
    const w = words.shift()!;
    env[w.slice(0, w.indexOf('='))] = w.slice(w.indexOf('=') + 1);
  }
  return { env, flags: words[0] === 'node' ? words.slice(1) : [] };
}

export async function startNode(setup: NodeSetup): Promise<RunningNode> {
  const t0 = performance.now();
  const args = [
    ...cascadeCommand(setup.root), 'serve', '--json',
    '--state-dir', setup.stateDir, '--download-dir', setup.downloadDir,
    '--host', '127.0.0.1', '--http-port', '0', '--port', '0', '--tracker-port', '0', '--no-dht',
  ];
  // This Node (24) runs the checkout's sources; cwd = the checkout, so its node_modules resolve.
  // CASCADE_PORT_MAPPING=off, CASCADE_LSD=off: a benchmark's node asks no gateway of this machine's
  // network for a port and multicasts nothing onto its LAN.
  const child = track(spawn(process.execPath, args, { cwd: setup.root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...cascadeEnv(setup.root), CASCADE_PORT_MAPPING: 'off', CASCADE_LSD: 'off' } }));
  const log = createWriteStream(setup.logPath, { flags: 'a' });
  child.stderr!.pipe(log);
  const lines = createInterface({ input: child.stdout! });
  let resolveServing!: (s: number) => void;
  const serving = new Promise<number>((r) => (resolveServing = r));
  const listening = new Promise<{ url: string }>((resolve, reject) => {
    lines.on('line', (line) => {
      log.write(`${line}\n`);
      let ev: { event?: string; url?: string };
      try {
        ev = JSON.parse(line) as typeof ev;
      } catch {
        return;
      }
      if (ev.event === 'listening' && ev.url) resolve({ url: ev.url });
      if (ev.event === 'serving') resolveServing((performance.now() - t0) / 1000);
    });
    void exited(child).then((code) => reject(new Error(`cascade serve exited (${code}) before listening; see ${setup.logPath}`)));
  });
  const { url } = await listening;
  const listeningAfter = (performance.now() - t0) / 1000;
  const token = readFileSync(join(setup.stateDir, 'api-token'), 'utf8').trim();
  return { child, pid: child.pid!, url, token, listeningAfter, serving };
}

export const stopNode = (node: RunningNode) => stopProcess(node.child);

/** A node that answers nothing for this long is stuck: an error, not a run that never ends. */
export const REQUEST_TIMEOUT_MS = 120_000;

export async function api(node: RunningNode, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${node.token}`);
  try {
    return await fetch(new URL(path, node.url), { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS), ...init, headers });
  } catch (err) {
    if ((err as Error).name === 'TimeoutError') throw new Error(`${init.method ?? 'GET'} ${path}: no answer from the node within ${REQUEST_TIMEOUT_MS / 1000} s`);
    throw err;
  }
}

export async function apiJson<T>(node: RunningNode, path: string): Promise<T> {
  const res = await api(node, path);
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${(await res.text()).slice(0, 300)}`);
  return (await res.json()) as T;
}

/** POST /api/torrents as the web app and the CLI send a .torrent: multipart, field `torrent`, the
 *  save path where the data already is (so the node seeds it). */
export async function addTorrent(node: RunningNode, bytes: Uint8Array, savePath: string, name: string): Promise<void> {
  const form = new FormData();
  form.append('savePath', savePath);
  form.append('torrent', new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/x-bittorrent' }), name);
  const res = await api(node, '/api/torrents', { method: 'POST', body: form });
  const text = await res.text();
  if (res.status !== 201 && res.status !== 200) throw new Error(`POST /api/torrents ${name}: ${res.status} ${text.slice(0, 300)}`);
}

export interface ListPage {
  torrents: { infoHash?: string; infoHashHex?: string; state: string }[];
  total: number;
}

/** GET of a list, timed with its body read; `bytes` is the body's size. */
export async function timedGet(node: RunningNode, path: string): Promise<{ ms: number; bytes: number; body: string }> {
  const { ms, value } = await timeMs(async () => {
    const res = await api(node, path);
    const body = await res.text();
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${body.slice(0, 300)}`);
    return body;
  });
  return { ms, bytes: Buffer.byteLength(value), body: value };
}

/** Wall time of `cascade list` against the running node (it finds the node through the state dir). */
export async function timeCliList(setup: NodeSetup): Promise<{ seconds: number; lines: number }> {
  const t0 = performance.now();
  const child = track(spawn(process.execPath, [...cascadeCommand(setup.root), 'list', '--state-dir', setup.stateDir], { cwd: setup.root, stdio: ['ignore', 'pipe', 'pipe'] }));
  let lines = 0;
  let err = '';
  child.stdout!.on('data', (d: Buffer) => {
    for (const b of d) if (b === 10) lines++;
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), REQUEST_TIMEOUT_MS);
  const code = await exited(child);
  clearTimeout(timer);
  const seconds = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`cascade list exited ${code}: ${err.slice(0, 300)}`);
  return { seconds, lines };
}

export interface RestartFigures {
  /** spawn → API listening. */
  listeningAfter: number;
  /** spawn → `serving` event (library loaded), if it came. */
  servingAfter: number | null;
  /** spawn → GET /api/torrents reports total N. */
  listsAllAfter: number | null;
  /** spawn → every torrent seeding. */
  allSeedingAfter: number | null;
  /** Torrents seen in `checking` in any poll. */
  seenChecking: number;
  /** States of the last poll. */
  states: Record<string, number>;
}

/** Polls after a start: when the list holds all n, and when all n are seeding (none checking). */
export async function watchStartup(node: RunningNode, n: number, t0: number, timeoutS: number): Promise<RestartFigures> {
  const since = () => (performance.now() - t0) / 1000;
  const fig: RestartFigures = { listeningAfter: node.listeningAfter, servingAfter: null, listsAllAfter: null, allSeedingAfter: null, seenChecking: 0, states: {} };
  void node.serving.then((s) => (fig.servingAfter = s));
  const checking = new Set<string>();
  while (since() < timeoutS) {
    let page: ListPage;
    try {
      page = await apiJson<ListPage>(node, '/api/torrents');
    } catch {
      await sleep(100);
      continue;
    }
    if (fig.listsAllAfter === null && page.total >= n) fig.listsAllAfter = since();
    const states: Record<string, number> = {};
    for (const t of page.torrents) {
      states[t.state] = (states[t.state] ?? 0) + 1;
      if (t.state === 'checking') checking.add(t.infoHash ?? t.infoHashHex ?? '');
    }
    fig.states = states;
    fig.seenChecking = checking.size;
    if (page.total >= n && (states.seeding ?? 0) >= n) {
      fig.allSeedingAfter = since();
      break;
    }
    await sleep(200);
  }
  return fig;
}
