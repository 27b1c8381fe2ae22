// The one interface through which the node's state is read and written (issue 41, item 3): the
// embedded SQLite file today, PostgreSQL beside it for a node that runs on several machines
// (issue 42). It is asynchronous because a database over a network is; SQLite answers at once.
//
// What callers write is one SQL dialect that both engines run the same way:
// - parameters are `?` (the PostgreSQL store numbers them);
// - upserts are `INSERT … ON CONFLICT (key) DO UPDATE SET col = excluded.col` or `DO NOTHING`,
//   never `INSERT OR REPLACE` / `INSERT OR IGNORE`;
// - no `COLLATE NOCASE`, no `PRAGMA`, no `rowid`: sort case-blind with `lower(x)`;
// - column aliases in lowercase (PostgreSQL folds unquoted names to lowercase);
// - integers (timestamps in ms, sizes, booleans as 0/1) come back as numbers, bytes as Uint8Array,
//   TEXT as strings; JSON is kept as TEXT.
// Transactions are explicit: `transaction(fn)` runs fn's statements as one unit and nothing else in
// between; the schema's migrations are in schema.ts, one list for both engines.

export type SqlValue = string | number | bigint | Uint8Array | null;
export type Row = Record<string, unknown>;

/** What statements run on: the store itself, or one of its transactions. */
export interface Queryable {
  /** Every row the statement returns. */
  all<R extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<R[]>;
  /** Every row as an array of its columns, in the statement's order: for reads of many rows (the
   *  queue's 10,000), where an object per row costs 1.5-2x the read. */
  values(sql: string, params?: readonly SqlValue[]): Promise<unknown[][]>;
  /** The first row, or undefined. */
  get<R extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<R | undefined>;
  /** A statement that returns nothing; `changes`: the rows it inserted, updated or deleted. */
  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }>;
}

export type Dialect = 'sqlite' | 'postgres';

export interface Store extends Queryable {
  readonly dialect: Dialect;
  /** Where the state is, for messages: the SQLite file, or the PostgreSQL URL without its password. */
  readonly location: string;
  /**
   * Runs fn as one transaction: committed when it resolves, rolled back when it throws (and the
   * error passed on). Statements outside it wait until it ends; fn must use `tx`, not the store
   * (the store's own statements would wait for fn: a deadlock).
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Whether a --database value names a PostgreSQL server (else it is a SQLite state directory). */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/** A URL fit for messages and logs: the password replaced. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}
