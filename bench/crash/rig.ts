// The crash harness's fixtures (issue 63, item 3): a `cascade serve` node started and SIGKILLed
// again and again on one state dir, libtorrent seeding the payloads it downloads at a capped rate,
// and the payloads themselves (public torrents, single- and multi-file, and private shares by link)
// with what each file must hold. Used by bench/crash/run.ts (200 kills) and test/crash (20).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { createTorrent, type Metainfo } from '@cascade/engine';

const REPO = join(import.meta.dirname, '..', '..');
const MAIN = join(REPO, 'packages/cli/src/main.ts');
const SEEDER = join(import.meta.dirname, 'seeder.py');

export interface Payload {
  kind: 'public' | 'private';
  ih: string;
  /** What the node is given: a magnet (public) or the share's link with its key (private). */
  uri: string;
  /** Public torrents: the metainfo whose piece hashes the data on the node's disk must match. */
  meta?: Metainfo;
  /** SHA-256 of each file's plaintext, by its path below the torrent's folder ('' for a single file). */
  files: Map<string, string>;
  /** Bytes the torrent carries (ciphertext for a private share). */
  length: number;
  pieceLength: number;
}

export interface RigOptions {
  root?: string;
  /** The seeder's upload cap, bytes/s (all torrents together). */
  rate: number;
  chain?: boolean;
  /** More environment for the node (a fault test's LD_PRELOAD). */
  env?: Record<string, string>;
  log?: (line: string) => void;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** One `cascade serve` run: its API and how long it took to serve. */
export interface NodeRun {
  child: ChildProcess;
  url: string;
  startMs: number;
  events: Record<string, any>[];
}

export class Rig {
  readonly root: string;
  readonly stateDir: string;
  readonly downloadDir: string;
  readonly host = `127.0.0.${2 + Math.floor(Math.random() * 250)}`;
  readonly #opts: RigOptions;
  #seeder: ChildProcess | undefined;
  #seederPort = 0;
  #seeding = new Set<string>();
  #seederWaiters: (() => void)[] = [];
  token = '';
  node: NodeRun | undefined;
  /** The node's process from its spawn on (a kill may come during its start). */
  #child: ChildProcess | undefined;
  #count = 0;

