// A member answers for every torrent of the cluster as its holders know it (issue 63, the cluster
// soak's first finding): with 3 members and 2 replicas, one member in three holds no copy of a
// torrent, and a client behind a balancer asked it. It showed a finished torrent at 0 % with no
// files (its own resume rows: none), where its holders record their progress (torrent_holders)
// and their verified pieces (resume, keyed by member) in the shared database. This reads them for
// the torrents of the library not loaded here: the copy furthest along among the live holders
// gives the progress and, with the metainfo (the library's .torrent, or that holder's info dict),
// the file list. The node's listing and detail read it through StateDB.elsewhere (synchronous
// readers: the compatible APIs answer from memory), so it is kept in memory and read again
// when a torrent is told of (a write to `torrents`: an add, a holder's status such as finished)
// and, for copies still filling, at every renewal; the whole library every FULL_SWEEP_MS.

import { Bitfield, fileProgress, parseInfoDict, parseTorrent } from '@cascade/engine';
import type { Metainfo } from '@cascade/engine';
import { countBits, type CascadeNode } from '@cascade/node';
import { errorMessage } from '@cascade/node/basics';
import { REMOVED, REMOVED_WITH_DATA, nowSql } from '@cascade/node/cluster-host';
import type { FileView } from '@cascade/shapes';

/** How often every torrent not held here is read again (what no notice told). */
const FULL_SWEEP_MS = 30_000;
/** Infohashes one statement names. */
const CHUNK = 500;

interface Copy {
  /** The best live copy's verified pieces (undefined: its piece count is not known yet). */
  verified: number | undefined;
  /** Its bitfield (undefined: complete, or none saved yet). */
  have: Uint8Array | undefined;
  complete: boolean;
  meta: Metainfo | undefined;
}

export class CopiesElsewhere {
  readonly #node: CascadeNode;
  readonly #member: () => string;
  readonly #copies = new Map<string, Copy>();
  /** Torrents told of since the last read; null: every one. */
  #told: Set<string> | null = null;
  #sweptAt = 0;
  #running: Promise<void> | undefined;
  readonly #loading = new Set<string>();
  #again = false;

  constructor(node: CascadeNode, member: () => string) {
    this.#node = node;
    this.#member = member;
  }

  /** Verified pieces of the furthest copy of a torrent not loaded here. */
  verifiedPieces(infoHash: string): number | undefined {
    return this.#node.session.get(infoHash) ? undefined : this.#copies.get(infoHash)?.verified;
  }

  /** Its metainfo with the names the library stores (a file or folder renamed through any member). */
  metainfo(infoHash: string): Metainfo | undefined {
    const c = this.#node.session.get(infoHash) ? undefined : this.#copies.get(infoHash);
    if (c && !c.meta) this.#loadMeta(infoHash, c);
    const meta = c?.meta;
    const renames = meta && this.#node.db.records.get(infoHash)?.renamedFiles;
    if (!meta || !renames) return meta;
    return { ...meta, name: renames[-1]?.[0] ?? meta.name, files: meta.files.map((f, i) => (renames[i] ? { ...f, path: renames[i] } : f)) };
  }

  /** Its files as that copy has them (null: the metainfo not known here yet). */
  files(infoHash: string): FileView[] | null {
    const c = this.#node.session.get(infoHash) ? undefined : this.#copies.get(infoHash);
    const meta = this.metainfo(infoHash);
    if (!c || !meta) return null;
    const progress = c.complete ? undefined : c.have ? fileProgress(meta, new Bitfield(meta.pieceCount, c.have)) : [];
    const selected = this.#node.db.records.get(infoHash)?.selectedFiles;
    const chosen = selected ? new Set(selected) : undefined;
    return meta.files.flatMap((f, index) => (f.pad ? [] : [{
      index,
      path: f.path.join('/'),
      length: f.length,
      progress: progress ? (progress[index] ?? 0) : 1,
      selected: chosen ? chosen.has(index) : true,
    }]));
  }

  /** Torrents written (null: rows not named): read again at the next refresh. */
  told(keys: readonly (string | null)[]): void {
    if (this.#told === null) return;
    for (const k of keys) {
      if (k === null) {
        this.#told = null;
        return;
      }
      this.#told.add(k);
    }
  }

  /** Reads what was told of, the copies still filling, or everything once a sweep is due. */
  refresh(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      try {
        do {
          this.#again = false;
          await this.#refresh();
        } while (this.#again);
      } catch (err) {
        this.#told = null;
        this.#node.out.note(`cluster: reading the other members' copies failed: ${errorMessage(err)}`);
      } finally {
        this.#running = undefined;
      }
    })();
    return this.#running;
  }

