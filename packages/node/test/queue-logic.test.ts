// The queue's pure parts: the plan, moves, the alt-speed schedule and seeding goals.

import test from 'node:test';
import assert from 'node:assert/strict';
import { MAX_REPLICA_COPIES, planQueue, type QueueItem, type QueueLimits } from '../src/queue/plan.ts';
import { moveInOrder, reassignPositions } from '../src/queue/order.ts';
import { inAltSpeedWindow, parseClockTime } from '../src/queue/schedule.ts';
import { effectiveLimit, goalReached } from '../src/queue/goals.ts';
import { QueueManager, MAX_STARTING, type QueueSettings } from '../src/queue/manager.ts';
import { StateDB } from '@cascade/node-state';
import { silentLog } from '../src/core/node.ts';
import { tempDir, FakeTorrent, fakeSession } from './helpers.ts';
import { defaultSettings } from '../src/model/settings.ts';

const item = (infoHash: string, position: number, over: Partial<QueueItem> = {}): QueueItem => ({
  infoHash,
  position,
  kind: 'download',
  stopped: false,
  forceStart: false,
  stalled: false,
  ...over,
});
const limits = (d: number, u: number, t = 0): QueueLimits => ({ maxActiveDownloads: d, maxActiveUploads: u, maxActiveTorrents: t });
const decisions = (m: Map<string, string>) => Object.fromEntries([...m].sort());

test('plan: downloads run in queue order up to the limit, the rest wait', () => {
  const plan = planQueue([item('c', 3), item('a', 1), item('b', 2)], limits(1, 0));
  assert.deepEqual(decisions(plan), { a: 'run', b: 'queued', c: 'queued' });
});

test('plan: 0 means no limit', () => {
  const plan = planQueue([item('a', 1), item('b', 2), item('s', 3, { kind: 'seed' })], limits(0, 0, 0));
  assert.deepEqual(decisions(plan), { a: 'run', b: 'run', s: 'run' });
});

test('plan: a stopped torrent is not queued and takes no slot', () => {
  const plan = planQueue([item('a', 1, { stopped: true }), item('b', 2), item('c', 3)], limits(1, 0));
  assert.deepEqual(decisions(plan), { a: 'stopped', b: 'run', c: 'queued' });
});

test('plan: force start runs past the queue without taking a slot', () => {
  const plan = planQueue([item('a', 1), item('b', 2), item('c', 3, { forceStart: true })], limits(1, 0));
  assert.deepEqual(decisions(plan), { a: 'run', b: 'queued', c: 'run' });
});

test('plan: a stalled download keeps running but gives its slot to the next', () => {
  const plan = planQueue([item('a', 1, { stalled: true }), item('b', 2), item('c', 3)], limits(1, 0));
  assert.deepEqual(decisions(plan), { a: 'run', b: 'run', c: 'queued' });
});

test("plan: a cluster's copy (a download another live member has complete) runs past the download limits without taking a slot", () => {
  const plan = planQueue([item('a', 1), item('b', 2), item('r', 3, { replica: true }), item('s', 4, { kind: 'seed', replica: true })], limits(1, 1, 2));
  assert.deepEqual(decisions(plan), { a: 'run', b: 'queued', r: 'run', s: 'run' }, 'a complete copy is a seed like any other');
});

test("plan: the cluster's copies run at most MAX_REPLICA_COPIES at once, in queue order; a stalled or forced one is not counted", () => {
  const copies = Array.from({ length: MAX_REPLICA_COPIES + 3 }, (_, i) => item(`r${String(i).padStart(2, '0')}`, 10 + i, { replica: true }));
  const plan = planQueue([item('a', 1), item('b', 2), item('st', 3, { replica: true, stalled: true }), item('f', 99, { replica: true, forceStart: true }), ...copies], limits(1, 0));
  const d = decisions(plan);
  assert.deepEqual(copies.map((c) => d[c.infoHash]), [...Array(MAX_REPLICA_COPIES).fill('run'), 'queued', 'queued', 'queued'], 'the first in the queue run');
  assert.deepEqual([d.a, d.b, d.st, d.f], ['run', 'queued', 'run', 'run'], "the user's slot, and a stalled or forced copy, as before");
});

test('plan: seeds have their own limit; the total limit serves downloads first', () => {
  const items = [item('d1', 4), item('d2', 5), item('s1', 1, { kind: 'seed' }), item('s2', 2, { kind: 'seed' }), item('s3', 3, { kind: 'seed' })];
  assert.deepEqual(decisions(planQueue(items, limits(0, 2))), { d1: 'run', d2: 'run', s1: 'run', s2: 'run', s3: 'queued' });
  assert.deepEqual(decisions(planQueue(items, limits(0, 0, 3))), { d1: 'run', d2: 'run', s1: 'run', s2: 'queued', s3: 'queued' });
});

