// The soak report's floor slope: memory just after collections, shown beside the slope of every
// sample (which also counts garbage not yet collected).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { floorSlopePerHour, slopePerHour } from '../../bench/soak/report.ts';

/** Two hours of samples every 30 s: a sawtooth of garbage (collected every 10 minutes) on a base. */
function samples(base: (t: number) => number, garbage: (t: number) => number): { t: number; y: number }[] {
  const out = [];
  for (let t = 0; t <= 7200; t += 30) out.push({ t, y: base(t) + ((t % 600) / 600) * garbage(t) });
  return out;
}

test('garbage that piles higher between collections moves the slope, not the floor', () => {
  const pts = samples(() => 80, (t) => 20 + (t / 3600) * 30);
  assert.ok(slopePerHour(pts) > 5, `slope ${slopePerHour(pts)}`);
  assert.ok(Math.abs(floorSlopePerHour(pts)) < 0.5, `floor ${floorSlopePerHour(pts)}`);
});

test('a real leak moves both', () => {
  const pts = samples((t) => 80 + (t / 3600) * 5, () => 30);
  assert.ok(Math.abs(floorSlopePerHour(pts) - 5) < 1, `floor ${floorSlopePerHour(pts)}`);
  assert.ok(Math.abs(slopePerHour(pts) - 5) < 1.5, `slope ${slopePerHour(pts)}`);
});

test('too few samples for the windows: no figure', () => {
  assert.ok(Number.isNaN(floorSlopePerHour([{ t: 0, y: 1 }, { t: 30, y: 2 }])));
});
