// A file shared while every download slot is taken by stalled downloads still seeds at once: the
// node hashed it making the torrent (its resume data has every piece), so it is a seed, which the
// download limit does not hold back. Before, it waited "queued" behind five magnets that never
// got their metadata (found by bench:cluster: a cluster's copy waited 10 minutes behind 500).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formWith, patternBytes, startTestServer } from './server-helpers.ts';
import { until } from './model-helpers.ts';

test('a shared file seeds at once when stalled downloads hold every download slot', { timeout: 60_000 }, async (t) => {
  const s = await startTestServer(t);
  await s.ready;
  assert.equal((await s.json('/api/settings')).body.maxActiveDownloads, 5);
  // Eight magnets nobody serves: five run (looking for metadata), three wait for a slot.
  for (let i = 1; i <= 8; i++) {
    const ih = i.toString(16).padStart(40, 'a');
    assert.equal((await s.json('/api/torrents', { method: 'POST', json: { uri: `magnet:?xt=urn:btih:${ih}` } })).status, 201);
  }
  const up = await s.json('/api/torrents', { method: 'POST', body: formWith([['shared.bin', patternBytes(300_000, 3)]]) });
  assert.equal(up.status, 201, JSON.stringify(up.body));
  await until('the share seeding', async () => (await s.json(`/api/torrents/${up.body.infoHash}`)).body.state === 'seeding');
  const states = ((await s.json('/api/torrents')).body.torrents as { state: string }[]).map((r) => r.state);
  assert.equal(states.filter((x) => x === 'queued').length, 3, `the download limit still holds the magnets: ${states.join(',')}`);
});
