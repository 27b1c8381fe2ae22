// queue/store.ts on the Store: lean rows read as arrays (Store.values), a torrent without a position
// last, and each batch of writes as one transaction.
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { QueueStore } from '../../src/queue/store.ts';
import { TorrentRecords } from '@cascade/node-state';
import type { Open } from '../store-engines.ts';

export async function queueCases(t: TestContext, open: Open): Promise<void> {
  await t.test('queue (queue/store.ts): lean rows as arrays; statuses, positions and force start in batches', async (t) => {
    const store = await open(t);
    const [a, b] = ['a'.repeat(40), 'b'.repeat(40)];
    const add = "INSERT INTO torrents (info_hash, source_kind, magnet, save_path, status, added_at, queue_position, length, completed_at) VALUES (?, 'magnet', ?, '/d', 'queued', 1, ?, ?, ?)";
    await store.run(add, [a, a, 2, 2 ** 40, 1_764_000_000_000]);
    await store.run(add, [b, b, null, null, null]);
    assert.deepEqual(await store.values('SELECT info_hash, length FROM torrents WHERE info_hash = ?', [a]), [[a, 2 ** 40]]);
    const records = await TorrentRecords.load(store);
    const q = new QueueStore({ records });
    assert.deepEqual(await q.row(a), {
      infoHash: a, status: 'queued', position: 2, forceStart: false, ratioLimit: null, seedingTimeLimit: null,
      seedingTime: 0, totalDownloaded: 0, totalUploaded: 0, length: 2 ** 40, completedAt: 1_764_000_000_000, storedComplete: false,
    });
    assert.equal((await q.row(b))!.position, Number.MAX_SAFE_INTEGER, 'no position: last');
    assert.equal(await q.row('c'.repeat(40)), undefined);
    await q.setStatuses(new Map([[a, 'paused'], [b, 'seeding']]));
    await q.setPositions(new Map([[a, 7], [b, 1]]));
    await q.setForceStart([b], true);
    await q.setStatuses(new Map());
    // The view shows the writes, and the Store holds them (a new view reads the same).
    for (const view of [records, await TorrentRecords.load(store)]) {
      const rows = new Map((await new QueueStore({ records: view }).rows()).map((r) => [r.infoHash, r]));
      assert.deepEqual([rows.get(a)!.status, rows.get(a)!.position, rows.get(a)!.forceStart], ['paused', 7, false]);
      assert.deepEqual([rows.get(b)!.status, rows.get(b)!.position, rows.get(b)!.forceStart], ['seeding', 1, true]);
    }
    assert.deepEqual([...records.takeDirty()].sort(), [a, b]);
  });
}
