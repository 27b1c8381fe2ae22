// Shared harness for the interop tests against real BitTorrent clients (libtorrent via lt.py,
// aria2c) and the `cascade` CLI. Everything binds to 127.0.0.1 and uses OS-assigned ports.
//
// Processes: every spawned child is registered; `track(t, proc)` kills it when the test ends and
// `killAll()` kills whatever is left (also run on process exit). Temp dirs: `tempDir(t)` removes
// the directory when the test ends.

import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';

export const INTEROP_DIR = import.meta.dirname;
/** The CLI entry point, run as `node CLI_MAIN ...`; CASCADE_CLI overrides it (e.g. to test the harness). */
export const CLI_MAIN = process.env.CASCADE_CLI ? resolve(process.env.CASCADE_CLI) : join(REPO_ROOT, 'packages/cli/src/main.ts');
/** python3-libtorrent is only importable from the system python (pyenv's python3 lacks it). */
export const PYTHON = '/usr/bin/python3';
export const LT_PY = join(INTEROP_DIR, 'lt.py');

import { describeProc, killAll, REPO_ROOT, spawnJson, track, waitForEvent, waitForExit, type ExitInfo, type JsonEvent, type JsonProc } from './procs.ts';

export * from './procs.ts';

// ------------------------------------------------------------------------------------------------
// Temp dirs, ports, files

export async function tempDir(t: TestContext | undefined, prefix = 'cascade-interop-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  if (t) {
    t.after(async () => {
      // Processes still writing into the dir would race the removal.
      await killAll(t);
      await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    });
  }
  return dir;
}

/** A TCP port that was free a moment ago on 127.0.0.1 (for clients that cannot take port 0). */
export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
  });
}

/** relative path (with "/") → size in bytes. */
export type FileSpec = Record<string, number>;

/** A single odd-sized file (not a multiple of any piece size). */
export const SINGLE_FILE_SPEC: FileSpec = { 'single-fixture.bin': 1_500_001 };

/**
 * A multi-file tree: nested dirs, odd sizes so pieces span file boundaries, one file smaller than a
 * piece. Names are chosen so that every common ordering (full-path sort, per-directory sort,
 * files-before-directories) agrees: libtorrent's and Cascade's file orders must match.
 */
export const MULTI_FILE_SPEC: FileSpec = {
  'a-first.bin': 1_048_577,
  'b-odd.dat': 77_777,
  'c-dir/d-inner.bin': 400_000,
  'c-dir/e-sub/f-deep.bin': 250_001,
  'c-dir/e-sub/g-small.txt': 1_000,
};

/** Writes random content for each entry of `spec` under `dir` (creating parents). */
export async function makeRandomFiles(dir: string, spec: FileSpec): Promise<void> {
  for (const [rel, size] of Object.entries(spec)) {
    const file = join(dir, ...rel.split('/'));
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, size > 0 ? randomBytes(size) : Buffer.alloc(0));
  }
}

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** relative path ("/"-separated) → sha256 of every regular file under `root` (or of `root` itself if a file). */
export async function hashTree(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const st = await stat(root);
  if (st.isFile()) {
    out['.'] = await sha256File(root);
    return out;
  }
  const walk = async (dir: string) => {
    for (const ent of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, ent.name);
      if (ent.isDirectory()) await walk(p);
      else if (ent.isFile()) out[relative(root, p).split(sep).join('/')] = await sha256File(p);
    }
  };
  await walk(root);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Asserts that `actual` (file or directory) has exactly the files of `expected`, byte for byte. */
export async function compareTrees(expected: string, actual: string): Promise<void> {
  assert.ok(existsSync(actual), `expected download at ${actual}, but nothing is there`);
  const [e, a] = await Promise.all([hashTree(expected), hashTree(actual)]);
  assert.deepEqual(a, e, `content of ${actual} differs from ${expected}`);
}

// ------------------------------------------------------------------------------------------------
// Real clients

const checked = new Map<string, string | null>();

