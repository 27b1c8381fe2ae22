// The state mapping and list filters over every Cascade state, including the ones a short test
// cannot reach on a real node (queued, checking, error, force-started, transferring).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeSettings, TorrentRow } from '../src/ops.ts';
import { MAX_ETA, matchesFilter, qbState, qbTorrent } from '../src/qbittorrent/torrent-map.ts';

const row = (over: Partial<TorrentRow>): TorrentRow => ({
  infoHash: 'ab'.repeat(20), name: 'x', state: 'downloading', progress: 0.5, verifiedPieces: 1, pieceCount: 2, length: 1000,
  downloadSpeed: 0, uploadSpeed: 0, eta: null, peers: 0, seeds: 0, downloaded: 0, uploaded: 0, savePath: '/d', error: null,
  category: null, tags: [], queuePosition: 1, downloadLimit: 0, uploadLimit: 0, ratioLimit: null, seedingTimeLimit: null,
  forceStart: false, superSeeding: false, ratio: 0, seedingTime: 0, totalDownloaded: 0, totalUploaded: 0, addedAt: 1_000_000, completedAt: null, tracker: null,
  ...over,
});
const settings = { downloadDir: '/d', ratioLimit: 2, seedingTimeLimit: 3600 } as NodeSettings;

test('Cascade states become qBittorrent 4.6 states', () => {
  const cases: [Partial<TorrentRow>, string][] = [
    [{ state: 'downloading', downloadSpeed: 10 }, 'downloading'],
    [{ state: 'downloading' }, 'stalledDL'],
    [{ state: 'downloading', forceStart: true }, 'forcedDL'],
    [{ state: 'seeding', progress: 1, uploadSpeed: 5 }, 'uploading'],
    [{ state: 'seeding', progress: 1 }, 'stalledUP'],
    [{ state: 'seeding', progress: 1, forceStart: true }, 'forcedUP'],
    [{ state: 'paused' }, 'pausedDL'],
    [{ state: 'paused', progress: 1 }, 'pausedUP'],
    [{ state: 'queued' }, 'queuedDL'],
    [{ state: 'queued', progress: 1 }, 'queuedUP'],
    [{ state: 'checking' }, 'checkingDL'],
    [{ state: 'checking', progress: 1 }, 'checkingUP'],
    [{ state: 'metadata', progress: null }, 'metaDL'],
    [{ state: 'metadata', progress: null, forceStart: true }, 'forcedMetaDL'],
    [{ state: 'error', error: 'disk full' }, 'error'],
    [{ state: 'paused', progress: 0.5, error: 'No data found', missingFiles: ['a.bin'] }, 'missingFiles'],
    [{ state: 'queued', missingFiles: ['a.bin'] }, 'missingFiles'],
    [{ state: 'error', error: 'No data found: its file is not in /d (a.bin). Is the drive connected? …' }, 'missingFiles'],
    [{ state: 'downloading', missingFiles: ['a.bin'] }, 'stalledDL'],
    [{ state: 'something-new' }, 'unknown'],
  ];
  for (const [over, want] of cases) assert.equal(qbState(row(over)), want, JSON.stringify(over));
});

test('list filters match qBittorrent TorrentFilter', () => {
  const rows = {
    dl: row({ state: 'downloading', downloadSpeed: 10 }),
    stalled: row({ state: 'downloading' }),
    seed: row({ state: 'seeding', progress: 1 }),
    paused: row({ state: 'paused', progress: 1 }),
    err: row({ state: 'error' }),
    missing: row({ state: 'paused', missingFiles: ['a.bin'] }),
  };
  const which = (filter: string) => Object.entries(rows).filter(([, r]) => matchesFilter(filter, qbState(r), r)).map(([k]) => k);
  assert.deepEqual(which('all'), ['dl', 'stalled', 'seed', 'paused', 'err', 'missing']);
  assert.deepEqual(which('downloading'), ['dl', 'stalled']);
  assert.deepEqual(which('seeding'), ['seed']);
  assert.deepEqual(which('completed'), ['seed', 'paused']);
  assert.deepEqual(which('paused'), ['paused', 'missing']);
  assert.deepEqual(which('stopped'), ['paused', 'missing']);
  assert.deepEqual(which('resumed'), ['dl', 'stalled', 'seed', 'err']);
  assert.deepEqual(which('active'), ['dl']);
  assert.deepEqual(which('inactive'), ['stalled', 'seed', 'paused', 'err', 'missing']);
  assert.deepEqual(which('stalled'), ['stalled', 'seed']);
  assert.deepEqual(which('stalled_downloading'), ['stalled']);
  assert.deepEqual(which('stalled_uploading'), ['seed']);
  assert.deepEqual(which('errored'), ['err', 'missing']);
});

test('v2 and hybrid torrents: infohash_v1, infohash_v2 and magnets as qBittorrent gives them', () => {
  const m = { settings, now: 5_000_000 };
  const v2 = 'cd'.repeat(32);
  const v1only = qbTorrent(row({}), m);
  assert.equal(v1only.infohash_v1, 'ab'.repeat(20));
  assert.equal(v1only.infohash_v2, '');
  assert.equal(v1only.magnet_uri, `magnet:?xt=urn:btih:${'ab'.repeat(20)}&dn=x`);
  const hybrid = qbTorrent(row({ infoHashV2: v2 }), m);
  assert.equal(hybrid.hash, 'ab'.repeat(20));
  assert.equal(hybrid.infohash_v1, 'ab'.repeat(20));
  assert.equal(hybrid.infohash_v2, v2);
  assert.equal(hybrid.magnet_uri, `magnet:?xt=urn:btih:${'ab'.repeat(20)}&xt=urn:btmh:1220${v2}&dn=x`);
  // A v2-only torrent: its id is the truncated v2 infohash, and it has no v1 one.
  const only = qbTorrent(row({ infoHash: v2.slice(0, 40), infoHashV2: v2 }), m);
  assert.equal(only.hash, v2.slice(0, 40));
  assert.equal(only.infohash_v1, '');
  assert.equal(only.infohash_v2, v2);
  assert.equal(only.magnet_uri, `magnet:?xt=urn:btmh:1220${v2}&dn=x`);
});

test('units: ETA, limits, seeding goals, dates', () => {
  const m = { settings, now: 5_000_000 };
  const dl = qbTorrent(row({ state: 'downloading', downloadSpeed: 100, eta: 12.4, downloadLimit: 2048 }), m);
  assert.equal(dl.eta, 12);
  assert.equal(dl.dl_limit, 2048);
  assert.equal(dl.ratio_limit, -2, 'null = the global goal');
  assert.equal(dl.max_ratio, 2, 'the global goal in force');
  assert.equal(dl.max_seeding_time, 60, 'minutes');
  assert.equal(dl.completion_on, -1);
  assert.equal(dl.added_on, 1000);
  assert.equal(dl.amount_left, 500);
  const seed = qbTorrent(row({ state: 'seeding', progress: 1, ratioLimit: -1, seedingTimeLimit: 5400, completedAt: 2_000_000, eta: 3 }), m);
  assert.equal(seed.eta, MAX_ETA, 'no ETA once complete');
  assert.equal(seed.ratio_limit, -1);
  assert.equal(seed.max_ratio, -1);
  assert.equal(seed.seeding_time_limit, 90);
  assert.equal(seed.completion_on, 2000);
  assert.equal(qbTorrent(row({ ratio: 12_345 }), m).ratio, -1, 'qBittorrent shows ratios over 9999 as -1');
  assert.equal(qbTorrent(row({ tags: ['b', 'A', 'c'] }), m).tags, 'A, b, c');
});
