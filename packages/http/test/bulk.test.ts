// POST /api/torrents/bulk and the control RPCs `bulk` and `queue.move` against a real node: every
// action over 200 torrents in one request each, and malformed requests answered with a 4xx.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectControl } from '@cascade/node';
import { startTestServer } from './server-helpers.ts';
import { addMagnet, eventually, expectStates, patchSettings, rows } from './queue-helpers.ts';

const UNKNOWN = 'c'.repeat(40);

test('bulk actions over 200 torrents, one request each', { timeout: 120_000 }, async (t) => {
  const s = await startTestServer(t);
  await patchSettings(s, { maxActiveDownloads: 5 });
  const hashes: string[] = [];
  for (let i = 0; i < 200; i++) hashes.push(await addMagnet(s));
  const bulk = async (body: Record<string, unknown>) => {
    const r = await s.json('/api/torrents/bulk', { method: 'POST', json: body });
    assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 500));
    return r.body.results as { infoHash: string; ok: boolean; error?: string; queuePosition?: number | null }[];
  };
  const count = async (state: string) => [...(await rows(s)).values()].filter((r) => r.state === state).length;
  await expectStates(s, hashes.slice(0, 6), ['running', 'running', 'running', 'running', 'running', 'queued']);

  let results = await bulk({ action: 'pause', infoHashes: 'all' });
  assert.equal(results.length, 200);
  assert.ok(results.every((r) => r.ok));
  // Past WAIT_FOR_MOST torrents the answer comes once planned; the engine follows at once.
  await eventually(async () => assert.equal(await count('paused'), 200));
  assert.ok(s.node.session.list().every((t) => t.stats().state === 'paused'));

  results = await bulk({ action: 'resume', infoHashes: hashes });
  assert.ok(results.every((r) => r.ok));
  await expectStates(s, hashes.slice(0, 6), ['running', 'running', 'running', 'running', 'running', 'queued']);
  assert.equal(await count('queued'), 195);

  // The last ten go to the top, keeping their order among themselves.
  const last = hashes.slice(190);
  results = await bulk({ action: 'queue', infoHashes: last, move: 'top' });
  assert.deepEqual(results.map((r) => r.queuePosition), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  await expectStates(s, [...last.slice(0, 6), hashes[0]!], ['running', 'running', 'running', 'running', 'running', 'queued', 'queued']);

  const cat = await s.json('/api/categories', { method: 'POST', json: { name: 'linux' } });
  assert.ok(cat.status === 200 || cat.status === 201, JSON.stringify(cat.body));
  results = await bulk({ action: 'setCategory', infoHashes: hashes, category: 'linux' });
  assert.ok(results.every((r) => r.ok));
  results = await bulk({ action: 'addTags', infoHashes: hashes.slice(0, 100), tags: ['iso', 'big'] });
  results = await bulk({ action: 'removeTags', infoHashes: hashes.slice(0, 50), tags: ['big'] });
  let r = await rows(s);
  assert.ok(hashes.every((ih) => r.get(ih)!.category === 'linux'));
  assert.deepEqual(r.get(hashes[0]!)!.tags, ['iso']);
  assert.deepEqual(r.get(hashes[60]!)!.tags, ['iso', 'big']);
  assert.deepEqual(r.get(hashes[150]!)!.tags, []);

  results = await bulk({ action: 'setLimits', infoHashes: hashes, downloadLimit: 100_000 });
  assert.ok(results.every((x) => x.ok));
  r = await rows(s);
  assert.ok(hashes.every((ih) => r.get(ih)!.downloadLimit === 100_000 && r.get(ih)!.uploadLimit === 0));
  assert.equal(s.node.session.get(hashes[0]!)!.rateLimits().download, 100_000);

  results = await bulk({ action: 'forceStart', infoHashes: hashes.slice(100, 110), forceStart: true });
  await expectStates(s, hashes.slice(100, 110), Array(10).fill('running'));
  assert.equal((await rows(s)).get(hashes[100]!)!.forceStart, true);

  // Unknown torrents get their own result; the known ones are done.
  results = await bulk({ action: 'recheck', infoHashes: [hashes[0], UNKNOWN] });
  assert.equal(results[1]!.ok, false);
  assert.match(results[1]!.error!, /no torrent/);

  results = await bulk({ action: 'remove', infoHashes: 'all', deleteData: true });
  assert.equal(results.length, 200);
  assert.ok(results.every((x) => x.ok), JSON.stringify(results.filter((x) => !x.ok)).slice(0, 300));
  assert.equal((await rows(s)).size, 0);
  assert.equal(s.node.session.list().length, 0);
});

