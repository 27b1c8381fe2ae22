// `cascade db copy`: a node's state moved from its SQLite file into an empty PostgreSQL database
// (issue 42), every table's rows as they are, in one transaction: the target has all of it or
// none. Generic over the tables (state-tables.ts), so a table a later migration adds is copied too.

import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { migratePostgres, SqliteStore, quoteName, stateTables, tableRows, DB_FILE, instanceId, recordSingleNode, markStateMoved, apiTokenPath, loadOrCreateApiToken, sharedApiToken } from '@cascade/node-state';
import { NodeError } from '@cascade/node-state/errors';
import type { Queryable, Row, SqlValue, Store } from '@cascade/node-state/store';
import type { PostgresStore } from '@cascade/node-state/postgres-store';

/** Rows per INSERT: a round trip per row would make a library of 10,000 torrents slow to copy,
 *  and PostgreSQL takes at most 65,535 parameters a statement (torrents has some 30 columns). */
const ROWS_PER_INSERT = 200;

export interface CopyReport {
  from: string;
  to: string;
  tables: { name: string; rows: number }[];
}

/** Copies <stateDir>/cascade.db into the PostgreSQL database at url, which must hold no state yet. */
export async function copyStateToPostgres(stateDir: string, url: string): Promise<CopyReport> {
  const path = join(stateDir, DB_FILE);
  if (!existsSync(path)) throw new NodeError('not-found', `no state to copy: ${path} does not exist`);
  const from = SqliteStore.openFile(path);
  const chatPath = join(stateDir, CHAT_FILE);
  const chat = existsSync(chatPath) ? SqliteStore.openPlain(chatPath) : undefined;
  try {
    const { PostgresStore } = await import('@cascade/node-state/postgres-store');
    const to = await PostgresStore.open(url);
    try {
      // The chat relay's messages (its own file, chat_* tables on PostgreSQL) in the same transaction.
      let extra: ExtraTables[] = [];
      if (chat) {
        const { PostgresChatStore, CHAT_TABLES } = await import('@cascade/chat/relay-postgres');
        // The state's schema first: the migration refuses a database with tables but no version.
        await migratePostgres(to);
        await PostgresChatStore.open(to);
        extra = [{ from: chat, tables: CHAT_TABLES }];
      }
      const report = await copyState(from, to, extra);
      // The API token lives in the state dir's file on SQLite, in the state on PostgreSQL: it
      // comes along, so a node serving the copy from another state dir takes the same one.
      const token = await takeApiToken(stateDir, to);
      if (token) report.tables.push({ name: 'api_token (from the api-token file)', rows: 1 });
      await recordSingleNode(to, instanceId(stateDir), `copied from state dir ${stateDir}`);
      markStateMoved(stateDir, to.location);
      return report;
    } finally {
      await to.close();
    }
  } finally {
    await from.close();
    await chat?.close();
  }
}

/** The chat relay's file beside the state (@cascade/chat): copied too. */
export const CHAT_FILE = 'chat.db';

/** Tables of another file copied with the state: source name → target name. */
export interface ExtraTables {
  from: Store;
  tables: Record<string, string>;
}

/** Copies every table of `from` (and the extra ones) into `to` (migrated here, and refused unless
 *  every table is empty). */
export async function copyState(from: Store, to: PostgresStore, extra: readonly ExtraTables[] = []): Promise<CopyReport> {
  await migratePostgres(to);
  const tables = await stateTables(from);
  const target = new Set(await stateTables(to));
  const missing = tables.filter((t) => !target.has(t));
  if (missing.length > 0) throw new NodeError('failed', `${to.location} has no table ${missing.join(', ')}: the two schemas differ`);
  const report: CopyReport = { from: from.location, to: to.location, tables: [] };
  await to.transaction(async (tx) => {
    // Inside the transaction: a node started on the target meanwhile makes it non-empty, and this
    // copy is then rolled back (serializable) rather than mixed into its state.
    const busy: string[] = [];
    for (const t of target) {
      if (await tx.get(`SELECT 1 AS one FROM ${quoteName(t)} LIMIT 1`)) busy.push(t);
    }
    if (busy.length > 0) {
      throw new NodeError('conflict', `${to.location} already holds state (rows in ${busy.join(', ')}): copy into an empty database`);
    }
    report.tables = [];
    for (const t of tables) {
      const rows = await tableRows(from, t);
      await insertRows(tx, t, rows);
      report.tables.push({ name: t, rows: rows.length });
    }
    for (const e of extra) {
      const present = new Set(await stateTables(e.from));
      for (const [source, dest] of Object.entries(e.tables)) {
        if (!present.has(source)) continue;
        const rows = await tableRows(e.from, source);
        await insertRows(tx, dest, rows);
        report.tables.push({ name: dest, rows: rows.length });
      }
    }
    await advanceIdentities(tx);
  });
  return report;
}

async function insertRows(tx: Queryable, table: string, rows: Row[]): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]!);
  const head = `INSERT INTO ${quoteName(table)} (${columns.map(quoteName).join(', ')}) VALUES `;
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    const chunk = rows.slice(i, i + ROWS_PER_INSERT);
    const params: SqlValue[] = [];
    for (const r of chunk) for (const c of columns) params.push((r[c] ?? null) as SqlValue);
    await tx.run(head + chunk.map(() => tuple).join(', '), params);
  }
}

/** Ids copied as they were (rss feeds, rules, matches) do not move an identity column's sequence:
 *  each is set past the largest copied, so the next row made on PostgreSQL gets a new id. */
async function advanceIdentities(tx: Queryable): Promise<void> {
  const columns = await tx.all<{ table_name: string; column_name: string }>(
    "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() AND is_identity = 'YES'",
  );
  for (const { table_name: t, column_name: c } of columns) {
    await tx.get(
      `SELECT setval(pg_get_serial_sequence(?, ?), COALESCE((SELECT MAX(${quoteName(c)}) FROM ${quoteName(t)}), 0) + 1, false) AS v`,
      [t, c],
    );
  }
}

/** Stores the state dir's API token in the copy when it has none; whether it did. */
async function takeApiToken(stateDir: string, to: Store): Promise<boolean> {
  if (!existsSync(apiTokenPath(stateDir))) return false;
  if (await to.get('SELECT 1 AS one FROM api_token')) return false;
  const token = loadOrCreateApiToken(stateDir);
  return (await sharedApiToken(stateDir, to)) === token;
}
