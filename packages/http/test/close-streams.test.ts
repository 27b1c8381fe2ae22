// Stopping a node does not wait on a viewer: a file streamed from a torrent whose pieces will not come
// (no peer has them) holds its response open, and close() still ends within a few seconds, the
// stream cut. Before, fastify's close waited for that response's last byte: in the web tests a film
// playing from a downloading torrent held a node's stop for 50 s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTorrent } from '@cascade/engine';
import { startTestServer } from './server-helpers.ts';

test('close() cuts a response still streaming a file whose pieces are missing, after a short grace', async (t) => {
  const s = await startTestServer(t);
  const src = join(s.root, 'elsewhere');
  mkdirSync(src);
  writeFileSync(join(src, 'film.bin'), Buffer.alloc(2_000_000, 7));
  const made = await createTorrent(join(src, 'film.bin'));
  const form = new FormData();
  form.append('torrent', new Blob([new Uint8Array(made.torrent)]), 'film.torrent');
  const added = await s.request('/api/torrents', { method: 'POST', body: form });
  assert.equal(added.status, 201, await added.clone().text());
  const ih = made.metainfo.infoHashHex;

  const res = await s.request(`/api/torrents/${ih}/files/0`);
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  const read = (async () => {
    try {
      for (let r = await reader.read(); !r.done; r = await reader.read());
      return 'ended';
    } catch {
      return 'cut';
    }
  })();
  // Nothing arrives: no peer has a piece.
  assert.equal(await Promise.race([read, new Promise((r) => setTimeout(() => r('waiting'), 500))]), 'waiting');

  const began = Date.now();
  const closed = await Promise.race([s.close().then(() => 'closed'), new Promise((r) => setTimeout(() => r('still closing'), 8000))]);
  assert.equal(closed, 'closed', `close() had not ended after ${Date.now() - began} ms with a stream open`);
  assert.equal(await read, 'cut', 'the stream was cut, not completed');
});
