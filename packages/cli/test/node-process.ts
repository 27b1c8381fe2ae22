// Real `cascade` processes for tests: a `cascade serve` node (ports 0, DHT off, loopback only) and
// one-shot verbs run against its state dir, as a user would from a shell.

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { tempDir } from './helpers.ts';

const MAIN = join(import.meta.dirname, '../src/main.ts');
type T = Parameters<typeof tempDir>[0];

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout's JSON lines (with --json). */
  lines: Record<string, any>[];
  /** The first JSON line: a verb's result. */
  json: Record<string, any>;
}

function parseLines(text: string): Record<string, any>[] {
  // Text output may start a line with "{" too (help quoting a JSON shape): only JSON lines count.
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, any>];
      } catch {
        return [];
      }
    });
}

/** Runs `cascade ARGS…` to its exit; never throws on a non-zero exit (tests check the code). */
export async function cascade(args: string[], opts: { cwd?: string; stdin?: string } = {}): Promise<Run> {
  const child = spawn(process.execPath, [MAIN, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    cwd: opts.cwd,
    timeout: 60_000,
    killSignal: 'SIGKILL',
    // No port mapping: a test's node asks no gateway of this machine's network (UPnP, NAT-PMP).
    env: { ...process.env, CASCADE_HOME: '/nonexistent-cascade-home', CASCADE_PORT_MAPPING: 'off' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  child.stdin!.end(opts.stdin ?? '');
  // 'close', not 'exit': the pipes can still hold output when the process has exited (a loaded
  // machine once gave `cascade help seed` an empty stdout with code 0).
  const [code] = (await once(child, 'close')) as [number | null];
  const lines = parseLines(stdout);
  return { code, stdout, stderr, lines, json: lines[0] ?? {} };
}

/**
 * Runs `cascade ARGS…` inside this process: the same main() a `cascade` process runs (parsing,
 * the verb, its output, its exit code), its output captured, without a process's ~0.4 CPU-s of
 * module loading each time. For verbs against a node's state dir (--state-dir given, so no
 * CASCADE_HOME is read), where the test is about what the verb does, not about the process.
 */
export async function cascadeHere(args: string[]): Promise<Run> {
  const { main } = await import('../src/main.ts');
  const sink = () => {
    const s = new Writable({ write(chunk: Buffer | string, _enc, cb) { s.text += String(chunk); cb(); } }) as Writable & { text: string };
    s.text = '';
    return s;
  };
  const [stdout, stderr] = [sink(), sink()];
  const code = await main(args, { stdout, stderr });
  const lines = parseLines(stdout.text);
  return { code, stdout: stdout.text, stderr: stderr.text, lines, json: lines[0] ?? {} };
}

/** Runs command lines `workers` at a time (each is its own process); results in order. */
export async function runAll(argvs: string[][], workers = 2): Promise<Run[]> {
  const out: Run[] = new Array(argvs.length);
  let next = 0;
  const worker = async () => {
    while (next < argvs.length) {
      const i = next++;
      out[i] = await cascade(argvs[i]!);
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  return out;
}

/** For a node whose test has nothing to do with the chain: `serve` starts no embedded dev chain
 *  (anvil and its contracts, ~0.85 CPU-s a node), as the HTTP and web tests' nodes start none
 *  unless asked. A file about the chain, or about what a default node does, leaves it on. */
export const NO_CHAIN: readonly string[] = ['--no-chain'];

export interface ServeNode {
  stateDir: string;
  url: string;
  token: string;
  trackerHttpPort: number;
  /** Its BitTorrent listen port (for --peer 127.0.0.1:PORT). */
  btPort: number;
  child: ChildProcess;
  /** The JSON events it printed so far (--json). */
  events: Record<string, any>[];
  /** `cascade VERB … --state-dir <its state dir>`. */
  run: (args: string[], opts?: { cwd?: string }) => Promise<Run>;
  /** The same, inside the test's process (cascadeHere). */
  here: (args: string[]) => Promise<Run>;
  /** An authorised fetch of its HTTP API. */
  api: (path: string, init?: RequestInit) => Promise<Response>;
  stop: () => Promise<void>;
}

/** Starts `cascade serve` on ports 0 with DHT off (or joined through `dhtBootstrap`, loopback
 *  nodes only) and waits until its library is loaded. `wrap`: a command that runs it (it must exec
 *  its last arguments in the same process, as `unshare -m sh -c '…; exec "$@"'`: child.pid is the node's). */
export async function startServe(t: T, opts: { stateDir?: string; args?: readonly string[]; dhtBootstrap?: string[]; wrap?: string[] } = {}): Promise<ServeNode> {
  const stateDir = opts.stateDir ?? join(tempDir(t), 'state');
  const dht = opts.dhtBootstrap ? ['--dht-bootstrap', opts.dhtBootstrap.join(',')] : ['--no-dht'];
  const argv = [process.execPath, MAIN, 'serve', '--json', '--http-port', '0', '--port', '0', '--tracker-port', '0', ...dht, '--state-dir', stateDir, ...(opts.args ?? [])];
  const [command, ...rest] = [...(opts.wrap ?? []), ...argv] as [string, ...string[]];
  const child = spawn(command, rest, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000, killSignal: 'SIGKILL', env: { ...process.env, CASCADE_PORT_MAPPING: 'off' } });
  t.after(() => void child.kill('SIGKILL'));
  const events: Record<string, any>[] = [];
  let buf = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const serving = new Promise<void>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.startsWith('{')) continue;
        const e = JSON.parse(line) as Record<string, any>;
        events.push(e);
        if (e.event === 'serving') resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${JSON.stringify(events)} ${stderr}`)));
  });
  await serving;
  const listening = events.find((e) => e.event === 'listening')!;
  const token = await apiToken(stateDir);
  const node: ServeNode = {
    stateDir,
    url: listening.url,
    token,
    trackerHttpPort: listening.trackerHttpPort,
    btPort: listening.bittorrentPort,
    child,
    events,
    run: (args, o) => cascade([...args, '--state-dir', stateDir], o),
    here: (args) => cascadeHere([...args, '--state-dir', stateDir]),
    api: (path, init = {}) =>
      fetch(`${listening.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) } }),
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
  return node;
}