  constructor(opts: RigOptions) {
    this.#opts = opts;
    this.root = opts.root ?? mkdtempSync(join(tmpdir(), 'cascade-crash-'));
    this.stateDir = join(this.root, 'state');
    this.downloadDir = join(this.root, 'dl');
    mkdirSync(this.downloadDir, { recursive: true });
    // A run stopped halfway (Ctrl-C: run.ts exits on it) leaves no process and no files behind.
    process.once('exit', this.#exitCleanup);
  }

  readonly #exitCleanup = () => {
    this.#child?.kill('SIGKILL');
    this.#seeder?.kill('SIGKILL');
    if (!this.#opts.root) rmSync(this.root, { recursive: true, force: true });
  };

  get peer(): string {
    return `127.0.0.1:${this.#seederPort}`;
  }

  /** libtorrent, seeding nothing yet. */
  async startSeeder(): Promise<void> {
    const child = spawn('/usr/bin/python3', [SEEDER, String(this.#opts.rate)], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.#seeder = child;
    let buf = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout!.setEncoding('utf8').on('data', (c: string) => {
        buf += c;
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          const [word, arg] = line.split(' ');
          if (word === 'port') (this.#seederPort = Number(arg)), resolve();
          if (word === 'seeding') this.#seeding.add(arg!), this.#seederWaiters.splice(0).forEach((w) => w());
        }
      });
      child.once('exit', (code) => reject(new Error(`seeder exited ${code}`)));
    });
  }

  async #seed(torrentPath: string, dir: string, ih: string): Promise<void> {
    this.#seeder!.stdin!.write(`${torrentPath}\t${dir}\n`);
    const end = Date.now() + 60_000;
    while (!this.#seeding.has(ih)) {
      if (Date.now() > end) throw new Error(`libtorrent never seeded ${ih}`);
      await new Promise<void>((r) => (this.#seederWaiters.push(r), setTimeout(r, 500)));
    }
  }

  /** A public torrent of random bytes (one file, or a folder of `files`), seeded by libtorrent. */
  async publicPayload(bytes: number, files = 1, pieceLength = 16384): Promise<Payload> {
    const n = this.#count++;
    const src = join(this.root, 'src', `p${n}`);
    const name = `crash-${n}${files === 1 ? '.bin' : ''}`;
    const hashes = new Map<string, string>();
    if (files === 1) {
      mkdirSync(src, { recursive: true });
      const data = randomBytes(bytes);
      writeFileSync(join(src, name), data);
      hashes.set('', sha256(data));
    } else {
      mkdirSync(join(src, name, 'sub'), { recursive: true });
      for (let f = 0; f < files; f++) {
        const rel = f === 0 ? `sub/f${f}.bin` : `f${f}.bin`;
        const data = randomBytes(Math.floor(bytes / files) + f * 1000);
        writeFileSync(join(src, name, rel), data);
        hashes.set(rel, sha256(data));
      }
    }
    const made = await createTorrent(join(src, name), { pieceLength });
    const torrentPath = join(this.root, 'src', `p${n}.torrent`);
    writeFileSync(torrentPath, made.torrent);
    const ih = made.metainfo.infoHashHex;
    await this.#seed(torrentPath, src, ih);
    return { kind: 'public', ih, uri: `magnet:?xt=urn:btih:${ih}&dn=${encodeURIComponent(name)}`, meta: made.metainfo, files: hashes, length: made.metainfo.length, pieceLength };
  }

  /** A private share by link (`cascade create --encrypt`): libtorrent seeds the ciphertext, the
   *  node decrypts as it downloads and keeps the plaintext. */
  async privatePayload(bytes: number): Promise<Payload> {
    const n = this.#count++;
    const src = join(this.root, 'src', `s${n}`);
    mkdirSync(src, { recursive: true });
    const data = randomBytes(bytes);
    const plain = join(src, `secret-${n}.bin`);
    writeFileSync(plain, data);
    const out = join(src, 'cipher');
    mkdirSync(out);
    const r = spawnSync(process.execPath, [MAIN, 'create', plain, '--encrypt', '-o', join(out, 'share.torrent'), '--json'], { encoding: 'utf8', env: { ...process.env, CASCADE_HOME: '/nonexistent' } });
    if (r.status !== 0) throw new Error(`cascade create --encrypt: exit ${r.status ?? r.signal}: ${r.stdout}${r.stderr}`);
    const ev = JSON.parse(r.stdout.split('\n').find((l) => l.startsWith('{'))!) as { infoHash: string; link: string; torrent: string; data: string };
    await this.#seed(ev.torrent, dirname(ev.data), ev.infoHash);
    const info = readFileSync(ev.data).length;
    return { kind: 'private', ih: ev.infoHash, uri: ev.link, files: new Map([['', sha256(data)]]), length: info, pieceLength: 0 };
  }

  /** Starts the node on the state dir; resolves once it serves. */
  async start(): Promise<NodeRun> {
    if (this.#child) throw new Error('a node is running already: kill it first');
    const args = [MAIN, 'serve', '--json', '--host', this.host, '--http-port', '0', '--port', '0', '--tracker-port', '0', '--no-dht',
      '--state-dir', this.stateDir, '--download-dir', this.downloadDir, ...(this.#opts.chain ? [] : ['--no-chain'])];
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CASCADE_PORT_MAPPING: 'off', CASCADE_LSD: 'off', CASCADE_HOME: '/nonexistent', ...this.#opts.env } });
    this.#child = child;
    child.once('exit', () => this.#child === child && (this.#child = undefined));
    const events: Record<string, any>[] = [];
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-4000)));
    let buf = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not serve in 120 s: ${stderr}`)), 120_000);
      child.stdout!.setEncoding('utf8').on('data', (c: string) => {
        buf += c;
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          // CRASH_TRACE=FILE keeps every line of every node run, stamped (ms), to follow one torrent across kills.
          this.trace(line);
          if (!line.startsWith('{')) continue;
          try {
            const e = JSON.parse(line) as Record<string, any>;
            events.push(e);
            if (events.length > 200) events.shift();
            if (e.event === 'serving') clearTimeout(timer), resolve();
          } catch {
            // a line that is not ours
          }
        }
      });
      child.once('exit', (code, sig) => (clearTimeout(timer), reject(new Error(`serve exited ${code ?? sig}: ${stderr} ${JSON.stringify(events.slice(-3))} ${buf.slice(-500)}`))));
    });
    const listening = events.find((e) => e.event === 'listening')!;
    this.node = { child, url: listening.url as string, startMs: performance.now() - t0, events };
    if (!this.token) {
      const r = spawnSync(process.execPath, [MAIN, 'token', '--json', '--state-dir', this.stateDir], { encoding: 'utf8' });
      this.token = JSON.parse(r.stdout).token as string;
    }
    return this.node;
  }

  /** SIGKILL, and its exit. */
  async kill(): Promise<void> {
    const child = this.#child;
    this.node = undefined;
    this.#child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  /** Adds a payload to the node, to download from the seeder into `savePath`; resolves once acknowledged. */
  async add(p: Payload, savePath = this.downloadDir): Promise<void> {
    await this.json('/api/torrents', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ uri: p.uri, peers: [this.peer], savePath }) });
  }

  async api(path: string, init: RequestInit = {}): Promise<Response> {
    const node = this.node;
    if (!node) throw new Error('no node running');
    return fetch(`${node.url}${path}`, { ...init, signal: init.signal ?? AbortSignal.timeout(30_000), headers: { authorization: `Bearer ${this.token}`, ...(init.headers ?? {}) } });
  }

  async json<T = any>(path: string, init: RequestInit = {}): Promise<T> {
    const r = await this.api(path, init);
    const body = await r.text();
    if (!r.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${r.status} ${body.slice(0, 300)}`);
    return JSON.parse(body) as T;
  }

  /** The state DB checked as the kill left it, read-only, before the node opens it again. */
  integrity(): string {
    const db = new DatabaseSync(join(this.stateDir, 'cascade.db'), { readOnly: true });
    try {
      const rows = db.prepare('PRAGMA integrity_check').all() as { integrity_check: string }[];
      return rows.map((r) => r.integrity_check).join('; ');
    } finally {
      db.close();
    }
  }

  /** The state's resume rows (have in hex, files' stats as saved), read-only: CRASH_TRACE's diagnostics. */
  resumeRows(): Map<string, string> {
    const db = new DatabaseSync(join(this.stateDir, 'cascade.db'), { readOnly: true });
    try {
      const rows = db.prepare('SELECT info_hash, hex(have) AS have, files, updated_at FROM resume').all() as { info_hash: string; have: string; files: string; updated_at: number }[];
      return new Map(rows.map((r) => [r.info_hash, `have ${r.have} files ${r.files} at ${r.updated_at}`]));
    } finally {
      db.close();
    }
  }

  /** CRASH_TRACE: a line in the trace file. */
  trace(line: string): void {
    if (process.env.CRASH_TRACE) appendFileSync(process.env.CRASH_TRACE, `${Date.now()} ${line}\n`);
  }

  /** Kills what it started (node, seeder) and removes its files. */
  async dispose(): Promise<void> {
    await this.kill().catch(() => {});
    this.#seeder?.kill('SIGKILL');
    // CRASH_KEEP=1 keeps the state dir, downloads and payloads to read a finding with (as cluster-rig).
    if (process.env.CRASH_KEEP) console.log(`kept ${this.root}`);
    else if (!this.#opts.root) rmSync(this.root, { recursive: true, force: true });
    process.removeListener('exit', this.#exitCleanup);
  }
}
