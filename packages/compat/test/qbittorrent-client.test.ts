// The npm client @ctrl/qbittorrent (9.14.0) against a real node: log in, list, add a magnet and a
// .torrent (save path, a category it creates, tags, paused), pause, resume, categories, tags,
// delete with files, getAllData, and the same torrents seen through Cascade's own API; pieces,
// trackers, renames (on disk), the shown name, peers, piece order toggles (issue 45).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { QBittorrent } from '@ctrl/qbittorrent';
import { fileTorrent, folderTorrent, magnetOf, startQbNode, waitFor } from './qbittorrent-helpers.ts';

test('@ctrl/qbittorrent: login, wrong password, versions', async (t) => {
  const { s, client } = await startQbNode(t);
  const wrong = new QBittorrent({ baseUrl: s.url, username: 'cascade', password: 'not-the-token' });
  await assert.rejects(wrong.login(), /Cookie not found|Auth Failed/);
  assert.equal(await client.login(), true);
  assert.equal(await client.getAppVersion(), 'v4.6.7');
  assert.equal(await client.getApiVersion(), '2.9.3');
  assert.equal(await client.getDefaultSavePath(), s.downloadDir);
  const build = await client.getBuildInfo();
  assert.equal(typeof build.libtorrent, 'string');
  assert.equal(build.bitness, 64);
  const prefs = await client.getPreferences();
  assert.equal(prefs.save_path, s.downloadDir);
  assert.equal(prefs.queueing_enabled, true);
  assert.equal(prefs.max_active_downloads, 5);
});

