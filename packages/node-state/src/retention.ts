// What the node's state forgets with time (issue 63, docs/retention.md): the ledgers that gain a row
// for every peer address, every verified identity and every lying DHT publisher ever met would
// otherwise grow with history, not with what is live. The running node sweeps them an hour after it
// starts and every six hours (peer-ledger.ts); each bound has a default here and in the doc.

import type { Store } from './store.ts';

const DAY = 86_400_000;

export interface RetentionBounds {
  /** Peer addresses (host:port) not seen for this long are forgotten, unless banned. */
  peerIdleMs: number;
  /** A ban on an address is forgotten when the address has not been seen for this long. */
  peerBanIdleMs: number;
  /** At most this many peer rows per member: the least recently seen (unbanned first) go. */
  maxPeers: number;
  /** Verified identities with a clean record (no ban, no failed piece) not seen for this long go. */
  identityIdleMs: number;
  /** At most this many identities per member: the least recently seen go. */
  maxIdentities: number;
  /** A DHT publisher caught lying is remembered this long. */
  dhtBlameMs: number;
}

export const RETENTION: RetentionBounds = {
  peerIdleMs: 30 * DAY,
  peerBanIdleMs: 90 * DAY,
  maxPeers: 10_000,
  identityIdleMs: 180 * DAY,
  maxIdentities: 10_000,
  dhtBlameMs: 90 * DAY,
};

/** When the running node sweeps: first an hour after it starts (not in its busy start), then every six. */
export const SWEEP_FIRST_MS = 3_600_000;
export const SWEEP_EVERY_MS = 6 * 3_600_000;

export interface SweepResult {
  peers: number;
  identities: string[];
  dhtBlames: number;
}

/**
 * Deletes what is past its bound from this member's rows; the identities it forgot are returned
 * (and forgotten in memory by `forgetIdentities`), so the ledger in memory stays what is stored.
 * The same SQL on SQLite and PostgreSQL (DELETE … RETURNING on both).
 */
export async function sweepRetention(store: Store, memberId: string, now = Date.now(), b: RetentionBounds = RETENTION, forgetIdentities?: (dids: string[]) => void): Promise<SweepResult> {
  let peers = (await store.run('DELETE FROM peers WHERE member_id = ? AND last_seen < ? AND (banned = 0 OR last_seen < ?)', [memberId, now - b.peerIdleMs, now - b.peerBanIdleMs])).changes;
  peers += (await store.run(
    `DELETE FROM peers WHERE member_id = ? AND address NOT IN (
       SELECT address FROM peers WHERE member_id = ? ORDER BY banned DESC, last_seen DESC, address LIMIT ?)`,
    [memberId, memberId, b.maxPeers],
  )).changes;
  const gone = await store.all<{ did: string }>(
    'DELETE FROM identity_ledger WHERE member_id = ? AND last_seen < ? AND bans = 0 AND hash_failures = 0 RETURNING did',
    [memberId, now - b.identityIdleMs],
  );
  gone.push(...(await store.all<{ did: string }>(
    `DELETE FROM identity_ledger WHERE member_id = ? AND did NOT IN (
       SELECT did FROM identity_ledger WHERE member_id = ? ORDER BY last_seen DESC, did LIMIT ?) RETURNING did`,
    [memberId, memberId, b.maxIdentities],
  )));
  const identities = gone.map((r) => r.did);
  if (identities.length > 0) forgetIdentities?.(identities);
  const dhtBlames = (await store.run('DELETE FROM dht_blames WHERE member_id = ? AND at < ?', [memberId, now - b.dhtBlameMs])).changes;
  return { peers, identities, dhtBlames };
}
