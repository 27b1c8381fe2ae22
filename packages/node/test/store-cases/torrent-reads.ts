// Reads of the torrents table (TorrentRecords.list, search, torrentBytes, withBytes; state/row-counts.ts)
// on both engines: the library in the order added, search by name or infohash prefix from the
// view, the .torrent bytes read through the Store only when asked for.
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { TorrentRecords, rowCounts } from '@cascade/node-state';
import type { Open } from '../store-engines.ts';

export async function torrentReadCases(t: TestContext, open: Open): Promise<void> {
  await t.test('reads of the torrents table: listed and searched from the view, .torrent bytes from the Store', async (t) => {
    const store = await open(t);
    const records = await TorrentRecords.load(store);
    const [a, b, c] = ['ab'.repeat(20), 'cd'.repeat(20), 'ef'.repeat(20)];
    await records.add({ infoHash: b, name: 'Big Buck Bunny', source: new Uint8Array([1, 2, 255]), savePath: '/d', status: 'queued' });
    await records.add({ infoHash: a, name: 'Sintel 50%', source: `magnet:?xt=urn:btih:${a}`, savePath: '/d', status: 'queued' });
    await records.add({ infoHash: c, source: c, savePath: '/d', status: 'queued' });
    // Added in the same millisecond or not, the order is the Store's: added_at, then infohash.
    const stored = (await store.all<{ info_hash: string }>('SELECT info_hash FROM torrents ORDER BY added_at, info_hash')).map((r) => r.info_hash);
    const again = await TorrentRecords.load(store);
    assert.deepEqual(again.list().map((r) => r.infoHash), stored);
    assert.deepEqual(records.list().map((r) => r.infoHash), stored);

    assert.deepEqual(records.search('BUNNY').map((r) => r.infoHash), [b]);
    assert.deepEqual(records.search(' 50% ').map((r) => r.infoHash), [a], 'a percent sign is a percent sign');
    assert.deepEqual(records.search('5%').map((r) => r.infoHash), [], 'not a wildcard');
    assert.deepEqual(records.search('EFEF').map((r) => r.infoHash), [c], 'an infohash prefix, any case');
    assert.deepEqual(records.search('fe').map((r) => r.infoHash), [], 'a prefix, not anywhere in the infohash');
    assert.equal(records.search('').length, 3);

    assert.deepEqual(new Uint8Array((await records.torrentBytes(b))!), new Uint8Array([1, 2, 255]));
    assert.equal(await records.torrentBytes(a), null, 'a magnet has none');
    assert.equal(await records.torrentBytes('0'.repeat(40)), undefined, 'an unknown torrent');
    const withBytes = await again.withBytes(b);
    assert.deepEqual({ ...withBytes!, torrent: new Uint8Array(withBytes!.torrent!) }, { ...again.get(b)!, torrent: new Uint8Array([1, 2, 255]) });
    assert.equal(again.get(b)!.torrent, null, 'the view keeps none');
    assert.equal(await again.withBytes('0'.repeat(40)), undefined);

    await store.run('INSERT INTO resume (info_hash, have, updated_at) VALUES (?, ?, ?)', [a, new Uint8Array([1]), 1]);
    await store.run('INSERT INTO peers (address, last_seen, banned) VALUES (?, ?, ?), (?, ?, ?)', ['10.0.0.1:1', 1, 0, '10.0.0.2:2', 1, 1]);
    assert.deepEqual(await rowCounts(store), { resume: 1, peers: 2, bannedPeers: 1 });
  });
}
