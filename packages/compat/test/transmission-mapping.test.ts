// What Transmission clients read and write maps onto the same node state Cascade's own API shows:
// torrent-get of a seeding torrent field by field, table format, stable ids and recently-active with
// removals, torrent-add (metainfo, magnet, labels, download-dir, paused, duplicates), torrent-set
// (limits in kB/s, goals, labels ↔ category + tags, files), queue moves, session-get/-set/-stats.

import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTorrent } from '@cascade/engine';
import { formWith, patternBytes, startTestServer, type TestServer } from '../../http/test/server-helpers.ts';
import { rpcClient } from './transmission-helpers.ts';

async function share(s: TestServer, files: [string, Uint8Array][]): Promise<string> {
  const r = await s.json('/api/torrents', { method: 'POST', body: formWith(files) });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.infoHash;
}

const ALL_FIELDS = [
  'id', 'hashString', 'name', 'status', 'percentDone', 'percentComplete', 'rateDownload', 'rateUpload', 'eta', 'peersConnected',
  'peersSendingToUs', 'peersGettingFromUs', 'totalSize', 'sizeWhenDone', 'leftUntilDone', 'haveValid', 'haveUnchecked',
  'downloadedEver', 'uploadedEver', 'uploadRatio', 'downloadDir', 'labels', 'files', 'fileStats', 'priorities', 'wanted',
  'trackerStats', 'trackers', 'peers', 'error', 'errorString', 'isFinished', 'isStalled', 'queuePosition', 'addedDate',
  'doneDate', 'activityDate', 'seedRatioLimit', 'seedRatioMode', 'seedIdleLimit', 'seedIdleMode', 'magnetLink', 'pieceCount',
  'pieceSize', 'comment', 'creator', 'dateCreated', 'isPrivate', 'metadataPercentComplete', 'secondsSeeding',
  'secondsDownloading', 'recheckProgress', 'honorsSessionLimits', 'bandwidthPriority', 'downloadLimit', 'downloadLimited',
  'uploadLimit', 'uploadLimited', 'webseedsSendingToUs', 'desiredAvailable', 'corruptEver', 'startDate', 'editDate',
  'file-count', 'trackerList', 'notAFieldAnyoneKnows',
];

