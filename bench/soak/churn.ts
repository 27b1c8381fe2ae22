// The churn a month brings, compressed: adds and removes, pauses and resumes, rechecks, moves between
// two folders, renames (the torrent's name and its file on disk, through qBittorrent's API),
// category and tag edits, and now and then the `cascade` CLI itself. Each action goes through the
// node's real HTTP API (or CLI) and checks its answer; `errors` counts what the node refused.

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { api, apiJson, CLI_MAIN, QUIET_ENV, REPO, type SoakNode } from './node.ts';
import { makeTorrent, type SoakTorrent } from './torrents.ts';
import type { QbSession } from './clients.ts';

export interface Held {
  t: SoakTorrent;
  dir: string;
  paused: boolean;
}

export interface ChurnStats {
  actions: Record<string, number>;
  errors: string[];
}

const CATEGORIES = ['films', 'linux', 'music'];
const TAGS = ['hd', 'new', 'keep', 'old'];
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;

export class Churn {
  readonly held = new Map<string, Held>();
  readonly stats: ChurnStats = { actions: {}, errors: [] };
  readonly #dirs: [string, string];
  /** Where moves go, in turn: the two folders; in a cluster two relative paths, so that each holder
   *  moves its own copy under its own download dir (one machine's absolute path is every member's
   *  here, and two holders' copies would meet in it: 'already exists'). */
  readonly #moveTo: [string, string];
  /** One node (not a cluster, whose members answer only for the copies they hold). */
  readonly #single: boolean;

  readonly node: SoakNode;
  readonly qb: QbSession;
  /** How many torrents the node holds: adds and removes keep it there. */
  readonly target: number;

  constructor(node: SoakNode, qb: QbSession, root: string, target: number, opts: { movesPerMember?: boolean } = {}) {
    this.node = node;
    this.qb = qb;
    this.target = target;
    this.#dirs = [join(root, 'data-a'), join(root, 'data-b')];
    this.#moveTo = opts.movesPerMember ? ['moved-a', 'moved-b'] : this.#dirs;
    this.#single = !opts.movesPerMember;
  }

