// file-cids.ts on the node's Store, on both its engines (the node's test helpers, store-engines.ts:
// the embedded SQLite file and a real PostgreSQL server): a loaded torrent's content ids in memory
// (the detail view reads them at once), written to the Store first, replaced per file, found by
// content id; the blamed publishers kept once each, each member's own (schema 19).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { FileCids } from '../src/file-cids.ts';
import { postgres, sqlite, type Open } from '../../node/test/store-engines.ts';
import { inLibrary } from './library.ts';

async function fileCidCases(t: TestContext, open: Open): Promise<void> {
  await t.test('content ids (file-cids.ts): a view per loaded torrent, the Store written first', async (t) => {
    const store = await open(t);
    const [a, b] = ['a'.repeat(40), 'b'.repeat(40)];
    await inLibrary(store, a, b);
    const sha = (n: number) => new Uint8Array(32).fill(n);
    const cids = new FileCids({ store });
    await cids.load(a);
    assert.equal(cids.of(a).size, 0);
    await cids.set(a, [{ index: 2, sha256: sha(2), cid: 'bafkrei-two' }, { index: 0, sha256: sha(0), cid: 'bafkrei-zero' }]);
    assert.deepEqual([...cids.of(a)], [[0, 'bafkrei-zero'], [2, 'bafkrei-two']], 'in file order');
    await cids.set(a, [{ index: 2, sha256: sha(9), cid: 'bafkrei-new' }]);
    await cids.set(b, [{ index: 0, sha256: sha(0), cid: 'bafkrei-zero' }]);
    // Another start: nothing in memory until the torrent loads; a write during the load is kept.
    const again = new FileCids({ store });
    assert.equal(again.of(a).size, 0);
    const loading = again.load(a);
    const writing = again.set(a, [{ index: 5, sha256: sha(5), cid: 'bafkrei-five' }]);
    await Promise.all([loading, writing, again.load(a)]);
    assert.deepEqual([...again.of(a)], [[0, 'bafkrei-zero'], [2, 'bafkrei-new'], [5, 'bafkrei-five']]);
    const stored = await store.get<{ sha256: Uint8Array }>('SELECT sha256 FROM file_cids WHERE info_hash = ? AND file_index = 2', [a]);
    assert.deepEqual(new Uint8Array(stored!.sha256), sha(9));
    assert.deepEqual((await again.withCid('bafkrei-zero')).sort((x, y) => x.infoHash.localeCompare(y.infoHash)), [{ infoHash: a, index: 0 }, { infoHash: b, index: 0 }]);
    again.forget(a);
    assert.equal(again.of(a).size, 0);
    await again.loadAll();
    assert.equal(again.of(b).get(0), 'bafkrei-zero');
    // A failed write shows nothing.
    await assert.rejects(again.set(b, [{ index: 1, sha256: sha(1), cid: null as unknown as string }]));
    assert.equal(again.of(b).has(1), false);
  });

  await t.test('content ids (file-cids.ts): ids computed for a torrent removed meanwhile leave no row and no view', async (t) => {
    const store = await open(t);
    const [kept, gone] = ['a'.repeat(40), 'f'.repeat(40)];
    await inLibrary(store, kept);
    const cids = new FileCids({ store });
    const sha = new Uint8Array(32).fill(7);
    // Its hashing ended after the removal's delete (torrent-writes.ts REMOVE_TORRENT) had run.
    await cids.set(gone, [{ index: 0, sha256: sha, cid: 'bafkrei-late' }]);
    await cids.setDir(gone, 'bafybei-late', sha, [{ cid: 'bafybei-late-sub', digest: sha }]);
    await cids.set(kept, [{ index: 0, sha256: sha, cid: 'bafkrei-kept' }]);
    const rows = await store.all<{ info_hash: string }>('SELECT info_hash FROM file_cids');
    assert.deepEqual(rows.map((r) => r.info_hash), [kept], 'rows for the torrent in the library only');
    assert.equal(cids.of(gone).size, 0, 'no view kept in memory for it');
    assert.equal(cids.dirOf(gone), undefined);
    assert.equal(cids.of(kept).get(0), 'bafkrei-kept');
  });

  await t.test('content ids (file-cids.ts): a blamed publisher is kept once, with its first reason', async (t) => {
    const store = await open(t);
    const cids = new FileCids({ store });
    await cids.addBlame({ publisher: 'did:key:z6Mkliar', reason: 'first', at: 1_764_000_000_000 });
    await cids.addBlame({ publisher: 'did:key:z6Mkliar', reason: 'second', at: 1_764_000_000_001 });
    assert.deepEqual(await cids.blames(), [{ publisher: 'did:key:z6Mkliar', reason: 'first', at: 1_764_000_000_000 }]);
  });

  await t.test('content ids (file-cids.ts): a folder and its inner nodes (sub-shards, subfolders): found by folderWith, never a file, a search hit or shown', async (t) => {
    const store = await open(t);
    const [a, b] = ['a'.repeat(40), 'b'.repeat(40)];
    await inLibrary(store, a, b);
    const sha = (n: number) => new Uint8Array(32).fill(n);
    const cids = new FileCids({ store });
    await cids.set(a, [{ index: 0, sha256: sha(0), cid: 'bafkrei-zero', unixfs: 'bafkrei-zero' }]);
    await cids.setDir(a, 'bafybei-top', sha(1), [{ cid: 'bafybei-shard-1', digest: sha(2) }, { cid: 'bafybei-sub', digest: sha(3) }]);
    await cids.setDir(b, 'bafybei-other', sha(4), [{ cid: 'bafybei-sub', digest: sha(3) }]);
    assert.deepEqual(await cids.folderWith('bafybei-shard-1'), [a]);
    assert.deepEqual((await cids.folderWith('bafybei-sub')).sort(), [a, b]);
    assert.deepEqual(await cids.folderWith('bafybei-top'), [], 'the top node is the DIR row, found by withCid');
    assert.deepEqual(await cids.withCid('bafybei-shard-1'), []);
    assert.deepEqual(await cids.withCid('bafybei-top'), [{ infoHash: a, index: -1 }]);
    // Built again (rehashed): the old inner rows replaced, not kept beside the new.
    await cids.setDir(a, 'bafybei-top2', sha(5), [{ cid: 'bafybei-shard-2', digest: sha(6) }]);
    assert.deepEqual(await cids.folderWith('bafybei-shard-1'), []);
    assert.deepEqual(await cids.folderWith('bafybei-shard-2'), [a]);
    const loaded = new FileCids({ store });
    await loaded.load(a);
    const all = new FileCids({ store });
    await all.loadAll();
    for (const v of [loaded, all]) {
      assert.deepEqual([...v.of(a)], [[0, 'bafkrei-zero']], 'no inner node shown as a file');
      assert.deepEqual([...v.unixfsOf(a)], [[0, 'bafkrei-zero']]);
      assert.equal(v.dirOf(a), 'bafybei-top2');
    }
  });

  await t.test("content ids (file-cids.ts): each member of a cluster reads its own blames, the content ids are the library's", async (t) => {
    const store = await open(t);
    const [a, b] = [new FileCids({ store, memberId: 'a' }), new FileCids({ store, memberId: 'b' })];
    await a.addBlame({ publisher: 'did:key:z6Mkliar-a', reason: 'lied to a', at: 1 });
    await b.addBlame({ publisher: 'did:key:z6Mkliar-b', reason: 'lied to b', at: 2 });
    assert.deepEqual((await a.blames()).map((x) => x.publisher), ['did:key:z6Mkliar-a']);
    assert.deepEqual((await new FileCids({ store, memberId: 'b' }).blames()).map((x) => x.publisher), ['did:key:z6Mkliar-b']);
    await inLibrary(store, 'c'.repeat(40));
    await a.set('c'.repeat(40), [{ index: 0, sha256: new Uint8Array(32), cid: 'bafkrei-shared' }]);
    await b.load('c'.repeat(40));
    assert.equal(b.of('c'.repeat(40)).get(0), 'bafkrei-shared');
  });
}

test('content ids on SQLite (the embedded state file)', async (t) => {
  await fileCidCases(t, sqlite());
});

test('content ids on PostgreSQL (a server started for the test)', { timeout: 180_000 }, async (t) => {
  await fileCidCases(t, postgres(t).open);
});
