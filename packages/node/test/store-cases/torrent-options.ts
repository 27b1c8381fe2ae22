// model/torrent-options.ts on the Store: a torrent's options written (one or many in one
// transaction), tags created ahead of any torrent kept once, the queue order stored (unknown
// infohashes ignored, the rest following in their order), totals added up.
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { TorrentOptionsStore, readCreatedTags } from '../../src/model/torrent-options.ts';
import { TorrentRecords } from '@cascade/node-state';
import type { Open } from '../store-engines.ts';

export async function torrentOptionCases(t: TestContext, open: Open): Promise<void> {
  await t.test('torrent options (model/torrent-options.ts): options, created tags, queue order and totals', async (t) => {
    const store = await open(t);
    const [a, b, c] = ['a'.repeat(40), 'b'.repeat(40), 'c'.repeat(40)];
    const add = "INSERT INTO torrents (info_hash, source_kind, magnet, save_path, status, added_at, queue_position) VALUES (?, 'magnet', ?, '/d', 'queued', ?, ?)";
    await store.run(add, [a, a, 1, 1]);
    await store.run(add, [b, b, 2, 2]);
    await store.run(add, [c, c, 3, null]);
    const records = await TorrentRecords.load(store);
    const options = new TorrentOptionsStore({ store, records }, ['made before']);
    const row = (ih: string) => store.get<Record<string, unknown>>('SELECT * FROM torrents WHERE info_hash = ?', [ih]);

    await options.set(a, { downloadLimit: 1000, tags: ['x', 'y'], forceStart: true, ratioLimit: 1.5, category: null });
    await options.set(a, {});
    const r = await row(a);
    assert.deepEqual([r!.download_limit, r!.tags, r!.force_start, r!.ratio_limit, r!.upload_limit], [1000, '["x","y"]', 1, 1.5, 0]);
    const v = records.get(a)!;
    assert.deepEqual([v.downloadLimit, v.tags, v.forceStart, v.ratioLimit, v.uploadLimit], [1000, ['x', 'y'], true, 1.5, 0], 'the view follows');
    assert.deepEqual([...records.takeDirty()], [a]);
    // Several in one transaction: a failing statement leaves the others unwritten.
    await assert.rejects(options.setEach([[b, { uploadLimit: 5 }], [c, { downloadLimit: null as unknown as number }]]));
    assert.equal((await row(b))!.upload_limit, 0, 'rolled back with the other');
    assert.equal(records.get(b)!.uploadLimit, 0, 'a failed write changes nothing in memory');
    assert.equal(records.takeDirty().size, 0);
    await options.setEach([[b, { uploadLimit: 7 }], [c, { category: 'tv' }]]);
    assert.deepEqual([(await row(b))!.upload_limit, (await row(c))!.category], [7, 'tv']);
    await options.setSavePath(b, '/srv/b');
    assert.equal((await row(b))!.save_path, '/srv/b');

    await options.createTags(['later', 'soon']);
    await options.createTags(['later']);
    await options.deleteCreatedTags(['soon', 'never made']);
    assert.deepEqual((await store.all<{ name: string }>('SELECT name FROM created_tags')).map((x) => x.name), ['later']);
    assert.deepEqual(await readCreatedTags(store), ['later'], 'read back for the next model');

    await options.setQueueOrder([c, 'f'.repeat(40), a]);
    const order = (await store.all<{ info_hash: string; queue_position: number }>('SELECT info_hash, queue_position FROM torrents ORDER BY queue_position'))
      .map((x) => [x.info_hash, x.queue_position]);
    assert.deepEqual(order, [[c, 1], [a, 2], [b, 3]]);
    assert.deepEqual(options.queueOrder(), [c, a, b]);
    assert.deepEqual(options.tags(), ['later', 'made before', 'x', 'y'], 'created tags (the view: made, deleted) with those carried');

    await options.addTotals([{ infoHash: a, downloaded: 2 ** 33, uploaded: 10, seedingSeconds: 4.6 }]);
    await options.addTotals([{ infoHash: a, downloaded: 1, uploaded: 0, seedingSeconds: 1 }, { infoHash: 'f'.repeat(40), downloaded: 1, uploaded: 1, seedingSeconds: 1 }]);
    const totals = await row(a);
    assert.deepEqual([totals!.total_downloaded, totals!.total_uploaded, totals!.seeding_time], [2 ** 33 + 1, 10, 6]);
    records.takeDirty();
    await options.addTotals([{ infoHash: a, downloaded: 1, uploaded: 1, seedingSeconds: 0 }]);
    assert.deepEqual([records.get(a)!.totalDownloaded, records.takeDirty().size], [2 ** 33 + 2, 0], 'totals are quiet: nothing shown changed');
    // What another view reads from the Store is what this one shows.
    const again = await TorrentRecords.load(store);
    for (const ih of [a, b, c]) assert.deepEqual(again.get(ih), records.get(ih));
  });
}
