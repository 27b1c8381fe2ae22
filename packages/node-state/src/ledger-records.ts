// The peer ledger (by address) and the identity ledger (by verified did) through the Store, in the
// SQL both engines run (upserts.ts): each batch of deltas one transaction. Both are a member's own
// (schema 19): every read and write names the member id ('' = a single node). The identity ledger is
// read synchronously when a peer proves who it is (the fast lane), so its records are kept in
// memory (IdentityRecords), read at start and added to as batches are stored.

import type { Queryable, Store } from './store.ts';
import type { IdentityDelta, IdentityRecord, PeerDelta, PeerRecord, Row } from './records.ts';
import { UPSERT_IDENTITY_LEDGER, UPSERT_PEER } from './upserts.ts';

/**
 * Reputation points for one delta: a MiB received counts 1, a MiB sent 0.5 (they asked, we gave; it
 * still shows a working peer), a ban costs 100 so banned peers sort last even after big transfers.
 */
export function peerScore(d: PeerDelta): number {
  const MiB = 1024 * 1024;
  return d.down / MiB + d.up / (2 * MiB) - (d.banned ? 100 : 0);
}

/** Adds a batch of traffic and ban deltas, in one transaction. */
export async function recordPeers(store: Store, batch: readonly PeerDelta[], memberId = ''): Promise<void> {
  if (batch.length === 0) return;
  await store.transaction(async (tx) => {
    for (const d of batch) await tx.run(UPSERT_PEER, [memberId, d.address, d.peerId ?? null, peerScore(d), d.up, d.down, d.banned ? 1 : 0, d.banned ?? null, d.lastSeen]);
  });
}

/** The best peers first, banned ones last. */
export async function listPeers(store: Queryable, limit = 100, memberId = ''): Promise<PeerRecord[]> {
  const rows = await store.all('SELECT * FROM peers WHERE member_id = ? ORDER BY banned, score DESC, last_seen DESC, address LIMIT ?', [memberId, limit]);
  return rows.map((r) => ({
    address: r.address as string,
    peerId: (r.peer_id as string | null) ?? null,
    score: Number(r.score),
    bytesUp: Number(r.bytes_up),
    bytesDown: Number(r.bytes_down),
    banned: Number(r.banned) === 1,
    banReason: (r.ban_reason as string | null) ?? null,
    lastSeen: Number(r.last_seen),
  }));
}

/** Adds each identity's deltas to its record (created on first sight), in one transaction. */
export async function recordIdentities(store: Store, deltas: readonly IdentityDelta[], memberId = ''): Promise<void> {
  if (deltas.length === 0) return;
  await store.transaction(async (tx) => {
    for (const d of deltas) await tx.run(UPSERT_IDENTITY_LEDGER, [memberId, d.did, d.account ?? null, d.verifiedBytes, d.hashFailures, d.bans, d.lastSeen, d.lastSeen]);
  });
}

function toIdentityRecord(r: Row): IdentityRecord {
  return {
    did: r.did as string, account: (r.account as string | null) ?? null, verifiedBytes: Number(r.verified_bytes),
    hashFailures: Number(r.hash_failures), bans: Number(r.bans), firstSeen: Number(r.first_seen), lastSeen: Number(r.last_seen),
  };
}

/** A record with deltas added, as UPSERT_IDENTITY_LEDGER adds them. */
export function addDeltas(r: IdentityRecord | undefined, d: IdentityDelta): IdentityRecord {
  const base = r ?? { did: d.did, account: null, verifiedBytes: 0, hashFailures: 0, bans: 0, firstSeen: d.lastSeen, lastSeen: d.lastSeen };
  return {
    ...base,
    account: d.account ?? base.account,
    verifiedBytes: base.verifiedBytes + d.verifiedBytes,
    hashFailures: base.hashFailures + d.hashFailures,
    bans: base.bans + d.bans,
    lastSeen: Math.max(base.lastSeen, d.lastSeen),
  };
}

/** The identity ledger in memory: the Store's records, and each batch added once stored. */
export class IdentityRecords {
  readonly #store: Store;
  readonly #memberId: string;
  readonly #records = new Map<string, IdentityRecord>();

  constructor(store: Store, rows: Iterable<Row>, memberId = '') {
    this.#store = store;
    this.#memberId = memberId;
    for (const r of rows) this.#records.set(r.did as string, toIdentityRecord(r));
  }

  static async load(store: Store, memberId = ''): Promise<IdentityRecords> {
    return new IdentityRecords(store, await store.all('SELECT * FROM identity_ledger WHERE member_id = ?', [memberId]), memberId);
  }

  get(did: string): IdentityRecord | undefined {
    return this.#records.get(did);
  }

  /** Forgets identities the retention sweep deleted (state/retention.ts). */
  forget(dids: readonly string[]): void {
    for (const did of dids) this.#records.delete(did);
  }

  /** How many identities are held in memory. */
  get size(): number {
    return this.#records.size;
  }

  /** Stores a batch (one transaction), then adds it here. */
  async record(deltas: readonly IdentityDelta[]): Promise<void> {
    await recordIdentities(this.#store, deltas, this.#memberId);
    for (const d of deltas) this.#records.set(d.did, addDeltas(this.#records.get(d.did), d));
  }
}