/** The node's API token, read from its state dir as `cascade token` reads it (the serving node
 *  wrote it at start): one `cascade` process less per node, ~0.7 CPU-s of module loading, in the ~50
 *  files that start nodes. `cascade token` itself where the file is not there. */
async function apiToken(stateDir: string): Promise<string> {
  try {
    const token = readFileSync(join(stateDir, 'api-token'), 'utf8').trim();
    if (/^[A-Za-z0-9_-]{32,128}$/.test(token)) return token;
  } catch {
    // Not written (yet): the verb makes it.
  }
  return (await cascade(['token', '--json', '--state-dir', stateDir])).json.token as string;
}

/** Runs a verb against the node and insists it succeeds (exit 0); `here`: inside the test's process (node.here). */
export async function ok(node: ServeNode, args: string[], here = false): Promise<Run> {
  const r = await (here ? node.here(args) : node.run(args));
  if (r.code !== 0) throw new Error(`cascade ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return r;
}

/** ok() inside the test's process: for verbs through a running node, where what the verb does is the test. */
export const okHere = (node: ServeNode, args: string[]): Promise<Run> => ok(node, args, true);

/** A torrent's row as `cascade list --json` shows it (`here`: listed inside the test's process). */
export async function entry(node: ServeNode, ih: string, here = false): Promise<Record<string, any>> {
  const e = (await ok(node, ['list', '--json'], here)).json.torrents.find((x: { infoHash: string }) => x.infoHash === ih);
  if (!e) throw new Error(`cascade list has no ${ih}`);
  return e;
}

/** entry() inside the test's process. */
export const entryHere = (node: ServeNode, ih: string): Promise<Record<string, any>> => entry(node, ih, true);

/** Shares `bytes` as the file `name` through POST /api/torrents (multipart); its infohash. */
export async function shareBytes(node: ServeNode, name: string, bytes: Uint8Array): Promise<string> {
  const form = new FormData();
  form.append('files', new Blob([new Uint8Array(bytes)]), name);
  const r = await node.api('/api/torrents', { method: 'POST', body: form });
  const body = (await r.json()) as { infoHash: string };
  if (r.status !== 201) throw new Error(`sharing ${name}: ${r.status} ${JSON.stringify(body)}`);
  return body.infoHash;
}

/** GET /api/torrents/:ih as parsed JSON. */
export const torrentDetail = async (node: ServeNode, ih: string): Promise<Record<string, any>> => (await (await node.api(`/api/torrents/${ih}`)).json()) as Record<string, any>;

/** Polls fn until it returns something other than undefined. */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export interface RunningCascade {
  child: ChildProcess;
  /** The JSON events it printed so far (it runs with --json). */
  events: Record<string, any>[];
  /** The first event of that name, waited for (fails when the process exits first). */
  event: (name: string, ms?: number) => Promise<Record<string, any>>;
  stderr: () => string;
  /** SIGTERM, then its exit. */
  stop: () => Promise<number | null>;
}

/** A long-running `cascade ARGS… --json` (seed, download --seed), its events read as they come. */
export function startCascade(t: T, args: string[]): RunningCascade {
  const child = spawn(process.execPath, [MAIN, ...args, '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CASCADE_HOME: '/nonexistent-cascade-home', CASCADE_PORT_MAPPING: 'off' },
  });
  t.after(() => void child.kill('SIGKILL'));
  const events: Record<string, any>[] = [];
  let buf = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  child.stdout!.setEncoding('utf8').on('data', (c: string) => {
    buf += c;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.startsWith('{')) events.push(JSON.parse(line) as Record<string, any>);
    }
  });
  const event = async (name: string, ms = 60_000) => {
    const end = Date.now() + ms;
    for (;;) {
      const e = events.find((x) => x.event === name);
      if (e) return e;
      if (child.exitCode !== null || Date.now() > end) throw new Error(`no ${name} event: ${JSON.stringify(events.slice(-5))} ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    return child.exitCode;
  };
  return { child, events, event, stderr: () => stderr, stop };
}