  async #refresh(): Promise<void> {
    const node = this.#node;
    const records = node.db.records;
    const full = this.#told === null || Date.now() - this.#sweptAt >= FULL_SWEEP_MS;
    const asked = full ? Array.from(records.values(), (r) => r.infoHash) : [...this.#told!, ...[...this.#copies].filter(([, c]) => !c.complete).map(([ih]) => ih)];
    this.#told = new Set();
    if (full) this.#sweptAt = Date.now();
    const wanted = [...new Set(asked)].filter((ih) => records.has(ih) && !node.session.get(ih));
    if (full) for (const ih of this.#copies.keys()) if (!records.has(ih) || node.session.get(ih)) this.#copies.delete(ih);
    const changed: string[] = [];
    for (let i = 0; i < wanted.length; i += CHUNK) {
      const part = wanted.slice(i, i + CHUNK);
      const best = await this.#best(part);
      for (const ih of part) {
        const row = best.get(ih);
        const had = this.#copies.get(ih);
        // Parsed for the torrents told of (an add, a copy finishing); a sweep's (thousands at a
        // start) only when asked for (#loadMeta): one read each, not one each at once.
        const meta = had?.meta ?? (row && !full ? await this.#metainfo(ih) : undefined);
        const pieces = meta?.pieceCount ?? records.get(ih)?.pieceCount ?? undefined;
        const complete = !!row && (row.state === 'seeding' || row.progress >= 1);
        const verified = !row ? 0 : complete ? pieces : row.have ? Math.min(countBits(row.have), pieces ?? Infinity) : pieces !== undefined ? Math.round(row.progress * pieces) : undefined;
        const copy: Copy = { verified, have: complete ? undefined : row?.have, complete, meta };
        if (had && had.verified === copy.verified && had.complete === copy.complete && had.meta === copy.meta) continue;
        this.#copies.set(ih, copy);
        changed.push(ih);
      }
    }
    // The listing's rows of those torrents are built again, and the feed hears it.
    for (const ih of changed) records.touch(ih);
    if (changed.length > 0) node.changed();
  }

  /** The furthest live copy of each torrent (another member's, the row of its present epoch). */
  async #best(infoHashes: readonly string[]): Promise<Map<string, { member: string; progress: number; state: string; have: Uint8Array | undefined }>> {
    const n = nowSql(this.#node.db.store.dialect);
    const rows = await this.#node.db.store.all<{ info_hash: string; member_id: string; progress: number | string; state: string; have: Uint8Array | null }>(
      `SELECT h.info_hash, h.member_id, h.progress, h.state, CASE WHEN h.state = 'seeding' OR h.progress >= 1 THEN NULL ELSE r.have END AS have
       FROM torrent_holders h JOIN cluster_members m ON m.id = h.member_id AND m.epoch = h.epoch
       LEFT JOIN resume r ON r.member_id = h.member_id AND r.info_hash = h.info_hash
       WHERE h.member_id <> ? AND m.lease_until >= ${n} AND m.dead_at IS NULL AND h.state NOT IN ('${REMOVED}', '${REMOVED_WITH_DATA}')
         AND h.info_hash IN (${infoHashes.map(() => '?').join(', ')})`,
      [this.#member(), ...infoHashes],
    );
    const best = new Map<string, { member: string; progress: number; state: string; have: Uint8Array | undefined }>();
    for (const r of rows) {
      const x = { member: r.member_id, progress: r.state === 'seeding' ? 1 : Number(r.progress), state: r.state, have: r.have ? new Uint8Array(r.have) : undefined };
      const had = best.get(r.info_hash);
      if (!had || x.progress > had.progress) best.set(r.info_hash, x);
    }
    return best;
  }

  /** Reads a copy's metainfo in the background, once at a time: the next answer has its files. */
  #loadMeta(infoHash: string, c: Copy): void {
    if (this.#loading.has(infoHash)) return;
    this.#loading.add(infoHash);
    void this.#metainfo(infoHash).then((meta) => {
      this.#loading.delete(infoHash);
      if (!meta || this.#copies.get(infoHash) !== c) return;
      this.#copies.set(infoHash, { ...c, meta, verified: c.complete ? meta.pieceCount : c.verified });
      this.#node.db.records.touch(infoHash);
      this.#node.changed();
    });
  }

  /** The torrent's metainfo: the library's .torrent, or a holder's info dict (a magnet's). */
  async #metainfo(infoHash: string): Promise<Metainfo | undefined> {
    try {
      const row = await this.#node.db.store.get<{ torrent: Uint8Array | null; info: Uint8Array | null }>(
        `SELECT t.torrent, (SELECT r.info FROM resume r WHERE r.info_hash = t.info_hash AND r.info IS NOT NULL LIMIT 1) AS info
         FROM torrents t WHERE t.info_hash = ?`,
        [infoHash],
      );
      if (row?.torrent) return parseTorrent(new Uint8Array(row.torrent));
      return row?.info ? parseInfoDict(new Uint8Array(row.info)) : undefined;
    } catch {
      return undefined; // unreadable here: no file list, the progress still
    }
  }
}