test('torrent-get of a seeding torrent, field by field; table format; ids, recently-active and removed', async (t) => {
  const s = await startTestServer(t);
  const rpc = rpcClient(s);
  const data = patternBytes(100_000, 5);
  const before = Math.floor(Date.now() / 1000);
  const hash = await share(s, [['clip.bin', data]]);
  const detail = (await s.json(`/api/torrents/${hash}`)).body;

  const { torrents } = await rpc.ok('torrent-get', { fields: ALL_FIELDS });
  assert.equal(torrents.length, 1);
  const g = torrents[0];
  assert.ok(!('notAFieldAnyoneKnows' in g), 'unknown fields are skipped');
  assert.equal(Object.keys(g).length, ALL_FIELDS.length - 1);
  const expected = {
    id: 1, hashString: hash, name: 'clip.bin', status: 6, percentDone: 1, percentComplete: 1, rateDownload: 0, rateUpload: 0,
    eta: -1, peersConnected: 0, peersSendingToUs: 0, peersGettingFromUs: 0, totalSize: data.length, sizeWhenDone: data.length,
    leftUntilDone: 0, haveValid: data.length, haveUnchecked: 0, downloadedEver: 0, uploadedEver: 0, uploadRatio: 0,
    downloadDir: s.downloadDir, labels: [], files: [{ bytesCompleted: data.length, length: data.length, name: 'clip.bin' }],
    fileStats: [{ bytesCompleted: data.length, priority: 0, wanted: true }], priorities: [0], wanted: [1], peers: [], error: 0,
    errorString: '', isFinished: false, isStalled: false, queuePosition: 0, doneDate: g.doneDate, seedRatioLimit: 2,
    seedRatioMode: 0, seedIdleLimit: 30, seedIdleMode: 0, magnetLink: detail.magnet, pieceCount: detail.pieceCount,
    pieceSize: detail.pieceLength, comment: '', creator: g.creator, dateCreated: g.dateCreated, isPrivate: false,
    metadataPercentComplete: 1, secondsSeeding: g.secondsSeeding, secondsDownloading: g.secondsDownloading, recheckProgress: 0,
    honorsSessionLimits: true, bandwidthPriority: 0, downloadLimit: 100, downloadLimited: false, uploadLimit: 100,
    uploadLimited: false, webseedsSendingToUs: 0, desiredAvailable: 0, corruptEver: 0, 'file-count': 1,
  };
  for (const [k, v] of Object.entries(expected)) assert.deepEqual(g[k], v, `field ${k}`);
  for (const k of ['addedDate', 'activityDate', 'startDate', 'editDate']) assert.ok(g[k] >= before && g[k] <= Math.ceil(Date.now() / 1000), `${k} ${g[k]}`);
  assert.ok(g.doneDate >= before, 'an upload is complete when added');
  assert.ok(g.secondsSeeding >= 0 && Number.isInteger(g.secondsSeeding));
  assert.equal(typeof g.creator, 'string');
  // The node's own tracker (HTTP, UDP, WebSocket) as Transmission describes trackers.
  assert.equal(g.trackers.length, detail.trackers.length);
  assert.ok(g.trackers.length > 0);
  for (const [i, tr] of g.trackers.entries()) {
    assert.equal(tr.announce, detail.trackers[i].url);
    assert.equal(tr.id, i);
    assert.equal(tr.sitename, '127.0.0.1');
  }
  assert.equal(g.trackers.find((x: any) => x.announce.startsWith('http:'))!.scrape, s.tracker!.httpAnnounceUrl.replace(/announce$/, 'scrape'));
  assert.equal(g.trackerStats.length, g.trackers.length);
  for (const ts of g.trackerStats) {
    assert.equal(typeof ts.lastAnnounceResult, 'string');
    assert.equal(ts.host, new URL(ts.announce).protocol + '//' + new URL(ts.announce).host);
    // From the tracker's last reply (BEP 3 complete); -1 while it gave none.
    assert.ok(Number.isInteger(ts.seederCount) && ts.seederCount >= -1);
  }
  // Tiers as configured (one URL a line, a blank line between tiers), in the same order.
  assert.deepEqual(g.trackerList.split(/\n+/), detail.trackers.map((tr: any) => tr.url));
  assert.equal(g.trackerList.split('\n\n').length, new Set(g.trackers.map((tr: any) => tr.tier)).size);

  // A multi-file torrent: Transmission's file names carry the folder.
  const folder = await share(s, [['set/one.bin', patternBytes(40_000, 1)], ['set/two.bin', patternBytes(30_000, 2)]]);
  const both = await rpc.ok('torrent-get', { fields: ['id', 'name', 'files', 'wanted', 'totalSize'], format: 'table' });
  assert.deepEqual(both.torrents[0], ['id', 'name', 'files', 'wanted', 'totalSize']);
  assert.deepEqual(both.torrents.slice(1).map((r: any[]) => r.slice(0, 2)), [[1, 'clip.bin'], [2, 'set']]);
  assert.deepEqual(both.torrents[2][2].map((f: any) => f.name), ['set/one.bin', 'set/two.bin']);
  assert.deepEqual(both.torrents[2][3], [1, 1]);
  assert.equal(both.torrents[2][4], 70_000);

  // ids: a number, a hash (any case), a list of both.
  const pick = async (ids: unknown) => (await rpc.ok('torrent-get', { ids, fields: ['id'] })).torrents.map((x: any) => x.id);
  assert.deepEqual(await pick(2), [2]);
  assert.deepEqual(await pick(folder.toUpperCase()), [2]);
  assert.deepEqual(await pick([hash, 2, 7]), [1, 2]);
  assert.deepEqual(await pick([]), []);

  // recently-active: both were just added; removed ids come with it, and ids are never reused.
  const recent = await rpc.ok('torrent-get', { ids: 'recently-active', fields: ['id'] });
  assert.deepEqual(recent.torrents.map((x: any) => x.id), [1, 2]);
  assert.deepEqual(recent.removed, []);
  const del = await s.json(`/api/torrents/${hash}?deleteData=true`, { method: 'DELETE' });
  assert.ok(del.status < 300, JSON.stringify(del.body));
  const after = await rpc.ok('torrent-get', { ids: 'recently-active', fields: ['id', 'hashString'] });
  assert.deepEqual(after.removed, [1]);
  assert.ok(!after.torrents.some((x: any) => x.id === 1));
  assert.deepEqual(await pick(1), []);
  await share(s, [['third.bin', patternBytes(5_000, 9)]]);
  assert.deepEqual(await pick(undefined), [2, 3]);
  // A plain torrent-get has no `removed`.
  assert.ok(!('removed' in (await rpc.ok('torrent-get', { fields: ['id'] }))));
});

