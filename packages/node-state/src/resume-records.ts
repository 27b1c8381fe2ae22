// The engine's fast-resume records (the `resume` table) through the Store. Saves come during
// transfers (each torrent about once a second, from the engine's ResumeSaver), so they never wait
// on the database: a save goes into a batch, written in one transaction on the next turn of the
// event loop (as TorrentRecords.setStatus does), and a save given while a batch is being written
// goes into the next one. A stopping node awaits settled() before it closes the Store.
//
// What the listing reads synchronously — how many pieces a record claims verified, and the
// bitfield itself for a torrent loaded paused that has not checked its data — is kept in memory
// (`have`, a few hundred bytes per torrent), read once at start; the rest (the info dict, file
// mtimes) is read from the Store when a torrent loads.
//
// Resume records are a member's own (schema 19: the pieces on its disk), keyed by member id ('' = a
// single node); each save also sets the member's progress in torrent_holders, which the cluster's
// other members read (the torrent's holders).

import type { ResumeData } from '@cascade/engine';
import type { Queryable, Store } from './store.ts';
import { WriteBatch } from './write-batch.ts';
import { lastingCopy } from '@cascade/engine/lasting-bytes';

/** A record saved, or removed; the bitfield as the view keeps it. */
export const UPSERT_RESUME = `
  INSERT INTO resume (member_id, info_hash, have, info, files, updated_at) VALUES (?, ?, ?, ?, ?, ?)
  ON CONFLICT (member_id, info_hash) DO UPDATE SET
    have = excluded.have, info = COALESCE(excluded.info, resume.info), files = excluded.files,
    updated_at = excluded.updated_at`;
const DELETE_RESUME = 'DELETE FROM resume WHERE member_id = ? AND info_hash = ?';
/** progress, updated_at, infohash, member id: only a holder row there is (a torrent removed meanwhile has none). */
const SET_PROGRESS = 'UPDATE torrent_holders SET progress = ?, updated_at = ? WHERE info_hash = ? AND member_id = ?';

/** Number of set bits: how many pieces a resume bitfield claims. */
export function countBits(bits: Uint8Array): number {
  let n = 0;
  for (let b of bits) {
    while (b) {
      b &= b - 1;
      n++;
    }
  }
  return n;
}

/** What waits in the batch for one torrent: its newest save (null: removed); `replace` when it was
 *  removed before this save, so the stored info dict goes too. */
interface Pending {
  data: ResumeData | null;
  replace: boolean;
}

interface Have {
  have: Uint8Array;
  verified: number;
}

export class ResumeRecords {
  readonly #store: Store;
  readonly #memberId: string;
  /** A torrent's piece count, when known: a save's progress is its verified pieces over it. */
  readonly #pieces: (infoHash: string) => number | null | undefined;
  #view: Map<string, Have> | undefined;
  readonly #batch = new WriteBatch<string, Pending>((batch) => this.#writeBatch(batch));

  constructor(store: Store, memberId = '', pieces: (infoHash: string) => number | null | undefined = () => undefined) {
    this.#store = store;
    this.#memberId = memberId;
    this.#pieces = pieces;
  }

  /** Whether the bitfields were read (load / fill). */
  get loaded(): boolean {
    return this.#view !== undefined;
  }

