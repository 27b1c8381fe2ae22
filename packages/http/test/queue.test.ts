// The download queue against a real node: limits, order, moves, force start, pause/resume, stalled
// downloads, a finished download handing its slot on, and the order across a restart.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, formWith, patternBytes } from './server-helpers.ts';
import { addMagnet, expectStates, nobodysHash, patchSettings, restartOf, rows, states } from './queue-helpers.ts';

const UNKNOWN = 'c'.repeat(40);

test('maxActiveDownloads=1 with 3 torrents: one runs, two wait in queue order; moves reorder them', async (t) => {
  const s = await startTestServer(t);
  await patchSettings(s, { maxActiveDownloads: 1 });
  const [a, b, c] = [await addMagnet(s), await addMagnet(s), await addMagnet(s)];
  await expectStates(s, [a, b, c], ['running', 'queued', 'queued']);
  const r = await rows(s);
  assert.deepEqual([a, b, c].map((ih) => r.get(ih)!.queuePosition), [1, 2, 3]);

  const top = await s.json(`/api/torrents/${c}/queue`, { method: 'POST', json: { move: 'top' } });
  assert.equal(top.status, 200, JSON.stringify(top.body));
  assert.deepEqual(top.body, { queuePosition: 1 });
  await expectStates(s, [c, a, b], ['running', 'queued', 'queued']);

  assert.deepEqual((await s.json(`/api/torrents/${c}/queue`, { method: 'POST', json: { move: 'down' } })).body, { queuePosition: 2 });
  await expectStates(s, [a, c, b], ['running', 'queued', 'queued']);
  assert.deepEqual((await s.json(`/api/torrents/${a}/queue`, { method: 'POST', json: { move: 'bottom' } })).body, { queuePosition: 3 });
  assert.deepEqual((await s.json(`/api/torrents/${b}/queue`, { method: 'POST', json: { move: 'up' } })).body, { queuePosition: 1 });
  await expectStates(s, [b, c, a], ['running', 'queued', 'queued']);
  const after = await rows(s);
  assert.deepEqual([b, c, a].map((ih) => after.get(ih)!.queuePosition), [1, 2, 3]);

  // A new torrent goes to the bottom.
  const d = await addMagnet(s);
  assert.equal((await rows(s)).get(d)!.queuePosition, 4);
  await expectStates(s, [b, c, a, d], ['running', 'queued', 'queued', 'queued']);

  // Limits apply at once, both ways.
  await patchSettings(s, { maxActiveDownloads: 0 });
  await expectStates(s, [b, c, a, d], ['running', 'running', 'running', 'running']);
  await patchSettings(s, { maxActiveDownloads: 2 });
  await expectStates(s, [b, c, a, d], ['running', 'running', 'queued', 'queued']);
  await patchSettings(s, { maxActiveDownloads: 0, maxActiveTorrents: 1 });
  await expectStates(s, [b, c, a, d], ['running', 'queued', 'queued', 'queued']);
});

test('the queue route refuses bad input with a 4xx naming the problem', async (t) => {
  const s = await startTestServer(t);
  const ih = await addMagnet(s);
  const post = (hash: string, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    s.json(`/api/torrents/${hash}/queue`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers });
  const cases: [string, unknown, number, RegExp][] = [
    [ih, { move: 'sideways' }, 400, /move/],
    [ih, {}, 400, /move/],
    [ih, { move: 1 }, 400, /move/],
    [ih, [], 400, /object|move/],
    [ih, '{"move":', 400, /JSON|Unexpected|body/i],
    [ih, { move: 'up', extra: 1 }, 400, /extra/],
    [UNKNOWN, { move: 'up' }, 404, /no torrent/],
    ['xyz', { move: 'up' }, 400, /infoHash/],
  ];
  for (const [hash, body, status, message] of cases) {
    const r = await post(hash, body);
    assert.equal(r.status, status, `${JSON.stringify(body)} → ${r.status} ${JSON.stringify(r.body)}`);
    assert.match(r.body.message, message);
  }
});

