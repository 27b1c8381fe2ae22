// The churn the node is killed in the middle of (issue 63, item 3): adds (of libtorrent's torrents,
// downloading at a capped rate, and of private shares decrypted as they come), moves, renames,
// rechecks, pauses and resumes, removes, settings changes and, with the chain, registrations, each
// through the node's own API (renames through its qBittorrent API, as a remote would). What the
// node acknowledged is written down (the model the checks hold it to); what was in flight when the
// kill came is reported, and its outcome may go either way.

import { join } from 'node:path';
import type { Payload, Rig } from './rig.ts';

export type OpName = 'add' | 'move' | 'rename' | 'recheck' | 'pause' | 'resume' | 'remove' | 'settings' | 'register';

/** What the node acknowledged about one torrent (its payload's infohash). */
export interface Tracked {
  p: Payload;
  /** The add was answered (else: in flight at a kill, and found after it). */
  acked: boolean;
  removed: boolean;
  savePath: string;
  /** Every folder the torrent's data was ever told to live in: after a restart only one may hold it. */
  places: Set<string>;
  /** Each file's path below the torrent's folder now (a rename acknowledged), by its original path. */
  names: Map<string, string>;
  /** The piece map ('2' = verified) the node showed last before a kill. */
  lastStates?: string;
  lastVerified: number;
  /** Bytes the node may download in the run since the last restart: what was not verified before
   *  the kill (the re-download check; the node's counter starts at 0 with its process). */
  missingAtStart?: number;
  /** The piece map before the last kill (a re-download finding shows it) and the piece length. */
  beforeKill?: string;
  pieceLength?: number;
  registered: boolean;
  /** Its folder (multi-file) or file name as the node showed it last. */
  folder?: string;
  /** Operations the node acknowledged on it since the last restart (for a finding's detail). */
  history?: string[];
}

export interface InFlight {
  op: OpName;
  ih?: string;
  detail: string;
  /** A move's or rename's place before it: the outcome may be either. */
  from?: string;
  to?: string;
  /** A rename's file, by its original path. */
  file?: string;
  /** Applied to the model when the node answers; undone (left ambiguous) when the kill comes first. */
  since: number;
}

/** Setting the churn changes (harmless to the transfers): the value acknowledged last. */
export const SETTING = 'maxActiveUploads';

export class Churn {
  readonly torrents = new Map<string, Tracked>();
  readonly inFlight = new Set<InFlight>();
  /** In flight at the last kill: the checks allow either outcome for these. */
  ambiguous: InFlight[] = [];
  /** The setting's value the node acknowledged last (at first its value before any change). */
  setting: number | undefined;
  /** Changes in flight: two workers may change it at once, so more than one can be. */
  readonly settingPending = new Set<number>();
  readonly counts = new Map<OpName, number>();
  /** Torrents whose remove the node acknowledged (and not added again since). */
  readonly removedAcked = new Set<string>();
  /** A public torrent removed with its data (acknowledged, or in flight at a kill and gone after
   *  it): every path its files had, none of which may exist (until the same torrent is added again). */
  readonly removedFiles = new Map<string, string[]>();
  #pool: Payload[];
  #busy = new Set<string>();
  #sid = '';
  #n = 0;
  #stopped = false;
  readonly #rig: Rig;
  readonly #chain: boolean;
  privateMoves = true;

  constructor(rig: Rig, pool: Payload[], chain = false) {
    this.#rig = rig;
    this.#pool = [...pool];
    this.#chain = chain;
  }

