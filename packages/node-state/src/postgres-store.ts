// The Store over PostgreSQL (the `pg` driver, a pool of connections): the state of a node that
// runs on several machines (issue 42). Loaded only when --database names a postgres:// URL, so a
// node on its embedded SQLite file never loads the driver.

import pg from 'pg';
import type { Queryable, Row, SqlValue, Store } from './store.ts';
import { redactUrl } from './store.ts';
import { NodeError, errorMessage } from './errors.ts';
import { sharedWrite, type SharedWrite } from './shared-writes.ts';
import { isUnreachable, unreachable } from './unreachable.ts';

const { Pool, types } = pg;
/** Tries of a transaction that keeps conflicting with others before its error is passed on. */
const MAX_ATTEMPTS = 20;
/** The longest wait between two tries of a conflicted transaction. */
const RETRY_CEILING_MS = 500;

// int8 (count(*), BIGINT columns: timestamps in ms, sizes) and numeric (sum()) come back from the
// driver as strings; the node's values fit a double (sizes and ms timestamps are < 2^53).
const INT8 = 20;
const NUMERIC = 1700;
const typeParsers = {
  getTypeParser(oid: number, format?: string) {
    if (oid === INT8 || oid === NUMERIC) return (v: string) => Number(v);
    return types.getTypeParser(oid, format as 'text');
  },
};

/** How long a new connection may take: a database that does not answer fails requests in bounded time. */
export const CONNECT_TIMEOUT_MS = 5000;
/** How long one statement may go unanswered before its connection is given up (a database cut off
 *  by the network answers nothing at all; a stopped one refuses at once). */
export const QUERY_TIMEOUT_MS = 15_000;
/** The schema's lock waits for another member's migrations, which may take longer. */
const LOCK_TIMEOUT_MS = 10 * 60_000;

/** Runs a driver call, its "server away" errors made `unavailable` NodeErrors. */
async function guarded<T>(call: () => Promise<T>, committing = false): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw isUnreachable(err) ? unreachable(err, committing) : err;
  }
}

/** `?` → `$1, $2, …`, leaving question marks inside quoted strings and identifiers alone. */
export function numberParameters(sql: string): string {
  let out = '';
  let n = 0;
  let quote: string | null = null;
  for (const ch of sql) {
    if (quote) {
      if (ch === quote) quote = null;
      out += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      out += ch;
    } else if (ch === '?') out += `$${++n}`;
    else out += ch;
  }
  return out;
}

/** Bytes as the driver takes them (a Buffer), the rest as they are. */
function toParams(params: readonly SqlValue[]): unknown[] {
  return params.map((p) => (p instanceof Uint8Array && !Buffer.isBuffer(p) ? Buffer.from(p.buffer, p.byteOffset, p.byteLength) : p));
}

interface Client {
  query(q: { text: string; values: unknown[]; rowMode?: 'array' }): Promise<{ rows: unknown[]; rowCount: number | null }>;
}

/** wrote: given each statement that changed shared rows (see PostgresStore.onCommit). */
function queryable(client: () => Client, wrote?: (w: SharedWrite) => void): Queryable {
  const query = async (sql: string, params: readonly SqlValue[] = [], rowMode?: 'array') =>
    guarded(() => client().query({ text: numberParameters(sql), values: toParams(params), ...(rowMode ? { rowMode } : {}) }));
  return {
    values: async (sql: string, params?: readonly SqlValue[]) => (await query(sql, params, 'array')).rows as unknown[][],
    all: async <R extends Row>(sql: string, params?: readonly SqlValue[]) => (await query(sql, params)).rows as R[],
    get: async <R extends Row>(sql: string, params?: readonly SqlValue[]) => (await query(sql, params)).rows[0] as R | undefined,
    run: async (sql: string, params?: readonly SqlValue[]) => {
      const changes = (await query(sql, params)).rowCount ?? 0;
      if (wrote && changes > 0) {
        const w = sharedWrite(sql, params);
        if (w) wrote(w);
      }
      return { changes };
    },
  };
}

export class PostgresStore implements Store {
  readonly dialect = 'postgres' as const;
  readonly location: string;
  readonly #pool: pg.Pool;
  readonly #direct: Queryable;
  /**
   * Told the shared rows a statement or a transaction changed, once they are committed (a cluster's
   * member publishes them to the others: @cascade/cluster's change-bus.ts, issue 42). Unset (a single node),
   * statements are not looked at.
   */
  onCommit: ((writes: SharedWrite[]) => void) | undefined;

