// The node's own writes of the `torrents` table (TorrentRecords runs them) in the SQL both engines
// run (store.ts's dialect). A parameter's type must be known to PostgreSQL from where it stands:
// a bare `? IS NULL` is not, so a flag says whether .torrent bytes came with the metadata.

import type { SqlValue } from './store.ts';
import type { NewTorrent, StoredPieceOrder } from './records.ts';

export { UPSERT_TORRENT } from './upserts.ts';

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

/** status, error, completion time (null keeps the stored one), infohash. */
export const UPDATE_STATUS = 'UPDATE torrents SET status = ?, error = ?, completed_at = COALESCE(?, completed_at) WHERE info_hash = ?';

/**
 * A torrent's running status on one member's disk (torrent_holders, schema 19): written with every
 * status the member writes to `torrents` (which a single node still reads; a cluster's members each
 * read their own row). infohash, member id, state, error, completion time (null keeps the stored
 * one), now, 1 to set the error (else the stored one stays: the queue's writes).
 */
export const UPSERT_HOLDER = `
  INSERT INTO torrent_holders (info_hash, member_id, state, error, completed_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
  ON CONFLICT (info_hash, member_id) DO UPDATE SET
    state = excluded.state,
    error = CASE WHEN ? = 1 THEN excluded.error ELSE torrent_holders.error END,
    completed_at = COALESCE(excluded.completed_at, torrent_holders.completed_at),
    updated_at = excluded.updated_at`;

/** UPSERT_HOLDER's parameters; `error` undefined keeps the stored one. */
export function holderParams(infoHash: string, memberId: string, state: string, error: string | null | undefined, completedAt: number | null | undefined, now: number): SqlValue[] {
  return [infoHash, memberId, state, error ?? null, completedAt ?? null, now, error === undefined ? 0 : 1];
}

/** A record's columns as a member reads them (`t.` the library's row, `h.` its holder row, bound
 *  to the member id as the first parameter): status, error and completion time are the member's
 *  own, the library's only while it has no holder row (a row written before schema 19 by hand). */
export function recordSelect(columns: string, where = ''): string {
  const own = new Set(['status', 'error', 'completed_at']);
  const list = columns.split(', ').map((c) => {
    if (!own.has(c)) return `t.${c}`;
    if (c === 'status') return 'COALESCE(h.state, t.status) AS status';
    return `CASE WHEN h.info_hash IS NULL THEN t.${c} ELSE h.${c} END AS ${c}`;
  });
  // held_here: whether this member has a holder row (a cluster's member lists torrents others hold).
  return `SELECT ${list.join(', ')}, CASE WHEN h.info_hash IS NULL THEN 0 ELSE 1 END AS held_here FROM torrents t LEFT JOIN torrent_holders h ON h.info_hash = t.info_hash AND h.member_id = ?${where ? ` WHERE ${where}` : ''}`;
}

/** A torrent forgotten: its row first (its count says whether it was known), then what hangs on it,
 *  every member's (the library no longer has it; each holder drops its data when it hears). */
export const REMOVE_TORRENT = [
  'DELETE FROM torrents WHERE info_hash = ?',
  'DELETE FROM torrent_holders WHERE info_hash = ?',
  'DELETE FROM resume WHERE info_hash = ?',
  'DELETE FROM torrent_peers WHERE info_hash = ?',
  'DELETE FROM share_keys WHERE info_hash = ?',
  'DELETE FROM share_writes WHERE info_hash = ?',
  'DELETE FROM file_cids WHERE info_hash = ?',
] as const;

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