test('malformed bulk requests are 4xx naming the problem, and change nothing', async (t) => {
  const s = await startTestServer(t);
  const ih = await addMagnet(s);
  const cases: [unknown, number, RegExp][] = [
    [[], 400, /object/],
    ['"pause"', 400, /object/],
    [{ infoHashes: [ih] }, 400, /action/],
    [{ action: 'explode', infoHashes: [ih] }, 400, /action/],
    [{ action: 'pause' }, 400, /infoHashes/],
    [{ action: 'pause', infoHashes: 'some' }, 400, /infoHashes/],
    [{ action: 'pause', infoHashes: [ih, 'abc'] }, 400, /infoHashes\[1\]/],
    [{ action: 'pause', infoHashes: [ih, 7] }, 400, /infoHashes\[1\]/],
    [{ action: 'pause', infoHashes: [ih], colour: 'red' }, 400, /colour/],
    [{ action: 'setCategory', infoHashes: [ih] }, 400, /category/],
    [{ action: 'setCategory', infoHashes: [ih], category: 'nope' }, 409, /nope/],
    [{ action: 'addTags', infoHashes: [ih], tags: [] }, 400, /tags/],
    [{ action: 'addTags', infoHashes: [ih], tags: 'a' }, 400, /tags/],
    [{ action: 'queue', infoHashes: [ih], move: 'left' }, 400, /move/],
    [{ action: 'setLimits', infoHashes: [ih] }, 400, /downloadLimit/],
    [{ action: 'setLimits', infoHashes: [ih], uploadLimit: -5 }, 400, /uploadLimit/],
    [{ action: 'forceStart', infoHashes: [ih], forceStart: 'yes' }, 400, /forceStart/],
    [{ action: 'remove', infoHashes: [ih], deleteData: 1 }, 400, /deleteData/],
  ];
  for (const [body, status, message] of cases) {
    const r = await s.json('/api/torrents/bulk', {
      method: 'POST',
      body: typeof body === 'string' ? body : JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(r.status, status, `${JSON.stringify(body)} → ${r.status} ${JSON.stringify(r.body)}`);
    assert.match(r.body.message, message, JSON.stringify(body));
  }
  const broken = await s.json('/api/torrents/bulk', { method: 'POST', body: '{"action":', headers: { 'content-type': 'application/json' } });
  assert.equal(broken.status, 400);
  assert.equal((await rows(s)).size, 1);
  assert.notEqual((await rows(s)).get(ih)!.state, 'gone');
});

test('control RPCs: bulk and queue.move (with an infohash prefix), errors with exit codes', async (t) => {
  const s = await startTestServer(t);
  await patchSettings(s, { maxActiveDownloads: 1 });
  const [a, b] = [await addMagnet(s), await addMagnet(s)];
  const client = (await connectControl(s.node.db.stateDir))!;
  assert.ok(client);
  assert.deepEqual(await client.call('queue.move', { infoHash: b.slice(0, 10), move: 'top' }), { infoHash: b, queuePosition: 1 });
  await expectStates(s, [b, a], ['running', 'queued']);
  await assert.rejects(client.call('queue.move', { infoHash: a, move: 'sideways' }), (err: { exitCode: number; message: string }) => {
    assert.equal(err.exitCode, 2);
    assert.match(err.message, /move/);
    return true;
  });
  await assert.rejects(client.call('queue.move', { move: 'up' }), /infoHash/);
  const res = await client.call<{ results: { ok: boolean }[] }>('bulk', { action: 'pause', infoHashes: [a, b] });
  assert.deepEqual(res.results.map((x) => x.ok), [true, true]);
  await expectStates(s, [a, b], ['paused', 'paused']);
  await assert.rejects(client.call('bulk', { action: 'nope', infoHashes: 'all' }), (err: { exitCode: number; message: string }) => {
    assert.equal(err.exitCode, 2);
    assert.match(err.message, /action/);
    return true;
  });
});