  /** Runs `workers` loops of random operations until stop(). */
  async run(workers: number): Promise<void> {
    this.#stopped = false;
    this.#sid = '';
    await Promise.all(Array.from({ length: workers }, () => this.#loop()));
  }

  stop(): void {
    this.#stopped = true;
  }

  async #loop(): Promise<void> {
    while (!this.#stopped) {
      try {
        await this.step();
      } catch {
        // the node went away under it (the kill): the loop ends with stop()
        if (this.#stopped) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      await new Promise((r) => setTimeout(r, Math.random() * 150));
    }
  }

  #live(filter: (t: Tracked) => boolean = () => true): Tracked | undefined {
    const list = [...this.torrents.values()].filter((t) => t.acked && !t.removed && !this.#busy.has(t.p.ih) && filter(t));
    return list[Math.floor(Math.random() * list.length)];
  }

  /** One random operation, acknowledged into the model. */
  async step(): Promise<void> {
    const r = Math.random();
    const live = [...this.torrents.values()].filter((t) => t.acked && !t.removed).length;
    if (r < 0.3 || live < 2) return this.#add();
    if (r < 0.45) return this.#move();
    if (r < 0.58) return this.#rename();
    if (r < 0.66) return this.#simple('recheck');
    if (r < 0.74) return this.#simple(Math.random() < 0.5 ? 'pause' : 'resume');
    if (r < 0.8) return this.#remove();
    if (r < 0.9 || !this.#chain) return this.#settings();
    return this.#register();
  }

  async #op<T>(op: OpName, ih: string | undefined, detail: string, fn: () => Promise<T>, extra: Partial<InFlight> = {}): Promise<T> {
    const f: InFlight = { op, ih, detail, since: performance.now(), ...extra };
    this.inFlight.add(f);
    if (ih) this.#busy.add(ih);
    this.#rig.trace(`op ${op} ${detail}: asked`);
    try {
      const out = await fn().catch((err: unknown) => {
        this.#rig.trace(`op ${op} ${detail}: failed ${(err as Error).message}`);
        throw err;
      });
      this.#rig.trace(`op ${op} ${detail}: answered`);
      this.counts.set(op, (this.counts.get(op) ?? 0) + 1);
      const t = ih ? this.torrents.get(ih) : undefined;
      if (t) (t.history ??= []).push(op);
      return out;
    } finally {
      // Left in the set when the node was killed first: the kill reads it there.
      if (!this.#stopped) this.inFlight.delete(f);
      if (ih) this.#busy.delete(ih);
    }
  }

  async #add(): Promise<void> {
    const p = this.#pool.shift();
    if (!p) return this.#settings();
    const savePath = Math.random() < 0.5 ? this.#rig.downloadDir : join(this.#rig.downloadDir, `in${this.#n++}`);
    const t: Tracked = { p, acked: false, removed: false, savePath, places: new Set([savePath]), names: new Map(), lastVerified: 0, registered: false };
    for (const rel of p.files.keys()) t.names.set(rel, rel);
    this.torrents.set(p.ih, t);
    this.removedAcked.delete(p.ih);
    this.removedFiles.delete(p.ih);
    await this.#op('add', p.ih, `${p.kind} ${p.ih.slice(0, 8)} (${p.length} B)`, async () => {
      await this.#rig.add(p, savePath);
      t.acked = true;
    });
  }

  async #move(): Promise<void> {
    // A private share's plaintext moves through its own path (private-node's moveData); the move
    // journal covers it since ac72ec71 (this harness found it left in both folders before).
    // --no-private-moves leaves shares out, to tell the two kinds of failure apart.
    const t = this.#live((x) => x.p.kind === 'public' || this.privateMoves);
    if (!t) return;
    const to = join(this.#rig.downloadDir, `m${this.#n++}`);
    t.places.add(to);
    await this.#op('move', t.p.ih, `${t.p.ih.slice(0, 8)} ${t.savePath.slice(this.#rig.downloadDir.length) || '/'} → ${to.slice(this.#rig.downloadDir.length)}`, async () => {
      await this.#rig.json(`/api/torrents/${t.p.ih}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ savePath: to }) });
      t.savePath = to;
    }, { from: t.savePath, to });
  }

  async #login(): Promise<string> {
    if (this.#sid) return this.#sid;
    const r = await this.#rig.api('/api/v2/auth/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `username=admin&password=${encodeURIComponent(this.#rig.token)}` });
    const cookie = r.headers.get('set-cookie') ?? '';
    this.#sid = /SID=[^;]+/.exec(cookie)?.[0] ?? '';
    if (!this.#sid) throw new Error(`qBittorrent login: ${r.status}`);
    return this.#sid;
  }

  async #rename(): Promise<void> {
    // Multi-file public torrents: a file below the torrent's folder gets a new name.
    const t = this.#live((x) => x.p.kind === 'public' && x.p.files.size > 1);
    if (!t) return;
    const [orig, cur] = [...t.names][Math.floor(Math.random() * t.names.size)]!;
    const next = cur.replace(/(-r\d+)?\.bin$/, `-r${this.#n++}.bin`);
    const sid = await this.#login();
    // qBittorrent names a file with its torrent's folder first.
    const root = t.p.meta!.name;
    await this.#op('rename', t.p.ih, `${t.p.ih.slice(0, 8)} ${cur} → ${next}`, async () => {
      const r = await this.#rig.api('/api/v2/torrents/renameFile', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: sid }, body: `hash=${t.p.ih}&oldPath=${encodeURIComponent(`${root}/${cur}`)}&newPath=${encodeURIComponent(`${root}/${next}`)}` });
      const text = await r.text();
      // 409: the node refused (no metadata yet, being checked): nothing changed.
      if (r.status === 409) return;
      if (!r.ok) throw new Error(`renameFile: ${r.status} ${text}`);
      t.names.set(orig, next);
    }, { from: cur, to: next, file: orig });
  }

  async #simple(op: 'recheck' | 'pause' | 'resume'): Promise<void> {
    const t = this.#live();
    if (!t) return;
    await this.#op(op, t.p.ih, t.p.ih.slice(0, 8), async () => {
      const r = await this.#rig.api(`/api/torrents/${t.p.ih}/${op}`, { method: 'POST' });
      await r.text();
      if (!r.ok && r.status !== 409) throw new Error(`${op}: ${r.status}`);
    });
  }

  async #remove(): Promise<void> {
    const t = this.#live();
    if (!t) return;
    await this.#op('remove', t.p.ih, `${t.p.ih.slice(0, 8)} with its data`, async () => {
      const r = await this.#rig.api(`/api/torrents/${t.p.ih}?deleteData=true`, { method: 'DELETE' });
      await r.text();
      if (!r.ok) throw new Error(`remove: ${r.status}`);
      t.removed = true;
      // Back in the pool: the same torrent may be added again, from nothing.
      this.torrents.delete(t.p.ih);
      this.removedAcked.add(t.p.ih);
      this.noteRemovedFiles(t);
      this.#pool.push(t.p);
    });
  }

  async #settings(): Promise<void> {
    const value = 5 + Math.floor(Math.random() * 90);
    this.settingPending.add(value);
    await this.#op('settings', undefined, `${SETTING} = ${value}`, async () => {
      await this.#rig.json('/api/settings', { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ [SETTING]: value }) });
      this.setting = value;
      this.settingPending.delete(value);
    });
  }

  async #register(): Promise<void> {
    const t = this.#live((x) => !x.registered);
    if (!t) return;
    await this.#op('register', t.p.ih, `${t.p.ih.slice(0, 8)} on the chain`, async () => {
      const r = await this.#rig.api(`/api/torrents/${t.p.ih}/register`, { method: 'POST' });
      await r.text();
      if (r.ok) t.registered = true;
    });
  }

  /** A public torrent's files, by every name and in every folder they had (a private share's
   *  plaintext is not the torrent's files: not judged). */
  noteRemovedFiles(t: Tracked): void {
    const name = t.folder ?? t.p.meta?.name;
    if (t.p.kind !== 'public' || !name) return;
    const multi = t.p.files.size > 1;
    const paths = [...t.places].flatMap((place) => multi
      ? [...t.p.files.keys()].flatMap((orig) => [join(place, name, orig), join(place, name, t.names.get(orig) ?? orig)])
      : [join(place, name), ...(t.names.get('') ? [join(place, t.names.get('')!)] : [])]);
    this.removedFiles.set(t.p.ih, [...new Set(paths)]);
  }

  /** A torrent whose add (or remove) was in flight at the kill and which is not there: back to the pool. */
  forgotten(p: Payload): void {
    this.#pool.push(p);
  }

  /** At the kill: what was in flight (kept for the checks), the loops told to end. */
  killed(): InFlight[] {
    this.stop();
    this.ambiguous = [...this.inFlight];
    this.inFlight.clear();
    return this.ambiguous;
  }

  pendingOn(ih: string, op?: OpName): InFlight | undefined {
    return this.ambiguous.find((f) => f.ih === ih && (!op || f.op === op));
  }
}
