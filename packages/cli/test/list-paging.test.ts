// `cascade list` on a library of a hundred torrents (issue 25): one request brings the rows the node
// sorted and cut (--sort, --order, --limit), the table says how many there are in all, and --json
// pages the same way GET /api/torrents does.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServe, okHere, NO_CHAIN } from './node-process.ts';

const COUNT = 100;

test('cascade list --sort --limit: the first rows of the node’s order, and how many in all', { timeout: 180_000 }, async (t) => {
  const node = await startServe(t, { args: NO_CHAIN });
  // Magnets that find no one (DHT off): rows with names, added through the API four at a time.
  const hashes: string[] = [];
  for (let i = 0; i < COUNT; i += 4) {
    const batch = await Promise.all([0, 1, 2, 3].map(async (k) => {
      const hex = (i + k + 1).toString(16).padStart(40, 'a');
      const name = `show-${String((i + k) % 25).padStart(2, '0')}`; // every name four times: ties
      const r = await node.api('/api/torrents', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ uri: `magnet:?xt=urn:btih:${hex}&dn=${name}`, paused: true }) });
      assert.equal(r.status, 201);
      return ((await r.json()) as { infoHash: string }).infoHash;
    }));
    hashes.push(...batch);
  }

  const all = (await okHere(node, ['list', '--json', '--sort', 'name'])).json;
  assert.equal(all.total, COUNT);
  assert.equal(all.torrents.length, COUNT);
  // Ties (the same name) in infohash order.
  for (let i = 1; i < COUNT; i++) {
    const [a, b] = [all.torrents[i - 1], all.torrents[i]];
    if (a.name === b.name) assert.ok(a.infoHash < b.infoHash, `${a.infoHash} before ${b.infoHash}`);
    else assert.ok(a.name < b.name);
  }

  const first = (await okHere(node, ['list', '--json', '--sort', 'name', '--limit', '10'])).json;
  assert.equal(first.total, COUNT);
  assert.deepEqual(first.torrents.map((e: { infoHash: string }) => e.infoHash), all.torrents.slice(0, 10).map((e: { infoHash: string }) => e.infoHash));
  const last = (await okHere(node, ['list', '--json', '--sort', 'name', '--order', 'desc', '--limit', '3'])).json;
  assert.deepEqual(last.torrents.map((e: { name: string }) => e.name), ['show-24', 'show-24', 'show-24']);

  const table = (await okHere(node, ['list', '--sort', 'name', '--limit', '5'])).stdout.trimEnd().split('\n');
  assert.match(table[0]!, /^HASH\s+STATE/);
  assert.equal(table.length, 1 + 5 + 1, table.join('\n'));
  assert.match(table[1]!, /show-00/);
  assert.match(table.at(-1)!, /\(5 of 100; --limit shows more\)/);

  const bad = await node.here(['list', '--sort', 'colour']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /"sort" cannot be "colour"/);
});
