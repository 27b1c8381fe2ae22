// The SQL of placement and of the holders (issue 42 step 5, docs/cluster.md "Replicas and
// placement"): which members hold which torrent (torrent_holders), which of them count (a member
// whose lease is live, at the epoch its row carries), a new holder placed by the coordinator in one
// statement fenced on its lease, and the other live holders a member gives its engine as peers.
// Times are the database's clock (the node's nowSql), read inside each statement.

import { FAILED, REMOVED, REMOVED_WITH_DATA, holderStates, nowSql, parseRenamedFiles, type HolderState, type Store } from '@cascade/node/cluster-host';

export { FAILED, type HolderState };

/** A holder row is a copy (not a removed torrent's tombstone). */
const A_COPY = `h.state NOT IN ('${REMOVED}', '${REMOVED_WITH_DATA}')`;

/** One holder row of a torrent of the library, for the coordinator's count. */
export interface HolderRow {
  infoHash: string;
  /** null: the torrent has no holder row at all. */
  member: string | null;
  epoch: number;
  /** Its state there (FAILED: not a copy to count); null with member null. */
  state: string | null;
  /** The torrent's size in bytes (null: a magnet without its metadata yet). */
  length: number | null;
  /** The copy is complete (seeding, or every piece verified at its last resume save). */
  complete: boolean;
}

/** How many infohashes one statement names (a partial pass, a peer refresh of a few torrents). */
const CHUNK = 500;

function chunks<T>(list: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += CHUNK) out.push(list.slice(i, i + CHUNK));
  return out;
}

/** Another member holding a torrent this member holds, as a BitTorrent peer. */
export interface HolderPeer {
  infoHash: string;
  member: string;
  epoch: number;
  url: string;
  btPort: number;
  /** Its copy's verified pieces over pieces (1: complete). */
  progress: number;
}

/** A member's holder row of a torrent removed through another member (its copy not dropped yet). */
export interface Tombstone {
  readonly infoHash: string;
  /** The remover asked for the data to go. */
  readonly deleteData: boolean;
  readonly savePath: string | null;
  /** The names the torrent's files had at the removal (its renamed_files then), if any. */
  readonly renamedFiles: Record<number, string[]> | null;
  /** The remover's own tombstone of a private share: its plaintext (absolute), if it had one. */
  readonly plaintextPath: string | null;
}

export class HolderStore {
  readonly #store: Store;
  readonly #now: string;
  /** A placement locks the torrent's row it reads (PostgreSQL; SQLite has one writer): a removal
   *  that deleted it and made its holder rows tombstones, not yet committed, is waited for, and the
   *  torrent is then no longer there to place. Unlocked, the new holder row could commit after the
   *  tombstones and outlive its torrent ("no rows without their torrent", bench:crash --cluster). */
  readonly #lockTorrent: string;

  constructor(store: Store) {
    this.#store = store;
    this.#now = nowSql(store.dialect);
    this.#lockTorrent = store.dialect === 'postgres' ? ' FOR SHARE OF t' : '';
  }

