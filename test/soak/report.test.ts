// The soak report's memory verdict: the floor slope (memory just after collections) beside the slope
// of every sample (which also counts garbage not yet collected), and which of them is judged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { floorSlopePerHour, judge, slopePerHour } from '../../bench/soak/report.ts';
import type { Sample } from '../../bench/soak/sample.ts';

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

/** Steady-phase soak samples from the series above, one value per measure. */
function soak(values: Record<string, { t: number; y: number }[]>): Sample[] {
  const n = Object.values(values)[0]!.length;
  return Array.from({ length: n }, (_, i) => ({ t: i * 30, phase: 'steady', values: Object.fromEntries(Object.entries(values).map(([k, pts]) => [k, pts[i]!.y])) }));
}
const memoryFailures = (v: { failures: string[] }) => v.failures.filter((f) => /_mb:/.test(f));

test('judged: the live heap on its slope and RSS on its floor slope; the garbage between collections is shown, not failed', () => {
  const garbage = (t: number) => 20 + (t / 3600) * 30;
  const ok = judge(soak({ rss_mb: samples(() => 240, garbage), heap_used_mb: samples(() => 80, garbage), heap_live_mb: samples(() => 80, () => 0) }));
  assert.deepEqual(memoryFailures(ok), []);
  assert.ok(ok.rows.find((r) => r.key === 'heap_used_mb')!.slopePerHour > 5, 'the slope of every sample is still in the table');
  const leak = judge(soak({ rss_mb: samples((t) => 240 + (t / 3600) * 5, garbage), heap_used_mb: samples(() => 80, garbage), heap_live_mb: samples((t) => 80 + (t / 3600) * 5, () => 0) }));
  assert.deepEqual(memoryFailures(leak).map((f) => f.split(':')[0]).sort(), ['heap_live_mb', 'rss_mb']);
  assert.match(memoryFailures(leak).find((f) => f.startsWith('rss_mb'))!, /floor slope 5\.\d+ MB\/h/);
});

test('a node without the live heap (NaN) is judged on heap_used, as before; a cluster member by its own', () => {
  const garbage = (t: number) => 20 + (t / 3600) * 30;
  const old = judge(soak({ rss_mb: samples(() => 240, () => 0), heap_used_mb: samples(() => 80, garbage), heap_live_mb: samples(() => NaN, () => 0) }));
  assert.deepEqual(memoryFailures(old).map((f) => f.split(':')[0]), ['heap_used_mb']);
  const cluster = judge(soak({ 'm1:heap_used_mb': samples(() => 80, garbage), 'm1:heap_live_mb': samples(() => 80, () => 0), 'm2:heap_used_mb': samples(() => 80, () => 0), 'm2:heap_live_mb': samples((t) => 80 + (t / 3600) * 4, () => 0) }));
  assert.deepEqual(memoryFailures(cluster).map((f) => f.split(':').slice(0, 2).join(':')), ['m2:heap_live_mb']);
});

test('RSS judged on what the node read just after its collections when it reports them; the floor where it does not', () => {
  // Every sample's RSS swings 0-30 MB above the floor with when it falls after a collection, and in
  // the last third no sample falls within seconds of one (each window's least is 10 MB higher): the
  // floor reads growth. The node's own readings just after each collection (every 10 minutes) are flat.
  const rss = samples(() => 240, () => 30).map((p) => ({ t: p.t, y: p.t > 4800 ? Math.max(p.y, 250) : p.y }));
  const collectedAt = rss.map((p) => ({ t: p.t, y: 1_700_000_000 + Math.floor(p.t / 600) * 600 }));
  const collectedRss = rss.map(() => ({ t: 0, y: 240.2 }));
  const withCollections = judge(soak({ rss_mb: rss, rss_collected_mb: collectedRss, collected_at_s: collectedAt, heap_live_mb: samples(() => 80, () => 0) }));
  assert.deepEqual(memoryFailures(withCollections), []);
  const row = withCollections.rows.find((r) => r.key === 'rss_mb')!;
  assert.equal(row.collectedSlopePerHour, 0);
  assert.ok(row.floorSlopePerHour! >= 2, `the floor would have failed it: ${row.floorSlopePerHour}`);
  assert.ok(!withCollections.rows.some((r) => r.key === 'collected_at_s'), 'a time, not a measure');
  // A leak shows in those readings as it does in the floor.
  const leaking = rss.map((p) => ({ t: p.t, y: 240 + (Math.floor(p.t / 600) * 600 / 3600) * 5 }));
  const leak = judge(soak({ rss_mb: rss, rss_collected_mb: leaking, collected_at_s: collectedAt, heap_live_mb: samples(() => 80, () => 0) }));
  assert.match(memoryFailures(leak).find((f) => f.startsWith('rss_mb'))!, /slope just after 1[12] collections 5\.\d+ MB\/h/);
  // Fewer than 4 collections in the steady phase: the floor, as before.
  const rare = judge(soak({ rss_mb: rss, rss_collected_mb: collectedRss, collected_at_s: rss.map(() => ({ t: 0, y: 1_700_000_000 })), heap_live_mb: samples(() => 80, () => 0) }));
  assert.equal(rare.rows.find((r) => r.key === 'rss_mb')!.collectedSlopePerHour, undefined);
});
