// The two engines a Store runs on, for tests: the embedded SQLite file (SqliteStore.openFile) and a real
// PostgreSQL server started once per test file (postgres-server.ts), one empty database per case.
// store.test.ts runs every store's cases (store-cases/) on both, so SQL only one engine takes fails.
import type { TestContext } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DB_FILE, SqliteStore, migratePostgres } from '@cascade/node-state';
import type { Store } from '@cascade/node-state/store';
import { PostgresStore } from '@cascade/node-state/postgres-store';
import { startPostgres } from './postgres-server.ts';

/** A fresh, migrated, empty store, closed when the case ends. */
export type Open = (t: TestContext) => Promise<Store>;
/** One store's cases, run once per engine. */
export type StoreCases = (t: TestContext, open: Open) => Promise<void>;

export function sqlite(): Open {
  return async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'cascade-store-'));
    // The bare store, migrated and empty like PostgreSQL's (a StateDB would make the node key).
    const store = SqliteStore.openFile(join(dir, DB_FILE));
    t.after(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    return store;
  };
}

type Server = Awaited<ReturnType<typeof startPostgres>>;

/** Starts the server (stopped when `outer` ends) the first time a case opens a store. Each case
 *  gets a schema of its own in one database (its connections' search_path), so cases do not see
 *  each other's rows: a database per case cost PostgreSQL ~0.4 CPU-s each (CREATE DATABASE, then
 *  every connection to the new database building its catalog caches from scratch), most of
 *  store.test.ts's CPU. The schema's tables are made by migratePostgres, as before. */
export function postgres(outer: TestContext): { open: Open; server: () => Promise<Server> } {
  let server: Promise<Server> | undefined;
  let shared: Promise<string> | undefined;
  let cases = 0;
  const get = () => (server ??= startPostgres(outer));
  return {
    server: get,
    open: async (t) => {
      const db = await (shared ??= get().then((s) => s.database('cases')));
      const schema = `case_${++cases}`;
      const store = await PostgresStore.open(`${db}?options=${encodeURIComponent(`-c search_path=${schema}`)}`);
      t.after(() => store.close());
      await store.run(`CREATE SCHEMA ${schema}`);
      await migratePostgres(store);
      return store;
    },
  };
}
