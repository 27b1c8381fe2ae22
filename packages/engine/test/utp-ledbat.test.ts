// LEDBAT as libtorrent runs it (src/utp/ledbat.ts): the window shrinks in proportion to how far the
// queuing delay is past the 100 ms target (not at most 3,000 bytes per round trip), a lone late
// sample is not taken for a queue, and no queuing delay counts for more than the round trip.
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
