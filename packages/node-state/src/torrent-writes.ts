// The node's own writes of the `torrents` table (TorrentRecords runs them) in the SQL both engines
// run (store.ts's dialect). A parameter's type must be known to PostgreSQL from where it stands:
// a bare `? IS NULL` is not, so a flag says whether .torrent bytes came with the metadata.

import type { Queryable, SqlValue } from './store.ts';
import type { NewTorrent, StoredPieceOrder, TorrentRecord } from './records.ts';

export { UPSERT_TORRENT } from './upserts.ts';

/** Every column but `torrent`. */
export const RECORD_COLUMNS = [
  'info_hash', 'name', 'source_kind', 'magnet', 'save_path', 'status', 'error', 'selected_files', 'length', 'piece_count',
  'added_at', 'completed_at', 'category', 'tags', 'queue_position', 'force_start', 'super_seeding', 'download_limit', 'upload_limit',
  'ratio_limit', 'seeding_time_limit', 'seeding_time', 'total_downloaded', 'total_uploaded', 'private_discovery',
  'mirrors', 'display_name', 'tracker_tiers', 'renamed_files', 'piece_order',
].join(', ');

/** What the model writes of a torrent's options: columns by record field. */
export const OPTION_COLUMNS = {
  downloadLimit: 'download_limit',
  uploadLimit: 'upload_limit',
  category: 'category',
  tags: 'tags',
  ratioLimit: 'ratio_limit',
  seedingTimeLimit: 'seeding_time_limit',
  forceStart: 'force_start',
  superSeeding: 'super_seeding',
} as const;

export type OptionFields = Partial<Pick<TorrentRecord, keyof typeof OPTION_COLUMNS>>;

/** The stored values of the options named, in order. */
export function optionValues(o: OptionFields, keys: readonly (keyof OptionFields)[]): SqlValue[] {
  return keys.map((k): SqlValue => {
    const v = o[k];
    if (k === 'tags') return JSON.stringify(v);
    if (k === 'forceStart' || k === 'superSeeding') return v ? 1 : 0;
    return v as number | string | null;
  });
}

/** UPSERT_TORRENT's 13 parameters. */
export function upsertParams(t: NewTorrent, now: number): SqlValue[] {
  const isBytes = t.source instanceof Uint8Array;
  return [
    t.infoHash,
    t.name ?? null,
    isBytes ? 'torrent' : 'magnet',
    isBytes ? (t.source as Uint8Array) : null,
    isBytes ? null : (t.source as string),
    t.savePath,
    t.status,
    t.selectedFiles ? JSON.stringify(t.selectedFiles) : null,
    t.length ?? null,
    t.pieceCount ?? null,
    now,
    t.privateDiscovery ? 1 : 0,
    t.mirrors?.length ? JSON.stringify(t.mirrors) : null,
  ];
}

export interface TorrentMeta {
  name?: string;
  length?: number;
  pieceCount?: number;
  /** .torrent bytes made of the fetched metadata. */
  torrent?: Uint8Array;
}

/** name, length, piece count, .torrent bytes, 1 when bytes came (else 0), infohash. */
export const UPDATE_META = `
  UPDATE torrents SET name = COALESCE(?, name), length = COALESCE(?, length),
                      piece_count = COALESCE(?, piece_count),
                      torrent = COALESCE(torrent, ?),
                      source_kind = CASE WHEN ? = 1 THEN 'torrent' ELSE source_kind END
  WHERE info_hash = ?`;

/** status, error, completion time (null keeps the stored one), infohash. A running status (an
 *  event's, the queue's) never lifts the user's pause: only a resume does (TorrentRecords.resume).
 *  A status decided before a pause and written after it ran the torrent on (a 'done' on its way as
 *  the user paused; in a cluster, a holder's queue writing its status as a pause through another
 *  member landed). */
const keepPause = (column: string, value = '?'): string => `CASE WHEN ${column} = 'paused' THEN ${column} ELSE ${value} END`;
export const UPDATE_STATUS = `UPDATE torrents SET status = ${keepPause('status')}, error = ?, completed_at = COALESCE(?, completed_at) WHERE info_hash = ?`;

