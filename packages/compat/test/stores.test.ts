// The compatible APIs' own tables (src/stores/) on the node's Store, on both its engines (the node's
// test helpers, store-engines.ts: the embedded SQLite file and a real PostgreSQL server): sessions
// and records shared by the members of a cluster (store-cases-sessions.ts, store-cases-state.ts).
import { test, type TestContext } from 'node:test';
import { postgres, sqlite, type Open } from '../../node/test/store-engines.ts';
import { compatSessionCases } from './store-cases-sessions.ts';
import { compatStateCases } from './store-cases-state.ts';

async function cases(t: TestContext, open: Open): Promise<void> {
  await compatSessionCases(t, open);
  await compatStateCases(t, open);
}

test('the compatible APIs\u2019 tables on SQLite (the embedded state file)', async (t) => {
  await cases(t, sqlite());
});

test('the compatible APIs\u2019 tables on PostgreSQL (a server started for the test)', { timeout: 180_000 }, async (t) => {
  await cases(t, postgres(t).open);
});