test('force start runs past the queue without taking a slot; pause and resume', async (t) => {
  const s = await startTestServer(t);
  await patchSettings(s, { maxActiveDownloads: 1 });
  const [a, b, c] = [await addMagnet(s), await addMagnet(s), await addMagnet(s)];
  await expectStates(s, [a, b, c], ['running', 'queued', 'queued']);

  const forced = await s.json(`/api/torrents/${c}`, { method: 'PATCH', json: { forceStart: true } });
  assert.equal(forced.status, 200, JSON.stringify(forced.body));
  await expectStates(s, [a, b, c], ['running', 'queued', 'running']);
  assert.equal((await rows(s)).get(c)!.forceStart, true);

  // The user's pause: not queued, not counted; the next one takes the slot.
  assert.equal((await s.json(`/api/torrents/${a}/pause`, { method: 'POST' })).body.state, 'paused');
  await expectStates(s, [a, b, c], ['paused', 'running', 'running']);
  // Resumed, it is first in the queue again, so it takes its slot back.
  await s.json(`/api/torrents/${a}/resume`, { method: 'POST' });
  await expectStates(s, [a, b, c], ['running', 'queued', 'running']);
  // Pausing a queued one makes it stopped; resuming puts it back in the queue.
  assert.equal((await s.json(`/api/torrents/${b}/pause`, { method: 'POST' })).body.state, 'paused');
  await expectStates(s, [a, b, c], ['running', 'paused', 'running']);
  assert.equal((await s.json(`/api/torrents/${b}/resume`, { method: 'POST' })).body.state, 'queued');

  await s.json(`/api/torrents/${c}`, { method: 'PATCH', json: { forceStart: false } });
  await expectStates(s, [a, b, c], ['running', 'queued', 'queued']);
});

test('the queue order and who waits survive a restart; queued torrents are not started on load', async (t) => {
  const first = await startTestServer(t);
  await patchSettings(first, { maxActiveDownloads: 1 });
  const hashes = [await addMagnet(first), await addMagnet(first), await addMagnet(first)];
  await first.json(`/api/torrents/${hashes[2]}/queue`, { method: 'POST', json: { move: 'top' } });
  await first.json(`/api/torrents/${hashes[1]}/pause`, { method: 'POST' });
  const order = [hashes[2]!, hashes[0]!, hashes[1]!];
  await expectStates(first, order, ['running', 'queued', 'paused']);
  await first.close();

  const second = await restartOf(t, first);
  await second.ready;
  await expectStates(second, order, ['running', 'queued', 'paused']);
  const r = await rows(second);
  assert.deepEqual(order.map((ih) => r.get(ih)!.queuePosition), [1, 2, 3]);
  // The torrent that waits was never started by the load (it would have been paused again).
  assert.equal(second.node.session.get(hashes[0]!)!.stats().state, 'paused');
});

test('a stalled download gives up its slot', async (t) => {
  const s = await startTestServer(t);
  await patchSettings(s, { maxActiveDownloads: 1, stalledTimeout: 2 });
  const [a, b] = [await addMagnet(s), await addMagnet(s)];
  assert.deepEqual(await states(s, [a, b]), ['running', 'queued']);
  // No peer ever answers: after 2 s without data the first one stops counting (it keeps trying).
  await expectStates(s, [a, b], ['running', 'running'], 8000);
  // A stalled timeout of 0 means never stalled: the limit holds again.
  await patchSettings(s, { stalledTimeout: 0 });
  await expectStates(s, [a, b], ['running', 'queued']);
});

