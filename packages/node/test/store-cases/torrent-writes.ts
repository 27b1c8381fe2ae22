// The node's own writes of the torrents table (TorrentRecords.add, updateMeta, setStatus, setEdits,
// setSelectedFiles, setPrivateDiscovery, remove; state/torrent-writes.ts) on both engines: each
// stored as the view shows it (a fresh read from the Store equals the view), statuses given
// together stored in one batch with the later one winning, a queue's status after an event's
// landing last, a removal taking what hangs on the torrent, a failed write changing nothing in memory.
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { TorrentRecords } from '@cascade/node-state';
import type { Open } from '../store-engines.ts';

export async function torrentWriteCases(t: TestContext, open: Open): Promise<void> {
  await t.test('the node\'s writes of the torrents table (state/torrent-writes.ts): stored as the view shows them', async (t) => {
    const store = await open(t);
    const records = await TorrentRecords.load(store);
    const [a, b, c] = ['a'.repeat(40), 'b'.repeat(40), 'c'.repeat(40)];
    const bytes = new Uint8Array([100, 101]);
    await records.add({ infoHash: a, name: 'A', source: bytes, savePath: '/d', status: 'queued', length: 10, pieceCount: 1, mirrors: ['http://m/1'] });
    await records.add({ infoHash: b, source: `magnet:?xt=urn:btih:${b}`, savePath: '/d', status: 'paused', privateDiscovery: true });
    await records.add({ infoHash: c, source: c, savePath: '/d', status: 'queued' });
    assert.deepEqual([records.get(a)!.queuePosition, records.get(b)!.queuePosition, records.get(c)!.queuePosition], [1, 2, 3]);
    assert.equal(records.get(a)!.torrent, null, 'the view holds no .torrent bytes');

    // A magnet's metadata: its name and size, and .torrent bytes that make it a torrent record.
    await records.updateMeta(b, { name: 'B', length: 5, pieceCount: 1, torrent: new Uint8Array([7]) });
    await records.updateMeta(c, { name: 'C' });
    const row = (ih: string) => store.get<Record<string, unknown>>('SELECT source_kind, torrent, name FROM torrents WHERE info_hash = ?', [ih]);
    assert.deepEqual([(await row(b))!.source_kind, new Uint8Array((await row(b))!.torrent as Uint8Array), records.get(b)!.sourceKind], ['torrent', new Uint8Array([7]), 'torrent']);
    assert.deepEqual([(await row(c))!.source_kind, (await row(c))!.torrent, (await row(c))!.name], ['magnet', null, 'C'], 'no bytes: still a magnet');

    // Statuses given together: one batch; the later one wins, a completion time given earlier stays.
    await Promise.all([
      records.setStatus(a, 'seeding', { completedAt: 1_764_000_000_000 }),
      records.setStatus(a, 'error', { error: 'disk gone' }),
      records.setStatus(c, 'downloading'),
    ]);
    // An event's status, then the queue's (given after it, in a transaction of its own): the queue's lands last.
    const event = records.setStatus(c, 'seeding');
    await records.setStatuses(new Map([[c, 'paused' as const]]));
    await event;
    assert.equal((await store.get<{ status: string }>('SELECT status FROM torrents WHERE info_hash = ?', [c]))!.status, 'paused');

    await records.setEdits(a, { displayName: 'shown', trackerTiers: [['http://t/1'], ['udp://t/2']], renamedFiles: { 0: ['x', 'y.bin'] }, pieceOrder: { sequential: true, firstLast: false, priorities: [[0, 'high']] } });
    await records.setEdits(b, { displayName: 'b shown' });
    await records.setEdits(b, { displayName: null });
    await records.setSelectedFiles(a, [0, 2]);
    await records.setPrivateDiscovery(b, false);
    const again = await TorrentRecords.load(store);
    for (const ih of [a, b, c]) assert.deepEqual(records.get(ih), again.get(ih), `the view of ${ih.slice(0, 4)} is what the Store holds`);
    assert.deepEqual([records.get(a)!.status, records.get(a)!.error, records.get(a)!.completedAt, records.get(a)!.renamedFiles], ['error', 'disk gone', 1_764_000_000_000, { 0: ['x', 'y.bin'] }]);
    assert.equal(records.completedAt(a), 1_764_000_000_000);

    // A write the Store refuses changes nothing in memory (save_path is NOT NULL).
    records.takeDirty();
    await assert.rejects(records.add({ infoHash: 'd'.repeat(40), source: 'd'.repeat(40), savePath: null as unknown as string, status: 'queued' }));
    assert.equal(records.has('d'.repeat(40)), false);
    assert.equal(records.takeDirty().size, 0);

    // Removal: the row and what hangs on it, in one transaction; how many were known.
    await store.run('INSERT INTO resume (info_hash, have, updated_at) VALUES (?, ?, ?)', [a, new Uint8Array([1]), 1]);
    await store.run('INSERT INTO torrent_peers (info_hash, address, added_at) VALUES (?, ?, ?)', [a, '10.0.0.1:1', 1]);
    await store.run('INSERT INTO share_keys (info_hash, key, origin) VALUES (?, ?, ?)', [a, new Uint8Array(32), 'link']);
    await store.run('INSERT INTO file_cids (info_hash, file_index, sha256, cid) VALUES (?, ?, ?, ?)', [a, 0, new Uint8Array(32), 'bafk']);
    assert.equal(await records.remove([a, 'e'.repeat(40)]), 1);
    for (const table of ['torrents', 'resume', 'torrent_peers', 'share_keys', 'file_cids']) {
      assert.equal((await store.get<{ n: number }>(`SELECT count(*) AS n FROM ${table} WHERE info_hash = ?`, [a]))!.n, 0, `${table} keeps nothing of it`);
    }
    assert.equal(records.get(a), undefined);
    assert.deepEqual([...records.takeDirty()].sort(), [a, 'e'.repeat(40)].sort());
  });
}
