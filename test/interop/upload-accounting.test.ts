// The upload a node counts for a torrent is the payload its peer received, byte for byte (issue 44,
// item 7): ratios and seeding goals rest on it. libtorrent (total_payload_download) says what it
// received; the node's totals must say the same.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestServer, formWith, patternBytes } from '../../packages/http/test/server-helpers.ts';
import { until } from '../../packages/http/test/model-helpers.ts';
import { describeProc, ltDownload, tempDir, waitForExit } from './helpers.ts';

test('a node’s upload of a 300 KB torrent equals what libtorrent received', { timeout: 90_000 }, async (t) => {
  const s = await startTestServer(t);
  const shared = await s.json('/api/torrents', { method: 'POST', body: formWith([['data.bin', patternBytes(300_000, 8)]]) });
  assert.equal(shared.status, 201);
  const ih = shared.body.infoHash as string;
  const root = await tempDir(t);
  const file = join(root, 'data.torrent');
  writeFileSync(file, Buffer.from(await (await s.request(`/api/torrents/${ih}/torrent`)).arrayBuffer()));
  const dl = ltDownload(t, file, join(root, 'out'), { peers: [`127.0.0.1:${s.node.session.port}`], timeoutSec: 60 });
  const exit = await waitForExit(dl, 70_000);
  assert.equal(exit.code, 0, describeProc(dl));
  const done = dl.events.find((e) => e.event === 'done')!;
  const received = Number(done.downloaded);
  t.diagnostic(`libtorrent received ${received} B of payload`);
  assert.equal(received, 300_000);
  const detail = await until('the node’s count', async () => {
    const d = (await s.json(`/api/torrents/${ih}`)).body;
    return d.totalUploaded >= received ? d : undefined;
  }, 10_000).catch(async () => (await s.json(`/api/torrents/${ih}`)).body);
  t.diagnostic(`the node counted ${detail.totalUploaded} B uploaded (this run ${detail.uploaded} B)`);
  assert.equal(detail.uploaded, received);
  assert.equal(detail.totalUploaded, received);
});
