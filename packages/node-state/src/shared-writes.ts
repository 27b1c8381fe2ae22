// Which statements wrote a shared row (docs/cluster.md, "State": the library, settings, users,
// RSS… — every table but a member's own), read from the statement itself so that every write path
// of the node is covered without each store naming what it wrote. A cluster's member hands these
// to its change bus once the write committed (@cascade/cluster's change-bus.ts), and the others read the rows
// again. The key is found where the statement names it plainly (an insert's first column, a
// `WHERE key = ?` at its end); otherwise it is null, which tells the others to read the whole
// table again: slower, never wrong.

import type { SqlValue } from './store.ts';
import { MEMBER_TABLES } from './member-rows.ts';

/** A shared row (or, key null, rows of a shared table) written. */
export interface SharedWrite {
  table: string;
  key: string | null;
}

/** Tables whose writes others need not hear: a member's own rows, the single node's lease, the
 *  schema's version. The chat relay's tables reach other members' pages through socket.io's adapter. */
const NOT_SHARED = new Set<string>([...MEMBER_TABLES, 'node_lease', 'cascade_schema']);

/** The column that names a row, for the tables whose rows a member keeps a view of by key. */
const KEY_COLUMNS: Readonly<Record<string, string>> = {
  torrents: 'info_hash',
  settings: 'key',
  categories: 'name',
  created_tags: 'name',
  file_cids: 'info_hash',
  share_keys: 'info_hash',
  torrent_peers: 'info_hash',
  members: 'id',
};

const WRITE = /^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(\w+)\s*(\(\s*(\w+))?/i;
const WHERE_KEY = /\bWHERE\s+(?:\w+\.)?(\w+)\s*=\s*\?\s*$/i;

/** The shared row a statement wrote, or undefined for a read, a member's own row or the schema. */
export function sharedWrite(sql: string, params: readonly SqlValue[] = []): SharedWrite | undefined {
  const m = WRITE.exec(sql);
  if (!m) return undefined;
  const table = m[1]!.toLowerCase();
  if (NOT_SHARED.has(table) || table.startsWith('chat_')) return undefined;
  const keyColumn = KEY_COLUMNS[table];
  if (!keyColumn) return { table, key: null };
  const isInsert = /^\s*INSERT/i.test(sql);
  if (isInsert) return { table, key: m[3]?.toLowerCase() === keyColumn ? keyOf(params[0]) : null };
  const where = WHERE_KEY.exec(sql);
  // The key is the statement's last parameter only when `WHERE key = ?` ends it.
  return { table, key: where && where[1]!.toLowerCase() === keyColumn ? keyOf(params[params.length - 1]) : null };
}

function keyOf(v: SqlValue | undefined): string | null {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'bigint' ? String(v) : null;
}
