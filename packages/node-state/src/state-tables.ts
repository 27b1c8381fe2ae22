// The state's tables as each engine lists them, and their rows as plain values: what `db copy`
// copies and what its test compares, table by table, so a table a later migration adds is covered
// without anyone listing it here. The catalogue queries are each engine's own (the one place the
// node names sqlite_master or information_schema), run through the Store.

import type { Queryable, Row, Store } from './store.ts';

/** The PostgreSQL store's own bookkeeping (its schema version), not state. */
const POSTGRES_SCHEMA_TABLE = 'cascade_schema';
/** Who runs on the database now (state/database-lease.ts, @cascade/cluster's cluster-store.ts): not state a
 *  copy takes along (a copied lease would lock the new database to a node that is not there). */
const RUNTIME_TABLES = new Set(['node_lease', 'cluster_members', 'cluster_coordinator']);

/** The state's tables, in the order the migrations made them (a table before those that refer to it). */
export async function stateTables(store: Store): Promise<string[]> {
  if (store.dialect === 'sqlite') {
    // sqlite_master lists tables in the order they were made; a table rebuilt by a migration
    // (members, v12) refers to none.
    const rows = await store.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid");
    return rows.map((r) => r.name).filter((t) => !RUNTIME_TABLES.has(t));
  }
  const rows = await store.all<{ name: string }>(
    "SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname = current_schema() AND c.relname <> ? ORDER BY c.oid",
    [POSTGRES_SCHEMA_TABLE],
  );
  return rows.map((r) => r.name).filter((t) => !RUNTIME_TABLES.has(t));
}

/** Every row of a table (a name from stateTables), in no particular order. */
export function tableRows(store: Queryable, table: string): Promise<Row[]> {
  return store.all(`SELECT * FROM ${quoteName(table)}`);
}

/** A row's values as both engines give them alike: bytes as hex, the rest as they are. */
export function plainRow(row: Row): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v instanceof Uint8Array ? `bytes:${Buffer.from(v).toString('hex')}` : v]));
}

export function quoteName(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a table or column name: ${name}`);
  return `"${name}"`;
}