  /** Every torrent of the library (or only `infoHashes`) with each of its copies' rows (one row
   *  with member null for a torrent none holds). */
  async holderRows(infoHashes?: readonly string[]): Promise<HolderRow[]> {
    const sql = `SELECT t.info_hash, t.length, h.member_id, h.epoch, h.state, h.progress FROM torrents t LEFT JOIN torrent_holders h ON h.info_hash = t.info_hash AND ${A_COPY}`;
    // Rows as arrays: a full pass reads 23,000 of them at 10,000 torrents (an object each costs more).
    const rows: unknown[][] = [];
    if (!infoHashes) rows.push(...(await this.#store.values(sql)));
    else for (const part of chunks(infoHashes)) rows.push(...(await this.#store.values(`${sql} WHERE t.info_hash IN (${part.map(() => '?').join(', ')})`, part)));
    return rows.map(([infoHash, length, member, epoch, state, progress]) => ({
      infoHash: infoHash as string,
      member: member as string | null,
      epoch: Number(epoch ?? 0),
      state: state as string | null,
      length: length === null ? null : Number(length),
      complete: state === 'seeding' || Number(progress ?? 0) >= 1,
    }));
  }

  /** The bytes each member has still to write for the copies it holds and has not completed (a
   *  placed copy fills the disk over minutes; its member's free bytes do not show it yet). Failed
   *  and paused copies count too: they resume where they stopped. A seeding copy is complete
   *  whatever its last resume save said. */
  async promised(): Promise<Map<string, number>> {
    const rows = await this.#store.all<{ member_id: string; bytes: number | string | null }>(
      `SELECT h.member_id, SUM(t.length * (1 - h.progress)) AS bytes FROM torrent_holders h JOIN torrents t ON t.info_hash = h.info_hash
       WHERE h.progress < 1 AND h.state <> 'seeding' AND t.length IS NOT NULL AND ${A_COPY} GROUP BY h.member_id`,
    );
    return new Map(rows.map((r) => [r.member_id, Math.max(0, Math.ceil(Number(r.bytes ?? 0)))]));
  }

  /**
   * Makes `member` a holder of `infoHash` at its current epoch, where its copy goes left to it
   * (save_path NULL: it takes it, holdings.ts), paused if the user paused the torrent. One statement, done only while the torrent is in the
   * library, the member's lease is live and the caller holds the coordinator's lease at
   * `coordinatorEpoch`, so a coordinator that lost its lease places nothing; a member that already
   * has a row of it is left as it is. True when placed.
   */
  async place(infoHash: string, member: string, coordinator: string, coordinatorEpoch: number): Promise<boolean> {
    const n = this.#now;
    const { changes } = await this.#store.run(
      `INSERT INTO torrent_holders (info_hash, member_id, epoch, state, progress, updated_at, save_path)
       SELECT t.info_hash, m.id, m.epoch, CASE WHEN t.status = 'paused' THEN 'paused' ELSE 'queued' END, 0, ${n}, NULL
       FROM cluster_members m JOIN torrents t ON t.info_hash = ?
       WHERE m.id = ? AND m.lease_until >= ${n} AND m.dead_at IS NULL
         AND EXISTS (SELECT 1 FROM cluster_coordinator c WHERE c.id = 1 AND c.member_id = ? AND c.epoch = ? AND c.lease_until >= ${n})${this.#lockTorrent}
       ON CONFLICT (info_hash, member_id) DO NOTHING`,
      [infoHash, member, coordinator, coordinatorEpoch],
    );
    return changes > 0;
  }

  /**
   * place() for many (torrent, member) pairs, in statements of up to CHUNK pairs, each fenced as
   * place() is (a pair whose member's lease ran out, whose torrent left the library or that the
   * member already holds is skipped; none at all once the caller lost the coordinator's lease). The
   * pairs placed: a repair after a member's death places thousands, one statement each took 1.8-5 s
   * at 3,333 (bench/cluster/placement.ts).
   */
  async placeAll(pairs: readonly { infoHash: string; member: string }[], coordinator: string, coordinatorEpoch: number): Promise<{ infoHash: string; member: string }[]> {
    const n = this.#now;
    const placed: { infoHash: string; member: string }[] = [];
    for (const part of chunks(pairs)) {
      const rows = await this.#store.all<{ info_hash: string; member_id: string }>(
        `INSERT INTO torrent_holders (info_hash, member_id, epoch, state, progress, updated_at, save_path)
         SELECT t.info_hash, m.id, m.epoch, CASE WHEN t.status = 'paused' THEN 'paused' ELSE 'queued' END, 0, ${n}, NULL
         FROM (VALUES ${part.map(() => '(?, ?)').join(', ')}) p
         JOIN torrents t ON t.info_hash = p.column1 JOIN cluster_members m ON m.id = p.column2
         WHERE m.lease_until >= ${n} AND m.dead_at IS NULL
           AND EXISTS (SELECT 1 FROM cluster_coordinator c WHERE c.id = 1 AND c.member_id = ? AND c.epoch = ? AND c.lease_until >= ${n})${this.#lockTorrent}
         ON CONFLICT (info_hash, member_id) DO NOTHING
         RETURNING info_hash, member_id`,
        [...part.flatMap((x) => [x.infoHash, x.member]), coordinator, coordinatorEpoch],
      );
      placed.push(...rows.map((r) => ({ infoHash: r.info_hash, member: r.member_id })));
    }
    return placed;
  }

  /**
   * Takes surplus copies off their members (a member back with its copies after others were placed
   * in its stead): each pair's holder row, at the epoch the caller counted it at, becomes a
   * tombstone that says the data goes (as a removal's do), fenced on the coordinator's lease as
   * placeAll is; its member deletes its copy, then the row (holdings.ts: also when it hears of it
   * only after a restart). The pairs taken off.
   */
  async unplaceAll(pairs: readonly { infoHash: string; member: string; epoch: number }[], coordinator: string, coordinatorEpoch: number): Promise<{ infoHash: string; member: string }[]> {
    const n = this.#now;
    const gone: { infoHash: string; member: string }[] = [];
    for (const part of chunks(pairs)) {
      const rows = await this.#store.all<{ info_hash: string; member_id: string }>(
        `UPDATE torrent_holders AS h SET state = '${REMOVED_WITH_DATA}' FROM (VALUES ${part.map(() => '(?, ?, CAST(? AS BIGINT))').join(', ')}) AS p
         WHERE h.info_hash = p.column1 AND h.member_id = p.column2 AND h.epoch = p.column3 AND ${A_COPY}
           AND EXISTS (SELECT 1 FROM cluster_coordinator c WHERE c.id = 1 AND c.member_id = ? AND c.epoch = ? AND c.lease_until >= ${n})
         RETURNING info_hash, member_id`,
        [...part.flatMap((x) => [x.infoHash, x.member, x.epoch]), coordinator, coordinatorEpoch],
      );
      gone.push(...rows.map((r) => ({ infoHash: r.info_hash, member: r.member_id })));
    }
    return gone;
  }

