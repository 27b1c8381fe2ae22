// Serving uploads under an upload limit (swarm/uploader.ts serveUploads): once the bucket is dry the
// loop sleeps until a batch of blocks may go, and writes them together, instead of waking for every
// 16 KiB block (each its own write, and over WebRTC its own message).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PieceCache, serveUploads } from '../src/swarm/uploader.ts';
import { RateBucket, RateGate } from '../src/swarm/rate-limiter.ts';
import type { Peer } from '../src/swarm/peer.ts';
import { clock } from '../src/clock.ts';

test('an upload limit sends blocks in batches of half its burst and holds its rate', async (t) => {
  t.mock.timers.enable({ apis: ['Date', 'setTimeout'], now: 1_000_000 });
  // The engine's clock (src/clock.ts) follows the mocked Date here.
  const real = clock.now;
  clock.now = () => Date.now();
  t.after(() => (clock.now = real));
  const BLOCK = 16384;
  const PIECE = 16 * BLOCK;
  const rate = 10 << 20;
  const sentAt: number[] = [];
  const uploads = Array.from({ length: 3000 }, (_, k) => ({ index: Math.floor(k / 16), begin: (k % 16) * BLOCK, length: BLOCK }));
  const peer = {
    closed: false,
    amChoking: false,
    uploads,
    conn: { cork() {}, uncork() {} },
    sendBlock: () => (sentAt.push(Date.now()), true),
    waitDrain: (fn: () => void) => fn(),
  } as unknown as Peer;
  const cache = new PieceCache(async () => new Uint8Array(PIECE));
  const serving = serveUploads(peer, cache, () => PIECE, () => {}, (e) => assert.fail(e), new RateGate(new RateBucket(rate)));
  const start = Date.now();
  for (let ms = 0; ms < 3000; ms++) {
    await new Promise((r) => setImmediate(r));
    t.mock.timers.tick(1);
  }
  (peer as { closed: boolean }).closed = true;
  t.mock.timers.tick(1000);
  await serving;
  const inWindow = sentAt.filter((at) => at < start + 3000).length;
  const ratio = (inWindow * BLOCK) / (rate * 3);
  assert.ok(ratio > 0.95 && ratio < 1.05, `10 MiB/s over 3 s: ratio ${ratio}`);
  // Blocks sent at the same moment form one batch; after the first (the burst), each is 512 KiB at least.
  const batches = new Map<number, number>();
  for (const at of sentAt) batches.set(at, (batches.get(at) ?? 0) + 1);
  const sizes = [...batches.values()].slice(1, -1);
  assert.ok(sizes.every((n) => n >= 32), `batches after the first: ${sizes.slice(0, 12).join(', ')}…`);
});
