// bench/web-list: what the torrent table computes in the page on every tick of the live feed (one
// list a second) — filter, sort, the filter menus' counts — for 1,000 to 20,000 torrents. The page
// draws only the rows near the window (TorrentTable), so past these figures a tick costs a few
// dozen row renders whatever the list's length.
//
//   npm run bench:web-list
//
// The page itself, in Chromium against a real node of 10,000 torrents (time to first rows, search,
// sort, rows in the page): bench/web-list/browser.ts.

import type { TorrentSummary } from '../../packages/web/src/api/api.ts';
import { facets, filterTorrents, NO_FILTERS, sortTorrents, stateCounts, type Sort } from '../../packages/web/src/state/torrent-list.ts';
import { ShownList } from '../../packages/web/src/state/list-model.ts';

const STATES = ['downloading', 'seeding', 'paused', 'queued', 'metadata', 'checking', 'error'];
function synthetic(n: number): TorrentSummary[] {
  const out: TorrentSummary[] = [];
  for (let i = 0; i < n; i++) {
    const state = STATES[i % STATES.length]!;
    out.push({
      infoHashHex: (i * 2654435761).toString(16).padStart(40, '0').slice(-40),
      name: `Some.Show.S${String(i % 30).padStart(2, '0')}E${String(i % 24).padStart(2, '0')}.1080p.WEB-DL.x264-${i}.mkv`,
      state,
      progress: state === 'seeding' ? 1 : (i % 100) / 100,
      length: 1e6 * (i % 5000),
      downloaded: 1e5 * (i % 300),
      uploaded: 1e5 * (i % 700),
      downloadSpeed: i % 3 === 0 ? 1000 * (i % 97) : 0,
      uploadSpeed: i % 5 === 0 ? 500 * (i % 89) : 0,
      eta: i % 4 === 0 ? null : i * 7,
      peers: i % 40,
      seeds: i % 9,
      category: i % 6 === 0 ? null : `cat-${i % 12}`,
      tags: i % 3 === 0 ? [] : [`tag-${i % 20}`, `tag-${i % 7}`],
      tracker: `tracker-${i % 15}.example`,
      queuePosition: state === 'seeding' ? null : i,
      ratio: (i % 300) / 100,
      addedAt: 1_700_000_000 + i,
    });
  }
  return out;
}

function time(fn: () => unknown, rounds: number): number {
  fn(); // warm up
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) fn();
  return (performance.now() - t0) / rounds;
}

/** A new list of new objects each round, as every tick of the feed brings (speeds move, names stay). */
function tick(list: TorrentSummary[], round: number): TorrentSummary[] {
  return list.map((t, i) => ({ ...t, downloadSpeed: (t.downloadSpeed + round * i) % 100_000 }));
}

const sorts: Sort[] = [
  { field: 'name', order: 'asc' },
  { field: 'downloadSpeed', order: 'desc' },
  { field: 'eta', order: 'asc' },
  { field: 'category', order: 'asc' },
];
console.log('per tick, ms: filter + sort by name / download speed (changes every tick) / eta / category; the menus\' counts; a search');
console.log('torrents    name    down     eta  category   menus  search');
for (const n of [1_000, 5_000, 20_000]) {
  const list = synthetic(n);
  const ticks = Array.from({ length: 12 }, (_, r) => tick(list, r));
  const perSort = sorts.map((s) => {
    let round = 0;
    return time(() => sortTorrents(filterTorrents(ticks[round++ % ticks.length]!, NO_FILTERS), s), 10);
  });
  const menus = time(() => (facets(list), stateCounts(list)), 10);
  const search = time(() => sortTorrents(filterTorrents(list, { ...NO_FILTERS, search: 's05 web' }), sorts[0]!), 10);
  console.log(`${String(n).padStart(8)}  ${perSort.map((x) => x.toFixed(1).padStart(6)).join('  ')}  ${menus.toFixed(1).padStart(6)}  ${search.toFixed(1).padStart(6)}`);
}

// What the page does since issue 25 on a tick of the feed: a few torrents changed among all of them
// (torrents:changes, or a full list compared with the one known), put in place in the shown list.
console.log('\nper tick, ms: 5 torrents changed (speeds, so they move in a download-speed sort), applied in place vs a filter and sort of all');
console.log('torrents  in place  from scratch');
for (const n of [1_000, 10_000, 20_000]) {
  const list = synthetic(n);
  const sort: Sort = { field: 'downloadSpeed', order: 'desc' };
  const shown = new ShownList();
  shown.query(NO_FILTERS, sort);
  let revision = 1;
  shown.sync(list, revision);
  let round = 0;
  const inPlace = time(() => {
    const updated = Array.from({ length: 5 }, (_, k) => {
      const i = (round * 7919 + k * 104729) % n;
      return (list[i] = { ...list[i]!, downloadSpeed: (round * 31 + k * 1000) % 100_000 });
    });
    round++;
    if (!shown.apply({ revision: ++revision, updated, removed: [] })) throw new Error('not applied in place');
  }, 200);
  const scratch = time(() => sortTorrents(filterTorrents(tick(list, round++), NO_FILTERS), sort), 10);
  console.log(`${String(n).padStart(8)}  ${inPlace.toFixed(3).padStart(8)}  ${scratch.toFixed(1).padStart(12)}`);
}
