// GET changes nothing (issue 19, item 9): streaming a deselected file fetches the pieces that one
// response needs, but the stored selection and every other state stay as the user left them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formWith, patternBytes, startTestServer } from '../../packages/http/test/server-helpers.ts';

test('a cross-origin GET of a deselected file streams it without re-selecting it', { timeout: 60_000 }, async (t) => {
  const leecher = await startTestServer(t, { streamWaitMs: 30_000 });
  const seeder = await startTestServer(t);
  const a = patternBytes(700_000, 3);
  const b = patternBytes(900_000, 4);
  const up = await seeder.json('/api/torrents', { method: 'POST', body: formWith([['pack/a.bin', a], ['pack/b.bin', b]]) });
  assert.equal(up.status, 201, JSON.stringify(up.body));
  const torrentBytes = new Uint8Array(await (await seeder.request(`/api/torrents/${up.body.infoHash}/torrent`)).arrayBuffer());
  const added = await leecher.json('/api/torrents', { method: 'POST', body: formWith([['pack.torrent', torrentBytes]], 'torrent') });
  assert.equal(added.status, 201, JSON.stringify(added.body));
  const ih: string = added.body.infoHash;
  const sel = await leecher.json(`/api/torrents/${ih}/files`, { method: 'PUT', json: { selected: [0] } });
  assert.equal(sel.status, 200, JSON.stringify(sel.body));
  leecher.node.session.get(ih)!.addPeer(`127.0.0.1:${seeder.node.session.port}`);

  // Wait until the selected file is complete: the torrent is done by its selection.
  const deadline = Date.now() + 30_000;
  while ((await leecher.json(`/api/torrents/${ih}`)).body.state !== 'seeding') {
    assert.ok(Date.now() < deadline, 'the selected file never completed');
    await new Promise((r) => setTimeout(r, 100));
  }
  const before = (await leecher.json(`/api/torrents/${ih}`)).body;

  // A page on another site embeds the stream (a <video src>): HEAD, then a ranged GET, then all of it.
  const headers = { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' };
  const head = await leecher.request(`/api/torrents/${ih}/files/1`, { method: 'HEAD', headers });
  assert.equal(head.status, 200);
  const part = await leecher.request(`/api/torrents/${ih}/files/1`, { headers: { ...headers, range: 'bytes=100000-199999' } });
  assert.equal(part.status, 206);
  assert.deepEqual(Buffer.from(await part.arrayBuffer()), Buffer.from(b.subarray(100_000, 200_000)));
  const whole = await leecher.request(`/api/torrents/${ih}/files/1`, { headers });
  assert.equal(whole.status, 200);
  assert.deepEqual(Buffer.from(await whole.arrayBuffer()), Buffer.from(b));

  // Nothing the user set has moved: the stored selection, the files' flags, the API's view.
  assert.deepEqual(leecher.node.db.getTorrent(ih)!.selectedFiles, [0]);
  const after = (await leecher.json(`/api/torrents/${ih}`)).body;
  assert.deepEqual(after.files.map((f: { selected: boolean }) => f.selected), [true, false]);
  assert.equal(after.state, 'seeding');
  assert.equal(after.status ?? after.state, before.status ?? before.state);
  assert.equal((await leecher.json('/api/torrents')).body.torrents.find((x: { infoHash: string }) => x.infoHash === ih).progress, 1);
});