/** Throws a clear error if a real client needed by the test is not installed. */
export function requireClient(which: 'libtorrent' | 'aria2c' | 'cascade'): void {
  if (!checked.has(which)) {
    let problem: string | null = null;
    if (which === 'libtorrent') {
      const r = spawnSync(PYTHON, ['-c', 'import libtorrent; print(libtorrent.__version__)'], { encoding: 'utf8' });
      if (r.status !== 0) {
        problem =
          `python3-libtorrent is not importable from ${PYTHON} (${(r.stderr || String(r.error)).trim()}); ` +
          'install it with `apt-get install python3-libtorrent`';
      }
    } else if (which === 'aria2c') {
      const r = spawnSync('aria2c', ['--version'], { encoding: 'utf8' });
      if (r.status !== 0) problem = 'aria2c is not installed (or not on PATH); install it with `apt-get install aria2`';
    } else {
      if (!existsSync(CLI_MAIN)) problem = `the Cascade CLI entry point ${CLI_MAIN} does not exist`;
      const major = Number(process.versions.node.split('.')[0]);
      if (major < 24) problem = `Node ${process.versions.node} runs the tests; Cascade needs Node >= 24 (use node_modules/.bin/node)`;
    }
    checked.set(which, problem);
  }
  const problem = checked.get(which);
  if (problem) throw new Error(`interop prerequisite missing: ${problem}`);
}

// --- libtorrent (lt.py) ---

/** Runs an lt.py command to completion; returns its events and exit status. */
export async function ltRun(args: string[], timeoutMs = 60_000): Promise<{ proc: JsonProc; exit: ExitInfo }> {
  requireClient('libtorrent');
  const proc = spawnJson(`lt.py ${args[0]}`, PYTHON, [LT_PY, ...args]);
  proc.child.stdin!.end();
  const exit = await waitForExit(proc, timeoutMs);
  return { proc, exit };
}

export interface LtTorrentInfo {
  infoHash: string;
  name: string;
  files: { path: string; size: number }[];
  totalSize: number;
  pieceLength: number;
  numPieces: number;
  private: boolean;
  trackers: string[];
  webSeeds: string[];
}

/** libtorrent's view of a .torrent file. */
export async function ltInfo(torrent: string): Promise<LtTorrentInfo> {
  const { proc, exit } = await ltRun(['infohash', torrent], 20_000);
  assert.equal(exit.code, 0, `libtorrent could not load ${torrent}:\n${describeProc(proc)}`);
  const ev = proc.events[0];
  assert.ok(ev && typeof ev.infoHash === 'string', `no infohash from lt.py:\n${describeProc(proc)}`);
  return ev as unknown as LtTorrentInfo;
}

/** libtorrent create_torrent (v1 only, files in sorted order) → {infoHash, magnet}. */
export async function ltCreate(
  path: string,
  out: string,
  opts: { pieceLength: number; announce?: string[]; private?: boolean },
): Promise<{ infoHash: string; magnet: string; torrent: string }> {
  const args = ['create', path, out, '--piece-length', String(opts.pieceLength)];
  for (const a of opts.announce ?? []) args.push('--announce', a);
  if (opts.private) args.push('--private');
  const { proc, exit } = await ltRun(args, 30_000);
  assert.equal(exit.code, 0, `lt.py create failed:\n${describeProc(proc)}`);
  const ev = proc.events.find((e) => e.event === 'created');
  assert.ok(ev, `lt.py create printed no "created" event:\n${describeProc(proc)}`);
  return ev as unknown as { infoHash: string; magnet: string; torrent: string };
}

/** libtorrent full hash check of `savePath` against `torrent`. */
export async function ltCheck(torrent: string, savePath: string): Promise<{ complete: boolean; event: JsonEvent; proc: JsonProc }> {
  const { proc, exit } = await ltRun(['check', torrent, savePath], 30_000);
  const event = proc.events.find((e) => e.event === 'checked');
  assert.ok(event, `lt.py check printed no "checked" event:\n${describeProc(proc)}`);
  return { complete: exit.code === 0, event, proc };
}

