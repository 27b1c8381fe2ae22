// The memory reducer: one full collection once the node is quiet after a burst, none while it is busy
// or when the burst left little behind, and no timer at all while nothing happens. A node that is
// never quiet: memory-reducer-busy.test.ts (it needs V8's incremental marking, off here).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import { MemoryReducer } from '../src/core/memory-reducer.ts';

// As the launcher runs a node (packages/cli/bin/cascade.js): without this, V8's own memory reducer
// may collect the burst's garbage in the quiet time first, and ours rightly finds nothing to do.
v8.setFlagsFromString('--no-memory-reducer');
// And without incremental marking: a marking cycle the burst started would otherwise finish in a
// task during the quiet time and take the garbage first (the reducer then rightly does nothing,
// and this test failed 2 runs in 3 on a loaded machine). The burst's own collections still happen,
// as full collections when the heap reaches its limit.
v8.setFlagsFromString('--no-incremental-marking');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const used = () => v8.getHeapStatistics().used_heap_size;

test('a burst that leaves garbage is collected once the node is quiet, not before', async (t) => {
  // Quiet means 1.5 s without activity(): with 0.3 s, a full run's load (a full collection of the
  // burst's heap on a busy core) once left 0.3 s between two of the burst's steps, and the reducer
  // rightly took that for quiet.
  const reducer = new MemoryReducer({ quietMs: 1500, growthBytes: 8 * 1024 * 1024 });
  t.after(() => reducer.close());
  // A burst: 40 MB of short-lived objects that survive long enough to be promoted, then dropped.
  let keep: unknown[] = [];
  for (let i = 0; i < 20; i++) {
    reducer.activity();
    keep.push(Array.from({ length: 50_000 }, (_, j) => ({ i, j, s: `row ${i}/${j}` })));
    await sleep(20); // still busy: each activity() pushes the collection later
  }
  assert.equal(reducer.collections, 0, 'nothing collected while the burst goes on');
  keep = [];
  const before = used();
  await sleep(2500);
  assert.equal(reducer.collections, 1, 'one collection once quiet');
  assert.ok(used() < before - 8 * 1024 * 1024, `the burst's garbage was given back (${(before / 1e6).toFixed(0)} → ${(used() / 1e6).toFixed(0)} MB)`);
  // What the process held just after it (/metrics: cascade_rss_after_collection_bytes).
  const after = reducer.lastCollection!;
  assert.ok(after && Math.abs(after.rssBytes - process.memoryUsage.rss()) < 64 * 2 ** 20 && Date.now() - after.at < 5000, JSON.stringify(after));
  assert.ok(after.heapUsedBytes <= after.heapTotalBytes);
  // Quiet again, with no new activity: no more collections.
  await sleep(2000);
  assert.equal(reducer.collections, 1);
});

test('activity that leaves little behind makes no collection', async (t) => {
  const reducer = new MemoryReducer({ quietMs: 100, growthBytes: 64 * 1024 * 1024 });
  t.after(() => reducer.close());
  reducer.activity();
  await sleep(300);
  assert.equal(reducer.collections, 0);
});

test('close() cancels a pending look', async () => {
  const reducer = new MemoryReducer({ quietMs: 100, growthBytes: 0 });
  reducer.activity();
  reducer.close();
  await sleep(250);
  assert.equal(reducer.collections, 0);
  reducer.activity(); // after close: ignored
  await sleep(250);
  assert.equal(reducer.collections, 0);
});
