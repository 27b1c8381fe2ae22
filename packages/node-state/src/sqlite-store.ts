// The Store over the embedded SQLite file (node:sqlite). SQLite answers synchronously, so each
// call resolves at once; what this class adds is the order: one connection serves the whole node,
// so while a transaction is open every other statement waits for it to end instead of slipping
// into it (and being rolled back with it).
//
// The state file itself: WAL mode + one transaction per write means a `kill -9` (or power loss)
// leaves every record either fully old or fully new, never half-written. synchronous=NORMAL (WAL's
// own advice): commits are not fsynced one by one but at each checkpoint, so a power loss may forget
// the last moments' writes (never corrupt them), and adding 10,000 torrents is not 60,000 fsyncs
// (issue 25). docs/durability.md says what a crash and a power loss can cost.

import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { chmodSync, existsSync } from 'node:fs';
import type { Queryable, Row, SqlValue, Store } from './store.ts';
import { errorMessage } from './errors.ts';
import { migrate, StateError } from './schema.ts';

/** Prepared statements kept per SQL text: preparing one costs more than running it. */
const MAX_STATEMENTS = 500;
/** How long opening waits out another process holding the file (a verb beside `serve`, several
 *  verbs started together on a fresh state dir) before saying so. */
const LOCK_WAIT_MS = 30_000;
/** How long one statement waits for a lock (SQLite's busy handler) before answering "locked". */
const BUSY_TIMEOUT_MS = 5000;
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;

/** The file is locked by another connection: a reason to open again, never to call it corrupted. */
class LockedError extends Error {}

export class SqliteStore implements Store {
  readonly dialect = 'sqlite' as const;
  readonly location: string;
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  /** The same, set to return rows as arrays (a statement has one mode at a time). */
  readonly #arrayStatements = new Map<string, StatementSync>();
  /** Resolves when the open transaction (if any) has ended. */
  #idle: Promise<void> = Promise.resolve();
  #inTransaction = false;
  readonly #direct: Queryable;
  /** Whether close() closes the file (openFile opened it). */
  readonly #ownsFile: boolean;

  /** `db` stays the caller's: close() here forgets the statements, the caller closes the file. */
  constructor(db: DatabaseSync, location: string, o: { ownsFile?: boolean } = {}) {
    this.#db = db;
    this.location = location;
    this.#ownsFile = o.ownsFile ?? false;
    this.#direct = {
      all: async <R extends Row>(sql: string, params: readonly SqlValue[] = []) => this.#prepare(sql).all(...params) as R[],
      values: async (sql: string, params: readonly SqlValue[] = []) => this.#prepare(sql, true).all(...params) as unknown as unknown[][],
      get: async <R extends Row>(sql: string, params: readonly SqlValue[] = []) => this.#prepare(sql).get(...params) as R | undefined,
      run: async (sql: string, params: readonly SqlValue[] = []) => ({ changes: Number(this.#prepare(sql).run(...params).changes) }),
    };
  }

  async all<R extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<R[]> {
    await this.#whenIdle();
    return this.#direct.all<R>(sql, params);
  }

  async values(sql: string, params?: readonly SqlValue[]): Promise<unknown[][]> {
    await this.#whenIdle();
    return this.#direct.values(sql, params);
  }

  async get<R extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<R | undefined> {
    await this.#whenIdle();
    return this.#direct.get<R>(sql, params);
  }

  async run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }> {
    await this.#whenIdle();
    return this.#direct.run(sql, params);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    // Queue behind the open transaction, then hold the connection until this one ends.
    let release!: () => void;
    const previous = this.#idle;
    this.#idle = new Promise<void>((r) => (release = r));
    await previous;
    this.#inTransaction = true;
    try {
      // IMMEDIATE takes the write lock up front: another process (a verb beside `serve`) waits at
      // BEGIN (busy_timeout) rather than failing halfway through.
      this.#db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.#direct);
        this.#db.exec('COMMIT');
        return result;
      } catch (err) {
        if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
        throw err;
      }
    } finally {
      this.#inTransaction = false;
      release();
    }
  }

