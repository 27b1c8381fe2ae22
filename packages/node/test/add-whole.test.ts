// An add is stored whole or not at all (issue 42): the torrent's row, its holder row, the category
// it names (made if new), its tags and the peers given with it are one transaction. A real node on
// each engine (its SQLite file; a real PostgreSQL), whose category write is made to fail by a
// trigger — on PostgreSQL with a connection error's SQLSTATE (class 08), as when the server goes
// away between two statements: the add is refused, and nothing of it is stored, listed or run.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { startNode } from '../src/core/node-start.ts';
import { silentLog, type CascadeNode } from '../src/core/node.ts';
import { NodeError } from '@cascade/node-state/errors';
import { startPostgres } from './postgres-server.ts';
import { tempDir } from './helpers.ts';

const FAIL_SQLITE = [`CREATE TRIGGER refuse_categories BEFORE INSERT ON categories BEGIN SELECT RAISE(ABORT, 'the category write failed'); END`];
const FAIL_POSTGRES = [
  `CREATE FUNCTION refuse_categories() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN RAISE EXCEPTION 'the server went away' USING ERRCODE = '08006'; END $f$`,
  'CREATE TRIGGER refuse_categories BEFORE INSERT ON categories FOR EACH ROW EXECUTE FUNCTION refuse_categories()',
];
const HEAL_SQLITE = ['DROP TRIGGER refuse_categories'];
const HEAL_POSTGRES = ['DROP TRIGGER refuse_categories ON categories', 'DROP FUNCTION refuse_categories()'];

async function node(t: TestContext, database?: string): Promise<CascadeNode> {
  const n = await startNode({ stateDir: join(tempDir(t), 'state'), port: 0, host: '127.0.0.1', dht: false, dhtBootstrap: [], trackers: [], ...(database ? { database } : {}) }, silentLog);
  t.after(() => n.stop());
  return n;
}

async function stored(n: CascadeNode, ih: string): Promise<Record<string, unknown>> {
  const s = n.db.store;
  const count = async (sql: string) => Number((await s.get<{ n: number }>(sql, [ih]))!.n);
  return {
    torrents: await count('SELECT count(*) AS n FROM torrents WHERE info_hash = ?'),
    holders: await count('SELECT count(*) AS n FROM torrent_holders WHERE info_hash = ?'),
    peers: await count('SELECT count(*) AS n FROM torrent_peers WHERE info_hash = ?'),
    category: Number((await s.get<{ n: number }>("SELECT count(*) AS n FROM categories WHERE name = 'fresh'"))!.n),
  };
}

async function wholeOrNothing(t: TestContext, n: CascadeNode, fail: string[], heal: string[], unavailable: boolean): Promise<void> {
  for (const sql of fail) await n.db.store.run(sql);
  const ih = randomBytes(20).toString('hex');
  const add = () => n.addWith(`magnet:?xt=urn:btih:${ih}&dn=whole`, { category: 'fresh', tags: ['t1', 't2'] }, { peers: ['127.0.0.1:9'] });
  const err = await add().then(() => undefined, (e: unknown) => e);
  assert.ok(err, 'the add is refused');
  if (unavailable) assert.ok(err instanceof NodeError && err.kind === 'unavailable', `503: ${String(err)}`);
  assert.deepEqual(await stored(n, ih), { torrents: 0, holders: 0, peers: 0, category: 0 }, 'nothing of it is stored');
  assert.equal(n.db.records.has(ih), false, 'not listed');
  assert.equal(n.session.get(ih), undefined, 'not run');
  assert.equal(n.model.categories.get('fresh'), undefined);

  // The write works again: the same add is stored whole.
  for (const sql of heal) await n.db.store.run(sql);
  await add();
  assert.deepEqual(await stored(n, ih), { torrents: 1, holders: 1, peers: 1, category: 1 });
  const rec = n.db.records.get(ih)!;
  assert.deepEqual([rec.category, rec.tags], ['fresh', ['t1', 't2']]);
  assert.deepEqual(n.model.categories.get('fresh'), { name: 'fresh', savePath: null });
  t.diagnostic('refused whole, then stored whole');
}

test('an add is stored whole or not at all: SQLite', async (t) => {
  await wholeOrNothing(t, await node(t), FAIL_SQLITE, HEAL_SQLITE, false);
});

test('an add is stored whole or not at all: PostgreSQL, the category write failing as a connection gone (503)', { timeout: 120_000 }, async (t) => {
  const pg = await startPostgres(t);
  await wholeOrNothing(t, await node(t, await pg.database('whole')), FAIL_POSTGRES, HEAL_POSTGRES, true);
});
