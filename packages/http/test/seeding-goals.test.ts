// Seeding goals (ratio and seeding time, global and per torrent, pause or remove) and the turtle
// speed schedule, against real nodes; a real transfer between two nodes where a ratio must move.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, formWith, patternBytes, type TestServer } from './server-helpers.ts';
import { eventually, expectStates, patchSettings, restartOf, rows } from './queue-helpers.ts';

/** A seeder with one uploaded file, and a leecher that has the .torrent (not yet started). */
async function pair(t: Parameters<typeof startTestServer>[0], size: number) {
  const leecher = await startTestServer(t);
  const seeder = await startTestServer(t);
  const up = await seeder.json('/api/torrents', { method: 'POST', body: formWith([['data.bin', patternBytes(size, 7)]]) });
  assert.equal(up.status, 201);
  const ih = up.body.infoHash as string;
  const torrent = new Uint8Array(await (await seeder.request(`/api/torrents/${ih}/torrent`)).arrayBuffer());
  return { leecher, seeder, ih, torrent };
}

async function download(leecher: TestServer, seeder: TestServer, torrent: Uint8Array): Promise<string> {
  const added = await leecher.json('/api/torrents', { method: 'POST', body: formWith([['x.torrent', torrent]], 'torrent') });
  assert.equal(added.status, 201, JSON.stringify(added.body));
  leecher.node.session.get(added.body.infoHash)!.addPeer(`127.0.0.1:${seeder.node.session.port}`);
  return added.body.infoHash;
}

test('a torrent that reaches its ratio limit is paused', { timeout: 60_000 }, async (t) => {
  const { leecher, seeder, ih, torrent } = await pair(t, 2 * 1024 * 1024);
  // Its own limit (the global one says none): stop once it has sent half of what it has.
  const p = await seeder.json(`/api/torrents/${ih}`, { method: 'PATCH', json: { ratioLimit: 0.5 } });
  assert.equal(p.status, 200, JSON.stringify(p.body));
  await expectStates(seeder, [ih], ['seeding']);
  await download(leecher, seeder, torrent);
  await expectStates(seeder, [ih], ['paused'], 30_000);
  const r = (await rows(seeder)).get(ih)!;
  assert.ok((r.ratio as number) >= 0.5, `ratio ${r.ratio}`);
  // Resuming does not get round the goal: it stops again.
  await seeder.json(`/api/torrents/${ih}/resume`, { method: 'POST' });
  await expectStates(seeder, [ih], ['paused']);
  // -1: no limit for this torrent, whatever the global setting says.
  await patchSettings(seeder, { ratioLimit: 0.1 });
  await seeder.json(`/api/torrents/${ih}`, { method: 'PATCH', json: { ratioLimit: -1 } });
  await seeder.json(`/api/torrents/${ih}/resume`, { method: 'POST' });
  await expectStates(seeder, [ih], ['seeding']);
  await new Promise((r) => setTimeout(r, 1500));
  await expectStates(seeder, [ih], ['seeding']);
});

test('a global ratio limit with action "remove" removes the torrent, keeping its data', { timeout: 60_000 }, async (t) => {
  const { leecher, seeder, ih, torrent } = await pair(t, 1024 * 1024);
  await patchSettings(seeder, { ratioLimit: 0.25, seedingLimitAction: 'remove' });
  await download(leecher, seeder, torrent);
  await eventually(async () => assert.equal((await rows(seeder)).has(ih), false), 30_000);
  assert.equal(seeder.node.session.get(ih), undefined);
  assert.equal(seeder.node.db.getTorrent(ih), undefined);
});

test('seeding time accumulates across restarts and its limit pauses the torrent', { timeout: 60_000 }, async (t) => {
  const first = await startTestServer(t);
  const up = await first.json('/api/torrents', { method: 'POST', body: formWith([['a.bin', patternBytes(50_000, 1)]]) });
  const ih = up.body.infoHash as string;
  await expectStates(first, [ih], ['seeding']);
  await new Promise((r) => setTimeout(r, 3000));
  await first.close();

  const second = await restartOf(t, first);
  await second.ready;
  const before = (await rows(second)).get(ih)!.seedingTime as number;
  assert.ok(before >= 2, `seeded ${before} s before the restart`);
  await patchSettings(second, { seedingTimeLimit: before + 2 });
  await expectStates(second, [ih], ['seeding']);
  await expectStates(second, [ih], ['paused'], 15_000);
  assert.ok(((await rows(second)).get(ih)!.seedingTime as number) >= before + 2);
});

test('the alternative speed follows its schedule (injected clock), and a hand switch holds until the next edge', async (t) => {
  let now = new Date(2026, 10, 23, 7, 59).getTime(); // a Monday, local time
  const s = await startTestServer(t, { queue: { clock: () => now, tickMs: 50 } });
  const on = { altDownloadLimit: 100_000, altUploadLimit: 50_000 };
  const normal = { downloadLimit: 4_000_000, uploadLimit: 2_000_000 };
  await patchSettings(s, { ...on, ...normal, altSpeedSchedule: { enabled: true, from: '08:00', to: '18:00', days: [1, 2, 3, 4, 5] } });
  const limits = () => s.node.session.rateLimits();
  const altEnabled = async () => (await s.json('/api/settings')).body.altSpeedEnabled as boolean;

  await eventually(async () => assert.equal(await altEnabled(), false));
  assert.deepEqual(limits(), { download: 4_000_000, upload: 2_000_000 });
  now = new Date(2026, 10, 23, 8, 0).getTime();
  await eventually(async () => assert.equal(await altEnabled(), true));
  assert.deepEqual(limits(), { download: 100_000, upload: 50_000 });
  // Off by hand inside the window: it stays off…
  await patchSettings(s, { altSpeedEnabled: false });
  now = new Date(2026, 10, 23, 12, 0).getTime();
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await altEnabled(), false);
  assert.deepEqual(limits(), { download: 4_000_000, upload: 2_000_000 });
  // …until the next edge: the evening ends it (already off), the next morning turns it on.
  now = new Date(2026, 10, 23, 18, 0).getTime();
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await altEnabled(), false);
  now = new Date(2026, 10, 24, 8, 30).getTime();
  await eventually(async () => assert.equal(await altEnabled(), true));
  // Saturday is not a listed day.
  now = new Date(2026, 10, 28, 9, 0).getTime();
  await eventually(async () => assert.equal(await altEnabled(), false));
  assert.deepEqual(limits(), { download: 4_000_000, upload: 2_000_000 });
  // A schedule turned on together with a hand switch: the switch stands until the next edge.
  await patchSettings(s, { altSpeedSchedule: { enabled: false } });
  await patchSettings(s, { altSpeedSchedule: { enabled: true }, altSpeedEnabled: true });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await altEnabled(), true, 'Saturday is outside the window, but the user just switched it on');
  now = new Date(2026, 10, 30, 8, 0).getTime(); // Monday morning: an edge (on, as it is)
  await new Promise((r) => setTimeout(r, 300)); // a few ticks see the window open
  assert.equal(await altEnabled(), true);
  now = new Date(2026, 10, 30, 18, 0).getTime(); // and its end turns it off
  await eventually(async () => assert.equal(await altEnabled(), false));
  // Disabling the schedule leaves the switch to the user.
  await patchSettings(s, { altSpeedSchedule: { enabled: false }, altSpeedEnabled: true });
  now = new Date(2026, 11, 1, 9, 0).getTime();
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await altEnabled(), true);
  assert.deepEqual(limits(), { download: 100_000, upload: 50_000 });
});
