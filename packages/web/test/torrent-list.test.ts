// The torrent table's filtering and sorting (src/torrent-list.ts): state groups, category/tag/
// tracker filters with "none", multi-word search, sort orders with missing values last and ties
// by infohash.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TorrentSummary } from '../src/api/api.ts';
import { facets, filterTorrents, matchesState, NO_FILTERS, NONE, ratioValue, sortTorrents, stateCounts } from '../src/state/torrent-list.ts';

let n = 0;
function torrent(p: Partial<TorrentSummary>): TorrentSummary {
  n++;
  return {
    infoHashHex: (p.infoHashHex ?? n.toString(16)).padStart(40, '0'),
    name: `t${n}`,
    state: 'downloading',
    progress: 0.5,
    length: 1000,
    downloaded: 500,
    uploaded: 0,
    downloadSpeed: 0,
    uploadSpeed: 0,
    eta: null,
    peers: 0,
    seeds: 0,
    category: null,
    tags: [],
    tracker: null,
    queuePosition: null,
    ratio: null,
    addedAt: null,
    ...p,
  };
}

const dl = torrent({ name: 'Ubuntu ISO', state: 'downloading', downloadSpeed: 5000, eta: 30, category: 'linux', tags: ['iso', 'os'], tracker: 'tracker.ubuntu.com', queuePosition: 1, addedAt: 300 });
const stalled = torrent({ name: 'stuck.bin', state: 'downloading', downloadSpeed: 0, eta: null, queuePosition: 2, addedAt: 100 });
const seed = torrent({ name: 'photos.zip', state: 'seeding', progress: 1, uploadSpeed: 100, category: 'photos', tags: ['family'], tracker: 'tracker.example', ratio: 2.5, addedAt: 200 });
const idleSeed = torrent({ name: 'old.tar', state: 'seeding', progress: 1, ratio: 0.1 });
const paused = torrent({ name: 'paused done', state: 'paused', progress: 1, uploaded: 3000, downloaded: 1000 });
const queued = torrent({ name: 'queued one', state: 'queued', progress: 0, queuePosition: 3 });
const meta = torrent({ name: null, state: 'metadata', progress: 0, length: null });
const all = [dl, stalled, seed, idleSeed, paused, queued, meta];
const names = (list: TorrentSummary[]) => list.map((t) => t.name ?? t.infoHashHex.slice(-4));

test('state filters: entry states and the groups', () => {
  const pick = (f: Parameters<typeof matchesState>[1]) => names(all.filter((t) => matchesState(t, f)));
  assert.deepEqual(pick('all').length, all.length);
  assert.deepEqual(pick('active'), ['Ubuntu ISO', 'photos.zip']);
  assert.deepEqual(pick('inactive'), ['stuck.bin', 'old.tar', 'paused done', 'queued one', meta.infoHashHex.slice(-4)]);
  assert.deepEqual(pick('completed'), ['photos.zip', 'old.tar', 'paused done']);
  assert.deepEqual(pick('stalled'), ['stuck.bin', 'old.tar']);
  assert.deepEqual(pick('downloading'), ['Ubuntu ISO', 'stuck.bin', meta.infoHashHex.slice(-4)]);
  assert.deepEqual(pick('queued'), ['queued one']);
  assert.deepEqual(pick('paused'), ['paused done']);
  assert.deepEqual(pick('seeding'), ['photos.zip', 'old.tar']);
  assert.equal(stateCounts(all).get('completed'), 3);
});