test('@ctrl/qbittorrent: add a magnet and a .torrent, categories, tags, pause, resume, delete with files', async (t) => {
  const { s, client } = await startQbNode(t);
  // A magnet (no peers: it waits for metadata), paused, in a category nobody created yet.
  const magnetHash = 'c9e15763f722f23e98a29decdfae341b98d53056';
  const tvDir = join(s.root, 'tv');
  await client.addMagnet(magnetOf(magnetHash, 'Some.Show.S01E01'), { savepath: tvDir, category: 'tv-sonarr', tags: 'hd,new', paused: 'true' });
  const cats = await client.getCategories();
  assert.deepEqual(cats['tv-sonarr'], { name: 'tv-sonarr', savePath: '' }, 'the unknown category was created');
  let [m] = await client.listTorrents({ hashes: magnetHash });
  assert.ok(m, 'the magnet is listed');
  assert.equal(m.state, 'pausedDL');
  assert.equal(m.category, 'tv-sonarr');
  assert.equal(m.tags, 'hd, new');
  assert.equal(m.save_path, tvDir);
  assert.equal(m.eta, 8_640_000);

  // A .torrent whose data is already where it is added: Cascade verifies it and seeds.
  const movies = join(s.root, 'movies');
  const film = await fileTorrent(movies, 'Film.2024.mkv', 200_000);
  await client.createCategory('movies', movies);
  await client.addTorrent(film.torrent, { savepath: movies, category: 'movies', filename: 'film.torrent' });
  const seeding = await waitFor('the .torrent to verify and seed', async () => {
    const [x] = await client.listTorrents({ hashes: film.infoHash });
    return x && x.progress === 1 && (x.state === 'stalledUP' || x.state === 'uploading') ? x : undefined;
  });
  assert.equal(seeding.name, 'Film.2024.mkv');
  assert.equal(seeding.size, 200_000);
  assert.equal(seeding.total_size, 200_000);
  assert.equal(seeding.amount_left, 0);
  assert.equal(seeding.content_path, join(movies, 'Film.2024.mkv'));
  assert.equal(seeding.priority, 0, 'a complete torrent has no queue position');
  assert.ok(seeding.completion_on > 0);

  // Through Cascade's own API: the same torrents with the same category, tags and save path.
  const own = await s.json('/api/torrents');
  assert.equal(own.status, 200);
  const ownMagnet = own.body.torrents.find((x: any) => x.infoHash === magnetHash);
  assert.equal(ownMagnet.category, 'tv-sonarr');
  assert.deepEqual(ownMagnet.tags, ['hd', 'new']);
  assert.equal(ownMagnet.savePath, tvDir);
  assert.equal(own.body.torrents.find((x: any) => x.infoHash === film.infoHash).category, 'movies');

  // And one added through Cascade's API is listed by the client.
  const otherHash = '0123456789abcdef0123456789abcdef01234567';
  const viaCascade = await s.json('/api/torrents', { method: 'POST', json: { uri: magnetOf(otherHash, 'via-cascade'), paused: true } });
  assert.ok(viaCascade.status === 200 || viaCascade.status === 201, JSON.stringify(viaCascade.body));
  const all = await client.listTorrents();
  assert.deepEqual(all.map((x) => x.hash).sort(), [magnetHash, film.infoHash, otherHash].sort());
  assert.equal((await client.listTorrents({ category: '' })).length, 1, 'category "" = without category');
  assert.equal((await client.listTorrents({ filter: 'paused' })).length, 2);
  assert.equal((await client.listTorrents({ filter: 'completed' }))[0]!.hash, film.infoHash);
  assert.equal((await client.listTorrents({ tag: 'hd' }))[0]!.hash, magnetHash);
  const sorted = await client.listTorrents({ sort: 'name', reverse: true });
  assert.deepEqual(sorted.map((x) => x.name), ['via-cascade', 'Some.Show.S01E01', 'Film.2024.mkv']);
  assert.equal((await client.listTorrents({ sort: 'name', limit: 1, offset: 1 }))[0]!.name, 'Some.Show.S01E01');

  // Pause and resume the seed.
  await client.pauseTorrent(film.infoHash);
  assert.equal((await client.getTorrent(film.infoHash)).raw.state, 'pausedUP');
  await client.resumeTorrent(film.infoHash);
  await waitFor('the seed to run again', async () => {
    const x = (await client.getTorrent(film.infoHash)).raw;
    return x.state !== 'pausedUP' ? x : undefined;
  });

  // Category and tags on the magnet.
  await client.setTorrentCategory(magnetHash, 'movies');
  await client.addTorrentTags(magnetHash, 'extra');
  [m] = await client.listTorrents({ hashes: magnetHash });
  assert.equal(m!.category, 'movies');
  assert.equal(m!.tags, 'extra, hd, new', 'sorted, comma+space joined, as qBittorrent lists them');
  assert.deepEqual((await client.getTags()).sort(), ['extra', 'hd', 'new']);
  await client.removeTorrentTags(magnetHash, 'new');
  assert.equal((await client.listTorrents({ hashes: magnetHash }))[0]!.tags, 'extra, hd');
  // An unknown category: qBittorrent's 409.
  await assert.rejects(client.setTorrentCategory(magnetHash, 'no-such-category'), /409/);

  // getAllData: what @ctrl normalizes.
  const data = await client.getAllData();
  assert.equal(data.torrents.length, 3);
  const nf = data.torrents.find((x) => x.id === film.infoHash)!;
  assert.equal(nf.state, 'seeding');
  assert.equal(nf.isCompleted, true);
  assert.equal(nf.label, 'movies');
  assert.equal(nf.savePath, movies);
  assert.equal(nf.totalSize, 200_000);
  assert.ok(!Number.isNaN(Date.parse(nf.dateAdded)));
  const nm = data.torrents.find((x) => x.id === magnetHash)!;
  assert.equal(nm.state, 'paused');
  assert.deepEqual(data.labels.find((l) => l.id === 'movies')?.count, 2);

  // normalizedAddTorrent adds and reads back in one go.
  const third = await fileTorrent(join(s.root, 'third'), 'third.bin', 40_000, 5);
  const n = await client.normalizedAddTorrent(third.torrent, { label: 'tv-sonarr', startPaused: true });
  assert.equal(n.id, third.infoHash);
  assert.equal(n.label, 'tv-sonarr');

  // Delete the seed with its files: the data is gone from disk; the torrent from every list.
  assert.ok(existsSync(film.path));
  await client.removeTorrent(film.infoHash, true);
  await waitFor('the data to be deleted', () => (existsSync(film.path) ? undefined : true));
  assert.equal((await client.listTorrents({ hashes: film.infoHash })).length, 0);
  const after = await s.json('/api/torrents');
  assert.equal(after.body.torrents.some((x: any) => x.infoHash === film.infoHash), false);
  // Without files: the torrent goes, data stays (the magnet has none; the third one has its file).
  await client.removeTorrent(third.infoHash, false);
  assert.ok(existsSync(third.path));
  await client.removeCategory('tv-sonarr');
  assert.equal('tv-sonarr' in (await client.getCategories()), false);
});

