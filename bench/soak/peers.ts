// Real transfers that come and go: libtorrent (Debian's python3-libtorrent, test/interop/lt.py)
// downloading from the node and seeding to it, and a second Cascade (`cascade download`, its own
// state dir, DHT through the node on loopback) fetching from it — which signs receipts to the node
// as its seeder. Every peer and folder is gone once its transfer ends.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { apiJson, CLI_MAIN, exited, QUIET_ENV, REPO, stopChild, track, type SoakNode } from './node.ts';
import { makeTorrent, writeTorrentFile, type SoakTorrent } from './torrents.ts';

const PYTHON = '/usr/bin/python3';
const LT_PY = join(REPO, 'test/interop/lt.py');
const TRANSFER_BYTES = 1 << 20;
const PIECE = 64 * 1024;

export interface PeerStats {
  ltDownloads: number;
  ltSeeds: number;
  cascadeDownloads: number;
  errors: string[];
}

/** Runs a command to its end (or kills it after `timeoutMs`); rejects unless it exits 0, with the
 *  end of its stderr and of its stdout (`--json` says why it failed there: one soak's failed
 *  `cascade download` had nothing on stderr). */
function run(cmd: string, args: string[], timeoutMs: number, what: string): Promise<void> {
  const child = track(spawn(cmd, args, { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...QUIET_ENV } }));
  let err = '';
  let out = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err = (err + c).slice(-400)));
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out = (out + c).slice(-1200)));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  // Its last output read ('close'), but not waiting on a grandchild that kept the pipes open.
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return exited(child).then(() => Promise.race([closed, new Promise<void>((resolve) => setTimeout(resolve, 1_000).unref())])).then(() => {
    clearTimeout(timer);
    if (child.exitCode === 0) return;
    const lastLines = out.trim().split('\n').slice(-3).join(' | ').slice(-600);
    throw new Error(`${what}: exit ${child.exitCode ?? child.signalCode}: ${err.trim().slice(-200) || '(nothing on stderr)'}; its last output: ${lastLines || '(none)'}`);
  });
}

export class Peers {
  readonly stats: PeerStats = { ltDownloads: 0, ltSeeds: 0, cascadeDownloads: 0, errors: [] };
  /** Torrents the node seeds for the peers to fetch (added once, outside the churn). */
  readonly #seeded: { t: SoakTorrent; file: string }[] = [];

  readonly node: SoakNode;
  readonly root: string;
  constructor(node: SoakNode, root: string) {
    this.node = node;
    this.root = root;
  }

  async setup(count = 2): Promise<void> {
    const dir = join(this.root, 'transfer-src');
    for (let i = 0; i < count; i++) {
      const t = makeTorrent(dir, 'transfer', TRANSFER_BYTES, PIECE);
      const file = writeTorrentFile(join(this.root, 'torrent-files'), t);
      const form = new FormData();
      form.append('savePath', dir);
      form.append('torrent', new Blob([t.bytes as Uint8Array<ArrayBuffer>]), `${t.name}.torrent`);
      await apiJson(this.node, '/api/torrents', { method: 'POST', body: form });
      this.#seeded.push({ t, file });
    }
  }

  get infoHashes(): string[] {
    return this.#seeded.map((s) => s.t.infoHash);
  }

  #tmp(prefix: string): string {
    return mkdtempSync(join(this.root, prefix));
  }

  /** libtorrent fetches one of the node's torrents from it, then goes. */
  async libtorrentDownload(): Promise<void> {
    const s = this.#seeded[Math.floor(Math.random() * this.#seeded.length)]!;
    const dir = this.#tmp('lt-get-');
    try {
      await run(PYTHON, [LT_PY, 'download', s.file, dir, '--peer', `${this.node.host}:${this.node.bittorrentPort}`, '--timeout', '90'], 120_000, 'libtorrent download');
      this.stats.ltDownloads++;
    } catch (err) {
      this.stats.errors.push((err as Error).message);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** libtorrent seeds a new torrent; the node adds its magnet with libtorrent as a peer, downloads
   *  it whole, and the torrent is removed with its data once done. */
  async libtorrentSeed(): Promise<void> {
    const dir = this.#tmp('lt-seed-');
    const t = makeTorrent(dir, 'from-lt', TRANSFER_BYTES, PIECE);
    const file = writeTorrentFile(dir, t);
    const seeder = track(spawn(PYTHON, [LT_PY, 'seed', file, dir, '--port', '0'], { cwd: REPO, stdio: ['pipe', 'pipe', 'ignore'] }));
    let added = false;
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let buf = '';
        seeder.stdout!.setEncoding('utf8').on('data', (c: string) => {
          buf += c;
          const m = /"event": ?"listening", ?"port": ?(\d+)/.exec(buf);
          if (m) resolve(Number(m[1]));
        });
        void exited(seeder).then(() => reject(new Error('libtorrent seeder exited before listening')));
      });
      await apiJson(this.node, '/api/torrents', { method: 'POST', body: JSON.stringify({ uri: `magnet:?xt=urn:btih:${t.infoHash}`, peers: [`127.0.0.1:${port}`], savePath: join(this.root, 'from-peers') }) });
      added = true;
      const deadline = Date.now() + 120_000;
      for (;;) {
        const d = await apiJson<{ progress: number; state: string }>(this.node, `/api/torrents/${t.infoHash}`);
        if (d.progress >= 1) break;
        if (Date.now() > deadline) throw new Error(`node's download from libtorrent: ${Math.round(d.progress * 100)}% (${d.state}) after 120 s`);
        await new Promise((r) => setTimeout(r, 500));
      }
      this.stats.ltSeeds++;
    } catch (err) {
      this.stats.errors.push(`libtorrent seed: ${(err as Error).message}`);
    } finally {
      seeder.stdin!.end();
      await stopChild(seeder, 5_000);
      if (added) await apiJson(this.node, `/api/torrents/${t.infoHash}?deleteData=true`, { method: 'DELETE' }).catch((err: Error) => this.stats.errors.push(`remove: ${err.message}`));
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** A second Cascade fetches one of the node's torrents (signing it receipts), then goes. */
  async cascadeDownload(): Promise<void> {
    const s = this.#seeded[Math.floor(Math.random() * this.#seeded.length)]!;
    const dir = this.#tmp('cascade-get-');
    const dht = this.node.dhtPort !== undefined ? ['--dht-bootstrap', `${this.node.host}:${this.node.dhtPort}`] : ['--no-dht'];
    try {
      await run(process.execPath, [CLI_MAIN, 'download', s.file, '-o', join(dir, 'out'), '--peer', `${this.node.host}:${this.node.bittorrentPort}`, '--port', '0', ...dht, '--state-dir', join(dir, 'state'), '--json'], 120_000, 'cascade download');
      this.stats.cascadeDownloads++;
    } catch (err) {
      this.stats.errors.push((err as Error).message);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

export async function stopAll(children: Iterable<import('node:child_process').ChildProcess>): Promise<void> {
  await Promise.all([...children].map((c) => stopChild(c, 5_000)));
}