/** The queue's running status (status, infohash), as UPDATE_STATUS keeps a pause. */
export const UPDATE_RUNNING_STATUS = `UPDATE torrents SET status = ${keepPause('status')} WHERE info_hash = ?`;

/**
 * A torrent's running status on one member's disk (torrent_holders, schema 19): written with every
 * status the member writes to `torrents` (which a single node still reads; a cluster's members each
 * read their own row). infohash, member id, state, error, completion time (null keeps the stored
 * one), now, the member's epoch (its lease's: the coordinator counts a holder only at its member's
 * current epoch), where its copy is (null keeps the stored one; schema 21), the state again (a
 * seeding copy is complete: progress 1, even before its first resume save — a file shared here has
 * none), 1 to set the error (else the stored one stays: the queue's writes).
 */
export const UPSERT_HOLDER = `
  INSERT INTO torrent_holders (info_hash, member_id, state, error, completed_at, updated_at, epoch, save_path, progress)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, CASE WHEN ? = 'seeding' THEN 1 ELSE 0 END)
  ON CONFLICT (info_hash, member_id) DO UPDATE SET
    state = excluded.state,
    progress = CASE WHEN excluded.state = 'seeding' THEN 1 ELSE torrent_holders.progress END,
    error = CASE WHEN ? = 1 THEN excluded.error ELSE torrent_holders.error END,
    completed_at = COALESCE(excluded.completed_at, torrent_holders.completed_at),
    updated_at = excluded.updated_at,
    epoch = excluded.epoch,
    save_path = COALESCE(excluded.save_path, torrent_holders.save_path)
  WHERE torrent_holders.state NOT IN ('removed', 'removed+data')`; // a tombstone (REMOVED…) stays until its member acts on it

/** UPSERT_HOLDER for a running status: a copy the user paused stays paused (see UPDATE_STATUS). */
export const UPSERT_HOLDER_STATUS = UPSERT_HOLDER.replace('state = excluded.state,', `state = ${keepPause('torrent_holders.state', 'excluded.state')},`);

/** A cluster member's running status: UPSERT_HOLDER_STATUS as an update of its own row. Rows are made
 *  by adds and placement; a status upserted just after its row went (a surplus copy dropped) made it
 *  again, at progress 1 for 'seeding' with nothing on disk: a complete copy to the coordinator. */
export const UPDATE_HOLDER_STATUS = `UPDATE torrent_holders SET state = ${keepPause('state')},
  progress = CASE WHEN ? = 'seeding' THEN 1 ELSE progress END, error = CASE WHEN ? = 1 THEN ? ELSE error END, completed_at = COALESCE(?, completed_at),
  updated_at = ?, epoch = ? WHERE info_hash = ? AND member_id = ? AND state NOT IN ('removed', 'removed+data')`;
export function holderStatusParams(infoHash: string, at: HolderAt, state: string, error: string | null | undefined, completedAt: number | null | undefined, now: number): SqlValue[] {
  return [state, state, error === undefined ? 0 : 1, error ?? null, completedAt ?? null, now, at.epoch, infoHash, at.memberId];
}

/** Where a holder is: its member id, lease epoch, and (on the first write of a copy) its save path. */
export interface HolderAt {
  memberId: string;
  epoch: number;
  savePath?: string | null;
}

/** UPSERT_HOLDER's parameters; `error` undefined keeps the stored one. */
export function holderParams(infoHash: string, at: HolderAt, state: string, error: string | null | undefined, completedAt: number | null | undefined, now: number): SqlValue[] {
  return [infoHash, at.memberId, state, error ?? null, completedAt ?? null, now, at.epoch, at.savePath ?? null, state, error === undefined ? 0 : 1];
}

/** A removed torrent's holder rows other than the remover's stay as tombstones, so that each holder,
 *  hearing the library's row is gone, knows whether to delete its own copy (schema 21). */
export const REMOVED = 'removed';
export const REMOVED_WITH_DATA = 'removed+data';

