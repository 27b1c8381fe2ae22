// The seeder's piece cache reuses evicted buffers, which is only safe once no socket still holds a
// block of them in its write queue: the cache must wait for `drained()`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PieceCache } from '../src/swarm/uploader.ts';

const MiB = 1024 * 1024;

test('evicted buffers are reused for reads only after every connection has drained', async () => {
  let drained = false;
  const intos: (Uint8Array | undefined)[] = [];
  const cache = new PieceCache(async (index, into) => {
    intos.push(into);
    const b = into ?? new Uint8Array(index === 200 ? 1000 : MiB);
    b.fill(index & 0xff);
    return b;
  }, () => drained);
  // 16 MiB of cache: the 17th and 18th pieces evict the 1st and 2nd.
  const first = await cache.get(0, MiB);
  for (let i = 1; i < 18; i++) await cache.get(i, MiB);
  assert.equal(cache.peek(0), undefined, 'piece 0 was evicted');
  assert.ok(intos.every((b) => b === undefined), 'nothing reused while a socket may still send from it');
  assert.equal(first[0], 0, 'the evicted buffer still holds what a queued write would send');

  drained = true;
  const again = await cache.get(100, MiB);
  assert.equal(intos.at(-1), first, 'an evicted buffer is reused once everything has drained');
  assert.equal(again, first);
  assert.equal(again[0], 100);
  assert.equal(cache.peek(100), again);

  // A buffer of another size (the short last piece) is never handed to a read of a full piece.
  const last = await cache.get(200, 1000);
  assert.equal(last.length, 1000);
  assert.equal(intos.at(-1), undefined);
  cache.clear();
  await cache.get(300, MiB);
  assert.equal(intos.at(-1), undefined, 'clear() forgets spare buffers: they may still be queued somewhere');
});