  /** Reads every record's bitfield from the Store (at start); `key`: the string to key a record by
   *  (the library record's own: one copy of each infohash, not one more read from the Store). */
  async load(key?: (infoHash: string) => string): Promise<void> {
    this.fill(await this.#store.values('SELECT info_hash, have FROM resume WHERE member_id = ?', [this.#memberId]), key);
  }

  /** The bitfields as read ([infohash, have] rows); what was saved or removed meanwhile stays. */
  fill(rows: Iterable<unknown[]>, key: (infoHash: string) => string = (ih) => ih): void {
    if (this.#view) return;
    const view = new Map<string, Have>();
    for (const [ih, have] of rows) view.set(key(ih as string), entry(have as Uint8Array, lastingCopy));
    for (const [ih, p] of this.#batch.pending) {
      if (p.data) view.set(ih, entry(p.data.have));
      else view.delete(ih);
    }
    this.#view = view;
  }

  /** Pieces the record claims verified; undefined without a record. */
  verifiedPieces(infoHash: string): number | undefined {
    return this.#view?.get(infoHash)?.verified;
  }

  /** The record's bitfield (not to be changed). */
  have(infoHash: string): Uint8Array | undefined {
    return this.#view?.get(infoHash)?.have;
  }

  /** The whole record, as the Store holds it once the saves given so far are written. */
  async get(infoHash: string): Promise<ResumeData | undefined> {
    await this.settled();
    const row = await this.#store.get<{ have: Uint8Array; info: Uint8Array | null; files: string | null }>('SELECT have, info, files FROM resume WHERE member_id = ? AND info_hash = ?', [this.#memberId, infoHash]);
    if (!row) return undefined;
    const data: ResumeData = { have: new Uint8Array(row.have) };
    if (row.info) data.infoBytes = new Uint8Array(row.info);
    if (row.files) data.files = JSON.parse(row.files) as { length: number; mtimeMs: number }[];
    return data;
  }

  /** Keeps a record (the engine's bitfield is a copy it no longer changes); a later save without
   *  the info dict keeps the one stored (a magnet must not lose its metadata). Resolves once stored. */
  save(infoHash: string, data: ResumeData): Promise<void> {
    const before = this.#batch.pending.get(infoHash);
    const infoBytes = data.infoBytes ?? before?.data?.infoBytes;
    this.#batch.pending.set(infoHash, { data: infoBytes ? { ...data, infoBytes } : data, replace: before ? before.data === null || before.replace : false });
    // A small bitfield is copied into a shared chunk: one buffer each cost ~300 bytes (issue 64).
    this.#view?.set(infoHash, entry(data.have, (h) => (h.length <= 64 ? lastingCopy(h) : h)));
    return this.#batch.schedule();
  }

  /** The record's bitfield with the file stats it was saved with (what its claims are held against
   *  before the torrent checks its data), as the Store holds it once the saves given are written. */
  async savedClaims(infoHash: string): Promise<Pick<ResumeData, 'have' | 'files'> | undefined> {
    if (this.#batch.pending.has(infoHash)) await this.settled();
    const row = await this.#store.get<{ have: Uint8Array; files: string | null }>('SELECT have, files FROM resume WHERE member_id = ? AND info_hash = ?', [this.#memberId, infoHash]);
    if (!row) return undefined;
    return { have: new Uint8Array(row.have), ...(row.files ? { files: JSON.parse(row.files) as { length: number; mtimeMs: number }[] } : {}) };
  }

  /**
   * The claims of a torrent not checked yet narrowed to what its files still hold (`to`): saved as
   * its record, with `files` (the caller marks the files that dropped pieces as changed, so the
   * torrent's own check when it starts hashes what is there rather than fetching it). Only while the
   * view still says `from` (a save meanwhile is newer). As any save, it sets the member's progress
   * in torrent_holders: a cluster's coordinator counts that copy complete no more. True when narrowed.
   */
  async narrow(infoHash: string, from: Uint8Array, to: Uint8Array, files: ResumeData['files']): Promise<boolean> {
    const e = this.#view?.get(infoHash);
    if (!e || Buffer.compare(e.have, from) !== 0) return false;
    await this.save(infoHash, { have: to, ...(files ? { files } : {}) });
    return true;
  }

  /** Forgets a record; resolves once removed from the Store. */
  delete(infoHash: string): Promise<void> {
    this.#batch.pending.set(infoHash, { data: null, replace: true });
    this.#view?.delete(infoHash);
    return this.#batch.schedule();
  }

  /** Torrents removed from the library (whose transaction deletes their records): their saves
   *  still waiting are dropped, and the one being written lands first, so none comes back. */
  async forget(infoHashes: readonly string[]): Promise<void> {
    const drop = () => {
      for (const ih of infoHashes) {
        this.#batch.pending.delete(ih);
        this.#view?.delete(ih);
      }
    };
    drop();
    await this.#batch.settled();
    drop(); // a batch that failed meanwhile put its saves back
  }

  /** Resolves once the saves given so far are written (or failed: their callers were told). */
  async settled(): Promise<void> {
    await this.#batch.settled();
  }

  async #writeBatch(batch: ReadonlyMap<string, Pending>): Promise<void> {
    try {
      await this.#store.transaction(async (tx) => {
        for (const [ih, p] of batch) await this.#writeOne(tx, ih, p);
      });
    } catch (err) {
      // Not lost: each goes with the next batch unless a newer one was given meanwhile.
      for (const [ih, p] of batch) if (!this.#batch.pending.has(ih)) this.#batch.pending.set(ih, p);
      throw err;
    }
  }

  async #writeOne(tx: Queryable, infoHash: string, p: Pending): Promise<void> {
    const member = this.#memberId;
    if (p.replace) await tx.run(DELETE_RESUME, [member, infoHash]);
    if (!p.data) return;
    // One row: bitfield and file mtimes always describe the same moment.
    const { have, infoBytes, files } = p.data;
    const now = Date.now();
    await tx.run(UPSERT_RESUME, [member, infoHash, have, infoBytes ?? null, files ? JSON.stringify(files) : null, now]);
    const pieces = this.#pieces(infoHash);
    if (pieces) await tx.run(SET_PROGRESS, [Math.min(1, countBits(have) / pieces), now, infoHash, member]);
  }
}


/** `keep` makes the copy the view holds (a bitfield the caller may still change). */
function entry(have: Uint8Array, keep: (have: Uint8Array) => Uint8Array = (h) => h): Have {
  const verified = countBits(have);
  return prefixEntry(have, verified) ?? { have: keep(have), verified };
}

/** Entries whose bitfield is pieces 0 … verified-1 (a complete torrent's, or an empty one), one for
 *  each length and count: 10,000 seeds held an entry and a view each for the same byte or two. */
const prefixes = new Map<number, Have>();

function prefixEntry(have: Uint8Array, verified: number): Have | undefined {
  if (have.length === 0 || have.length > 64) return undefined;
  const full = verified >> 3, rest = verified & 7;
  for (let i = 0; i < have.length; i++) {
    const want = i < full ? 0xff : i === full && rest > 0 ? (0xff << (8 - rest)) & 0xff : 0;
    if (have[i] !== want) return undefined;
  }
  const key = have.length * 1024 + verified;
  let e = prefixes.get(key);
  if (!e) prefixes.set(key, (e = { have: lastingCopy(have), verified }));
  return e;
}
