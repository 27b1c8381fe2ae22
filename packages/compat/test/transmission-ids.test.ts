// Torrent ids and "recently-active" over time, with a clock the test moves (the 60 s window of
// Transmission without waiting a minute).

import test from 'node:test';
import assert from 'node:assert/strict';
import type { TorrentRow } from '../src/ops.ts';
import { TorrentIds, RECENT_MS } from '../src/transmission/ids.ts';

function row(infoHash: string, over: Partial<TorrentRow> = {}): TorrentRow {
  return {
    infoHash, name: infoHash.slice(0, 4), state: 'seeding', progress: 1, verifiedPieces: 4, pieceCount: 4, length: 1000,
    downloadSpeed: 0, uploadSpeed: 0, eta: null, peers: 0, seeds: 0, downloaded: 0, uploaded: 0, savePath: '/d', error: null,
    category: null, tags: [], queuePosition: null, downloadLimit: 0, uploadLimit: 0, ratioLimit: null, seedingTimeLimit: null,
    forceStart: false, superSeeding: false, ratio: 0, seedingTime: 0, totalDownloaded: 0, totalUploaded: 0, addedAt: 0, completedAt: null, tracker: null,
    ...over,
  };
}

test('ids in first-seen order, never reused; recently-active is what changed or moved data within 60 s, plus removals', () => {
  let now = 1_000_000_000;
  const ids = new TorrentIds(() => now);
  const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((x) => x.repeat(40));
  // At the first look, old torrents are not recent; one added 10 s ago is.
  let rows = [row(a), row(b, { addedAt: now - 10_000 })];
  ids.observe(rows);
  assert.deepEqual(rows.map((r) => ids.idOf(r.infoHash)), [1, 2]);
  const recent = () => ids.select(rows, 'recently-active').map((r) => ids.idOf(r.infoHash));
  assert.deepEqual(recent(), [2]);

  now += RECENT_MS; // b's add is a minute old now
  ids.observe(rows);
  assert.deepEqual(recent(), []);

  // A change (paused), data moving, a new torrent: all recent; a quiet one is not.
  rows = [row(a, { state: 'paused' }), row(b, { uploadSpeed: 5 }), row(c)];
  ids.observe(rows);
  assert.deepEqual(recent(), [1, 2, 3]);
  assert.equal(ids.activeAt(b), Math.floor(now / 1000));
  now += 30_000;
  rows = [row(a, { state: 'paused' }), row(b), row(c)];
  ids.observe(rows);
  assert.deepEqual(recent(), [1, 2, 3], 'still within the minute');
  now += 30_001;
  ids.observe(rows);
  assert.deepEqual(recent(), []);

  // Removed: its id is listed for a minute and never handed out again.
  rows = [row(a, { state: 'paused' }), row(c)];
  ids.observe(rows);
  assert.deepEqual(ids.recentlyRemoved(), [2]);
  assert.deepEqual(ids.select(rows, [2]), []);
  rows = [...rows, row(b), row(d)];
  ids.observe(rows);
  assert.deepEqual(rows.map((r) => ids.idOf(r.infoHash)), [1, 3, 4, 5]);
  now += RECENT_MS;
  ids.observe(rows);
  assert.deepEqual(ids.recentlyRemoved(), []);
});

test('ids select by number, hash (any case) or a list; malformed ids are errors, unknown ones skipped', () => {
  const ids = new TorrentIds(() => 0);
  const rows = ['1', '2', '3'].map((x) => row(x.repeat(40)));
  ids.observe(rows);
  const sel = (v: unknown) => ids.select(rows, v).map((r) => ids.idOf(r.infoHash));
  assert.deepEqual(sel(undefined), [1, 2, 3]);
  assert.deepEqual(sel(2), [2]);
  assert.deepEqual(sel('3'.repeat(40)), [3]);
  assert.deepEqual(sel([3, '1'.repeat(40), 42, -1, 'F'.repeat(40)]), [1, 3]);
  for (const bad of [1.5, 'abc', {}, [true], null, ['recently-active']]) assert.throws(() => sel(bad), /id|ids|recently-active/, JSON.stringify(bad));
});