test('torrent-add, torrent-set, queue, start/stop and session-set act on the node Cascade’s API shows', async (t) => {
  const s = await startTestServer(t);
  const rpc = rpcClient(s);
  const api = async (hash: string) => (await s.json(`/api/torrents/${hash}`)).body;

  // torrent-add from base64 metainfo, into a folder, paused, with labels: a category's name is the category.
  assert.equal((await s.json('/api/categories', { method: 'POST', json: { name: 'movies' } })).status, 201);
  const src = join(s.root, 'src');
  mkdirSync(src);
  writeFileSync(join(src, 'film.bin'), patternBytes(60_000, 4));
  const made = await createTorrent(join(src, 'film.bin'), { announce: ['http://127.0.0.1:1/announce'] });
  const dir = join(s.root, 'films');
  const add = { metainfo: Buffer.from(made.torrent).toString('base64'), 'download-dir': dir, paused: true, labels: ['movies', 'hd'] };
  const added = await rpc.ok('torrent-add', add);
  const hash = made.metainfo.infoHashHex;
  assert.deepEqual(added, { 'torrent-added': { hashString: hash, id: 1, name: 'film.bin' } });
  let d = await api(hash);
  assert.equal(d.savePath, dir);
  assert.equal(d.category, 'movies');
  assert.deepEqual(d.tags, ['hd']);
  assert.equal(d.state, 'paused');
  assert.deepEqual(await rpc.ok('torrent-add', add), { 'torrent-duplicate': { hashString: hash, id: 1, name: 'film.bin' } });
  const [g] = (await rpc.ok('torrent-get', { ids: [1], fields: ['labels', 'status', 'downloadDir', 'percentDone', 'eta'] })).torrents;
  assert.deepEqual(g, { labels: ['movies', 'hd'], status: 0, downloadDir: dir, percentDone: 0, eta: -1 });

  // files-unwanted on add, for a .torrent whose files are known at once.
  writeFileSync(join(src, 'dir-a.bin'), patternBytes(10_000, 6));
  mkdirSync(join(src, 'album'));
  writeFileSync(join(src, 'album', '1.bin'), patternBytes(10_000, 7));
  writeFileSync(join(src, 'album', '2.bin'), patternBytes(10_000, 8));
  const album = await createTorrent(join(src, 'album'), {});
  const a = await rpc.ok('torrent-add', { metainfo: Buffer.from(album.torrent).toString('base64'), paused: true, 'files-unwanted': [0] });
  assert.equal(a['torrent-added'].name, 'album');
  assert.deepEqual((await api(album.metainfo.infoHashHex)).files.map((f: any) => f.selected), [false, true]);
  await rpc.ok('torrent-remove', { ids: [a['torrent-added'].id] });

  // A magnet in "filename".
  const magnetHash = 'e'.repeat(40);
  const m = await rpc.ok('torrent-add', { filename: `magnet:?xt=urn:btih:${magnetHash}&dn=pending`, paused: true });
  assert.deepEqual(m, { 'torrent-added': { hashString: magnetHash, id: 3, name: 'pending' } });

  // torrent-set: limits in kB/s (1000 bytes), goals, labels.
  await rpc.ok('torrent-set', { ids: [hash], downloadLimit: 50, downloadLimited: true, uploadLimit: 70, seedRatioMode: 1, seedRatioLimit: 1.5, seedIdleMode: 1, seedIdleLimit: 10, labels: ['hd', 'x'] });
  d = await api(hash);
  assert.equal(d.downloadLimit, 50_000);
  assert.equal(d.uploadLimit, 0, 'uploadLimit without uploadLimited stays off');
  assert.equal(d.ratioLimit, 1.5);
  assert.equal(d.seedingTimeLimit, 600);
  assert.equal(d.category, null, 'the category label was dropped');
  assert.deepEqual(d.tags, ['hd', 'x']);
  let [v] = (await rpc.ok('torrent-get', { ids: 1, fields: ['downloadLimit', 'downloadLimited', 'uploadLimit', 'uploadLimited', 'seedRatioMode', 'seedRatioLimit', 'seedIdleMode', 'seedIdleLimit'] })).torrents;
  assert.deepEqual(v, { downloadLimit: 50, downloadLimited: true, uploadLimit: 70, uploadLimited: false, seedRatioMode: 1, seedRatioLimit: 1.5, seedIdleMode: 1, seedIdleLimit: 10 });
  await rpc.ok('torrent-set', { ids: 1, downloadLimited: false, uploadLimited: true, seedRatioMode: 2, seedIdleMode: 0 });
  d = await api(hash);
  assert.deepEqual([d.downloadLimit, d.uploadLimit, d.ratioLimit, d.seedingTimeLimit], [0, 70_000, -1, null]);
  [v] = (await rpc.ok('torrent-get', { ids: 1, fields: ['downloadLimit', 'downloadLimited'] })).torrents;
  assert.deepEqual(v, { downloadLimit: 50, downloadLimited: false }, 'a limit switched off keeps its value for display');
  // What Cascade cannot do is said, after the rest is applied.
  const partial = await rpc.call('torrent-set', { ids: 1, bandwidthPriority: 1, 'priority-high': [0], labels: ['movies'] });
  assert.equal(partial.result, 'Cascade has no bandwidth priority');
  assert.equal((await rpc.ok('torrent-get', { ids: 1, fields: ['priorities'] })).torrents[0].priorities[0], 1, 'the file priority was applied');
  assert.equal((await api(hash)).category, 'movies');
  assert.equal((await rpc.call('torrent-set', { ids: 1, 'files-wanted': [3] })).result, 'file index out of range');
  assert.match((await rpc.call('torrent-set', { ids: 3, 'files-wanted': [0] })).result, /metadata/);

  // Queue: both wait in Cascade's download queue; move the magnet to the top.
  const pos = async () => Object.fromEntries((await rpc.ok('torrent-get', { fields: ['id', 'queuePosition'] })).torrents.map((x: any) => [x.id, x.queuePosition]));
  assert.deepEqual(await pos(), { 1: 0, 3: 1 });
  await rpc.ok('queue-move-top', { ids: [3] });
  assert.deepEqual(await pos(), { 1: 1, 3: 0 });
  assert.equal((await api(magnetHash)).queuePosition, 1);
  await rpc.ok('torrent-set', { ids: [3], queuePosition: 1 });
  assert.deepEqual(await pos(), { 1: 0, 3: 1 });

  // start-now is Cascade's force start; stop clears it.
  await rpc.ok('torrent-start-now', { ids: [hash] });
  d = await api(hash);
  assert.equal(d.forceStart, true);
  assert.notEqual(d.state, 'paused');
  await rpc.ok('torrent-stop', { ids: hash });
  d = await api(hash);
  assert.equal(d.forceStart, false);
  assert.equal(d.state, 'paused');

  // torrent-set-location with move: the data moves (none downloaded yet: just the place).
  const elsewhere = join(s.root, 'elsewhere');
  await rpc.ok('torrent-set-location', { ids: [1], location: elsewhere, move: true });
  assert.equal((await api(hash)).savePath, elsewhere);

  // A seeding torrent's files: unwanted then wanted again.
  const folder = (await s.json('/api/torrents', { method: 'POST', body: formWith([['pair/a.bin', patternBytes(20_000, 1)], ['pair/b.bin', patternBytes(20_000, 2)]]) })).body.infoHash;
  await rpc.ok('torrent-set', { ids: [folder], 'files-unwanted': [1] });
  assert.deepEqual((await api(folder)).files.map((f: any) => f.selected), [true, false]);
  const [w] = (await rpc.ok('torrent-get', { ids: [folder], fields: ['wanted', 'sizeWhenDone', 'totalSize'] })).torrents;
  assert.deepEqual(w, { wanted: [1, 0], sizeWhenDone: 20_000, totalSize: 40_000 });
  await rpc.ok('torrent-set', { ids: [folder], 'files-wanted': [] });
  assert.deepEqual((await api(folder)).files.map((f: any) => f.selected), [true, true]);

  // Remove with data through RPC.
  await rpc.ok('torrent-remove', { ids: [folder], 'delete-local-data': true });
  assert.equal(existsSync(join(s.downloadDir, 'pair')), false);
  assert.equal((await s.json(`/api/torrents/${folder}`)).status, 404);

  // session-set → Cascade's settings; session-get shows them back in Transmission's units.
  await rpc.ok('session-set', {
    'speed-limit-down': 200, 'speed-limit-down-enabled': true, 'alt-speed-up': 30, 'download-queue-size': 3,
    seedRatioLimited: true, seedRatioLimit: 2.5, 'idle-seeding-limit': 45, 'idle-seeding-limit-enabled': true,
    'start-added-torrents': false, 'alt-speed-time-enabled': true, 'alt-speed-time-begin': 60, 'alt-speed-time-end': 420, 'alt-speed-time-day': 65,
  });
  let st = (await s.json('/api/settings')).body;
  assert.equal(st.downloadLimit, 200_000);
  assert.equal(st.altUploadLimit, 30_000);
  assert.equal(st.maxActiveDownloads, 3);
  assert.equal(st.ratioLimit, 2.5);
  assert.equal(st.seedingTimeLimit, 2700);
  assert.equal(st.startPaused, true);
  assert.deepEqual(st.altSpeedSchedule, { enabled: true, from: '01:00', to: '07:00', days: [0, 6] });
  await rpc.ok('session-set', { 'speed-limit-down-enabled': false, 'download-queue-enabled': false, seedRatioLimited: false });
  st = (await s.json('/api/settings')).body;
  assert.deepEqual([st.downloadLimit, st.maxActiveDownloads, st.ratioLimit], [0, 0, null]);
  const sg = await rpc.ok('session-get', { fields: ['speed-limit-down', 'speed-limit-down-enabled', 'download-queue-size', 'download-queue-enabled', 'seedRatioLimit', 'seedRatioLimited', 'idle-seeding-limit', 'start-added-torrents', 'alt-speed-up', 'alt-speed-time-day', 'units', 'version', 'no-such-field'] });
  assert.deepEqual(sg, {
    'speed-limit-down': 200, 'speed-limit-down-enabled': false, 'download-queue-size': 3, 'download-queue-enabled': false,
    seedRatioLimit: 2.5, seedRatioLimited: false, 'idle-seeding-limit': 45, 'start-added-torrents': false, 'alt-speed-up': 30,
    'alt-speed-time-day': 65,
    units: { 'memory-bytes': 1024, 'memory-units': ['KiB', 'MiB', 'GiB', 'TiB'], 'size-bytes': 1000, 'size-units': ['kB', 'MB', 'GB', 'TB'], 'speed-bytes': 1000, 'speed-units': ['kB/s', 'MB/s', 'GB/s', 'TB/s'] },
    version: sg.version,
  });
  assert.match(sg.version, /^4\.0\.0 \(cascade \d+\.\d+\.\d+\)$/);
  // Sonarr/Radarr read the version with this pattern and need 2.40 or later.
  assert.equal(/(?<!\(|(\d|\.)+)(\d|\.)+(?!\)|(\d|\.)+)/.exec(sg.version)?.[0], '4.0.0');
  const full = await rpc.ok('session-get', undefined);
  assert.equal(full['rpc-version'], 17);
  assert.equal(full['rpc-version-minimum'], 14);
  assert.equal(full['download-dir'], s.downloadDir);
  assert.equal(full['peer-port'], s.node.session.port);
  assert.equal(full['dht-enabled'], false);
  assert.ok(full['download-dir-free-space'] > 0);

  const stats = await rpc.ok('session-stats', undefined);
  assert.equal(stats.torrentCount, 2);
  assert.equal(stats.activeTorrentCount + stats.pausedTorrentCount, 2);
  assert.equal(stats['current-stats'].filesAdded, 2);

  const free = await rpc.ok('free-space', { path: s.root });
  assert.equal(free.path, s.root);
  assert.ok(free['size-bytes'] > 0 && free.total_size >= free['size-bytes']);
});