/** A record's columns as a member reads them (`t.` the library's row, `h.` its holder row, bound
 *  to the member id as the first parameter): status, error and completion time are the member's
 *  own, the library's only while it has no holder row (a row written before schema 19 by hand). */
export function recordSelect(columns: string, where = ''): string {
  const own = new Set(['status', 'error', 'completed_at']);
  const list = columns.split(', ').map((c) => {
    // Where this member's copy is: its own data directory (schema 21), else the library's path.
    if (c === 'save_path') return 'COALESCE(h.save_path, t.save_path) AS save_path';
    if (!own.has(c)) return `t.${c}`;
    if (c === 'status') return 'COALESCE(h.state, t.status) AS status';
    return `CASE WHEN h.info_hash IS NULL THEN t.${c} ELSE h.${c} END AS ${c}`;
  });
  // held_here: whether this member has a holder row (a cluster's member lists torrents others hold);
  // untaken: the coordinator placed it here and this member has not chosen where its copy goes;
  // removed_here: this member's row is a tombstone (its copy trimmed, or removed through another member).
  return `SELECT ${list.join(', ')}, CASE WHEN h.info_hash IS NULL THEN 0 ELSE 1 END AS held_here,
    CASE WHEN h.info_hash IS NOT NULL AND h.save_path IS NULL THEN 1 ELSE 0 END AS untaken,
    CASE WHEN h.state IN ('${REMOVED}', '${REMOVED_WITH_DATA}') THEN 1 ELSE 0 END AS removed_here FROM torrents t LEFT JOIN torrent_holders h ON h.info_hash = t.info_hash AND h.member_id = ?${where ? ` WHERE ${where}` : ''}`;
}

/** A torrent forgotten (each statement's parameter: its infohash): the library's row first (its
 *  count says whether it was known), then what hangs on it. Its holder rows are not here: the
 *  remover's own goes (REMOVE_OWN_HOLDER), every other holder's becomes a tombstone (REMOVE_HOLDERS),
 *  which that holder deletes once it removed its copy. */
export const REMOVE_TORRENT = [
  'DELETE FROM torrents WHERE info_hash = ?',
  'DELETE FROM torrent_peers WHERE info_hash = ?',
  'DELETE FROM share_keys WHERE info_hash = ?',
  'DELETE FROM share_writes WHERE info_hash = ?',
  'DELETE FROM file_cids WHERE info_hash = ?',
  // Transmission's small id of the torrent (@cascade/compat's stores/state.ts), and any other left by a
  // removed torrent: without this every torrent ever added kept a row (bench/soak found the table
  // growing with history, docs/retention.md). An id is still never given twice: a new one is the
  // highest + 1, so the highest row of each API stays, as its high-water mark, until a higher exists.
  `DELETE FROM compat_torrent_ids WHERE (info_hash = ? OR NOT EXISTS (SELECT 1 FROM torrents t WHERE t.info_hash = compat_torrent_ids.info_hash))
     AND id < (SELECT MAX(c.id) FROM compat_torrent_ids c WHERE c.api = compat_torrent_ids.api)`,
] as const;

/** infohash: its resume records but those of members with a holder row (which become tombstones:
 *  each holder drops its own record with its tombstone). */
export const REMOVE_RESUME_UNHELD = 'DELETE FROM resume WHERE info_hash = ? AND NOT EXISTS (SELECT 1 FROM torrent_holders h WHERE h.info_hash = resume.info_hash AND h.member_id = resume.member_id)';

/** infohash, member id. */
export const REMOVE_OWN_HOLDER = 'DELETE FROM torrent_holders WHERE info_hash = ? AND member_id = ?';

/** REMOVED or REMOVED_WITH_DATA, infohash: the other holders' rows of a removed torrent (a
 *  tombstone already there stays as it is). */
export const REMOVE_HOLDERS = `UPDATE torrent_holders SET state = ? WHERE info_hash = ? AND state NOT IN ('${REMOVED}', '${REMOVED_WITH_DATA}')`;


