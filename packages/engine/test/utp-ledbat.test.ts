// LEDBAT (src/utp/ledbat.ts): the window shrinks in proportion to how far the
// queuing delay is past the 100 ms target (not at most 3,000 bytes per round trip), a lone late
// sample is not taken for a queue, no queuing delay counts for more than the round trip, and leaving
// slow start at the target halves the window (it doubled past where the queue stood at the target).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ledbat } from '../src/utp/ledbat.ts';

const MSS = 1400;
const BASE_US = 20_000;

/** A window out of slow start at `cwnd` bytes, its base delay learned. */
function steady(cwnd: number): Ledbat {
  const cc = new Ledbat(MSS, 4 << 20);
  cc.delaySample(BASE_US, 0);
  cc.onLoss(); // leaves slow start
  cc.cwnd = cwnd;
  return cc;
}

/** One round trip of ACKs at `queuingUs` past the base; returns the window's change in bytes. */
function roundTrip(cc: Ledbat, queuingUs: number, rttUs = 0): number {
  const before = cc.cwnd;
  for (let acked = 0; acked < before; acked += MSS) {
    cc.delaySample(BASE_US + queuingUs, 1000);
    cc.onAck(MSS, cc.cwnd, rttUs);
  }
  return cc.cwnd - before;
}

test('the further past the target, the faster the window shrinks', () => {
  const at200 = roundTrip(steady(200_000), 200_000);
  const at1000 = roundTrip(steady(200_000), 1_000_000);
  assert.ok(at200 < 0 && at200 > -4000, `200 ms of queue: ${at200} bytes in a round trip, about -3,000`);
  assert.ok(at1000 < 6 * at200, `1 s of queue: ${at1000} bytes against ${at200} at 200 ms (libtorrent: 9× as fast)`);
});

test('one late sample among short ones is not a queue', () => {
  const cc = steady(100_000);
  cc.delaySample(BASE_US + 5_000, 1000);
  cc.delaySample(BASE_US + 5_000, 1000);
  cc.delaySample(BASE_US + 400_000, 1000);
  assert.equal(cc.queuingDelayUs, 5_000);
  cc.onAck(MSS, cc.cwnd);
  assert.ok(cc.cwnd > 100_000, 'the window still grows');
  // Three in a row are.
  cc.delaySample(BASE_US + 400_000, 1000);
  cc.delaySample(BASE_US + 400_000, 1000);
  assert.equal(cc.queuingDelayUs, 400_000);
});

test('a queuing delay longer than the round trip counts as the round trip', () => {
  // The clocks say 1 s of queue, the packets came back within 50 ms: grow as at 50 ms.
  assert.ok(roundTrip(steady(100_000), 1_000_000, 50_000) > 0);
  assert.ok(roundTrip(steady(100_000), 1_000_000) < 0);
});

test('leaving slow start at the target halves the window it doubled into', () => {
  const cc = new Ledbat(MSS, 4 << 20);
  cc.delaySample(BASE_US, 0);
  // Slow start: the window grows by what is acked while the queue stays short.
  for (let i = 0; i < 100; i++) {
    cc.delaySample(BASE_US + 10_000, 10);
    cc.onAck(MSS, cc.cwnd);
  }
  const grown = cc.cwnd;
  assert.ok(grown > 100 * MSS, `slow start grew the window to ${grown}`);
  // The queue reaches the target: the delay answers the window of a round trip ago, half this one.
  for (let i = 0; i < 3; i++) cc.delaySample(BASE_US + 95_000, 20);
  cc.onAck(MSS, cc.cwnd);
  assert.equal(cc.cwnd, grown / 2);
  // Out of slow start for good: acks at a short queue grow it by LEDBAT's few bytes, not by what they ack.
  for (let i = 0; i < 3; i++) cc.delaySample(BASE_US + 10_000, 30);
  cc.onAck(MSS, cc.cwnd);
  assert.ok(cc.cwnd - grown / 2 < MSS / 10);
});