  async setup(): Promise<void> {
    for (const name of CATEGORIES) {
      const res = await api(this.node, '/api/categories', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
      if (!res.ok && res.status !== 409) throw new Error(`POST /api/categories ${name}: ${res.status} ${await res.text()}`);
    }
  }

  /** Adds torrents until `target` are held, `concurrency` at a time. */
  async fill(concurrency = 4, onProgress?: (n: number) => void): Promise<void> {
    let failed = 0;
    const worker = async () => {
      while (this.held.size < this.target) {
        try {
          await this.add();
        } catch (err) {
          // An add refused or unanswered is a finding, counted with the churn's; many is a node that does not serve.
          this.stats.errors.push(`${new Date().toISOString()} fill: ${(err as Error).message}`);
          if (++failed >= 20) throw new Error(`filling the library: ${failed} adds failed; the last: ${(err as Error).message}`);
        }
        onProgress?.(this.held.size);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }

  async add(): Promise<void> {
    const dir = pick(this.#dirs);
    const t = makeTorrent(dir, 'soak');
    this.held.set(t.infoHash, { t, dir, paused: false });
    const form = new FormData();
    form.append('savePath', dir);
    if (Math.random() < 0.3) form.append('category', pick(CATEGORIES));
    form.append('torrent', new Blob([t.bytes as Uint8Array<ArrayBuffer>], { type: 'application/x-bittorrent' }), `${t.name}.torrent`);
    // Unanswered (no status) or refused: not acknowledged, so not held (checkNoLoss asks only for acknowledged adds).
    const res = await api(this.node, '/api/torrents', { method: 'POST', body: form }).catch((err: Error) => {
      this.held.delete(t.infoHash);
      throw err;
    });
    const text = await res.text();
    if (res.status !== 201 && res.status !== 200) {
      this.held.delete(t.infoHash);
      throw new Error(`POST /api/torrents: ${res.status} ${text.slice(0, 200)}`);
    }
    this.#count('add');
  }

  async remove(h: Held): Promise<void> {
    this.held.delete(h.t.infoHash);
    await apiJson(this.node, `/api/torrents/${h.t.infoHash}?deleteData=true`, { method: 'DELETE' });
    this.#count('remove');
  }

  /** One action, chosen to keep the count at `target`. */
  async step(): Promise<void> {
    const all = [...this.held.values()];
    const h = pick(all);
    const r = Math.random();
    try {
      if (this.held.size < this.target) await this.add();
      else if (r < 0.12) await this.remove(h);
      else if (r < 0.26) await this.#pauseOrResume(h);
      else if (r < 0.34) await this.#recheck(h);
      else if (r < 0.44) await this.#move(h);
      else if (r < 0.54) await this.#rename(h);
      else if (r < 0.7) await this.#category(h);
      else if (r < 0.86) await this.#tags(h);
      else if (r < 0.88) await this.#cli(h);
      else await this.#limits(h);
    } catch (err) {
      this.stats.errors.push(`${new Date().toISOString()} ${(err as Error).message}`);
    }
  }

  async #pauseOrResume(h: Held): Promise<void> {
    const action = h.paused ? 'resume' : 'pause';
    await apiJson(this.node, `/api/torrents/${h.t.infoHash}/${action}`, { method: 'POST' });
    h.paused = !h.paused;
    this.#count(action);
  }

  async #recheck(h: Held): Promise<void> {
    // Now and then a "recheck all" of a selection, as cross-seeding tools send it: the checks take turns.
    if (this.#single && Math.random() < 0.125) {
      const hashes = [...this.held.keys()].sort(() => Math.random() - 0.5).slice(0, 20);
      await this.qb.post('torrents/recheck', { hashes: hashes.join('|') });
      this.#count('recheck-bulk');
      return;
    }
    const res = await api(this.node, `/api/torrents/${h.t.infoHash}/recheck`, { method: 'POST' });
    // 409: a paused torrent or one already checking is refused; that is the API's answer, not a fault.
    if (!res.ok && res.status !== 409) throw new Error(`recheck: ${res.status} ${await res.text()}`);
    else await res.arrayBuffer();
    this.#count('recheck');
  }

  async #move(h: Held): Promise<void> {
    const to = h.dir === this.#moveTo[0] ? this.#moveTo[1] : this.#moveTo[0];
    const res = await api(this.node, `/api/torrents/${h.t.infoHash}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ savePath: to }) });
    const text = await res.text();
    // 409 while its data is checked (or waits its turn to be): the API's answer, nothing moved.
    if (res.status === 409 && /being checked/.test(text)) return this.#count('move-refused-checking');
    if (!res.ok) throw new Error(`PATCH /api/torrents/${h.t.infoHash}: ${res.status} ${text.slice(0, 300)}`);
    h.dir = to;
    this.#count('move');
  }

  /** The torrent's name (qBittorrent's torrents/rename) or its file on disk (torrents/renameFile). */
  async #rename(h: Held): Promise<void> {
    if (Math.random() < 0.5) {
      await this.qb.post('torrents/rename', { hash: h.t.infoHash, name: `renamed ${Date.now()}` });
      this.#count('rename');
      return;
    }
    const files = (await this.qb.get(`torrents/files?hash=${h.t.infoHash}`)) as { name: string }[];
    const from = files[0]?.name;
    if (!from) return;
    const to = from.endsWith('.r.bin') ? from.replace(/\.r\.bin$/, '.bin') : from.replace(/\.bin$/, '.r.bin');
    try {
      await this.qb.post('torrents/renameFile', { hash: h.t.infoHash, oldPath: from, newPath: to });
    } catch (err) {
      // As a move: refused while its data is checked (or waits its turn to be).
      if (/: 409 .*being checked/.test((err as Error).message)) return this.#count('rename-refused-checking');
      throw err;
    }
    this.#count('rename-file');
  }

  async #category(h: Held): Promise<void> {
    await apiJson(this.node, `/api/torrents/${h.t.infoHash}`, { method: 'PATCH', body: JSON.stringify({ category: Math.random() < 0.25 ? null : pick(CATEGORIES) }) });
    this.#count('category');
  }

  async #tags(h: Held): Promise<void> {
    const tags = TAGS.filter(() => Math.random() < 0.4);
    await apiJson(this.node, `/api/torrents/${h.t.infoHash}`, { method: 'PATCH', body: JSON.stringify({ tags }) });
    this.#count('tags');
  }

  async #limits(h: Held): Promise<void> {
    const limit = Math.random() < 0.5 ? 0 : 1024 * (1 + Math.floor(Math.random() * 512));
    await apiJson(this.node, `/api/torrents/${h.t.infoHash}`, { method: 'PATCH', body: JSON.stringify({ uploadLimit: limit }) });
    this.#count('limits');
  }

  /** The CLI as a user types it: `cascade tags <hash> add T` against the running node. */
  #cli(h: Held): Promise<void> {
    return new Promise((resolve, reject) => {
      execFile(process.execPath, [CLI_MAIN, 'tags', h.t.infoHash, 'add', pick(TAGS), '--state-dir', this.node.stateDir], { cwd: REPO, env: { ...process.env, ...QUIET_ENV }, timeout: 60_000 }, (err, _out, stderr) => {
        if (err) reject(new Error(`cascade tags: ${stderr.slice(0, 200) || err.message}`));
        else {
          this.#count('cli');
          resolve();
        }
      });
    });
  }

  #count(action: string): void {
    this.stats.actions[action] = (this.stats.actions[action] ?? 0) + 1;
  }

  /** What must hold after the churn: every torrent the soak holds is listed, nothing else. */
  async checkNoLoss(): Promise<string[]> {
    const page = await apiJson<{ torrents: { infoHash: string; state: string }[]; total: number }>(this.node, '/api/torrents');
    const listed = new Map(page.torrents.map((x) => [x.infoHash, x.state]));
    const problems: string[] = [];
    for (const h of this.held.keys()) if (!listed.has(h)) problems.push(`lost: ${h} (acknowledged add, never removed)`);
    return problems;
  }
}
