// The holders' SQL (src/holder-store.ts, holder-moves.ts) on the node's Store, on both its engines
// (the node's test helpers, store-engines.ts: the embedded SQLite file and a real PostgreSQL server):
// the live holders a member streams from, and save-path moves asked of every other holder.
import { test, type TestContext } from 'node:test';
import { postgres, sqlite, type Open } from '../../node/test/store-engines.ts';
import { liveHolderCases } from './store-cases/live-holders.ts';
import { holderMoveCases } from './store-cases/holder-moves.ts';

async function cases(t: TestContext, open: Open): Promise<void> {
  await liveHolderCases(t, open);
  await holderMoveCases(t, open);
}

test('the holders on SQLite (the embedded state file)', async (t) => {
  await cases(t, sqlite());
});

test('the holders on PostgreSQL (a server started for the test)', { timeout: 180_000 }, async (t) => {
  await cases(t, postgres(t).open);
});