  /**
   * Opens (creating or migrating) the state file at path; close() closes it. Throws StateError with
   * a clear message on a file that is not ours, newer than this cascade, unreadable, or held by
   * another process for longer than lockWaitMs.
   */
  static openFile(path: string, { lockWaitMs = LOCK_WAIT_MS }: { lockWaitMs?: number } = {}): SqliteStore {
    const deadline = Date.now() + lockWaitMs;
    for (let pause = 50; ; pause = Math.min(pause * 2, 1000)) {
      try {
        return SqliteStore.#openOnce(path, Math.min(BUSY_TIMEOUT_MS, lockWaitMs));
      } catch (err) {
        if (!(err instanceof LockedError)) throw err;
        // busy_timeout does not cover every wait: SQLite answers "locked" at once where waiting
        // could deadlock (two processes creating the file together, one switching it to WAL).
        // Opening again from the start is safe: nothing was written.
        if (Date.now() + pause > deadline) {
          throw new StateError(
            `state DB ${path} is in use (${err.message}): another cascade process has held it for ${Math.round(lockWaitMs / 1000)} s — ` +
              'wait for it to finish or stop it, or pass another --state-dir',
          );
        }
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, pause);
      }
    }
  }

  static #openOnce(path: string, busyTimeoutMs: number): SqliteStore {
    const fresh = !existsSync(path);
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(path);
    } catch (err) {
      throw new StateError(`cannot open state DB ${path}: ${errorMessage(err)}`);
    }
    try {
      // SQLite creates -wal/-shm with the main file's permissions, so restrict it first (the state
      // holds the node's private key).
      if (fresh) chmodSync(path, 0o600);
      // Another process (serve + a verb) may hold a write lock briefly; wait instead of failing.
      db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
      db.exec('PRAGMA journal_mode = WAL');
      db.exec('PRAGMA synchronous = NORMAL');
      migrate(db, path);
    } catch (err) {
      db.close();
      if (err instanceof StateError) throw err;
      const code = Number((err as { errcode?: number }).errcode) & 0xff;
      if (code === SQLITE_BUSY || code === SQLITE_LOCKED) throw new LockedError(errorMessage(err));
      throw new StateError([8, 10, 13, 14].includes(code) // read-only, I/O, full, can't open: the disk's, not the file's
        ? `cannot write state DB ${path} (${errorMessage(err)}); nothing in it was changed — free space on its disk or make it writable, and start again`
        : `state DB ${path} is unreadable (${errorMessage(err)}); it is corrupted or not a cascade database — move it aside to start with a fresh state`,
      );
    }
    return new SqliteStore(db, path, { ownsFile: true });
  }

  /** Another SQLite file of the node's, as it is (no pragma, no migration): the chat relay's
   *  chat.db, which `db copy` reads. close() closes it. */
  static openPlain(path: string): SqliteStore {
    return new SqliteStore(new DatabaseSync(path), path, { ownsFile: true });
  }

  async close(): Promise<void> {
    await this.#whenIdle();
    this.#statements.clear();
    this.#arrayStatements.clear();
    if (this.#ownsFile && this.#db.isOpen) this.#db.close();
  }

  async #whenIdle(): Promise<void> {
    while (this.#inTransaction) await this.#idle;
  }

  #prepare(sql: string, arrays = false): StatementSync {
    const cache = arrays ? this.#arrayStatements : this.#statements;
    let stmt = cache.get(sql);
    if (stmt) return stmt;
    // Statements built with a varying number of terms would grow the cache without end.
    if (cache.size >= MAX_STATEMENTS) cache.clear();
    cache.set(sql, (stmt = this.#db.prepare(sql)));
    if (arrays) stmt.setReturnArrays(true);
    return stmt;
  }
}
