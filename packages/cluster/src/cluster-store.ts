// The SQL of cluster membership (issue 42 step 3, docs/cluster.md): each member's lease in
// `cluster_members`, the coordinator's one-row lease in `cluster_coordinator` (migration 20). Every
// time is the database's clock, read inside the statement that uses it: two machines whose clocks
// disagree still agree on whether a lease ran out, and nothing passes between reading "now" and
// writing it. Each decision (join, renew, take over, declare dead) is one statement, so two members
// doing the same at once cannot both win.

import { REMOVED, REMOVED_WITH_DATA, nowSql, type MemberStats, type Store } from '@cascade/node/cluster-host';

/** A member's row, times in ms on the database's clock. */
export interface MemberRow extends MemberStats {
  id: string;
  url: string;
  instance: string;
  epoch: number;
  leaseUntil: number;
  lastSeen: number;
  startedAt: number;
  deadAt: number | null;
}

/** The members as the database has them, with its clock when it listed them and the coordinator. */
export interface MemberList {
  now: number;
  members: MemberRow[];
  coordinator: string | null;
}

/** The single node on this database (the node's state/database-lease.ts), while its lease is alive. */
export interface SingleNodeHolder {
  description: string;
  expiresAt: number;
  now: number;
}

type RawMember = {
  id: string;
  url: string;
  instance: string;
  epoch: number | string;
  lease_until: number | string;
  last_seen: number | string;
  torrents: number | string;
  free_bytes: number | string;
  download_rate: number | string;
  upload_rate: number | string;
  bt_port: number | string | null;
  started_at: number | string;
  dead_at: number | string | null;
};

function toMember(r: RawMember): MemberRow {
  return {
    id: r.id,
    url: r.url,
    instance: r.instance,
    epoch: Number(r.epoch),
    leaseUntil: Number(r.lease_until),
    lastSeen: Number(r.last_seen),
    torrents: Number(r.torrents),
    freeBytes: Number(r.free_bytes),
    downloadRate: Number(r.download_rate),
    uploadRate: Number(r.upload_rate),
    btPort: r.bt_port === null ? null : Number(r.bt_port),
    startedAt: Number(r.started_at),
    deadAt: r.dead_at === null ? null : Number(r.dead_at),
  };
}

const MEMBER_COLUMNS = 'id, url, instance, epoch, lease_until, last_seen, torrents, free_bytes, download_rate, upload_rate, bt_port, started_at, dead_at';

export class ClusterStore {
  readonly #store: Store;
  readonly #now: string;

  constructor(store: Store) {
    this.#store = store;
    this.#now = nowSql(store.dialect);
  }

  /** The database's clock in ms. */
  async now(): Promise<number> {
    const row = await this.#store.get<{ now: number | string }>(`SELECT ${this.#now} AS now`);
    return Number(row!.now);
  }

