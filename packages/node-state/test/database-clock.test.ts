// The database's clock as a cluster's leases read it (nowSql): one value for the whole statement, so
// `lease_until = now + lease, last_seen = now` always spans exactly the lease. PostgreSQL's
// clock_timestamp() was read afresh at each use: a full run once saw a 6,000 ms lease stored as 5,999.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { nowSql } from '@cascade/node-state';
import { postgres, sqlite, type Open } from '../../node/test/store-engines.ts';

async function sameClockInOneStatement(t: TestContext, open: Open): Promise<void> {
  const store = await open(t);
  const n = nowSql(store.dialect);
  // A pause inside the statement, between two reads of the clock.
  const pause = store.dialect === 'postgres' ? '(SELECT 0 FROM pg_sleep(0.02))' : '(WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000) SELECT 0 FROM c WHERE x = 300000)';
  const row = await store.get<{ a: number | string; b: number | string }>(`SELECT ${n} AS a, ${pause} AS p, ${n} AS b`);
  assert.equal(Number(row!.a), Number(row!.b));
  await new Promise((r) => setTimeout(r, 20));
  const later = await store.get<{ a: number | string }>(`SELECT ${n} AS a`);
  assert.ok(Number(later!.a) > Number(row!.a), `${later!.a} after ${row!.a}`);
}

test('on SQLite, every read of the clock in one statement gives the same ms, and the next statement a later one', (t) => sameClockInOneStatement(t, sqlite()));

test('on PostgreSQL, every read of the clock in one statement gives the same ms, and the next statement a later one', (t) => sameClockInOneStatement(t, postgres(t).open));
