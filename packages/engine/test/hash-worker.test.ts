// The hash worker (src/node/hasher.ts): pieces in shared memory are hashed on another thread, any
// other buffer on this one, and both give OpenSSL's answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createNodeHasher, hashWorkerWanted, StarvedThread } from '../src/node/hasher.ts';
import { alignedSlab } from '../src/node/direct-io.ts';

const KiB = 1024;

test('pieces in a shared slab are hashed off this thread; plain and small buffers here; the digests agree', async () => {
  const hasher = createNodeHasher();
  const slab = alignedSlab(256 * KiB, 1024 * KiB);
  assert.ok(slab, 'this platform has O_DIRECT and page-aligned slabs');
  assert.ok(slab.buffer instanceof SharedArrayBuffer, 'the slab is shared memory');
  try {
    const pieces = [0, 1, 2, 3].map((i) => slab.subarray(i * 256 * KiB, (i + 1) * 256 * KiB));
    for (const p of pieces) p.set(randomBytes(p.length));
    const plain = randomBytes(256 * KiB);
    const small = slab.subarray(0, 16 * KiB);
    assert.deepEqual(pieces.map((p) => hasher.offThread!(p)), [true, true, true, true]);
    assert.equal(hasher.offThread!(plain), false, 'a plain buffer cannot be read by the worker');
    assert.equal(hasher.offThread!(small), false, 'a small buffer is not worth the round trip');
    // Several at once, as pieces complete back to back; each answer goes to its own caller.
    const got = await Promise.all([...pieces, plain, small].map((d) => hasher.sha1(d)));
    for (const [i, d] of [...pieces, plain, small].entries()) {
      assert.deepEqual(Buffer.from(got[i]!.digest), createHash('sha1').update(d).digest(), `buffer ${i}`);
      assert.equal(got[i]!.data, d, 'the buffer comes back as it went');
    }
    // A changed byte changes the answer (the worker reads the memory now, not a copy from before).
    pieces[2]![1000]! ^= 1;
    const again = await hasher.sha1(pieces[2]!);
    assert.deepEqual(Buffer.from(again.digest), createHash('sha1').update(pieces[2]!).digest());
  } finally {
    await hasher.close();
  }
  // Closed: nothing goes to the (terminated) worker any more, and hashing still answers.
  const after = slab.subarray(0, 256 * KiB);
  assert.equal(hasher.offThread!(after), false);
  assert.deepEqual(Buffer.from((await hasher.sha1(after)).digest), createHash('sha1').update(after).digest());
});

test('BEP 52 leaves of a piece in a shared slab come from the worker, a short last block included', async () => {
  const hasher = createNodeHasher();
  try {
    const slab = alignedSlab(256 * KiB, 256 * KiB)!;
    slab.set(randomBytes(slab.length));
    const dataLength = 200 * KiB + 123; // the end of a file: 12 whole blocks and a short one
    const want = Buffer.concat(
      Array.from({ length: Math.ceil(dataLength / (16 * KiB)) }, (_, b) => createHash('sha256').update(slab.subarray(b * 16 * KiB, Math.min(dataLength, (b + 1) * 16 * KiB))).digest()),
    );
    const got = hasher.blockLeaves!(slab, dataLength);
    assert.ok(got, 'a shared piece goes to the worker');
    assert.deepEqual(Buffer.from(await got), want);
    assert.equal(hasher.blockLeaves!(randomBytes(256 * KiB), dataLength), undefined, 'a plain buffer is hashed by the caller');
  } finally {
    await hasher.close();
  }
});

test('an idle worker ends, and the next piece starts another that is told the slab again', async () => {
  const hasher = createNodeHasher({ idleMs: 50 });
  try {
    const slab = alignedSlab(256 * KiB, 256 * KiB)!;
    slab.set(randomBytes(slab.length));
    const want = createHash('sha1').update(slab).digest();
    assert.deepEqual(Buffer.from((await hasher.sha1(slab)).digest), want);
    await new Promise((r) => setTimeout(r, 300)); // past the idle time: the worker is ended
    slab[7]! ^= 0xff;
    assert.deepEqual(Buffer.from((await hasher.sha1(slab)).digest), createHash('sha1').update(slab).digest());
    // Both answers came from a worker (a failed one would be hashed here and count as failed).
    assert.deepEqual(hasher.workerStats(), { started: 2, answered: 2, failed: 0 });
  } finally {
    await hasher.close();
  }
});

test('the worker is on by default with 4 or more cores, and CASCADE_HASH_WORKER overrides it (auto: piece by piece)', async () => {
  const { availableParallelism } = await import('node:os');
  assert.equal(hashWorkerWanted({}), availableParallelism() >= 4);
  assert.equal(hashWorkerWanted({ CASCADE_HASH_WORKER: 'on' }), true);
  assert.equal(hashWorkerWanted({ CASCADE_HASH_WORKER: 'off' }), false);
  assert.equal(hashWorkerWanted({ CASCADE_HASH_WORKER: 'auto' }), 'auto');
  // Without the worker the slab is plain memory (shared memory only pays where a worker reads it).
  assert.ok(!(alignedSlab(256 * KiB, 256 * KiB, false)!.buffer instanceof SharedArrayBuffer));
});

test("'auto' hashes a shared piece on the worker only while this thread is starved of CPU", async () => {
  let starved = false;
  const hasher = createNodeHasher({ worker: 'auto', starved: () => starved });
  const slab = alignedSlab(256 * KiB, 512 * KiB)!;
  try {
    const piece = slab.subarray(0, 256 * KiB);
    piece.set(randomBytes(piece.length));
    const want = createHash('sha1').update(piece).digest();
    assert.equal(hasher.offThread!(piece), false, 'not starved: hashed here, block by block');
    assert.deepEqual(Buffer.from((await hasher.sha1(piece)).digest), want);
    assert.equal(hasher.workerStats()!.answered, 0);
    starved = true;
    assert.equal(hasher.offThread!(piece), true, 'starved: the worker takes it');
    assert.deepEqual(Buffer.from((await hasher.sha1(piece)).digest), want);
    assert.equal(hasher.workerStats()!.answered, 1);
  } finally {
    await hasher.close();
  }
});

test('a thread that waits on timers is not starved', async () => {
  const t = new StarvedThread();
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(t.now(), false);
  assert.deepEqual(t.stats, { windows: 1, starved: 0 });
});
