// The churn the cluster's members are killed in the middle of: adds (placed on two members, which
// fetch them from libtorrent and from each other), removes with data, moves of every holder's copy
// (relative paths: each member's under its own download dir), pauses and resumes and rechecks, each
// through a random live member's API, as a balancer in front of the cluster sends them. What was
// acknowledged is the model the checks hold the cluster to; what was in flight at a kill may go
// either way and is settled by what the cluster shows after it.

import type { Payload } from './rig.ts';
import type { ClusterRig, Member } from './cluster-rig.ts';
import { sleep } from './rig.ts';

export type ClusterOp = 'add' | 'remove' | 'move' | 'pause' | 'resume' | 'recheck';

export interface ClusterTracked {
  p: Payload;
  /** The add was answered (else in flight at a kill, and settled by what the members list). */
  acked: boolean;
  paused: boolean;
  /** The relative folder its copies were last moved to ('' = each member's download dir). */
  folder: string;
}

export const FOLDERS = ['', 'moved-a', 'moved-b'];

export class ClusterChurn {
  readonly torrents = new Map<string, ClusterTracked>();
  /** Removes the cluster acknowledged (and not added again since). */
  readonly removed = new Set<string>();
  /** Removes asked of each torrent so far (a copy whose torrent was removed since a point gave up
   *  its pieces: checks tell that from a loss). */
  readonly removesAsked = new Map<string, number>();
  /** Operations in flight, by infohash. */
  readonly inFlight = new Map<string, ClusterOp>();
  readonly counts: Record<string, number> = {};
  /** Answers that were neither success nor a member going away (refusals, timeouts). */
  readonly errors: string[] = [];
  readonly #pool: Payload[];
  readonly #rig: ClusterRig;
  readonly #target: number;
  #running: Promise<void>[] = [];
  #stop = false;

  constructor(rig: ClusterRig, pool: Payload[], target: number) {
    this.#rig = rig;
    this.#pool = [...pool];
    this.#target = target;
  }

  /** `workers` loops of one operation every 100-500 ms, until pause(). */
  run(workers = 2): void {
    this.#stop = false;
    this.#running = Array.from({ length: workers }, async () => {
      while (!this.#stop) {
        await this.step();
        await sleep(100 + Math.random() * 400);
      }
    });
  }

  /** Stops the loops and waits for the operations in flight to be answered (or to fail). */
  async pause(): Promise<void> {
    this.#stop = true;
    await Promise.all(this.#running);
    this.#running = [];
  }

  async step(): Promise<void> {
    const live = this.#rig.live();
    if (live.length === 0) return;
    const m = live[Math.floor(Math.random() * live.length)]!;
    const idle = [...this.torrents.values()].filter((t) => t.acked && !this.inFlight.has(t.p.ih));
    const t = idle[Math.floor(Math.random() * idle.length)];
    const r = Math.random();
    if ((this.torrents.size < this.#target || r < 0.1) && this.#pool.length > 0) return this.#add(m);
    if (!t) return;
    if (r < 0.22) return this.#op(m, t, 'remove', `/api/torrents/${t.p.ih}?deleteData=true`, { method: 'DELETE' });
    if (r < 0.45) {
      const folder = FOLDERS[1 + Math.floor(Math.random() * 2)]!;
      if (folder === t.folder) return;
      return this.#op(m, t, 'move', `/api/torrents/${t.p.ih}`, { method: 'PATCH', body: JSON.stringify({ savePath: folder }) }, () => (t.folder = folder));
    }
    if (r < 0.75) {
      const op = t.paused ? 'resume' : 'pause';
      return this.#op(m, t, op, `/api/torrents/${t.p.ih}/${op}`, { method: 'POST' }, () => (t.paused = !t.paused));
    }
    if (r < 0.85) return this.#op(m, t, 'recheck', `/api/torrents/${t.p.ih}/recheck`, { method: 'POST' });
  }

  async #add(m: Member): Promise<void> {
    const p = this.#pool.splice(Math.floor(Math.random() * this.#pool.length), 1)[0]!;
    const t: ClusterTracked = { p, acked: false, paused: false, folder: '' };
    this.torrents.set(p.ih, t);
    this.inFlight.set(p.ih, 'add');
    try {
      this.#rig.trace(`${m.name} add ${p.ih.slice(0, 8)} asked`);
      await this.#rig.json(m, '/api/torrents', { method: 'POST', body: JSON.stringify({ uri: p.uri, peers: [this.#rig.seeder.peer] }) });
      this.#rig.trace(`${m.name} add ${p.ih.slice(0, 8)} acknowledged`);
      t.acked = true;
      this.removed.delete(p.ih);
      this.#count('add');
    } catch (err) {
      this.#failed(m, 'add', err); // settled at the next check: there or not
    } finally {
      this.inFlight.delete(p.ih);
    }
  }

  async #op(m: Member, t: ClusterTracked, op: ClusterOp, path: string, init: RequestInit, onAck?: () => void): Promise<void> {
    this.inFlight.set(t.p.ih, op);
    if (op === 'remove') this.removesAsked.set(t.p.ih, (this.removesAsked.get(t.p.ih) ?? 0) + 1);
    this.#rig.trace(`${m.name} ${op} ${t.p.ih.slice(0, 8)} ${init.body ?? ''} asked`);
    try {
      const res = await this.#rig.json(m, path, init).then(() => true, (err: Error) => {
        // A recheck of a paused copy, or of one still checking, is refused by the API's rule.
        if (op === 'recheck' && / 409 /.test(err.message)) return false;
        throw err;
      });
      this.#rig.trace(`${m.name} ${op} ${t.p.ih.slice(0, 8)} ${res ? 'acknowledged' : 'refused (409)'}`);
      if (!res) return;
      onAck?.();
      if (op === 'remove') {
        this.torrents.delete(t.p.ih);
        this.removed.add(t.p.ih);
        this.#pool.push(t.p);
      }
      this.#count(op);
    } catch (err) {
      this.#failed(m, op, err);
      // A remove or a pause in flight at a kill: settled by what the cluster shows after it.
      if (op === 'remove') t.acked = false;
    } finally {
      this.inFlight.delete(t.p.ih);
    }
  }

  /** Settles an add or remove the kill left unanswered by what the members list. */
  settle(listed: Set<string>): void {
    for (const [ih, t] of [...this.torrents]) {
      if (t.acked) continue;
      if (listed.has(ih)) (t.acked = true), this.removed.delete(ih);
      else this.torrents.delete(ih), this.#pool.push(t.p);
    }
  }

  #failed(m: Member, op: string, err: unknown): void {
    this.#rig.trace(`${m.name} ${op} failed: ${(err as Error).message.slice(0, 300)}`);
    // The member was killed under the request: expected, and the outcome is settled later.
    if (!m.node) return;
    const message = (err as Error).message;
    if (/fetch failed|ECONNRESET|ECONNREFUSED|socket hang up|other side closed/.test(message)) return;
    this.errors.push(`${new Date().toISOString()} ${m.name} ${op}: ${message.slice(0, 240)}`);
  }

  #count(op: string): void {
    this.counts[op] = (this.counts[op] ?? 0) + 1;
  }
}