test('plan: torrents in error (or not loaded) are left alone and not counted', () => {
  const plan = planQueue([item('x', 1, { kind: 'other' }), item('a', 2), item('b', 3)], limits(1, 0));
  assert.deepEqual(decisions(plan), { x: 'leave', a: 'run', b: 'queued' });
});

test('moves: up/down/top/bottom, several together keep their order', () => {
  const order = ['a', 'b', 'c', 'd', 'e'];
  assert.deepEqual(moveInOrder(order, new Set(['c']), 'up'), ['a', 'c', 'b', 'd', 'e']);
  assert.deepEqual(moveInOrder(order, new Set(['a']), 'up'), order);
  assert.deepEqual(moveInOrder(order, new Set(['c']), 'down'), ['a', 'b', 'd', 'c', 'e']);
  assert.deepEqual(moveInOrder(order, new Set(['e']), 'down'), order);
  assert.deepEqual(moveInOrder(order, new Set(['d', 'b']), 'top'), ['b', 'd', 'a', 'c', 'e']);
  assert.deepEqual(moveInOrder(order, new Set(['a', 'c']), 'bottom'), ['b', 'd', 'e', 'a', 'c']);
  assert.deepEqual(moveInOrder(order, new Set(['b', 'c']), 'up'), ['b', 'c', 'a', 'd', 'e']);
  assert.deepEqual(moveInOrder(order, new Set(['a', 'b', 'd']), 'up'), ['a', 'b', 'd', 'c', 'e']);
  assert.deepEqual(moveInOrder(order, new Set(['c', 'd']), 'down'), ['a', 'b', 'e', 'c', 'd']);
});

test('positions: the subset’s own numbers are handed out again, only changed rows returned', () => {
  // s (a seed) holds 2 and keeps it.
  const current = new Map([['a', 1], ['b', 3], ['c', 7]]);
  assert.deepEqual([...reassignPositions(current, ['c', 'a', 'b'])], [['c', 1], ['a', 3], ['b', 7]]);
  assert.deepEqual([...reassignPositions(current, ['a', 'b', 'c'])], []);
  // Ties are spread apart.
  assert.deepEqual([...reassignPositions(new Map([['a', 1], ['b', 1]]), ['b', 'a'])], [['a', 2]]);
});

test('schedule: HH:MM parsing', () => {
  assert.equal(parseClockTime('00:00'), 0);
  assert.equal(parseClockTime('23:59'), 23 * 60 + 59);
  for (const bad of ['24:00', '7:00', '12:60', 'noon', '']) assert.equal(parseClockTime(bad), undefined, bad);
});

test('schedule: day windows, overnight windows and whole days', () => {
  // 2026-11-23 is a Monday (day 1). Dates are built in local time, as the schedule reads them.
  const at = (day: number, hh: number, mm = 0) => new Date(2026, 10, 22 + day, hh, mm);
  const weekdays = { enabled: true, from: '08:00', to: '18:00', days: [1, 2, 3, 4, 5] };
  assert.equal(inAltSpeedWindow(weekdays, at(1, 7, 59)), false);
  assert.equal(inAltSpeedWindow(weekdays, at(1, 8, 0)), true);
  assert.equal(inAltSpeedWindow(weekdays, at(1, 17, 59)), true);
  assert.equal(inAltSpeedWindow(weekdays, at(1, 18, 0)), false);
  assert.equal(inAltSpeedWindow(weekdays, at(0, 12)), false, 'Sunday');
  assert.equal(inAltSpeedWindow({ ...weekdays, enabled: false }, at(1, 12)), false);
  const fridayNight = { enabled: true, from: '22:00', to: '06:00', days: [5] };
  assert.equal(inAltSpeedWindow(fridayNight, at(5, 23)), true);
  assert.equal(inAltSpeedWindow(fridayNight, at(6, 3)), true, 'Saturday morning belongs to Friday night');
  assert.equal(inAltSpeedWindow(fridayNight, at(5, 3)), false, 'Friday morning belongs to Thursday');
  assert.equal(inAltSpeedWindow(fridayNight, at(6, 6)), false);
  const allSunday = { enabled: true, from: '00:00', to: '00:00', days: [0] };
  assert.equal(inAltSpeedWindow(allSunday, at(0, 0)), true);
  assert.equal(inAltSpeedWindow(allSunday, at(0, 23, 59)), true);
  assert.equal(inAltSpeedWindow(allSunday, at(1, 0)), false);
});

