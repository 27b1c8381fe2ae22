// A private share (issue 24) lives on in a plain BitTorrent swarm: python3-libtorrent fetches the
// ciphertext from the sharer (it ignores the info dictionary's cascade-private entry), the sharer
// stops, and the recipient downloads from libtorrent alone and decrypts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeProc, ltDownload, requireClient, startLibtorrent, tempDir, waitForExit } from './helpers.ts';
import { startServe, until } from '../../packages/cli/test/node-process.ts';

test('libtorrent seeds a private share it cannot read; the recipient downloads from libtorrent alone and decrypts', { timeout: 180_000 }, async (t) => {
  requireClient('libtorrent');
  const root = await tempDir(t, 'cascade-private-lt-');
  const [a, b] = await Promise.all([
    startServe(t, { args: ['--download-dir', join(root, 'a-dl')] }),
    startServe(t, { args: ['--download-dir', join(root, 'b-dl')] }),
  ]);
  const bDid = JSON.parse((await b.run(['identity', '--json'])).stdout).did as string;
  const marker = Buffer.from('private-share-libtorrent-marker'.padEnd(64, '!'));
  const data = randomBytes(2_500_000);
  marker.copy(data, 1_000_000);
  const form = new FormData();
  form.append('recipients', bDid);
  form.append('file', new Blob([new Uint8Array(data)]), 'interview.wav');
  const res = await a.api('/api/torrents', { method: 'POST', body: form });
  const share = (await res.json()) as { infoHash: string; magnet: string; name: string };
  assert.equal(res.status, 201, JSON.stringify(share));

  // libtorrent takes the ciphertext from A, by magnet (the info dictionary, extra entry and all, over BEP 9).
  const ltDir = join(root, 'lt');
  const dl = ltDownload(t, share.magnet, ltDir, { peers: [`127.0.0.1:${a.btPort}`], timeoutSec: 60 });
  const exit = await waitForExit(dl, 75_000);
  assert.equal(exit.code, 0, `libtorrent did not download the ciphertext:\n${describeProc(dl)}`);
  const copy = readFileSync(join(ltDir, share.name));
  assert.ok(copy.length > data.length);
  assert.equal(copy.indexOf(marker), -1, 'libtorrent holds ciphertext only');
  assert.equal(copy.indexOf(data.subarray(0, 4096)), -1);

  // A goes; libtorrent seeds the same infohash from the .torrent A made.
  const torrentPath = join(root, 'share.torrent');
  writeFileSync(torrentPath, Buffer.from(await (await a.api(`/api/torrents/${share.infoHash}/torrent`)).arrayBuffer()));
  await a.stop();
  const seeder = await startLibtorrent(t, torrentPath, ltDir);

  const add = await b.api('/api/torrents', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ uri: share.magnet, peers: [`127.0.0.1:${seeder.port}`] }),
  });
  assert.equal(add.status, 201);
  const view = await until('B to decrypt what libtorrent sent', async () => {
    const d = (await (await b.api(`/api/torrents/${share.infoHash}`)).json()) as Record<string, any>;
    return d.files?.[0]?.progress === 1 ? d : undefined;
  }, 60_000);
  assert.equal(view.decryptable, true);
  assert.equal(view.name, 'interview.wav');
  // Every byte came from libtorrent: A is gone, and B was given no other peer.
  assert.ok(view.downloaded >= copy.length, `B downloaded ${view.downloaded} of ${copy.length} bytes`);
  assert.ok(readFileSync(join(root, 'b-dl', 'interview.wav')).equals(data), 'B has the plaintext byte for byte');
});
