// The content-id pass's pace (issue 40): before it has measured the node it waits one window; it
// trickles (a sleep per slice) while the node moves more than 1 MiB/s either way and runs (a
// macrotask per slice) once the node has been quiet for a second. A fake clock and byte counter drive it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdlePacer, sessionBytesMoved } from '../src/core/idle-pacer.ts';

test('idle pacer: one measuring window first, a trickle while data moves, full speed when quiet', async () => {
  let now = 1_000_000;
  let moved = 0;
  const sleeps: number[] = [];
  const pacer = new IdlePacer(() => moved, {
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
      moved += ratePerMs * ms;
    },
  });
  let ratePerMs = 50_000; // 50 MB/s: a transfer
  await pacer.beforeSlice();
  assert.equal(pacer.busy, true);
  assert.deepEqual(sleeps, [250, 100], 'a window measured, then a trickle slice');
  for (let i = 0; i < 5; i++) await pacer.beforeSlice();
  assert.equal(sleeps.length, 7, 'every slice waits while the node is busy');
  ratePerMs = 0; // the transfer ended: the next window still holds some of it, then a second of quiet
  for (let i = 0; i < 4; i++) {
    now += 300;
    await pacer.beforeSlice();
    assert.equal(pacer.busy, true, 'not a second of quiet yet');
  }
  now += 300;
  await pacer.beforeSlice();
  assert.equal(pacer.busy, false);
  const before = sleeps.length;
  for (let i = 0; i < 50; i++) await pacer.beforeSlice();
  assert.equal(sleeps.length, before, 'quiet: no sleeping between slices');
  // A new transfer (50 MB over the next window): trickling again at once.
  now += 300;
  moved += 50_000_000;
  await pacer.beforeSlice();
  assert.equal(pacer.busy, true);
  // Uploads count as much as downloads.
  const counters = { bytesReceived: { tcp: 1, webrtc: 2, webseed: 3 }, bytesSent: { tcp: 10, webrtc: 20, webseed: 30 } };
  assert.equal(sessionBytesMoved({ counters: () => counters as never })(), 66);
  assert.equal(sessionBytesMoved({})(), 0);
});
