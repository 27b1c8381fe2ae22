// Token buckets for speed limits (swarm/rate-limiter.ts): what they grant over time, alone and
// combined, and how a change of limit applies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateBucket, RateGate, RateLimitPair, TorrentThrottle } from '../src/swarm/rate-limiter.ts';
import { clock } from '../src/clock.ts';

/** Grants `block`-sized chunks whenever the gate allows, on a simulated clock of 1 ms steps. */
function simulate(gate: RateGate, ms: number, from = 0, block = 16384): number {
  let granted = 0;
  for (let now = from; now < from + ms; now++) {
    while (gate.waitFor(block, now) === 0) {
      gate.take(block, now);
      granted += block;
    }
  }
  return granted;
}

test('a bucket grants its rate over a window, within the small burst', () => {
  for (const rate of [64 * 1024, 1 << 20, 4 << 20, 32 << 20]) {
    const granted = simulate(new RateGate(new RateBucket(rate)), 5000);
    const ratio = granted / (rate * 5);
    // At most the burst (a tenth of a second, or two blocks) beyond the rate.
    const burst = Math.max(0.1 * rate, 32768) / (rate * 5);
    assert.ok(ratio > 0.97 && ratio <= 1 + burst + 0.01, `rate ${rate}: granted ${granted} over 5 s, ratio ${ratio}`);
  }
});

test('an unlimited bucket never makes anyone wait', () => {
  const gate = new RateGate(new RateBucket(0), new RateBucket(0));
  assert.equal(gate.limited, false);
  assert.equal(gate.waitFor(1 << 30, 0), 0);
  assert.equal(gate.available(0), Infinity);
});

test('two buckets: the tighter one wins, whichever it is', () => {
  const torrent = new RateBucket(1 << 20);
  const session = new RateBucket(4 << 20);
  const gate = new RateGate(torrent, session);
  let ratio = simulate(gate, 5000) / (5 << 20);
  assert.ok(ratio > 0.97 && ratio < 1.05, `torrent limit holds: ${ratio}`);
  torrent.setRate(8 << 20);
  ratio = simulate(gate, 5000, 5000) / (20 << 20);
  assert.ok(ratio > 0.97 && ratio < 1.05, `session limit holds: ${ratio}`);
});

test('available() and waitFor() agree, and a block fits even at a tiny rate', () => {
  const b = new RateBucket(1000); // 1000 B/s, far below one block a second
  const gate = new RateGate(b);
  assert.ok(gate.available(0) >= 16384, 'the burst always holds one block');
  gate.take(16384, 0);
  gate.take(16384, 0);
  const w = gate.waitFor(16384, 0);
  assert.ok(w > 15_000 && w < 17_000, `next block waits ~16 s, not ${w}`);
  assert.ok(gate.available(w) >= 16384);
});

test('limits are validated and read back', () => {
  const pair = new RateLimitPair();
  pair.set({ download: 1024.7 });
  assert.deepEqual(pair.get(), { download: 1024, upload: 0 });
  pair.set({ upload: 5 });
  assert.deepEqual(pair.get(), { download: 1024, upload: 5 });
  for (const bad of [-1, NaN, Infinity, '5' as unknown as number]) {
    assert.throws(() => pair.set({ download: bad }), /download limit must be a number of bytes per second >= 0/);
  }
  assert.deepEqual(pair.get(), { download: 1024, upload: 5 }, 'a refused value changes nothing');
  pair.set({ download: 0 });
  assert.equal(pair.download.limit, 0);
});

test('a new download limit cancels the requests out beyond it; the same limit again cancels nothing', () => {
  const throttle = new TorrentThrottle(new RateLimitPair(), () => {});
  const peer = { requests: new Map<number, { index: number; begin: number; length: number }>() };
  for (let i = 0; i < 100; i++) peer.requests.set(i, { index: i, begin: 0, length: 16384 });
  const cancelled: number[] = [];
  const cancel = (p: typeof peer, index: number) => (cancelled.push(index), p.requests.delete(index));
  throttle.own.set({ download: 1 << 20 });
  throttle.trimRequests([peer], cancel);
  // 1 MiB/s keeps a tenth of a second: 6 blocks of 16 KiB.
  assert.equal(peer.requests.size, 6);
  assert.equal(cancelled.length, 94);
  throttle.own.set({ download: 1 << 20 });
  throttle.trimRequests([peer], cancel);
  assert.equal(cancelled.length, 94, 'setting the same limit again trims nothing');
  throttle.stop();
});

test('a limited download asks in batches of half the burst once dry, not block by block, and holds its rate', (t) => {
  t.mock.timers.enable({ apis: ['Date', 'setTimeout'], now: 1_000_000 });
  // The engine's clock (src/clock.ts) follows the mocked Date here.
  const real = clock.now;
  clock.now = () => Date.now();
  t.after(() => (clock.now = real));
  const throttle = new TorrentThrottle(new RateLimitPair(), () => {});
  const rate = 10 << 20;
  throttle.own.set({ download: rate });
  const block = 16384;
  const asks: number[] = [];
  // A downloader with room for 64 blocks, asking each millisecond for what the budget allows.
  for (let ms = 0; ms < 5000; ms++) {
    const n = throttle.requestBudget(64, block);
    if (n > 0) {
      throttle.requested(n * block);
      asks.push(n);
    }
    t.mock.timers.tick(1);
  }
  const ratio = asks.reduce((a, n) => a + n * block, 0) / (rate * 5);
  assert.ok(ratio > 0.97 && ratio < 1.03, `10 MiB/s over 5 s: ratio ${ratio}`);
  // Half of a tenth of a second at 10 MiB/s is 512 KiB: 32 blocks per ask after the first (the burst).
  assert.ok(asks.slice(1).every((n) => n >= 32), `asks after the first: ${asks.slice(1, 12).join(', ')}…`);
  assert.ok(asks.length <= 5 * 20 + 2, `${asks.length} asks in 5 s`);
  throttle.stop();
});

test('a gate\'s batch is the smallest of its buckets\' half bursts, never below one block', () => {
  assert.equal(new RateGate(new RateBucket(10 << 20), new RateBucket(0)).batch(16384), (10 << 20) / 20);
  assert.equal(new RateGate(new RateBucket(10 << 20), new RateBucket(1 << 20)).batch(16384), Math.floor((1 << 20) / 20));
  assert.equal(new RateGate(new RateBucket(64 * 1024)).batch(16384), 16384, 'a tiny rate still moves a block at a time');
  assert.equal(new RateGate(new RateBucket(0)).batch(16384), 16384);
});