  private constructor(pool: pg.Pool, location: string) {
    this.#pool = pool;
    this.location = location;
    this.#direct = queryable(() => pool, (w) => this.onCommit?.([w]));
  }

  /** Connects (and checks the server answers): a clear error for a wrong URL, host or password. */
  static async open(url: string, o: { maxConnections?: number } = {}): Promise<PostgresStore> {
    const location = redactUrl(url);
    // Bounded waits (issue 42 item 6): a connection that cannot be made, or a statement the server
    // does not answer, fails its request (503) instead of hanging it; keep-alive notices a peer
    // that vanished without closing the socket.
    const pool = new Pool({
      connectionString: url,
      max: o.maxConnections ?? 10,
      types: typeParsers,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      query_timeout: QUERY_TIMEOUT_MS,
      keepAlive: true,
    });
    // An idle connection the server dropped (a restart, a failover) is an error on the pool, not a crash.
    pool.on('error', () => {});
    try {
      await pool.query('SELECT 1');
    } catch (err) {
      await pool.end().catch(() => {});
      throw new NodeError('unusable', `cannot use the PostgreSQL database ${location}: ${errorMessage(err)}`, { cause: err });
    }
    return new PostgresStore(pool, location);
  }

  all<R extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<R[]> {
    return this.#direct.all<R>(sql, params);
  }

  get<R extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<R | undefined> {
    return this.#direct.get<R>(sql, params);
  }

  values(sql: string, params?: readonly SqlValue[]): Promise<unknown[][]> {
    return this.#direct.values(sql, params);
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }> {
    return this.#direct.run(sql, params);
  }

  /**
   * SERIALIZABLE, retried when PostgreSQL finds it conflicted with another (SQLSTATE 40001, or a
   * deadlock, 40P01): callers get what SQLite's single writer gives them, a transaction that ran as
   * if alone, without locking rows by hand (SQLite has no SELECT … FOR UPDATE). fn may run again,
   * so it must act through `tx` only.
   */
  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#once(fn);
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if ((code !== '40001' && code !== '40P01') || attempt >= MAX_ATTEMPTS) throw err;
        // Full jitter on a doubling ceiling (10, 20, 40 … 500 ms): adds in flight together all
        // read the queue's last position, and a ceiling growing by 10 ms a try kept them colliding
        // until one ran out of tries (bench:cluster: 0.1-0.5% of adds at 8 in flight answered 500).
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(RETRY_CEILING_MS, 10 * 2 ** (attempt - 1))));
      }
    }
  }

  /**
   * One transaction while holding a cluster-wide lock (a session advisory lock, taken before the
   * transaction's snapshot so it sees what the lock's previous holder committed): the schema's
   * migrations, when several members start at once.
   */
  async underLock<T>(lock: number, fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.#once(fn, lock);
  }

  async #once<T>(fn: (tx: Queryable) => Promise<T>, lock?: number): Promise<T> {
    const client = await guarded(() => this.#pool.connect());
    let broken: unknown;
    // The server gone while this client is checked out: the driver emits 'error' on it besides
    // failing its query (which the caller hears); unheard, that event would crash the process.
    const lost = (err: Error) => (broken ??= err);
    client.on('error', lost);
    try {
      if (lock !== undefined) await guarded(() => client.query({ text: 'SELECT pg_advisory_lock($1)', values: [lock], query_timeout: LOCK_TIMEOUT_MS } as pg.QueryConfig));
      await guarded(() => client.query('BEGIN ISOLATION LEVEL SERIALIZABLE'));
      // This attempt's writes (a retried one's are another's): told only once committed.
      const writes: SharedWrite[] | undefined = this.onCommit && lock === undefined ? [] : undefined;
      try {
        const result = await fn(queryable(() => client, writes && ((w) => writes.push(w))));
        // Cut while committing: the outcome is the server's, unknown here (its message says so).
        await guarded(() => client.query('COMMIT'), true);
        if (writes && writes.length > 0) this.onCommit?.(writes);
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch((e: unknown) => (broken = e));
        throw err;
      }
    } finally {
      if (lock !== undefined && broken === undefined) await client.query('SELECT pg_advisory_unlock($1)', [lock]).catch((e: unknown) => (broken = e));
      // A connection whose rollback failed is in an unknown state: the pool drops it.
      client.off('error', lost);
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