test('@ctrl/qbittorrent: sync/maindata full, then only what changed (rid)', async (t) => {
  const { s, client } = await startQbNode(t);
  const hash = 'aa'.repeat(20);
  await client.addMagnet(magnetOf(hash, 'first'), { paused: 'true', category: 'c1' });
  const full = await client.getSyncMainData(0);
  assert.equal(full.full_update, true);
  assert.ok(full.rid > 0);
  assert.equal(full.torrents![hash]!.state, 'pausedDL');
  assert.equal('hash' in full.torrents![hash]!, false, 'the hash is the key, not a field');
  assert.deepEqual(full.categories, { c1: { name: 'c1', savePath: '' } });
  assert.equal(typeof full.server_state!.dl_info_speed, 'number');

  // Nothing changed: no torrents in the answer.
  const same = await client.getSyncMainData(full.rid);
  assert.equal(same.full_update, undefined);
  assert.equal(same.torrents, undefined);
  assert.ok(same.rid !== full.rid);

  // A change: only the changed fields of the changed torrent; a new torrent whole; a removal listed.
  await client.setTorrentCategory(hash, '');
  await client.addTorrentTags(hash, 'x');
  const second = 'bb'.repeat(20);
  await client.addMagnet(magnetOf(second, 'second'), { paused: 'true' });
  const d1 = await client.getSyncMainData(same.rid);
  assert.deepEqual(d1.torrents![hash], { category: '', tags: 'x' });
  assert.equal(d1.torrents![second]!.name, 'second');
  assert.equal(d1.torrents![second]!.state, 'pausedDL');
  assert.deepEqual(d1.tags, ['x']);

  await client.removeTorrent(hash, false);
  await client.removeCategory('c1');
  const d2 = await client.getSyncMainData(d1.rid);
  assert.deepEqual(d2.torrents_removed, [hash]);
  assert.deepEqual(d2.categories_removed, ['c1']);
  assert.deepEqual(d2.tags_removed, ['x']);

  // Each session keeps its last two answers only: an older rid gets a full update.
  const r1 = await client.getSyncMainData(d2.rid);
  const r2 = await client.getSyncMainData(r1.rid);
  await client.getSyncMainData(r2.rid);
  assert.equal((await client.getSyncMainData(r1.rid)).full_update, true);
  // A rid the session does not know (another session's, or a made-up one): a full update again.
  const unknown = await client.getSyncMainData(987654);
  assert.equal(unknown.full_update, true);
  assert.deepEqual(Object.keys(unknown.torrents!), [second]);
  void s;
});

