// The state's engines and tables for other packages' tests (the CLI's db-copy test, the chat
// store's cases on PostgreSQL): they reach the node's source through here, not by relative path.
export { StateDB, DB_FILE } from '../src/state/state-db.ts';
export { SqliteStore } from '../src/state/sqlite-store.ts';
export { PostgresStore } from '../src/state/postgres-store.ts';
export { plainRow, stateTables, tableRows } from '../src/state/state-tables.ts';
export { MEMBER_TABLES } from '../src/state/member-rows.ts';
export type { Store } from '../src/state/store.ts';
export { startPostgres } from './postgres-server.ts';
export { CHAT_TABLES } from '@cascade/chat/relay-postgres';
