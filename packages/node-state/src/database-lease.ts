// One node per shared database, until clusters come (docs/cluster.md; issue 42). A second node
// started on the same PostgreSQL database would load the same library and write the same resume
// rows, statuses and ledgers from another disk: each would undo the other. So a node on
// PostgreSQL holds a lease in the database: it takes it at start, renews it every RENEW_MS, and
// gives it back when it stops. A node that finds the lease held and alive refuses to start and
// names the holder; a lease not renewed for LEASE_MS (its node killed, its machine gone) is free.
//
// Times are the database's clock, never a machine's: two machines whose clocks disagree must still
// agree on whether a lease ran out. Every take-over adds one to the epoch, and a renewal names the
// epoch it holds, so a node that lost its lease (cut from the database for longer than LEASE_MS
// while another took over) learns it at its next renewal and stops, instead of writing on.

import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { NodeError } from './errors.ts';
import type { Dialect, Store } from './store.ts';

/** How long a lease lives without a renewal: a killed node's database is free this long after. */
export const LEASE_MS = 10_000;
/** How often the holder renews: a database that does not answer for a few renewals still leaves
 *  the lease alive. */
export const RENEW_MS = 2_000;
const INSTANCE_FILE = 'instance-id';

/** The database's clock in ms (SQLite's is this machine's: one machine reaches its file). */
export async function databaseNow(store: Store): Promise<number> {
  if (store.dialect !== 'postgres') return Date.now();
  const row = await store.get<{ now: number | string }>('SELECT CAST(extract(epoch FROM clock_timestamp()) * 1000 AS BIGINT) AS now');
  return Number(row!.now);
}

/** The database's clock in ms, as SQL read inside the statement that uses it (a cluster's leases,
 *  @cascade/cluster): PostgreSQL's statement start (not the transaction's: a lease renewed late in a
 *  long transaction must not be dated at its start), SQLite's (one machine reaches its file). One
 *  value for the whole statement on both: clock_timestamp() was read afresh at each use, so a lease
 *  written as `lease_until = now + 6000, last_seen = now` could span 5,999 ms. */
export function nowSql(dialect: Dialect): string {
  return dialect === 'postgres' ? 'CAST(extract(epoch FROM statement_timestamp()) * 1000 AS BIGINT)' : "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";
}

/** This state dir's instance id: the same node restarted (after a crash too) takes its lease back
 *  at once instead of waiting it out. */
export function instanceId(stateDir: string): string {
  const file = join(stateDir, INSTANCE_FILE);
  try {
    const id = readFileSync(file, 'utf8').trim();
    if (/^[0-9a-f-]{36}$/.test(id)) return id;
  } catch {
    // first start
  }
  const id = randomUUID();
  writeFileSync(file, `${id}\n`, { mode: 0o600 });
  return id;
}

type LeaseRow = {
  holder: string;
  description: string;
  epoch: number;
  renewed_at: number;
  expires_at: number;
};

export class DatabaseLease {
  readonly #store: Store;
  readonly #holder: string;
  readonly #epoch: number;
  #timer: NodeJS.Timeout | undefined;
  #lost: ((reason: string) => void) | undefined;
  #released = false;

  private constructor(store: Store, holder: string, epoch: number) {
    this.#store = store;
    this.#holder = holder;
    this.#epoch = epoch;
  }

  /**
   * Takes the lease for `holder`, or throws NodeError('conflict') naming the node that holds it.
   * `description` says who we are to a node refused later (pid, host, state dir).
   */
  static async take(store: Store, holder: string, description: string): Promise<DatabaseLease> {
    const now = await databaseNow(store);
    // One statement: free (run out, or ours from before a crash) → ours with the next epoch; held by
    // another and alive → nothing changes. Two nodes starting at once cannot both take it.
    const { changes } = await store.run(
      `INSERT INTO node_lease (id, holder, description, epoch, renewed_at, expires_at) VALUES (1, ?, ?, 1, ?, ?)
       ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, description = excluded.description,
         epoch = node_lease.epoch + 1, renewed_at = excluded.renewed_at, expires_at = excluded.expires_at
       WHERE node_lease.expires_at < ? OR node_lease.holder = ?`,
      [holder, description, now, now + LEASE_MS, now, holder],
    );
    const row = await store.get<LeaseRow>('SELECT holder, description, epoch, renewed_at, expires_at FROM node_lease WHERE id = 1');
    if (changes === 0 || !row || row.holder !== holder) {
      const ago = row ? Math.max(0, (now - Number(row.renewed_at)) / 1000).toFixed(1) : '?';
      const free = row ? Math.max(0, (Number(row.expires_at) - now) / 1000).toFixed(1) : '?';
      throw new NodeError(
        'conflict',
        `another Cascade node uses the database ${store.location}: ${row?.description ?? 'unknown'}, its lease renewed ${ago} s ago. ` +
          `One node per database until clusters come (docs/cluster.md): stop that node, or, if it is gone, start this one again in ${free} s.`,
      );
    }
    return new DatabaseLease(store, holder, Number(row.epoch));
  }