  /** Those of `infoHashes` that `member` holds a copy of (a holder row, not a tombstone). */
  async heldBy(member: string, infoHashes: readonly string[]): Promise<string[]> {
    const out: string[] = [];
    for (const part of chunks(infoHashes)) {
      const rows = await this.#store.all<{ info_hash: string }>(`SELECT h.info_hash FROM torrent_holders h WHERE h.member_id = ? AND ${A_COPY} AND h.info_hash IN (${part.map(() => '?').join(', ')})`, [member, ...part]);
      out.push(...rows.map((r) => r.info_hash));
    }
    return out;
  }

  /** `member`'s tombstones: its copies of torrents removed through other members that it has not
   *  acted on (it was down, or held no running copy: a placement not taken yet). */
  async tombstonesOf(member: string, infoHash?: string): Promise<Tombstone[]> {
    const rows = await this.#store.all<{ info_hash: string; state: string; save_path: string | null; renamed_files: string | null; plaintext_path: string | null }>(
      `SELECT info_hash, state, save_path, renamed_files, plaintext_path FROM torrent_holders WHERE member_id = ? AND state IN ('${REMOVED}', '${REMOVED_WITH_DATA}')${infoHash ? ' AND info_hash = ?' : ''}`,
      infoHash ? [member, infoHash] : [member],
    );
    return rows.map((r) => ({ infoHash: r.info_hash, deleteData: r.state === REMOVED_WITH_DATA, savePath: r.save_path, renamedFiles: parseRenamedFiles(r.renamed_files), plaintextPath: r.plaintext_path }));
  }

  /** Torrents placed on `member` that it has not taken yet (it looks each tick, in case the notice
   *  of a placement was lost). */
  async placedOn(member: string): Promise<string[]> {
    const rows = await this.#store.all<{ info_hash: string }>(
      'SELECT h.info_hash FROM torrent_holders h JOIN torrents t ON t.info_hash = h.info_hash WHERE h.member_id = ? AND h.save_path IS NULL',
      [member],
    );
    return rows.map((r) => r.info_hash);
  }

  /** The other live holders of every torrent `member` holds (or of those of `infoHashes` it holds),
   *  with where their engines listen. */
  async peersOf(member: string, infoHashes?: readonly string[]): Promise<HolderPeer[]> {
    const n = this.#now;
    const sql = `SELECT h.info_hash, h.member_id, h.epoch, m.url, m.bt_port, h.progress
       FROM torrent_holders mine
       JOIN torrent_holders h ON h.info_hash = mine.info_hash AND h.member_id <> mine.member_id
       JOIN cluster_members m ON m.id = h.member_id AND m.epoch = h.epoch
       WHERE mine.member_id = ? AND m.lease_until >= ${n} AND m.bt_port IS NOT NULL AND ${A_COPY}`;
    type Raw = { info_hash: string; member_id: string; epoch: number | string; url: string; bt_port: number | string; progress: number | string };
    const rows: Raw[] = [];
    if (!infoHashes) rows.push(...(await this.#store.all<Raw>(sql, [member])));
    else for (const part of chunks(infoHashes)) rows.push(...(await this.#store.all<Raw>(`${sql} AND mine.info_hash IN (${part.map(() => '?').join(', ')})`, [member, ...part])));
    return rows.map((r) => ({ infoHash: r.info_hash, member: r.member_id, epoch: Number(r.epoch), url: r.url, btPort: Number(r.bt_port), progress: Number(r.progress) }));
  }

  /** A torrent's copies, each with whether its member is alive and its URL (the node's
   *  holderStates: a torrent's detail shows them on every node). */
  holdersOf(infoHash: string): Promise<HolderState[]> {
    return holderStates(this.#store, infoHash);
  }
}

/**
 * The cluster URLs of the live members holding a torrent, `except` this member, those furthest
 * along first: where a member that has no copy streams a file from (issue 42 item 4). Live as a
 * torrent's detail shows its holders (lease current, the row of the member's present epoch, not a
 * removal's tombstone). Empty when none is live.
 */
export async function liveHolderUrls(store: Store, infoHash: string, except: string): Promise<string[]> {
  const holders = await new HolderStore(store).holdersOf(infoHash);
  return holders
    .filter((h) => h.alive && h.member !== except && h.url !== null)
    .sort((a, b) => b.progress - a.progress || (a.member < b.member ? -1 : 1))
    .map((h) => h.url!);
}
