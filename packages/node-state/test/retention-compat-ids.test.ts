// Transmission's torrent ids (compat_torrent_ids) are bounded by the live library (issue 63,
// docs/retention.md): removing a torrent (REMOVE_TORRENT, what TorrentRecords.remove runs) drops its
// id row, and any row an earlier removal had to keep, while the highest id of each API stays so no
// id is ever given twice. Before, every torrent ever added kept its row (bench/soak: 109 → 137 rows
// in two minutes of churn over a library of 102).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REMOVE_TORRENT } from '@cascade/node-state';
import { sqlite } from '../../node/test/store-engines.ts';

const GIVE_ID = 'INSERT INTO compat_torrent_ids (api, info_hash, id) SELECT ?, ?, COALESCE(MAX(id), 0) + 1 FROM compat_torrent_ids WHERE api = ?';

test('a removed torrent\u2019s Transmission id goes; the highest stays as the mark; ids are never given twice', async (t) => {
  const s = await sqlite()(t);
  const h = (c: string) => c.repeat(40);
  const add = async (ih: string) => {
    await s.run("INSERT INTO torrents (info_hash, source_kind, magnet, save_path, status, added_at) VALUES (?, 'magnet', ?, '/d', 'paused', 0)", [ih, ih]);
    await s.run(GIVE_ID, ['transmission', ih, 'transmission']);
  };
  const remove = async (ih: string) => {
    for (const sql of REMOVE_TORRENT) await s.run(sql, [ih]);
  };
  const ids = async () => (await s.all<{ info_hash: string; id: number }>("SELECT info_hash, id FROM compat_torrent_ids WHERE api = 'transmission' ORDER BY id")).map((r) => [r.info_hash[0], Number(r.id)]);

  for (const c of ['1', '2', '3']) await add(h(c));
  await s.run(GIVE_ID, ['qbittorrent', h('1'), 'qbittorrent']);
  await remove(h('1'));
  assert.deepEqual(await ids(), [['2', 2], ['3', 3]], 'the removed torrent\u2019s row is gone');
  await remove(h('3'));
  assert.deepEqual(await ids(), [['2', 2], ['3', 3]], 'the highest stays: the next id must be 4, not 3 again');
  await add(h('4'));
  assert.deepEqual(await ids(), [['2', 2], ['3', 3], ['4', 4]]);
  await remove(h('2'));
  assert.deepEqual(await ids(), [['4', 4]], 'and the mark left earlier goes once a higher id exists');
  assert.equal((await s.all("SELECT 1 FROM compat_torrent_ids WHERE api = 'qbittorrent'")).length, 1, 'per API: the only (highest) qBittorrent id stays');

  // Churn: a library of 3 through 200 adds and removes keeps at most 3 + 1 rows.
  const live: string[] = [h('4')];
  for (let i = 0; i < 200; i++) {
    const ih = i.toString(16).padStart(40, 'a');
    await add(ih);
    live.push(ih);
    if (live.length > 3) await remove(live.shift()!);
  }
  const rows = await ids();
  assert.ok(rows.length <= 4, `${rows.length} rows for a library of 3`);
  assert.equal(Math.max(...rows.map((r) => r[1] as number)), 204, 'ids kept counting up');
});
