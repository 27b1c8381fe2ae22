// A node seeding through its own built-in tracker is one peer of that swarm (issue 44, item 7): it
// announces there in-process for TCP and over the in-process WebSocket for browsers, under one
// peer id, and the tracker used to count both (complete: 2 with a single seeder).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formWith, patternBytes, startTestServer } from './server-helpers.ts';
import { until } from './model-helpers.ts';

test('the node’s own torrent shows one seed in its own tracker’s swarm', { timeout: 60_000 }, async (t) => {
  const s = await startTestServer(t);
  const r = await s.json('/api/torrents', { method: 'POST', body: formWith([['data.bin', patternBytes(100_000, 3)]]) });
  assert.equal(r.status, 201);
  const ih = r.body.infoHash as string;
  const t0 = s.node.session.get(ih)!;
  // Both doors have answered: the IP announce (in-process) and the WebSocket one.
  await until('both announces', async () => {
    const ok = t0.trackers().filter((x) => x.status === 'ok').map((x) => x.url.split(':')[0]);
    return ok.includes('ws') && ok.some((p) => p === 'http' || p === 'udp') ? true : undefined;
  });
  const counts = await s.tracker!.counts(ih);
  assert.deepEqual({ complete: counts.complete, incomplete: counts.incomplete }, { complete: 1, incomplete: 0 });
});