test('a finished download hands its slot to the next and seeds on', { timeout: 60_000 }, async (t) => {
  const leecher = await startTestServer(t);
  const seeder = await startTestServer(t);
  const data = patternBytes(1024 * 1024, 3);
  const up = await seeder.json('/api/torrents', { method: 'POST', body: formWith([['song.bin', data]]) });
  assert.equal(up.status, 201);
  const torrentBytes = new Uint8Array(await (await seeder.request(`/api/torrents/${up.body.infoHash}/torrent`)).arrayBuffer());

  await patchSettings(leecher, { maxActiveDownloads: 1 });
  const added = await leecher.json('/api/torrents', { method: 'POST', body: formWith([['song.torrent', torrentBytes]], 'torrent') });
  assert.equal(added.status, 201);
  const real = added.body.infoHash as string;
  const waiting = await addMagnet(leecher, nobodysHash());
  await expectStates(leecher, [real, waiting], ['running', 'queued']);
  leecher.node.session.get(real)!.addPeer(`127.0.0.1:${seeder.node.session.port}`);
  await expectStates(leecher, [real, waiting], ['seeding', 'running'], 30_000);
  const r = await rows(leecher);
  assert.equal(r.get(real)!.queuePosition, null, 'a complete torrent has no queue position');
  assert.equal(r.get(waiting)!.queuePosition, 1);
  // The seed is not in the download queue: moving it is refused.
  const move = await leecher.json(`/api/torrents/${real}/queue`, { method: 'POST', json: { move: 'top' } });
  assert.equal(move.status, 409, JSON.stringify(move.body));
  assert.match(move.body.message, /complete/);
});

test('a finished download takes a seeding slot: with the seeding limit full it waits as a queued seed', { timeout: 60_000 }, async (t) => {
  const leecher = await startTestServer(t);
  const seeder = await startTestServer(t);
  const up = await seeder.json('/api/torrents', { method: 'POST', body: formWith([['movie.bin', patternBytes(512 * 1024, 5)]]) });
  const torrentBytes = new Uint8Array(await (await seeder.request(`/api/torrents/${up.body.infoHash}/torrent`)).arrayBuffer());
  await patchSettings(leecher, { maxActiveUploads: 1 });
  const own = await leecher.json('/api/torrents', { method: 'POST', body: formWith([['own.bin', patternBytes(40_000, 6)]]) });
  const added = await leecher.json('/api/torrents', { method: 'POST', body: formWith([['movie.torrent', torrentBytes]], 'torrent') });
  const [mine, fetched] = [own.body.infoHash as string, added.body.infoHash as string];
  // Downloading, it is under the download limit, not the seeding one.
  await expectStates(leecher, [mine, fetched], ['seeding', 'running']);
  leecher.node.session.get(fetched)!.addPeer(`127.0.0.1:${seeder.node.session.port}`);
  await expectStates(leecher, [mine, fetched], ['seeding', 'queued'], 30_000);
  assert.equal((await rows(leecher)).get(fetched)!.progress, 1);
  // The first seed stopped by hand: the finished one seeds.
  await leecher.json(`/api/torrents/${mine}/pause`, { method: 'POST' });
  await expectStates(leecher, [mine, fetched], ['paused', 'seeding']);
});

test('maxActiveUploads queues seeds in order', async (t) => {
  const s = await startTestServer(t);
  const seeds: string[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await s.json('/api/torrents', { method: 'POST', body: formWith([[`f${i}.bin`, patternBytes(40_000, i)]]) });
    seeds.push(r.body.infoHash);
  }
  await expectStates(s, seeds, ['seeding', 'seeding', 'seeding']);
  await patchSettings(s, { maxActiveUploads: 2 });
  await expectStates(s, seeds, ['seeding', 'seeding', 'queued']);
  await s.json(`/api/torrents/${seeds[0]}/pause`, { method: 'POST' });
  await expectStates(s, seeds, ['paused', 'seeding', 'seeding']);
});

test('a seed keeps its completion time across restarts (it was reset at every start)', { timeout: 30_000 }, async (t) => {
  const first = await startTestServer(t);
  const up = await first.json('/api/torrents', { method: 'POST', body: formWith([['done.bin', patternBytes(50_000, 9)]]) });
  const ih = up.body.infoHash as string;
  await expectStates(first, [ih], ['seeding']);
  const completedAt = (await rows(first)).get(ih)!.completedAt as number;
  assert.equal(typeof completedAt, 'number');
  await new Promise((r) => setTimeout(r, 50));
  await first.close();

  const second = await restartOf(t, first);
  await second.ready;
  await expectStates(second, [ih], ['seeding']);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await rows(second)).get(ih)!.completedAt, completedAt);
});
