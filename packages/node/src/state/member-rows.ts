// Which of the state's rows are one member's own (schema 19, docs/cluster.md "State: what is shared
// and what is a member's own"), and the one write that moves them between member ids: a single
// node is member '' and, when it joins a cluster, its rows become those of its member id (its did),
// all of them in one transaction.

import { NodeError } from '../core/errors.ts';
import type { Queryable, Store } from './store.ts';
import type { TorrentStatus } from './records.ts';

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