test('torrent-add of a .torrent URL fetches it (private addresses only where the node allows them)', async (t) => {
  const src = join(tmpdir(), `cascade-tr-url-${process.pid}`);
  mkdirSync(src, { recursive: true });
  t.after(() => rmSync(src, { recursive: true, force: true }));
  writeFileSync(join(src, 'web.bin'), patternBytes(30_000, 13));
  const made = await createTorrent(join(src, 'web.bin'), { announce: ['http://127.0.0.1:1/announce'] });
  const web = createServer((req, res) => {
    if (req.url === '/web.torrent') res.writeHead(200, { 'content-type': 'application/x-bittorrent' }).end(made.torrent);
    else res.writeHead(404).end('no such file');
  });
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => web.close(() => r())));
  const base = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;

  const lan = await startTestServer(t, { allowPrivateUrls: true });
  const rpc = rpcClient(lan);
  const added = await rpc.ok('torrent-add', { filename: `${base}/web.torrent`, paused: true });
  assert.deepEqual(added, { 'torrent-added': { hashString: made.metainfo.infoHashHex, id: 1, name: 'web.bin' } });
  assert.match((await rpc.call('torrent-add', { filename: `${base}/missing.torrent` })).result, /404/);

  // A node that refuses private addresses says so, and adds nothing.
  const strict = await startTestServer(t);
  const refused = await rpcClient(strict).call('torrent-add', { filename: `${base}/web.torrent` });
  assert.notEqual(refused.result, 'success');
  assert.match(refused.result, /private|local|address/i);
  assert.deepEqual((await strict.json('/api/torrents')).body.torrents, []);
});
