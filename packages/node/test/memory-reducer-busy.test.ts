// A node that is never quiet (polled every few seconds): at most once per busy interval, when its
// heap grew, V8's own next full collections are made memory-reducing, and V8 is put back as it was.
// Its own file: the quiet tests turn V8's incremental marking off, which these need on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import { MemoryReducer } from '../src/core/memory-reducer.ts';

v8.setFlagsFromString('--no-memory-reducer');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_size;
const MB = 1024 * 1024;

test('a busy node has V8 give back the heap it committed and no longer uses, then V8 runs as before', async (t) => {
  const reducer = new MemoryReducer({ quietMs: 300, growthBytes: 1 << 30, busyIntervalMs: 1000, busyGrowthBytes: MB });
  const idle = new MemoryReducer({ quietMs: 300, growthBytes: 1 << 30, busyIntervalMs: 1000, busyGrowthBytes: 1 << 30 });
  t.after(() => { reducer.close(); idle.close(); });
  // A heap full of holes: 60 MB of small objects that lived long enough to reach the old
  // generation, three in four of them then dropped. A regular collection keeps their pages.
  let held: unknown[] = Array.from({ length: 600_000 }, (_, i) => ({ i, s: `row ${i}` }));
  await sleep(100);
  held = held.filter((_, i) => i % 4 === 0);
  // Busy: activity() every 20 ms, and objects promoted and dropped as a polled node's answers are.
  let ring: unknown[][] = [];
  let committedBefore = 0;
  let sawReducing = false;
  const started = performance.now();
  while (reducer.busyCollections === 0 && performance.now() - started < 30_000) {
    reducer.activity();
    idle.activity();
    ring.push(Array.from({ length: 2_000 }, (_, j) => ({ j, s: `answer ${j}` })));
    if (ring.length > 100) ring = ring.slice(50);
    if (reducer.reducingWhileBusy && !sawReducing) {
      sawReducing = true;
      committedBefore = v8.getHeapStatistics().total_heap_size;
    }
    await sleep(20);
  }
  assert.equal(reducer.busyCollections, 1, 'one memory-reducing round in the busy time');
  assert.ok(sawReducing, 'V8 was asked to reduce while the node stayed busy');
  assert.equal(reducer.reducingWhileBusy, false, 'and put back after its collections');
  assert.equal(reducer.collections, 1, 'none took the quiet path');
  assert.equal(idle.collections + idle.busyCollections, 0, 'a heap that did not grow by the busy threshold is left alone');
  const after = reducer.lastCollection!;
  assert.ok(after.heapTotalBytes < committedBefore - 8 * MB, `committed heap ${(committedBefore / MB).toFixed(0)} → ${(after.heapTotalBytes / MB).toFixed(0)} MB`);
  // Put back: V8 grows its young generation again under allocation (it keeps it small while
  // optimizing for size).
  const shrunk = newSpace();
  const until = performance.now() + 5000;
  while (newSpace() <= Math.max(shrunk, 4 * MB) && performance.now() < until) {
    ring.push(Array.from({ length: 20_000 }, (_, j) => ({ j, s: `answer ${j}` })));
    if (ring.length > 20) ring = ring.slice(10);
    await sleep(1);
  }
  assert.ok(newSpace() > Math.max(shrunk, 4 * MB), `young generation ${(shrunk / MB).toFixed(1)} → ${(newSpace() / MB).toFixed(1)} MB`);
  assert.ok(held.length > 0);
});