  /**
   * Joins (or rejoins) as `id` with the next epoch, alive for leaseMs: when the row is new, its
   * lease ran out, or it is this same instance's (a restart after a crash, a rejoin after being
   * fenced). Undefined when another instance holds the id alive (two nodes with one node key).
   *
   * The member's copies (its holder rows that are not tombstones) move to the new epoch in the same
   * transaction: a copy counts only at its member's live epoch, and a coordinator's pass that ran
   * between a restarted member's join and its node's start (its engine and library loading) found
   * its copies not counting, placed each of its torrents on another member and, once those copies
   * were complete, trimmed the member's own: a kill -9 and a restart could copy its library again.
   */
  async join(id: string, url: string, instance: string, leaseMs: number): Promise<number | undefined> {
    const n = this.#now;
    return this.#store.transaction(async (tx) => {
      const row = await tx.get<{ epoch: number | string }>(
        `INSERT INTO cluster_members (id, url, instance, epoch, lease_until, last_seen, torrents, free_bytes, download_rate, upload_rate, bt_port, started_at, dead_at)
         VALUES (?, ?, ?, 1, ${n} + CAST(? AS BIGINT), ${n}, 0, 0, 0, 0, NULL, ${n}, NULL)
         ON CONFLICT (id) DO UPDATE SET url = excluded.url, instance = excluded.instance, epoch = cluster_members.epoch + 1,
           lease_until = excluded.lease_until, last_seen = excluded.last_seen, started_at = excluded.started_at, dead_at = NULL
         WHERE cluster_members.lease_until < ${n} OR cluster_members.instance = excluded.instance
         RETURNING epoch`,
        [id, url, instance, leaseMs],
      );
      if (!row) return undefined;
      const epoch = Number(row.epoch);
      await tx.run(`UPDATE torrent_holders SET epoch = ? WHERE member_id = ? AND state NOT IN ('${REMOVED}', '${REMOVED_WITH_DATA}')`, [epoch, id]);
      return epoch;
    });
  }

  /** Renews the lease of `id` at `epoch` with its figures: the database's time of the renewal, or
   *  undefined when the epoch is no longer its own (it was declared dead, or another instance
   *  joined as it): the member was fenced. */
  async renew(id: string, epoch: number, stats: MemberStats, leaseMs: number): Promise<number | undefined> {
    const n = this.#now;
    const row = await this.#store.get<{ last_seen: number | string }>(
      `UPDATE cluster_members SET lease_until = ${n} + CAST(? AS BIGINT), last_seen = ${n},
         torrents = ?, free_bytes = ?, download_rate = ?, upload_rate = ?, bt_port = ?
       WHERE id = ? AND epoch = ?
       RETURNING last_seen`,
      [leaseMs, stats.torrents, Math.round(stats.freeBytes), Math.round(stats.downloadRate), Math.round(stats.uploadRate), stats.btPort, id, epoch],
    );
    return row ? Number(row.last_seen) : undefined;
  }

  /**
   * Gives every member whose lease ran out, and that is not declared dead, a new lease from now:
   * what a coordinator does once it finds it stood still itself (issue 63: the whole VM, or the
   * database, stopped for longer than a lease). It cannot tell who stopped with it from who died,
   * so it gives them all the time to renew; those that do not are declared dead a lease later.
   * Only the live coordinator at `epoch` does it. Lengthening a lease never breaks a fence: a
   * member only ever acts on the lease it renewed itself.
   */
  async graceLapsed(coordinator: string, epoch: number, leaseMs: number): Promise<string[]> {
    const n = this.#now;
    const rows = await this.#store.all<{ id: string }>(
      `UPDATE cluster_members SET lease_until = ${n} + CAST(? AS BIGINT)
       WHERE lease_until < ${n} AND dead_at IS NULL
         AND EXISTS (SELECT 1 FROM cluster_coordinator c WHERE c.id = 1 AND c.member_id = ? AND c.epoch = ? AND c.lease_until >= ${n})
       RETURNING id`,
      [leaseMs, coordinator, epoch],
    );
    return rows.map((r) => r.id);
  }

  /** A member stopping: its lease ends now (the coordinator then declares it dead, as any). */
  async leave(id: string, epoch: number): Promise<void> {
    await this.#store.run(`UPDATE cluster_members SET lease_until = ${this.#now} - 1 WHERE id = ? AND epoch = ?`, [id, epoch]);
  }

  /** Every member known, alive or not, with the database's clock and the live coordinator. */
  async list(): Promise<MemberList> {
    const n = this.#now;
    const rows = await this.#store.all<RawMember & { now: number | string }>(`SELECT ${MEMBER_COLUMNS}, ${n} AS now FROM cluster_members ORDER BY started_at, id`);
    const coordinator = await this.#store.get<{ member_id: string }>(`SELECT member_id FROM cluster_coordinator WHERE id = 1 AND lease_until >= ${n}`);
    const now = rows.length > 0 ? Number(rows[0]!.now) : await this.now();
    return { now, members: rows.map(toMember), coordinator: coordinator?.member_id ?? null };
  }

  /** The single node of database-lease.ts, when one holds the database now: no member joins then. */
  async singleNodeHolder(): Promise<SingleNodeHolder | undefined> {
    const row = await this.#store.get<{ description: string; expires_at: number | string; now: number | string }>(
      `SELECT description, expires_at, ${this.#now} AS now FROM node_lease WHERE id = 1 AND expires_at >= ${this.#now}`,
    );
    return row ? { description: row.description, expiresAt: Number(row.expires_at), now: Number(row.now) } : undefined;
  }

  /** Takes the coordinator's lease for `id` when it is free (never taken, or run out): its new
   *  epoch, else undefined (another member holds it alive). */
  async takeCoordinator(id: string, leaseMs: number): Promise<number | undefined> {
    const n = this.#now;
    const row = await this.#store.get<{ epoch: number | string }>(
      `INSERT INTO cluster_coordinator (id, member_id, epoch, lease_until) VALUES (1, ?, 1, ${n} + CAST(? AS BIGINT))
       ON CONFLICT (id) DO UPDATE SET member_id = excluded.member_id, epoch = cluster_coordinator.epoch + 1, lease_until = excluded.lease_until
       WHERE cluster_coordinator.lease_until < ${n}
       RETURNING epoch`,
      [id, leaseMs],
    );
    return row ? Number(row.epoch) : undefined;
  }

  /** Renews the coordinator's lease; false once another member took it over. */
  async renewCoordinator(id: string, epoch: number, leaseMs: number): Promise<boolean> {
    const { changes } = await this.#store.run(
      `UPDATE cluster_coordinator SET lease_until = ${this.#now} + CAST(? AS BIGINT) WHERE id = 1 AND member_id = ? AND epoch = ?`,
      [leaseMs, id, epoch],
    );
    return changes > 0;
  }

  /** Gives the coordinator's lease back (a member stopping): another takes it at its next renewal. */
  async releaseCoordinator(id: string, epoch: number): Promise<void> {
    await this.#store.run('UPDATE cluster_coordinator SET lease_until = 0 WHERE id = 1 AND member_id = ? AND epoch = ?', [id, epoch]);
  }

  /**
   * Declares dead every member whose lease ran out and that is not yet declared: its epoch goes up
   * by one, which is the fence (its next renewal fails, even if it comes back). Only the live
   * coordinator at `epoch` does it, checked in the same statement: a coordinator that lost its
   * lease (cut from the database, then back) declares nothing.
   */
  async declareDead(coordinator: string, epoch: number): Promise<MemberRow[]> {
    const n = this.#now;
    const rows = await this.#store.all<RawMember>(
      `UPDATE cluster_members SET epoch = epoch + 1, dead_at = ${n}
       WHERE lease_until < ${n} AND dead_at IS NULL
         AND EXISTS (SELECT 1 FROM cluster_coordinator c WHERE c.id = 1 AND c.member_id = ? AND c.epoch = ? AND c.lease_until >= ${n})
       RETURNING ${MEMBER_COLUMNS}`,
      [coordinator, epoch],
    );
    return rows.map(toMember);
  }
}
