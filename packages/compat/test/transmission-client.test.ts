// The npm client @ctrl/transmission (7.4.0) against a real node, its whole public surface: session
// get/set, add (magnet, URL-less .torrent bytes, normalized), list, getTorrent, getAllData, queue
// moves, stop/start, verify, reannounce, torrent-set, rename a path on disk, move, free space,
// remove with data, exportState/createFromState — and Cascade's own API sees the same torrents.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Transmission } from '@ctrl/transmission';
import { startTestServer } from '../../http/test/server-helpers.ts';
import { folderTorrent } from './qbittorrent-helpers.ts';
import { until } from './transmission-helpers.ts';

test('@ctrl/transmission: its whole public surface against a node', { timeout: 90_000 }, async (t) => {
  const s = await startTestServer(t);
  const client = new Transmission({ baseUrl: s.url, username: 'cascade', password: s.token, timeout: 30_000 });

  const session = await client.getSession();
  assert.equal(session.result, 'success');
  assert.equal(session.arguments['rpc-version'], 17);
  assert.equal(session.arguments['download-dir'], s.downloadDir);
  await client.setSession({ 'speed-limit-down': 300, 'speed-limit-down-enabled': true });
  assert.equal((await s.json('/api/settings')).body.downloadLimit, 300_000);
  await client.setSession({ 'speed-limit-down-enabled': false });

  // A magnet (paused, waits for metadata) and a .torrent whose data is in place (it seeds).
  const magnetHash = 'c9e15763f722f23e98a29decdfae341b98d53056';
  const m = await client.addMagnet(`magnet:?xt=urn:btih:${magnetHash}&dn=later`, { paused: true });
  assert.equal(m.arguments['torrent-added'].hashString, magnetHash);
  const dir = join(s.root, 'packs');
  const pack = await folderTorrent(dir, 'pack', [['a.bin', 60_000], ['b.bin', 20_000]]);
  const added = await client.addTorrent(pack.torrent, { 'download-dir': dir });
  const id = added.arguments['torrent-added'].id;
  await until('seeding', async () => ((await client.getTorrent(pack.infoHash)).progress === 1 ? true : undefined));
  const n = await client.getTorrent(pack.infoHash);
  assert.equal(n.name, 'pack');
  assert.equal(n.savePath, dir);
  assert.equal(n.totalSize, 80_000);
  assert.equal(n.isCompleted, true);

  const list = await client.listTorrents(undefined, ['pieces', 'pieceCount', 'availability', 'priorities', 'wanted', 'isStalled']);
  const row = list.arguments.torrents.find((x) => x.hashString === pack.infoHash)! as any;
  assert.equal(Buffer.from(row.pieces, 'base64').length, Math.ceil(row.pieceCount / 8));
  assert.deepEqual(row.priorities, [0, 0]);
  assert.deepEqual(row.wanted, [1, 1]);
  const all = await client.getAllData();
  assert.deepEqual(all.torrents.map((x) => x.id).sort(), [magnetHash, pack.infoHash].sort());

  // Queue moves act on Cascade's download queue (the complete torrent has no place).
  assert.equal((await client.queueTop(magnetHash)).result, 'success');
  assert.equal((await client.queueBottom(magnetHash)).result, 'success');
  assert.equal((await client.queueUp(magnetHash)).result, 'success');
  assert.equal((await client.queueDown(magnetHash)).result, 'success');

  await client.pauseTorrent(pack.infoHash);
  assert.equal((await s.json(`/api/torrents/${pack.infoHash}`)).body.state, 'paused');
  await client.resumeTorrent(pack.infoHash);
  await until('seeding again', async () => (await s.json(`/api/torrents/${pack.infoHash}`)).body.state === 'seeding');
  assert.equal((await client.verifyTorrent(pack.infoHash)).result, 'success');
  await until('verified', async () => (await s.json(`/api/torrents/${pack.infoHash}`)).body.state === 'seeding');
  assert.equal((await client.reannounceTorrent(pack.infoHash)).result, 'success');

  await client.setTorrent(pack.infoHash, { labels: ['kept'], 'priority-high': [1], uploadLimit: 40, uploadLimited: true } as any);
  const d = (await s.json(`/api/torrents/${pack.infoHash}`)).body;
  assert.deepEqual([d.tags, d.uploadLimit], [['kept'], 40_000]);

  // Rename a path: the file moves on disk.
  await client.renamePath(id, { path: 'pack/a.bin', name: 'a2.bin' });
  assert.ok(existsSync(join(dir, 'pack', 'a2.bin')));

  const free = await client.freeSpace(s.root);
  assert.ok(free.arguments['size-bytes'] > 0);
  const target = join(s.root, 'moved');
  await client.moveTorrent(pack.infoHash, target);
  await until('moved', () => existsSync(join(target, 'pack', 'a2.bin')));

  // The state it keeps (session id) carries over to a new client.
  const again = Transmission.createFromState(client.config, client.exportState());
  assert.equal((await again.listTorrents()).arguments.torrents.length, 2);

  const normalized = await client.normalizedAddTorrent(`magnet:?xt=urn:btih:${'d'.repeat(40)}&dn=third`, { startPaused: true, label: 'tv' });
  assert.equal(normalized.id, 'd'.repeat(40));
  assert.equal(normalized.label, 'tv');

  await client.removeTorrent(pack.infoHash, true);
  await until('data gone', () => !existsSync(join(target, 'pack')));
  await client.removeTorrent([magnetHash, 'd'.repeat(40)], false);
  assert.deepEqual((await s.json('/api/torrents')).body.torrents, []);
});