/** One torrent's rows go, in the caller's transaction (TorrentRecords.remove): the library's, this
 *  member's holder row; every other holder's becomes a tombstone (REMOVED_WITH_DATA: its copy goes
 *  too). Returns how many library rows went (0: not known). */
export async function removeTorrentRows(tx: Queryable, ih: string, memberId: string, deleteData: boolean, info: Uint8Array | undefined, plaintext?: string): Promise<number> {
  // The files' names as renamed, for the holders that delete their copies later (dropTombstoned):
  // the library's row, which holds them, goes now.
  if (deleteData) await tx.run('UPDATE torrent_holders SET renamed_files = (SELECT t.renamed_files FROM torrents t WHERE t.info_hash = torrent_holders.info_hash) WHERE info_hash = ?', [ih]);
  const known = (await tx.run(REMOVE_TORRENT[0]!, [ih])).changes;
  for (const sql of REMOVE_TORRENT.slice(1)) await tx.run(sql, [ih]);
  // A removal with the data keeps the remover's own tombstone until its files are gone: killed in
  // between, a cluster member's sweep (or a single node's start) deletes them when back. They
  // stayed for good (bench:crash --cluster run i; a single node, @cascade/cluster/tombstones).
  if (!deleteData) await tx.run(REMOVE_OWN_HOLDER, [ih, memberId]);
  // Each other holder's resume record stays with its tombstone: the info dict in it is how a
  // holder down at this moment knows its copy's files when it is back (dropTombstoned).
  await tx.run(REMOVE_RESUME_UNHELD, [ih]);
  // `info`: the torrent's info dict, for the records that lack it (a torrent added as a .torrent
  // keeps it in the library's row, which goes now).
  if (info) {
    await tx.run('UPDATE resume SET info = ? WHERE info_hash = ? AND info IS NULL', [info, ih]);
    // A holder with no resume record at all (killed before its first save of a copy just
    // placed on it) gets one with no pieces, for the info dict alone: without it the files of
    // its copy were nameless, and stayed (issue 63, bench:crash --cluster).
    const unsaved = await tx.values(
      'SELECT h.member_id FROM torrent_holders h WHERE h.info_hash = ? AND NOT EXISTS (SELECT 1 FROM resume r WHERE r.member_id = h.member_id AND r.info_hash = h.info_hash)',
      [ih],
    );
    for (const [member] of unsaved) {
      await tx.run('INSERT INTO resume (member_id, info_hash, have, info, files, updated_at) VALUES (?, ?, ?, ?, NULL, ?)', [member as string, ih, new Uint8Array(0), info, Date.now()]);
    }
  }
  await tx.run(REMOVE_HOLDERS, [deleteData ? REMOVED_WITH_DATA : REMOVED, ih]);
  // A private share's plaintext is its data too (the remover deletes it): on its own tombstone.
  if (deleteData && plaintext) await tx.run('UPDATE torrent_holders SET plaintext_path = ? WHERE info_hash = ? AND member_id = ?', [plaintext, ih, memberId]);
  return known;
}

/** What remotes edit (issue 45); undefined = unchanged, null = back to the torrent's own. */
export interface TorrentEdits {
  displayName?: string | null;
  trackerTiers?: string[][] | null;
  renamedFiles?: Record<number, string[]> | null;
  pieceOrder?: StoredPieceOrder | null;
}

const EDIT_COLUMNS = { displayName: 'display_name', trackerTiers: 'tracker_tiers', renamedFiles: 'renamed_files', pieceOrder: 'piece_order' } as const;

/** [column, value] of each edit given: the name as text, the rest as JSON. */
export function editColumns(edits: TorrentEdits): [string, SqlValue][] {
  return (Object.keys(EDIT_COLUMNS) as (keyof TorrentEdits)[])
    .filter((k) => edits[k] !== undefined)
    .map((k) => {
      const v = edits[k];
      return [EDIT_COLUMNS[k], k === 'displayName' || v === null ? (v as string | null) : JSON.stringify(v)];
    });
}