test('@ctrl/qbittorrent: pieces, trackers, renames on disk, name, peers, toggles (issue 45)', async (t) => {
  const { s, client, call } = await startQbNode(t);
  const dir = join(s.root, 'packs');
  const pack = await folderTorrent(dir, 'pack', [['a.bin', 70_000], ['b.bin', 30_000]]);
  await client.addTorrent(pack.torrent, { savepath: dir, filename: 'pack.torrent' });
  const h = pack.infoHash;
  await waitFor('the pack to seed', async () => ((await client.listTorrents({ hashes: h }))[0]?.progress === 1 ? true : undefined));
  const props = await client.torrentProperties(h);

  // Pieces: every one downloaded (2), their SHA-1s, and how many peers have each (none here).
  const states = await client.torrentPieceStates(h);
  assert.equal(states.length, props.pieces_num);
  assert.ok(states.every((x) => x === 2));
  const hashes = await client.torrentPieceHashes(h);
  assert.equal(hashes.length, props.pieces_num);
  assert.match(hashes[0]!, /^[0-9a-f]{40}$/);
  assert.deepEqual(await client.torrentPieceAvailability(h), new Array(props.pieces_num).fill(0));
  assert.equal((await call(`torrents/pieceStates?hash=${'ee'.repeat(20)}`)).status, 404);

  // Trackers: added (one a line), edited, removed; listed after DHT/PeX/LSD with the tracker's counts.
  const urls = async () => (await client.torrentTrackers(h)).filter((x) => x.tier >= 0).map((x) => x.url).filter((u) => !own.includes(u));
  const own: string[] = [];
  own.push(...(await urls())); // the node's own tracker, on every torrent
  assert.ok(own.length > 0);
  await client.addTrackers(h, 'http://127.0.0.1:1/announce\nudp://127.0.0.1:2');
  assert.deepEqual(await urls(), ['http://127.0.0.1:1/announce', 'udp://127.0.0.1:2']);
  const tr = (await client.torrentTrackers(h)).find((x) => x.url === 'udp://127.0.0.1:2')!;
  assert.equal(typeof tr.status, 'number');
  assert.equal(tr.num_downloaded, -1);
  await client.editTrackers(h, 'udp://127.0.0.1:2', 'udp://127.0.0.1:3');
  assert.deepEqual(await urls(), ['http://127.0.0.1:1/announce', 'udp://127.0.0.1:3']);
  assert.equal((await call('torrents/editTracker', { hash: h, origUrl: 'udp://127.0.0.1:9', newUrl: 'udp://127.0.0.1:4' })).status, 409);
  assert.equal((await call('torrents/editTracker', { hash: h, origUrl: 'udp://127.0.0.1:3', newUrl: 'not a url' })).status, 400);
  await client.removeTrackers(h, 'http://127.0.0.1:1/announce');
  assert.deepEqual(await urls(), ['udp://127.0.0.1:3']);
  assert.equal((await call('torrents/removeTrackers', { hash: h, urls: 'http://nope/' })).status, 409);
  // Kept in the library for the next start, as Cascade's own detail shows them.
  const detail = await s.json(`/api/torrents/${h}`);
  assert.ok(detail.body.trackers.some((x: any) => x.url === 'udp://127.0.0.1:3'));
  assert.equal(detail.body.trackers.some((x: any) => x.url === 'http://127.0.0.1:1/announce'), false);

  // Renames move the data on disk; the file list follows.
  await client.renameFile(h, 'pack/a.bin', 'pack/sub/a2.bin');
  assert.ok(existsSync(join(dir, 'pack', 'sub', 'a2.bin')));
  assert.equal(existsSync(join(dir, 'pack', 'a.bin')), false);
  await client.renameFolder(h, 'pack', 'pack2');
  assert.ok(existsSync(join(dir, 'pack2', 'sub', 'a2.bin')));
  assert.deepEqual((await client.torrentFiles(h)).map((f) => f.name).sort(), ['pack2/b.bin', 'pack2/sub/a2.bin']);
  await client.renameFolder(h, 'pack2/sub', 'pack2/inner');
  assert.ok(existsSync(join(dir, 'pack2', 'inner', 'a2.bin')));
  assert.equal((await call('torrents/renameFile', { hash: h, oldPath: 'pack2/b.bin', newPath: 'pack2/inner/a2.bin' })).status, 409);
  assert.equal((await call('torrents/renameFile', { hash: h, oldPath: 'pack2/none.bin', newPath: 'pack2/x.bin' })).status, 409);
  assert.equal((await call('torrents/renameFile', { hash: h, oldPath: 'pack2/b.bin' })).status, 400);
  assert.equal((await client.listTorrents({ hashes: h }))[0]!.progress, 1, 'nothing to fetch again');

  // The shown name, separate from the folder on disk.
  await client.setTorrentName(h, 'My Pack');
  assert.equal((await client.listTorrents({ hashes: h }))[0]!.name, 'My Pack');
  assert.ok(existsSync(join(dir, 'pack2')));
  assert.equal((await call('torrents/rename', { hash: h, name: '  ' })).status, 409);

  // Peers by hand; toggles; super seeding (BEP 16) switched on and off, as torrents/info shows.
  assert.equal((await call('torrents/addPeers', { hashes: h, peers: '127.0.0.1:1|nonsense' })).status, 200);
  assert.equal((await call('torrents/addPeers', { hashes: h, peers: 'nonsense' })).status, 400);
  assert.equal((await call('torrents/toggleSequentialDownload', { hashes: h })).status, 200);
  assert.equal((await call('torrents/toggleFirstLastPiecePrio', { hashes: 'all' })).status, 200);
  let row = (await client.listTorrents({ hashes: h }))[0]!;
  assert.equal(row.seq_dl, true);
  assert.equal(row.f_l_piece_prio, true);
  await call('torrents/toggleSequentialDownload', { hashes: h });
  row = (await client.listTorrents({ hashes: h }))[0]!;
  assert.equal(row.seq_dl, false);
  assert.equal(row.super_seeding, false);
  assert.equal((await call('torrents/setSuperSeeding', { hashes: h, value: 'true' })).status, 200);
  assert.equal((await client.listTorrents({ hashes: h }))[0]!.super_seeding, true);
  assert.equal((await call('torrents/setSuperSeeding', { hashes: h })).status, 400, 'value is required');
  assert.equal((await call('torrents/setSuperSeeding', { hashes: h, value: 'false' })).status, 200);
  assert.equal((await client.listTorrents({ hashes: h }))[0]!.super_seeding, false);

  // Tags created ahead of any torrent are stored and listed (and by sync/maindata); deleteTags drops them.
  await client.createTags('later,soon');
  assert.deepEqual((await client.getTags()).sort(), ['later', 'soon']);
  await client.addTorrentTags(h, 'soon');
  await client.deleteTags('later,soon');
  assert.deepEqual(await client.getTags(), []);
  assert.equal((await client.listTorrents({ hashes: h }))[0]!.tags, '');

  // sync/torrentPeers: a full update, then nothing while nothing changed; the logs and banPeers answer.
  const peers = await client.torrentPeers(h);
  assert.equal(peers.full_update, true);
  assert.deepEqual(peers.peers, {});
  const quiet = await client.torrentPeers(h, peers.rid);
  assert.equal(quiet.full_update, undefined);
  assert.equal(quiet.peers, undefined);
  assert.equal((await call(`sync/torrentPeers?hash=${'ee'.repeat(20)}`)).status, 404);
  assert.deepEqual((await call('log/main?last_known_id=-1')).json, []);
  assert.deepEqual((await call('log/peers')).json, []);
  assert.equal((await call('transfer/banPeers', { peers: '127.0.0.1:1' })).status, 200);

  // An idle poll sends no torrent; a toggle sends only that field.
  const full = await client.getSyncMainData(0);
  const idle = await client.getSyncMainData(full.rid);
  assert.equal(idle.torrents, undefined);
  // A second passes first: the clock's fields (seen_complete of a seeding torrent) must not ride
  // along with the toggle (they did, in CI, whenever the poll and the toggle fell in two seconds).
  await new Promise((r) => setTimeout(r, 1100));
  await call('torrents/toggleFirstLastPiecePrio', { hashes: h });
  const d = await client.getSyncMainData(idle.rid);
  assert.deepEqual(d.torrents, { [h]: { f_l_piece_prio: false } });
});
