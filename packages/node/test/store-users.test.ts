// Issue 41, item 3: every read and write of the node's state goes through the Store
// (packages/node-state/src/store.ts), which PostgreSQL can stand behind, and the chat relay's through its own
// store (chat/src/relay/chat-store.ts). SQL on a SQLite connection directly (a prepare() on it,
// a synchronous transaction, node:sqlite) is allowed only in the store classes (HOME): a new file
// doing it fails here (write it on the Store). NOT_YET, the files still to move, is empty; StateDB
// (state-db.ts) opens the state through the Store and reads its views from it, so it is not HOME.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..', '..');

/** Where raw SQL on the SQLite connection belongs: the connection's own classes and the schema. */
const HOME = new Set([
  'packages/node-state/src/sqlite-store.ts',
  'packages/node-state/src/schema.ts',
  // The one-time copy of the receipts' old SQLite file into the state (schema 16).
  'packages/rewards/src/old-receipts.ts',
  // The chat relay's store on its own SQLite file (the relay sees only chat/src/relay/chat-store.ts).
  'packages/chat/src/relay/sqlite-chat-store.ts',
]);

/** Still to move onto the Store (the next steps of the issue, then PostgreSQL for issue 42): none
 *  left. Kept, so that a step taken back shows here as work left, not as a new user. */
const NOT_YET = new Set<string>([]);

const RAW_SQL = /\b(?:db|#db|store|this)\.prepare\(|from 'node:sqlite'|\.transaction\(\(\) =>|\bprepare\('(?:SELECT|INSERT|UPDATE|DELETE)/;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'test' ? [] : sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [path] : [];
  });
}

test('raw SQL on the SQLite connection only where the list says (the rest goes through the Store)', () => {
  const users = new Set<string>();
  for (const pkg of readdirSync(join(ROOT, 'packages'))) {
    if (pkg === 'engine') continue; // the engine keeps no SQL state (its storage has a prepare() of its own)
    for (const file of sources(join(ROOT, 'packages', pkg))) {
      if (RAW_SQL.test(readFileSync(file, 'utf8'))) users.add(relative(ROOT, file));
    }
  }
  const unexpected = [...users].filter((f) => !HOME.has(f) && !NOT_YET.has(f));
  assert.deepEqual(unexpected, [], 'these run SQL on the SQLite connection: use the Store (db.store) instead');
  const done = [...NOT_YET].filter((f) => !users.has(f));
  assert.deepEqual(done, [], 'these no longer run raw SQL: strike them off NOT_YET');
});