  get epoch(): number {
    return this.#epoch;
  }

  /** Renews every RENEW_MS; `lost` is called once if another node took the lease meanwhile. A
   *  renewal the database does not answer is retried at the next tick (the lease outlives a few). */
  keep(lost: (reason: string) => void): void {
    this.#lost = lost;
    this.#timer = setInterval(() => void this.renew().catch(() => {}), RENEW_MS);
    this.#timer.unref();
  }

  /** One renewal; false once the lease is another node's. */
  async renew(): Promise<boolean> {
    if (this.#released) return false;
    const now = await databaseNow(this.#store);
    const { changes } = await this.#store.run('UPDATE node_lease SET renewed_at = ?, expires_at = ? WHERE id = 1 AND holder = ? AND epoch = ?', [
      now,
      now + LEASE_MS,
      this.#holder,
      this.#epoch,
    ]);
    if (changes > 0) return true;
    const row = await this.#store.get<LeaseRow>('SELECT holder, description, epoch FROM node_lease WHERE id = 1').catch(() => undefined);
    this.#stop();
    this.#lost?.(`the lease on the database was taken over by ${row?.description ?? 'another node'} (epoch ${row?.epoch ?? '?'}, ours ${this.#epoch}): this node stops so that the two do not both write`);
    this.#lost = undefined;
    return false;
  }

  /** Gives the lease back (a node stopping): the next node need not wait it out. */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#stop();
    this.#released = true;
    try {
      await this.#store.run('UPDATE node_lease SET expires_at = 0 WHERE id = 1 AND holder = ? AND epoch = ?', [this.#holder, this.#epoch]);
    } catch {
      // The database does not answer now: the lease runs out by itself within LEASE_MS.
    }
  }

  #stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

/**
 * A single node's hold on a shared database (startNode, without a cluster): its lease, refused while
 * a cluster's members are alive on it (they would not see this node, nor it them; their leases are
 * rows of cluster_members, schema 20). Nothing on SQLite: one state dir, one node (control.json says).
 */
export async function holdAsSingleNode(store: Store, stateDir: string): Promise<DatabaseLease | undefined> {
  // Made on SQLite too: `cascade db copy` later names this state dir by it.
  const instance = instanceId(stateDir);
  if (store.dialect !== 'postgres') return undefined;
  const row = await store.get<{ n: number | string }>(`SELECT count(*) AS n FROM cluster_members WHERE lease_until >= ${nowSql(store.dialect)}`);
  const alive = Number(row?.n ?? 0);
  if (alive > 0) {
    throw new NodeError(
      'conflict',
      `${alive} member${alive === 1 ? '' : 's'} of a cluster use${alive === 1 ? 's' : ''} the database ${store.location} (\`cascade cluster --database URL\` lists them): ` +
        'start this node as a member too, with --cluster-url http://address-the-others-reach-it',
    );
  }
  return DatabaseLease.take(store, instance, `pid ${process.pid} on host ${hostname()}, state dir ${stateDir}`);
}

/** Records a state dir as the database's single node without holding it (a free lease): what
 *  `cascade db copy` leaves, so that the state dir it copied is the one that keeps the single node's
 *  rows when it later joins a cluster (member-id.ts). */
export async function recordSingleNode(store: Store, holder: string, description: string): Promise<void> {
  await store.run('INSERT INTO node_lease (id, holder, description, epoch, renewed_at, expires_at) VALUES (1, ?, ?, 0, 0, 0) ON CONFLICT (id) DO NOTHING', [holder, description]);
}
