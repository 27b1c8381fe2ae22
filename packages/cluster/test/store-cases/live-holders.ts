// liveHolderUrls (src/holder-store.ts, issue 42 item 4) on both engines: the URLs a member that
// holds no copy of a torrent streams it from are those of the other members holding it whose lease
// is live on the database's clock and that were not declared dead, most progress first.
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { liveHolderUrls } from '../../src/holder-store.ts';
import type { Open } from '../../../node/test/store-engines.ts';

const X = 'c'.repeat(40);
const FAR = 4_102_444_800_000; // 2100: a lease that has not run out

export async function liveHolderCases(t: TestContext, open: Open): Promise<void> {
  await t.test('the live holders of a torrent, but this member, the dead and the lapsed', async (t) => {
    const s = await open(t);
    const members: [string, number, number | null, number, number | null][] = [
      // id, lease_until, dead_at, epoch (the holder rows are of epoch 1), progress on X (null: not a holder)
      ['self', FAR, null, 1, 1],
      ['half', FAR, null, 1, 0.5],
      ['full', FAR, null, 1, 1],
      ['lapsed', 1, null, 1, 1],
      // Declared dead (its epoch bumped) and joined again: its row of the old epoch is no copy it vouches for.
      ['dead', FAR, 5, 2, 1],
      ['other', FAR, null, 1, null],
    ];
    for (const [id, lease, dead, epoch, progress] of members) {
      await s.run(
        'INSERT INTO cluster_members (id, url, instance, epoch, lease_until, last_seen, started_at, dead_at) VALUES (?, ?, ?, ?, ?, 0, 0, ?)',
        [id, `http://127.0.0.1/${id}`, `i-${id}`, epoch, lease, dead],
      );
      if (progress !== null) await s.run("INSERT INTO torrent_holders (info_hash, member_id, epoch, state, progress, updated_at) VALUES (?, ?, 1, 'seeding', ?, 0)", [X, id, progress]);
    }
    assert.deepEqual(await liveHolderUrls(s, X, 'self'), ['http://127.0.0.1/full', 'http://127.0.0.1/half']);
    assert.deepEqual(await liveHolderUrls(s, 'd'.repeat(40), 'self'), []);
  });
}
