// Uploads on a node whose download dir is the default one, <state>/downloads: the upload is seeded
// from there (it was refused, 400 "savePath must not be inside the node's state directory", since
// the upload names the download dir again when it adds what it placed), while a savePath a client
// gives inside the state dir is still refused.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { restartableServer } from './model-helpers.ts';

test('an upload into the default download dir (<state>/downloads) is seeded; other paths in the state dir stay refused', async (t) => {
  const n = await restartableServer(t, { downloadDir: undefined });
  const fd = new FormData();
  fd.append('file', new Blob([new Uint8Array(40_000).fill(7)]), 'notes.bin');
  const up = await n.json<{ infoHash: string }>('/api/torrents', { method: 'POST', body: fd });
  assert.ok(up.status >= 200 && up.status < 300, `upload: ${up.status} ${JSON.stringify(up.body)}`);
  const entry = await n.json<{ savePath: string }>(`/api/torrents/${up.body.infoHash}`);
  assert.equal(entry.body.savePath, join(n.stateDir, 'downloads'));

  const bad = await n.json<{ message: string }>('/api/torrents', {
    method: 'POST',
    json: { uri: `magnet:?xt=urn:btih:${'ab'.repeat(20)}`, savePath: join(n.stateDir, 'keys') },
  });
  assert.equal(bad.status, 400);
  assert.match(bad.body.message, /savePath/);
});