test('category, tag and tracker filters, with "none"', () => {
  assert.deepEqual(names(filterTorrents(all, { ...NO_FILTERS, category: 'linux' })), ['Ubuntu ISO']);
  assert.equal(filterTorrents(all, { ...NO_FILTERS, category: NONE }).length, all.length - 2);
  assert.deepEqual(names(filterTorrents(all, { ...NO_FILTERS, tag: 'family' })), ['photos.zip']);
  assert.equal(filterTorrents(all, { ...NO_FILTERS, tag: NONE }).length, all.length - 2);
  assert.deepEqual(names(filterTorrents(all, { ...NO_FILTERS, tracker: 'tracker.example' })), ['photos.zip']);
  assert.deepEqual(names(filterTorrents(all, { ...NO_FILTERS, state: 'completed', category: 'photos' })), ['photos.zip']);
  const f = facets(all);
  assert.equal(f.categories.get('linux'), 1);
  assert.equal(f.categories.get(NONE), all.length - 2);
  assert.equal(f.tags.get('os'), 1);
});

test('search: every word must match name, infohash, category or tag, any case', () => {
  assert.deepEqual(names(filterTorrents(all, { ...NO_FILTERS, search: 'ubuntu' })), ['Ubuntu ISO']);
  assert.deepEqual(names(filterTorrents(all, { ...NO_FILTERS, search: 'ISO linux' })), ['Ubuntu ISO']);
  assert.deepEqual(names(filterTorrents(all, { ...NO_FILTERS, search: 'family' })), ['photos.zip']);
  assert.deepEqual(names(filterTorrents(all, { ...NO_FILTERS, search: 'iso photos' })), []);
  assert.deepEqual(names(filterTorrents(all, { ...NO_FILTERS, search: meta.infoHashHex })), [meta.infoHashHex.slice(-4)]);
  assert.equal(filterTorrents(all, { ...NO_FILTERS, search: '   ' }).length, all.length);
});

test('sorting: both orders, missing values last, ties by infohash', () => {
  assert.deepEqual(names(sortTorrents([seed, dl, idleSeed], { field: 'name', order: 'asc' })), ['old.tar', 'photos.zip', 'Ubuntu ISO']);
  assert.deepEqual(names(sortTorrents([seed, dl, idleSeed], { field: 'name', order: 'desc' })), ['Ubuntu ISO', 'photos.zip', 'old.tar']);
  // Sizes: the magnet without metadata has none and goes last either way.
  assert.equal(sortTorrents(all, { field: 'size', order: 'asc' }).at(-1), meta);
  assert.equal(sortTorrents(all, { field: 'size', order: 'desc' }).at(-1), meta);
  // ETA: known times first, unknown (∞) after them, finished ones (none) last.
  assert.deepEqual(names(sortTorrents([paused, stalled, dl], { field: 'eta', order: 'asc' })), ['Ubuntu ISO', 'stuck.bin', 'paused done']);
  // Ratio: the node's figure, else uploaded / downloaded.
  assert.equal(ratioValue(paused), 3);
  assert.deepEqual(names(sortTorrents([seed, paused, idleSeed], { field: 'ratio', order: 'desc' })), ['paused done', 'photos.zip', 'old.tar']);
  assert.deepEqual(names(sortTorrents(all, { field: 'queuePosition', order: 'asc' })).slice(0, 3), ['Ubuntu ISO', 'stuck.bin', 'queued one']);
  assert.deepEqual(names(sortTorrents(all, { field: 'addedAt', order: 'desc' })).slice(0, 3), ['Ubuntu ISO', 'photos.zip', 'stuck.bin']);
  assert.deepEqual(names(sortTorrents([seed, dl], { field: 'category', order: 'asc' })), ['Ubuntu ISO', 'photos.zip']);
  // Equal keys keep a stable order by infohash.
  const same = [torrent({ infoHashHex: 'b', name: 'x' }), torrent({ infoHashHex: 'a', name: 'x' })];
  assert.deepEqual(sortTorrents(same, { field: 'name', order: 'desc' }).map((t) => t.infoHashHex.slice(-1)), ['a', 'b']);
  // Numeric-aware names: episode 2 before episode 10.
  assert.deepEqual(names(sortTorrents([torrent({ name: 'ep 10' }), torrent({ name: 'ep 2' })], { field: 'name', order: 'asc' })), ['ep 2', 'ep 10']);
});
