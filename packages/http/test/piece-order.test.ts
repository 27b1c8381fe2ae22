// Sequential download and first-and-last-pieces-first as torrent options (issue 43 item 7): set
// through PATCH /api/torrents/:hash (or qBittorrent's toggles), shown in the detail, applied to the
// engine's piece order at once, and kept across a restart.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { restartableServer } from './model-helpers.ts';
import { formWith, patternBytes } from './server-helpers.ts';

test('sequential and first/last pieces: set, shown, kept across a restart, switched off again', { timeout: 90_000 }, async (t) => {
  const n = await restartableServer(t);
  const shared = await n.json('/api/torrents', { method: 'POST', body: formWith([['film.bin', patternBytes(600_000, 3)]]) });
  assert.equal(shared.status, 201);
  const ih = shared.body.infoHash as string;
  const detail = async () => (await n.json(`/api/torrents/${ih}`)).body as { sequential: boolean; firstLastPiece: boolean };
  assert.deepEqual(await detail().then((d) => [d.sequential, d.firstLastPiece]), [false, false]);

  const set = await n.json(`/api/torrents/${ih}`, { method: 'PATCH', json: { sequential: true, firstLastPiece: true } });
  assert.equal(set.status, 200, JSON.stringify(set.body));
  assert.deepEqual(await detail().then((d) => [d.sequential, d.firstLastPiece]), [true, true]);

  await n.restart();
  // The detail reads the engine's order for the torrent loaded anew: replayed, not only stored.
  assert.deepEqual(await detail().then((d) => [d.sequential, d.firstLastPiece]), [true, true], 'kept across the restart');

  assert.equal((await n.json(`/api/torrents/${ih}`, { method: 'PATCH', json: { sequential: false } })).status, 200);
  assert.deepEqual(await detail().then((d) => [d.sequential, d.firstLastPiece]), [false, true]);
  assert.equal((await n.json(`/api/torrents/${ih}`, { method: 'PATCH', json: { firstLastPiece: false } })).status, 200);
  await n.restart();
  assert.deepEqual(await detail().then((d) => [d.sequential, d.firstLastPiece]), [false, false], 'the normal order after a restart too');

  const bad = await n.json(`/api/torrents/${ih}`, { method: 'PATCH', json: { sequential: 'yes' } });
  assert.equal(bad.status, 400);
});
