// A state dir whose SQLite state `cascade db copy` moved into PostgreSQL: the file stays (nothing is
// deleted), but a node or verb that opens it without --database would read a library frozen at the
// copy and write changes nobody else sees. A marker beside it makes that a clear error instead.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StateError } from './schema.ts';

export const MOVED_FILE = 'state-moved.json';

/** Records that this state dir's state now lives in the database at `where` (redacted). */
export function markStateMoved(stateDir: string, where: string): void {
  writeFileSync(join(stateDir, MOVED_FILE), `${JSON.stringify({ database: where, at: new Date().toISOString() })}\n`, { mode: 0o600 });
}

/** Throws when the SQLite state of stateDir was moved to a database. */
export function refuseMovedState(stateDir: string): void {
  let moved: { database?: string; at?: string };
  try {
    moved = JSON.parse(readFileSync(join(stateDir, MOVED_FILE), 'utf8')) as typeof moved;
  } catch {
    return;
  }
  throw new StateError(
    `the state of ${stateDir} was moved to ${moved.database ?? 'PostgreSQL'} by \`cascade db copy\`${moved.at ? ` on ${moved.at}` : ''}: ` +
      `pass --database URL (or set $CASCADE_DATABASE_URL); to use the SQLite state as it was before the copy, remove ${join(stateDir, MOVED_FILE)}`,
  );
}
