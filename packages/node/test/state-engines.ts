// The state's engines and tables for other packages' tests (the CLI's db-copy test, the chat
// store's cases on PostgreSQL): they reach the node's source through here, not by relative path.
export { StateDB, DB_FILE } from '@cascade/node-state';
export { SqliteStore } from '@cascade/node-state';
export { PostgresStore } from '@cascade/node-state/postgres-store';
export { plainRow, stateTables, tableRows } from '@cascade/node-state';
export { MEMBER_TABLES } from '@cascade/node-state';
export type { Store } from '@cascade/node-state/store';
export { startPostgres } from './postgres-server.ts';
export { CHAT_TABLES } from '@cascade/chat/relay-postgres';