export interface Seeder {
  proc: JsonProc;
  port: number;
}

/**
 * Starts a libtorrent seeder for `torrent` with data under `savePath`; resolves once libtorrent
 * has checked the data and is seeding. Killed when the test ends.
 */
export async function startLibtorrent(
  t: TestContext,
  torrent: string,
  savePath: string,
  opts: { uploadRate?: number } = {},
): Promise<Seeder> {
  requireClient('libtorrent');
  const args = [LT_PY, 'seed', torrent, savePath];
  if (opts.uploadRate) args.push('--upload-rate', String(opts.uploadRate));
  const proc = track(t, spawnJson('libtorrent-seed', PYTHON, args));
  const listening = await waitForEvent(proc, 'listening', { timeoutMs: 15_000 });
  await waitForEvent(proc, 'seeding', { timeoutMs: 30_000 });
  return { proc, port: Number(listening.port) };
}

/** Starts `lt.py download`; use waitForExit on the result. Killed when the test ends. */
export function ltDownload(
  t: TestContext,
  source: string,
  savePath: string,
  opts: { peers?: string[]; timeoutSec?: number } = {},
): JsonProc {
  requireClient('libtorrent');
  const args = [LT_PY, 'download', source, savePath, '--timeout', String(opts.timeoutSec ?? 45)];
  for (const p of opts.peers ?? []) args.push('--peer', p);
  return track(t, spawnJson('libtorrent-download', PYTHON, args));
}

// --- cascade CLI ---

export interface CascadeOpts {
  /** --state-dir; a fresh temp dir (removed after the test) when omitted. */
  stateDir?: string;
  /** Leave DHT on (omit --no-dht). Default false. */
  dht?: boolean;
  /** Add `--host 127.0.0.1 --port 0` (node commands: seed, download). Default true except for create. */
  node?: boolean;
  onEvent?: (e: JsonEvent) => void;
}

/**
 * Builds the argv for the Cascade CLI: `<command> ...args --json [--no-dht] --state-dir DIR
 * [--host 127.0.0.1 --port 0]`. `args` may contain its own --port, which then wins.
 */
export function cascadeArgv(command: string, args: string[], stateDir: string, opts: CascadeOpts = {}): string[] {
  const argv = [CLI_MAIN, command, ...args, '--json', '--state-dir', stateDir];
  const node = opts.node ?? command !== 'create';
  if (node) {
    if (!opts.dht) argv.push('--no-dht');
    if (!args.includes('--host')) argv.push('--host', '127.0.0.1');
    if (!args.includes('--port')) argv.push('--port', '0');
  }
  return argv;
}

/** Spawns a long-running `cascade` process (seed / download). Killed when the test ends. */
export async function spawnCascade(t: TestContext, command: string, args: string[], opts: CascadeOpts = {}): Promise<JsonProc> {
  requireClient('cascade');
  const stateDir = opts.stateDir ?? (await tempDir(t, 'cascade-state-'));
  const proc = spawnJson(`cascade ${command}`, process.execPath, cascadeArgv(command, args, stateDir, opts), {
    cwd: REPO_ROOT,
    onEvent: opts.onEvent,
  });
  return track(t, proc);
}

/** Runs `cascade <command> ...` to completion (killed after `timeoutMs`). */
export async function cascade(
  t: TestContext,
  command: string,
  args: string[],
  opts: CascadeOpts & { timeoutMs?: number } = {},
): Promise<{ proc: JsonProc; exit: ExitInfo; events: JsonEvent[] }> {
  const proc = await spawnCascade(t, command, args, opts);
  proc.child.stdin!.end();
  const exit = await waitForExit(proc, opts.timeoutMs ?? 60_000);
  return { proc, exit, events: proc.events };
}

