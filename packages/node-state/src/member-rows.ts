// Which of the state's rows are one member's own (schema 19, docs/cluster.md "State: what is shared
// and what is a member's own"), and the one write that moves them between member ids: a single
// node is member '' and, when it joins a cluster, its rows become those of its member id (its did),
// all of them in one transaction.

import { NodeError } from './errors.ts';
import type { Queryable, Store } from './store.ts';
import type { TorrentHolder as TorrentHolderView } from '@cascade/shapes';
import type { TorrentStatus } from './records.ts';
import { REMOVED, REMOVED_WITH_DATA } from './torrent-writes.ts';
import { nowSql } from './database-lease.ts';

/** Tables keyed by member id: each member reads and writes only its own rows of them. */
export const MEMBER_TABLES = [
  'identity', // node key and peer id
  'resume', // the pieces on this member's disk
  'peers', // the peers it met, by address
  'identity_ledger', // the identities it verified
  'dht_blames', // DHT publishers it caught lying
  'receipts_sent', // receipts its account signed as a downloader
  'receipts_held', // receipts for its account as a seeder
  'share_writes', // chunks of private shares decrypted to its disk
  'torrent_holders', // a torrent's running status on its disk
] as const;

/** A torrent on one member's disk, as its torrent_holders row says (issue 42: a torrent's
 *  "holders"). */
export interface TorrentHolder {
  member: string;
  state: TorrentStatus;
  /** Verified pieces over pieces, 0 to 1, as of the member's last resume save. */
  progress: number;
  error: string | null;
  epoch: number;
  updatedAt: number;
}

/** Every member's row of a torrent, by member id. */
export async function torrentHolders(store: Queryable, infoHash: string): Promise<TorrentHolder[]> {
  const rows = await store.all('SELECT member_id, state, progress, error, epoch, updated_at FROM torrent_holders WHERE info_hash = ? ORDER BY member_id', [infoHash]);
  return rows.map((r) => ({
    member: r.member_id as string,
    state: r.state as TorrentStatus,
    progress: Number(r.progress),
    error: (r.error as string | null) ?? null,
    epoch: Number(r.epoch),
    updatedAt: Number(r.updated_at),
  }));
}

/** A holder whose copy failed (a disk full, a write refused): listed, not counted as a copy. */
export const FAILED = 'error';

/** A torrent's holder as its detail shows it (GET /api/torrents/:infoHash's `holders`). */
export type HolderState = TorrentHolderView;

/** A torrent's copies (not a removal's tombstones), each with whether its member is alive in
 *  cluster_members (on the database's clock, at the row's epoch) and its URL: none on a single node. */
export async function holderStates(store: Store, infoHash: string): Promise<HolderState[]> {
  const n = nowSql(store.dialect);
  const rows = await store.all<{ member_id: string; state: string; progress: number | string; live: number | string; url: string | null; error: string | null; save_path: string | null; move_to: string | null; move_error: string | null }>(
    `SELECT h.member_id, h.state, h.progress, h.error, m.url, h.save_path, h.move_to, h.move_error,
       CASE WHEN m.id IS NOT NULL AND m.lease_until >= ${n} AND m.epoch = h.epoch THEN 1 ELSE 0 END AS live
     FROM torrent_holders h LEFT JOIN cluster_members m ON m.id = h.member_id
     WHERE h.info_hash = ? AND h.state NOT IN ('${REMOVED}', '${REMOVED_WITH_DATA}') ORDER BY h.member_id`,
    [infoHash],
  );
  return rows.map((r) => ({
    member: r.member_id,
    state: r.state,
    progress: Number(r.progress),
    alive: Number(r.live) === 1,
    url: r.url,
    error: r.state === FAILED ? (r.error ?? null) : null,
    savePath: r.save_path,
    moveTo: r.move_to,
    moveError: r.move_error,
  }));
}

/** The member id of a node that is not in a cluster. */
export const SINGLE_NODE = '';

/** A member id as stored: non-empty for a cluster member, printable, short enough for a key. */
export function checkMemberId(id: string): string {
  if (id.length > 200 || /[\u0000-\u001f\u007f]/.test(id)) throw new NodeError('invalid', `not a member id: ${JSON.stringify(id.slice(0, 40))} (at most 200 printable characters)`);
  return id;
}

/**
 * Gives member `from`'s rows (by default the single node's) to member `to`, in one transaction:
 * all of them or none. Refused (conflict) if `to` already has rows in any per-member table, so a
 * member's own rows are never mixed with or overwritten by another's. Returns the rows moved by table.
 */
export async function renameMember(store: Store, to: string, from: string = SINGLE_NODE): Promise<Record<string, number>> {
  checkMemberId(to);
  checkMemberId(from);
  if (to === SINGLE_NODE) throw new NodeError('invalid', "a member id to rename to must not be empty ('' is the single node)");
  if (to === from) throw new NodeError('invalid', `rows of member ${JSON.stringify(from)} renamed to itself`);
  return store.transaction(async (tx) => {
    const taken: string[] = [];
    for (const t of MEMBER_TABLES) if (await tx.get(`SELECT 1 AS one FROM ${t} WHERE member_id = ? LIMIT 1`, [to])) taken.push(t);
    if (taken.length > 0) throw new NodeError('conflict', `member ${JSON.stringify(to)} already has rows (in ${taken.join(', ')}): its own state is not overwritten`);
    const moved: Record<string, number> = {};
    for (const t of MEMBER_TABLES) moved[t] = (await tx.run(`UPDATE ${t} SET member_id = ? WHERE member_id = ?`, [to, from])).changes;
    return moved;
  });
}
