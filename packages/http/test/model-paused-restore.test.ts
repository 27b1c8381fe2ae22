// Defect 3 (issue 20): a paused torrent showed no name, size or files after a restart, and 0 %
// however much it had. Every stored torrent's metadata (and what is verified on disk) is restored,
// paused or not — a magnet's too, once its metadata was fetched. Failed on the old code: after the
// restart the paused magnet had length null, files null, progress null.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { restartableServer, until } from './model-helpers.ts';
import { formWith, patternBytes, startTestServer } from './server-helpers.ts';

test('paused torrents keep name, size, files and progress across a restart (magnet and .torrent)', { timeout: 90_000 }, async (t) => {
  const seeder = await startTestServer(t);
  const fd = formWith([['album/one.bin', patternBytes(70_000, 3)], ['album/two.bin', patternBytes(30_000, 4)]]);
  const shared = await seeder.json('/api/torrents', { method: 'POST', body: fd });
  assert.equal(shared.status, 201, JSON.stringify(shared.body));
  const torrentBytes = new Uint8Array(await (await seeder.request(`/api/torrents/${shared.body.infoHash}/torrent`)).arrayBuffer());
  const peer = `127.0.0.1:${seeder.node.session.port}`;

  const n = await restartableServer(t);
  // One by magnet (metadata from the peer), one by .torrent upload of the same content elsewhere.
  const byMagnet = await n.json('/api/torrents', { method: 'POST', json: { uri: shared.body.magnet, peers: [peer] } });
  assert.equal(byMagnet.status, 201, JSON.stringify(byMagnet.body));
  const ih = byMagnet.body.infoHash as string;
  await until('the magnet download to finish', async () => (await n.json(`/api/torrents/${ih}`)).body.progress === 1);
  assert.equal((await n.json(`/api/torrents/${ih}/pause`, { method: 'POST' })).status, 200);

  const second = await startTestServer(t);
  const fd2 = formWith([['two.bin', patternBytes(50_000, 9)]]);
  const other = await second.json('/api/torrents', { method: 'POST', body: fd2 });
  const otherBytes = new Uint8Array(await (await second.request(`/api/torrents/${other.body.infoHash}/torrent`)).arrayBuffer());
  const tf = new FormData();
  tf.append('torrent', new Blob([otherBytes]), 'two.torrent');
  tf.append('paused', 'true');
  const byFile = await n.json('/api/torrents', { method: 'POST', body: tf });
  assert.equal(byFile.status, 201, JSON.stringify(byFile.body));
  void torrentBytes;

  const before = (await n.json(`/api/torrents/${ih}`)).body;
  assert.equal(before.name, 'album');
  assert.equal(before.length, 100_000);

  await n.restart();
  const after = await n.json(`/api/torrents/${ih}`);
  assert.equal(after.status, 200);
  assert.equal(after.body.state, 'paused');
  assert.equal(after.body.name, 'album');
  assert.equal(after.body.length, 100_000, 'size known while paused');
  assert.equal(after.body.pieceCount, before.pieceCount);
  assert.equal(after.body.progress, 1, 'what was verified before still counts');
  assert.deepEqual(
    after.body.files?.map((f: { path: string; length: number; progress: number }) => [f.path, f.length, f.progress]),
    [['one.bin', 70_000, 1], ['two.bin', 30_000, 1]],
    'files listed while paused',
  );
  const row = (await n.json('/api/torrents')).body.torrents.find((e: { infoHash: string }) => e.infoHash === ih);
  assert.equal(row.length, 100_000);
  assert.equal(row.progress, 1);

  const file = await n.json(`/api/torrents/${other.body.infoHash}`);
  assert.equal(file.body.state, 'paused');
  assert.equal(file.body.name, 'two.bin');
  assert.equal(file.body.files?.length, 1);
  assert.equal(file.body.progress, 0, 'nothing was downloaded for this one');

  // Resumed, it is complete at once (the data is still there).
  await n.json(`/api/torrents/${ih}/resume`, { method: 'POST' });
  await until('seeding after resume', async () => (await n.json(`/api/torrents/${ih}`)).body.state === 'seeding');
});
