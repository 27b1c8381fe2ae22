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

/** A torrent forgotten: its row first (its count says whether it was known), then what hangs on it. */
export const REMOVE_TORRENT = [
  'DELETE FROM torrents WHERE info_hash = ?',
  'DELETE FROM resume WHERE info_hash = ?',
  'DELETE FROM torrent_peers WHERE info_hash = ?',
  'DELETE FROM share_keys WHERE info_hash = ?',
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
