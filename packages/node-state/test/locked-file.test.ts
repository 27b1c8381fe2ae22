// A state file another process holds is "in use", never "corrupted — move it aside": a full CI run
// once told a verb, started beside four others on a fresh state dir, to throw its state away because
// SQLite answered "database is locked". Opening now waits the lock out (past busy_timeout's 5 s) and,
// when it cannot, says who holds it. The holder is a real second process with an exclusive lock.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { SqliteStore, StateError } from '@cascade/node-state';
import { tempDir } from '../../node/test/helpers.ts';

/** A child process holding an exclusive lock on path for ms; resolves once the lock is taken, to
 *  when the child has exited (in an object: an async function returning a promise would wait for it). */
async function holdLock(t: TestContext, path: string, ms: number): Promise<{ exited: Promise<unknown> }> {
  const code = `const { DatabaseSync } = require('node:sqlite');
const db = new DatabaseSync(${JSON.stringify(path)});
// In WAL mode only exclusive locking mode keeps readers out (as a crashed-and-hung holder might).
db.exec('PRAGMA locking_mode = EXCLUSIVE'); db.exec('BEGIN EXCLUSIVE'); db.exec('CREATE TEMP TABLE t (x)');
console.log('held');
setTimeout(() => { db.exec('ROLLBACK'); db.close(); }, ${ms});`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  const exited = once(child, 'exit');
  await once(child.stdout, 'data');
  return { exited };
}

test('a fresh state file locked for 7 s (past busy_timeout) opens once the other process lets go', async (t) => {
  const path = join(tempDir(t), 'cascade.db');
  const { exited } = await holdLock(t, path, 7000);
  const started = Date.now();
  const store = SqliteStore.openFile(path);
  assert.ok(Date.now() - started > 5000, `waited ${Date.now() - started} ms`);
  await store.run('CREATE TABLE IF NOT EXISTS probe (x INTEGER)');
  await store.close();
  await exited;
});

test('a state file held past the wait is reported in use, not corrupted, and nothing in it is lost', async (t) => {
  const path = join(tempDir(t), 'cascade.db');
  const first = SqliteStore.openFile(path);
  await first.run("INSERT INTO settings (key, value) VALUES ('probe', '\"kept\"')");
  await first.close();
  const size = statSync(path).size;
  const { exited } = await holdLock(t, path, 4000);
  assert.throws(
    () => SqliteStore.openFile(path, { lockWaitMs: 1000 }),
    (err: unknown) => {
      assert.ok(err instanceof StateError);
      assert.match(err.message, /is in use \(database is locked\): another cascade process has held it/);
      assert.doesNotMatch(err.message, /corrupt|move it aside/);
      return true;
    },
  );
  await exited;
  assert.equal(statSync(path).size, size);
  const again = SqliteStore.openFile(path);
  assert.equal((await again.get<{ value: string }>("SELECT value FROM settings WHERE key = 'probe'"))?.value, '"kept"');
  await again.close();
});
