// The speed meter (swarm/speed.ts) on a simulated clock: a steady rate reads within a few percent,
// a stopped transfer reads 0 within 1.5 s, and a transfer that just began is not averaged with
// the seconds before it (issue 20, defect 1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EtaEstimator, SpeedMeter } from '../src/swarm/speed.ts';
import { clock } from '../src/clock.ts';

// No coarse clock is running in this process, so add() reads the engine's clock (src/clock.ts) and
// the test's Date.now() agrees with it: drive both by hand.
function withClock(fn: (set: (ms: number) => void) => void): void {
  const [real, realEngine] = [Date.now, clock.now];
  let now = 1_700_000_000_000;
  Date.now = clock.now = () => now;
  try {
    fn((ms) => (now = ms));
  } finally {
    Date.now = real;
    clock.now = realEngine;
  }
}

test('a steady rate reads within 3% at every moment after the first second', () => {
  withClock((set) => {
    const start = Date.now();
    const m = new SpeedMeter();
    const rate = 10 * 1024 * 1024;
    const blockEvery = 16384 / (rate / 1000); // ms between 16 KiB blocks
    let worst = 0;
    for (let t = 0; t < 10_000; t += blockEvery) {
      set(start + t);
      m.add(16384);
      if (t > 1000) worst = Math.max(worst, Math.abs(m.rate(start + t) / rate - 1));
    }
    assert.ok(worst < 0.03, `worst deviation ${worst}`);
  });
});

test('a stopped transfer reads 0 within 1.5 s, and reads a rate again when it restarts', () => {
  withClock((set) => {
    const start = Date.now();
    const m = new SpeedMeter();
    for (let t = 0; t < 3000; t += 10) set(start + t), m.add(16384);
    const stop = start + 2990;
    assert.ok(m.rate(stop + 100) > 0);
    assert.equal(m.rate(stop + 1500), 0);
    set(stop + 20_000);
    for (let t = 0; t < 1000; t += 10) set(stop + 20_000 + t), m.add(16384);
    const r = m.rate(stop + 21_000);
    assert.ok(Math.abs(r / (16384 * 100) - 1) < 0.1, `restarted at ${r}`);
  });
});

test('ETA follows a smoothed rate and is Infinity when nothing moves', () => {
  const e = new EtaEstimator(5000);
  assert.equal(e.eta(1000, 0, 0), Infinity);
  assert.equal(e.eta(0, 0, 0), 0);
  assert.equal(e.eta(1000, 100, 0), 10);
  // A one-second burst to 10× moves the estimate only part of the way.
  const eta = e.eta(1000, 1000, 1000);
  assert.ok(eta > 1 && eta < 10, `eta ${eta}`);
});

test('a transfer that just began reads its rate, not its rate averaged with seconds of nothing', () => {
  // The report: at 190 MiB/s the list showed 12 MiB/s (the old meter divided a third of a second
  // of bytes by five seconds).
  withClock((set) => {
    const start = Date.now();
    const m = new SpeedMeter();
    const rate = 190 * 1024 * 1024;
    for (let t = 0; t < 300; t += 0.1) set(start + Math.floor(t)), m.add((rate / 1000) * 0.1);
    const r = m.rate(start + 300);
    assert.ok(Math.abs(r / rate - 1) < 0.1, `${(r / 1048576).toFixed(1)} MiB/s after 0.3 s at 190`);
  });
});