/** Starts `cascade seed`; resolves once it is listening and seeding. */
export async function startCascadeSeed(
  t: TestContext,
  torrent: string,
  dir: string,
  opts: CascadeOpts & { extraArgs?: string[] } = {},
): Promise<Seeder> {
  const proc = await spawnCascade(t, 'seed', [torrent, '--dir', dir, ...(opts.extraArgs ?? [])], opts);
  const listening = await waitForEvent(proc, 'listening', { timeoutMs: 20_000 });
  await waitForEvent(proc, 'seeding', { timeoutMs: 30_000 });
  const port = Number(listening.port);
  assert.ok(port > 0, `cascade seed reported no usable port:\n${describeProc(proc)}`);
  return { proc, port };
}

/** Asserts a finished `cascade download`: exit 0 and a `done` event (with `infoHash` if given). */
export function assertCascadeDone(proc: JsonProc, exit: ExitInfo, infoHash?: string): JsonEvent {
  assert.equal(exit.code, 0, `cascade download did not exit 0:\n${describeProc(proc)}`);
  const done = proc.events.find((e) => e.event === 'done');
  assert.ok(done, `cascade download exited 0 without a "done" event:\n${describeProc(proc)}`);
  if (infoHash) {
    assert.equal(String(done.infoHash).toLowerCase(), infoHash.toLowerCase(), 'done event carries the wrong infohash');
  }
  return done;
}

/** Runs `cascade create` (a v1 torrent unless `extra` says otherwise); returns its --json result. */
export async function cascadeCreate(
  t: TestContext,
  path: string,
  out: string,
  extra: string[] = [],
): Promise<{ infoHash: string; magnet: string; torrent: string }> {
  const { proc, exit } = await cascade(t, 'create', [path, '-o', out, ...extra], { timeoutMs: 30_000 });
  assert.equal(exit.code, 0, `cascade create failed:\n${describeProc(proc)}`);
  const made = proc.events.find((e) => typeof e['magnet'] === 'string');
  assert.ok(made, `cascade create printed no {"magnet", "infoHash", …} line:\n${describeProc(proc)}`);
  assert.match(String(made['infoHash']), /^[0-9a-f]{40}$/i, 'create\'s infoHash is not 40 hex chars');
  assert.ok(existsSync(out), `cascade create did not write ${out}`);
  return { infoHash: String(made['infoHash']), magnet: String(made['magnet']), torrent: out };
}

/** A bare magnet for an infohash (no name, no trackers). */
export function bareMagnet(infoHash: string): string {
  return `magnet:?xt=urn:btih:${infoHash.toLowerCase()}`;
}

// --- aria2 ---

/**
 * Starts aria2c downloading `torrent` into `dir` (exits 0 when done; --seed-time=0). aria2 cannot
 * be given a peer address, so the torrent must name a reachable tracker. Killed when the test ends.
 */
export async function aria2Download(t: TestContext, torrent: string, dir: string, opts: { stopAfterSec?: number } = {}): Promise<JsonProc> {
  requireClient('aria2c');
  const listenPort = await freePort();
  const args = [
    '--enable-dht=false',
    '--enable-dht6=false',
    '--bt-enable-lpd=false',
    '--enable-peer-exchange=false',
    '--disable-ipv6=true',
    '--interface=127.0.0.1',
    `--listen-port=${listenPort}`,
    '--seed-time=0',
    '--bt-tracker-connect-timeout=10',
    '--bt-tracker-timeout=10',
    // Re-announce every 2 s whatever the tracker's interval, in case the seeder announced late.
    '--bt-tracker-interval=2',
    `--stop=${opts.stopAfterSec ?? 50}`,
    '--file-allocation=none',
    '--allow-overwrite=true',
    '--auto-file-renaming=false',
    '--summary-interval=0',
    '--console-log-level=notice',
    `--dir=${dir}`,
    torrent,
  ];
  const proc = spawnJson('aria2c', 'aria2c', args);
  proc.child.stdin!.end();
  return track(t, proc);
}
