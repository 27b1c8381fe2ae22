// A magnet's BEP 53 `so=` selection written to hurt (issue 19, item 3): 16 KB of repeated ranges
// must cost time proportional to the text, not to the ranges' product, and never stall the node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMagnet } from '../../packages/engine/index.ts';
import { startTestServer } from '../../packages/http/test/server-helpers.ts';

const HASH = 'ab'.repeat(20);

test('16 KB of overlapping so= ranges parse in milliseconds to the merged selection', () => {
  const so = Array(2000).fill('0-99998').join(',');
  const started = performance.now();
  const m = parseMagnet(`magnet:?xt=urn:btih:${HASH}&so=${so}`);
  const ms = performance.now() - started;
  assert.deepEqual(m.selectOnly, [[0, 99_998]]);
  assert.ok(ms < 500, `parse took ${ms.toFixed(1)} ms`);
  // Overlaps, repeats and disorder merge to sorted ranges, each index in one of them.
  assert.deepEqual(parseMagnet(`magnet:?xt=urn:btih:${HASH}&so=7,2-4,3,0-1,4-5,5`).selectOnly, [[0, 5], [7, 7]]);
  assert.throws(() => parseMagnet(`magnet:?xt=urn:btih:${HASH}&so=0-100000`), /100000-file limit|exceeds/);
  assert.throws(() => parseMagnet(`magnet:?xt=urn:btih:${HASH}&so=5-2`), /bad so range/);
});

test('adding a magnet with 16 KB of so= ranges answers at once and never stalls the node', { timeout: 30_000 }, async (t) => {
  const s = await startTestServer(t);
  const so = Array(2000).fill('0-99998').join(',');
  const uri = `magnet:?xt=urn:btih:${HASH}&so=${so}`;
  let maxLag = 0;
  let last = performance.now();
  const probe = setInterval(() => {
    const now = performance.now();
    maxLag = Math.max(maxLag, now - last - 10);
    last = now;
  }, 10);
  t.after(() => clearInterval(probe));
  const started = performance.now();
  const r = await s.json('/api/torrents', { method: 'POST', json: { uri } });
  const addMs = performance.now() - started;
  assert.equal(r.status, 201, JSON.stringify(r.body));
  // The node keeps answering while it holds that selection: list and detail, every tick of the feed.
  for (let i = 0; i < 10; i++) {
    assert.equal((await s.json('/api/torrents')).status, 200);
    assert.equal((await s.json(`/api/torrents/${HASH}`)).status, 200);
  }
  await new Promise((r) => setTimeout(r, 1500));
  t.diagnostic(`add answered in ${addMs.toFixed(0)} ms; longest event-loop stall ${maxLag.toFixed(0)} ms`);
  assert.ok(addMs < 2000, `add took ${addMs} ms`);
  assert.ok(maxLag < 1000, `event loop stalled ${maxLag} ms`);
});
