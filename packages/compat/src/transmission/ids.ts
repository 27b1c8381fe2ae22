// Transmission names torrents by small integers. Cascade names them by infohash, so ids are handed
// out in the order torrents are first seen (the node's list order: queue, then added) and never
// given to another torrent, even after its torrent is removed: by the node's state when it keeps
// them (`learn`: every member of a cluster gives the same ids), else by this process. It also notes when each
// torrent last changed, for `ids: "recently-active"` (changed or moving data within the last 60 s, plus
// the ids removed in that time), since Cascade keeps no per-torrent "last changed" clock of its own.

import type { TorrentRow } from '../ops.ts';
import { RpcError } from './args.ts';

/** Transmission's window for "recently-active". */
export const RECENT_MS = 60_000;

interface Seen {
  id: number;
  /** The row last observed: the node's list keeps an unchanged row's object, so the same object
   *  means nothing to compare (a poll of 10,000 idle torrents prints none). */
  row: TorrentRow;
  /** What a client would redraw; a different print means the torrent changed. */
  print: string;
  /** ms since the epoch: last time it changed or moved data, as far as this process saw. */
  changedAt: number;
  /** Last time it moved data (0 = not seen doing so). */
  activeAt: number;
  /** When this process first saw it running (0 = not running). */
  startedAt: number;
}

function printOf(r: TorrentRow): string {
  return [r.state, r.verifiedPieces, r.name, r.savePath, r.error, r.category, r.tags.join('\n'), r.queuePosition, r.peers, r.seeds,
    r.downloadLimit, r.uploadLimit, r.ratioLimit, r.seedingTimeLimit, r.forceStart, r.length, r.completedAt].join('\u0000');
}

const RUNNING = new Set(['downloading', 'seeding', 'metadata', 'checking']);

export class TorrentIds {
  readonly #byHash = new Map<string, Seen>();
  readonly #byId = new Map<number, string>();
  /** Removed ids and when they went. */
  readonly #removed = new Map<number, number>();
  #next = 1;
  /** Ids the node's state gave torrents not observed yet (learn). */
  readonly #given = new Map<string, number>();
  #observed = false;
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /**
   * Takes the node's current list: gives new torrents ids, notes changes and removals. Every
   * request that reads torrents calls it, so changes are noticed within a client's poll interval.
   */
  observe(rows: TorrentRow[]): void {
    const now = this.#now();
    for (const r of rows) {
      const moving = r.downloadSpeed > 0 || r.uploadSpeed > 0;
      const running = RUNNING.has(r.state);
      let s = this.#byHash.get(r.infoHash);
      if (!s) {
        // On the first look, only what was added lately counts as recent; later, anything new is.
        const changedAt = this.#observed ? now : r.addedAt !== null && now - r.addedAt < RECENT_MS ? r.addedAt : 0;
        const id = this.#given.get(r.infoHash) ?? this.#next;
        this.#given.delete(r.infoHash);
        this.#next = Math.max(this.#next, id + 1);
        s = { id, row: r, print: printOf(r), changedAt, activeAt: 0, startedAt: running ? now : 0 };
        this.#byHash.set(r.infoHash, s);
        this.#byId.set(s.id, r.infoHash);
      } else if (s.row !== r) {
        s.row = r;
        const print = printOf(r);
        if (s.print !== print) {
          s.print = print;
          s.changedAt = now;
        }
      }
      if (moving) s.activeAt = s.changedAt = now;
      if (!running) s.startedAt = 0;
      else if (s.startedAt === 0) s.startedAt = now;
    }
    // Every row is known now; as many known as rows: none went.
    if (this.#byHash.size !== rows.length) {
      const present = new Set(rows.map((r) => r.infoHash));
      for (const [hash, s] of this.#byHash) if (!present.has(hash)) this.#forget(hash, s, now);
    }
    for (const [id, at] of this.#removed) if (now - at >= RECENT_MS) this.#removed.delete(id);
    this.#observed = true;
  }

  /** The torrents of `rows` that have no id here yet (for the node's state to give them). */
  unknown(rows: readonly TorrentRow[]): string[] {
    return rows.filter((r) => !this.#byHash.has(r.infoHash) && !this.#given.has(r.infoHash)).map((r) => r.infoHash);
  }

  /** Ids the node's state gave: taken by the next observe. */
  learn(ids: ReadonlyMap<string, number>): void {
    for (const [ih, id] of ids) this.#given.set(ih, id);
  }

  /** A torrent removed through this API: its id goes to `removed` at once. */
  removed(infoHash: string): void {
    const s = this.#byHash.get(infoHash);
    if (s) this.#forget(infoHash, s, this.#now());
  }

  #forget(hash: string, s: Seen, now: number): void {
    this.#byHash.delete(hash);
    this.#byId.delete(s.id);
    this.#removed.set(s.id, now);
  }

  idOf(infoHash: string): number {
    const s = this.#byHash.get(infoHash);
    if (!s) throw new Error(`torrent ${infoHash} has not been observed`);
    return s.id;
  }

  /** Seconds since the epoch (Transmission's dates); 0 = never. */
  changedAt(infoHash: string): number {
    return Math.floor((this.#byHash.get(infoHash)?.changedAt ?? 0) / 1000);
  }

  activeAt(infoHash: string): number {
    return Math.floor((this.#byHash.get(infoHash)?.activeAt ?? 0) / 1000);
  }

  startedAt(infoHash: string): number {
    return Math.floor((this.#byHash.get(infoHash)?.startedAt ?? 0) / 1000);
  }

  /** Ids removed within the last 60 s. */
  recentlyRemoved(): number[] {
    const now = this.#now();
    return [...this.#removed].filter(([, at]) => now - at < RECENT_MS).map(([id]) => id);
  }

  /**
   * The torrents an `ids` argument names, in the list's order, from rows just observed:
   * absent = all; a number; "recently-active"; a 40-hex infohash; or a list of numbers and hashes.
   * Ids and hashes the node does not have are skipped, as Transmission does (removing a torrent
   * twice is not an error); a value of the wrong shape is.
   */
  select(rows: TorrentRow[], ids: unknown): TorrentRow[] {
    if (ids === undefined) return rows;
    if (ids === 'recently-active') {
      const since = this.#now() - RECENT_MS;
      return rows.filter((r) => (this.#byHash.get(r.infoHash)?.changedAt ?? 0) >= since);
    }
    const wanted = new Set<string>();
    const one = (v: unknown): void => {
      if (typeof v === 'number') {
        if (!Number.isInteger(v)) throw new RpcError(`torrent id ${v} is not a whole number`);
        const hash = this.#byId.get(v);
        if (hash !== undefined) wanted.add(hash);
      } else if (typeof v === 'string') {
        if (!/^[0-9a-fA-F]{40}$/.test(v)) {
          throw new RpcError(`"${v.slice(0, 80)}" is neither a torrent id, a 40-hex infohash nor "recently-active"`);
        }
        wanted.add(v.toLowerCase());
      } else {
        throw new RpcError('"ids" must be a torrent id, a list of ids and 40-hex infohashes, or "recently-active"');
      }
    };
    if (Array.isArray(ids)) {
      if (ids.includes('recently-active')) throw new RpcError('"recently-active" stands alone, not inside a list of ids');
      ids.forEach(one);
    } else one(ids);
    return rows.filter((r) => wanted.has(r.infoHash));
  }
}