test('goals: limits in force and reaching them', () => {
  assert.equal(effectiveLimit(null, 2), 2);
  assert.equal(effectiveLimit(null, null), null);
  assert.equal(effectiveLimit(-1, 2), null, '-1 = no limit for this torrent');
  assert.equal(effectiveLimit(0.5, 2), 0.5);
  assert.equal(effectiveLimit(0, null), 0);
  assert.equal(goalReached({ ratio: 1, seedingTime: 10 }, 1, null), 'ratio');
  assert.equal(goalReached({ ratio: 0.9, seedingTime: 10 }, 1, 10), 'seedingTime');
  assert.equal(goalReached({ ratio: 0.9, seedingTime: 9 }, 1, 10), undefined);
  assert.equal(goalReached({ ratio: 0, seedingTime: 0 }, 0, null), 'ratio', '0 stops at once');
});

test('the manager starts at most a few torrents at once (each may check its data), then all that have a slot', async (t) => {
  const db = await StateDB.open(tempDir(t));
  t.after(() => db.close());
  let inFlight = 0;
  let most = 0;
  const gates: (() => void)[] = [];
  /** A torrent whose start takes until the test lets it go, as a data check would. */
  class SlowStart extends FakeTorrent {
    override async resume(): Promise<void> {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise<void>((r) => gates.push(r));
      inFlight--;
      this.state = 'downloading';
    }
  }
  const torrents = Array.from({ length: 10 }, (_, i) => {
    const ft = new SlowStart(i.toString(16).padStart(2, '0').repeat(20), `t${i}`);
    ft.state = 'paused';
    ft.progress = 0;
    return ft;
  });
  for (const ft of torrents) await db.records.add({ infoHash: ft.infoHashHex, source: ft.infoHashHex, savePath: '/d', status: 'queued' });
  const { session } = fakeSession(torrents);
  const settings: QueueSettings = { ...defaultSettings('/d'), ...limits(0, 0) };
  const queue = new QueueManager({
    session,
    db,
    out: silentLog,
    settings: () => settings,
    setAltSpeedEnabled: () => {},
    remove: async () => {},
    changed: () => {},
    pendingTotals: () => undefined,
  });
  t.after(() => queue.close());
  await queue.apply();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(most, MAX_STARTING);
  while (torrents.some((x) => x.state === 'paused')) {
    gates.shift()?.();
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(most, MAX_STARTING);
  assert.ok(torrents.every((x) => x.state === 'downloading'));
  assert.deepEqual(new Set(db.listTorrents().map((r) => r.status)), new Set(['downloading']));
});

test("the manager runs at most MAX_REPLICA_COPIES of the cluster's copies (admitted one by one, or planned), the next once one is done", async (t) => {
  const db = await StateDB.open(tempDir(t));
  t.after(() => db.close());
  const n = MAX_REPLICA_COPIES + 4;
  const torrents = Array.from({ length: n }, (_, i) => {
    const ft = new FakeTorrent(i.toString(16).padStart(2, '0').repeat(20), `t${i}`);
    ft.state = 'paused';
    ft.progress = 0;
    return ft;
  });
  const { session } = fakeSession(torrents);
  const settings: QueueSettings = { ...defaultSettings('/d'), ...limits(2, 0) };
  const queue = new QueueManager({ session, db, out: silentLog, settings: () => settings, setAltSpeedEnabled: () => {}, remove: async () => {}, changed: () => {}, pendingTotals: () => undefined });
  t.after(() => queue.close());
  await queue.apply(); // the library is empty yet: the admits below build on this plan
  // Placed on this member one after the other, each known as a copy another member has complete.
  queue.setReplicaCopies(new Set(torrents.map((x) => x.infoHashHex)));
  for (const ft of torrents) {
    await db.records.add({ infoHash: ft.infoHashHex, source: ft.infoHashHex, savePath: '/d', status: 'queued' });
    await queue.admit(ft.infoHashHex);
  }
  const running = () => torrents.filter((x) => x.state === 'downloading').length;
  assert.equal(running(), MAX_REPLICA_COPIES, 'admitted: the first MAX_REPLICA_COPIES run, not the user\'s 2 slots, not all');
  await queue.apply();
  assert.equal(running(), MAX_REPLICA_COPIES, 'a full plan agrees');
  const first = torrents.find((x) => x.state === 'downloading')!;
  first.state = 'seeding';
  first.progress = 1;
  queue.finished(first.infoHashHex);
  await queue.apply();
  assert.equal(running(), MAX_REPLICA_COPIES, 'one done: the next copy runs');
  assert.equal(torrents.filter((x) => x.state === 'paused').length, n - MAX_REPLICA_COPIES - 1);
});
