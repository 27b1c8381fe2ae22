// The shown list kept up to date one change at a time (src/list-model.ts) must always equal a
// filter and sort of the whole list from scratch: random changes (speeds, names, states, torrents
// added and removed) under several sorts and filters, compared after every change.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TorrentSummary } from '../src/api/api.ts';
import { ShownList } from '../src/state/list-model.ts';
import { filterTorrents, NO_FILTERS, sortTorrents, type Filters, type Sort } from '../src/state/torrent-list.ts';

/** A small deterministic generator, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const STATES = ['downloading', 'seeding', 'paused', 'queued', 'metadata'];
function torrent(rand: () => number, i: number): TorrentSummary {
  const state = STATES[Math.floor(rand() * STATES.length)]!;
  return {
    infoHashHex: i.toString(16).padStart(40, '0'),
    // Few distinct names and sizes: many ties, which the infohash must break the same way.
    name: `item ${Math.floor(rand() * 20)}`,
    state,
    progress: state === 'seeding' ? 1 : Math.floor(rand() * 4) / 4,
    length: rand() < 0.1 ? null : Math.floor(rand() * 8) * 1000,
    downloaded: 0,
    uploaded: 0,
    downloadSpeed: rand() < 0.5 ? 0 : Math.floor(rand() * 5) * 100,
    uploadSpeed: 0,
    eta: rand() < 0.3 ? null : Math.floor(rand() * 100),
    peers: 0,
    seeds: 0,
    category: rand() < 0.5 ? null : `c${Math.floor(rand() * 3)}`,
    tags: [],
    tracker: null,
    queuePosition: null,
    ratio: null,
    addedAt: null,
  };
}

const cases: { sort: Sort; filters: Filters }[] = [
  { sort: { field: 'name', order: 'asc' }, filters: NO_FILTERS },
  { sort: { field: 'size', order: 'desc' }, filters: NO_FILTERS },
  { sort: { field: 'downloadSpeed', order: 'desc' }, filters: { ...NO_FILTERS, state: 'active' } },
  { sort: { field: 'eta', order: 'asc' }, filters: { ...NO_FILTERS, search: 'item 1' } },
  { sort: { field: 'category', order: 'asc' }, filters: { ...NO_FILTERS, category: 'c1' } },
];

for (const { sort, filters } of cases) {
  test(`shown list by ${sort.field} ${sort.order}, filter ${JSON.stringify(filters)}: every change equals a full filter and sort`, () => {
    const rand = rng(sort.field.length * 7919 + filters.search.length);
    const all = new Map<string, TorrentSummary>();
    let next = 0;
    for (; next < 300; next++) {
      const t = torrent(rand, next);
      all.set(t.infoHashHex, t);
    }
    const list = new ShownList();
    list.query(filters, sort);
    let revision = 1;
    list.sync([...all.values()], revision);
    let applied = 0;
    for (let round = 0; round < 400; round++) {
      const updated: TorrentSummary[] = [];
      const removed: string[] = [];
      const count = 1 + Math.floor(rand() * 6);
      for (let k = 0; k < count; k++) {
        const r = rand();
        const hashes = [...all.keys()];
        if (r < 0.15 && hashes.length > 0) {
          const h = hashes[Math.floor(rand() * hashes.length)]!;
          if (updated.some((t) => t.infoHashHex === h) || removed.includes(h)) continue;
          all.delete(h);
          removed.push(h);
        } else if (r < 0.3) {
          const t = torrent(rand, next++);
          all.set(t.infoHashHex, t);
          updated.push(t);
        } else {
          const h = hashes[Math.floor(rand() * hashes.length)]!;
          if (updated.some((t) => t.infoHashHex === h) || removed.includes(h)) continue;
          // A new object with some fields changed, as the feed sends.
          const t = { ...torrent(rand, 0), infoHashHex: h };
          if (rand() < 0.5) t.name = all.get(h)!.name;
          all.set(h, t);
          updated.push(t);
        }
      }
      revision++;
      if (list.apply({ revision, updated, removed })) applied++;
      const got = list.sync([...all.values()], revision);
      const want = sortTorrents(filterTorrents([...all.values()], filters), sort);
      assert.deepEqual(
        got.map((t) => t.infoHashHex),
        want.map((t) => t.infoHashHex),
        `round ${round}`,
      );
      assert.ok(got.every((t, i) => t === want[i]), `round ${round}: the rows are the newest objects`);
    }
    assert.ok(applied > 300, `most changes applied in place (${applied} of 400), not by reading the list again`);
  });
}

test('a change that skips a revision, or a reset, makes the list read whole', () => {
  const rand = rng(5);
  const ts = Array.from({ length: 10 }, (_, i) => torrent(rand, i));
  const list = new ShownList();
  list.query(NO_FILTERS, { field: 'name', order: 'asc' });
  list.sync(ts, 1);
  assert.equal(list.apply({ revision: 3, updated: [], removed: [] }), false);
  assert.equal(list.sync(ts.slice(0, 4), 3).length, 4);
  assert.equal(list.apply({ revision: 4, updated: [], removed: [], reset: true }), false);
  assert.equal(list.sync([], 4).length, 0);
});
