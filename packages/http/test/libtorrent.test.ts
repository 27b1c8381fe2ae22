// The end-to-end check: upload files through the HTTP API, take the magnet it answers, and
// let a real libtorrent (python3-libtorrent via test/interop/lt.py) download them from the node over
// TCP — given the node's address, or finding it through the node's own tracker. Hashes must match.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeProc, ltDownload, requireClient, tempDir, waitForExit } from '../../../test/interop/helpers.ts';
import { startTestServer, formWith, patternBytes } from './server-helpers.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

test('libtorrent downloads a file uploaded through the API, by its magnet, from the node over TCP', { timeout: 90_000 }, async (t) => {
  requireClient('libtorrent');
  const s = await startTestServer(t);
  const data = patternBytes(3 * 1024 * 1024 + 12345, 21);
  const up = await s.json('/api/torrents', { method: 'POST', body: formWith([['payload.bin', data]]) });
  assert.equal(up.status, 201, JSON.stringify(up.body));
  const { magnet, infoHash } = up.body as { magnet: string; infoHash: string };

  const health = await s.json('/api/health');
  const port: number = health.body.bittorrentPort;
  assert.equal(port, s.node.session.port);

  const out = await tempDir(t, 'cascade-server-lt-');
  // A magnet: libtorrent must first fetch the info dictionary from the node (BEP 9).
  const dl = ltDownload(t, magnet, out, { peers: [`127.0.0.1:${port}`], timeoutSec: 60 });
  const exit = await waitForExit(dl, 75_000);
  assert.equal(exit.code, 0, `libtorrent failed to download from the node:\n${describeProc(dl)}`);
  const done = dl.events.find((e) => e.event === 'done');
  assert.equal(done?.infoHash, infoHash);
  assert.equal(sha256(readFileSync(join(out, 'payload.bin'))), sha256(data));

  // The node saw libtorrent as a TCP peer and counted the upload.
  const detail = await s.json(`/api/torrents/${infoHash}`);
  assert.ok(detail.body.uploaded >= data.length, `uploaded ${detail.body.uploaded} < ${data.length}`);
});

test('libtorrent finds the node through its built-in tracker and downloads an uploaded folder', { timeout: 90_000 }, async (t) => {
  requireClient('libtorrent');
  const s = await startTestServer(t);
  const files: [string, Uint8Array][] = [
    ['photos/a.jpg', patternBytes(700_000, 1)],
    ['photos/raw/b.dng', patternBytes(1_300_000, 2)],
    ['photos/notes.txt', patternBytes(10, 3)],
  ];
  const up = await s.json('/api/torrents', { method: 'POST', body: formWith(files) });
  assert.equal(up.status, 201, JSON.stringify(up.body));
  assert.equal(up.body.name, 'photos');

  // The .torrent from the API; its only route to the seed is the tracker inside it.
  const root = await tempDir(t, 'cascade-server-lt-');
  const torrentPath = join(root, 'photos.torrent');
  writeFileSync(torrentPath, Buffer.from(await (await s.request(`/api/torrents/${up.body.infoHash}/torrent`)).arrayBuffer()));
  // The node announces to its own tracker when the torrent is added; wait until it is listed.
  const deadline = Date.now() + 15_000;
  while ((await s.tracker!.counts(up.body.infoHash)).complete < 1) {
    assert.ok(Date.now() < deadline, 'the node never announced itself to its own tracker');
    await new Promise((r) => setTimeout(r, 100));
  }

  const out = join(root, 'out');
  const dl = ltDownload(t, torrentPath, out, { timeoutSec: 60 });
  const exit = await waitForExit(dl, 75_000);
  assert.equal(exit.code, 0, `libtorrent failed to download through the tracker:\n${describeProc(dl)}`);
  for (const [name, bytes] of files) {
    assert.equal(sha256(readFileSync(join(out, name))), sha256(bytes), `${name} differs`);
  }
});
