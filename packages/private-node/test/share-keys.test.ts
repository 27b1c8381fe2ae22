// share-keys.ts on the node's Store, on both its engines (the node's test helpers, store-engines.ts:
// the embedded SQLite file and a real PostgreSQL server): a share's key and where it came from, kept
// once for the library (a cluster's members share it); the chunks each member wrote of it, its own
// (schema 19), kept only for a share whose key is; a key given again drops every member's writes.
// And the node's look for a share before it loads this package, held to the format's.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { hasPrivateInfo, PRIVATE_INFO_KEY } from '@cascade/node/private-host';
import { INFO_KEY, newContentKey, sealInfo } from '@cascade/private-shares';
import { encode } from '@cascade/engine/bencode';
import { ShareKeys } from '../src/share-keys.ts';
import { postgres, sqlite, type Open } from '../../node/test/store-engines.ts';

const SHARE = 'e'.repeat(40);

async function shareKeyCases(t: TestContext, open: Open): Promise<void> {
  await t.test('share keys (share-keys.ts): the key is the library\'s, the written chunks each member\'s own', async (t) => {
    const store = await open(t);
    const [a, b] = [new ShareKeys({ store, memberId: 'a' }), new ShareKeys({ store, memberId: 'b' })];
    assert.equal(await a.get(SHARE), undefined);
    await a.setWritten(SHARE, new Uint8Array([0xff]));
    assert.equal(await a.written(SHARE), undefined, 'no writes kept for a share without a key');
    await a.set(SHARE, new Uint8Array(32).fill(9), 'envelope');
    await a.setWritten(SHARE, new Uint8Array([0x80]));
    await b.setWritten(SHARE, new Uint8Array([0x01]));
    assert.deepEqual(await b.get(SHARE), { key: new Uint8Array(32).fill(9), origin: 'envelope' }, "b reads a's key: one per share");
    assert.deepEqual([await a.written(SHARE), await b.written(SHARE)], [new Uint8Array([0x80]), new Uint8Array([0x01])]);
    await a.setWritten(SHARE, new Uint8Array([0xc0]));
    assert.deepEqual(await a.written(SHARE), new Uint8Array([0xc0]), 'written again in place');

    // b gives the share's key again (a link): what any member wrote with the one before is not its plaintext.
    await b.set(SHARE, new Uint8Array(32).fill(7), 'link');
    assert.deepEqual(await a.get(SHARE), { key: new Uint8Array(32).fill(7), origin: 'link' });
    assert.deepEqual([await a.written(SHARE), await b.written(SHARE)], [undefined, undefined]);

    await b.setWritten(SHARE, new Uint8Array([0x01]));
    await a.delete(SHARE);
    assert.deepEqual([await a.get(SHARE), await b.written(SHARE)], [undefined, undefined], 'deleted with every member\'s writes');
  });
}

test('share keys on SQLite (the embedded state file)', async (t) => {
  await shareKeyCases(t, sqlite());
});

test('share keys on PostgreSQL (a server started for the test)', { timeout: 180_000 }, async (t) => {
  await shareKeyCases(t, postgres(t).open);
});

test("the node's look at a torrent (hasPrivateInfo, before this package loads) agrees with the format's", async () => {
  assert.equal(PRIVATE_INFO_KEY, INFO_KEY);
  const info = await sealInfo(newContentKey(), { name: 'x', files: [{ path: ['x'], length: 1 }], length: 1 }, []);
  const plain = { length: 1, name: 'x', 'piece length': 16384, pieces: new Uint8Array(20) };
  assert.equal(hasPrivateInfo(encode({ ...plain, [INFO_KEY]: { ...info } })), true);
  assert.equal(hasPrivateInfo(encode(plain)), false);
  assert.equal(hasPrivateInfo(new Uint8Array([1, 2, 3])), false);
});
