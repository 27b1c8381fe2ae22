// Debian's transmission-remote 3.00 (package transmission-cli) driving a Cascade node over the
// Transmission RPC, as its users would: add a .torrent into a folder of their choosing, watch it
// download from another Cascade node, list, details, files, labels, stop, start, verify, remove with
// data — and Cascade's own API sees every step (one model behind both doors).

import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formWith, patternBytes, startTestServer } from '../../http/test/server-helpers.ts';
import { listRows, remote, remoteOk, rpcClient, until } from './transmission-helpers.ts';
import { assertSameBytes } from '../../../scripts/assert-bytes.ts';

test('transmission-remote: add, download, list, info, files, labels, stop, start, verify, remove with data', { timeout: 90_000 }, async (t) => {
  // The seed: a two-file folder shared through Cascade's API; its .torrent names the seed's own tracker.
  const seed = await startTestServer(t);
  const a = patternBytes(200_000, 11);
  const b = patternBytes(70_000, 12);
  const shared = await seed.json('/api/torrents', { method: 'POST', body: formWith([['pack/a.bin', a], ['pack/sub/b.bin', b]]) });
  assert.equal(shared.status, 201, JSON.stringify(shared.body));
  const infoHash: string = shared.body.infoHash;
  const torrentFile = join(seed.root, 'pack.torrent');
  writeFileSync(torrentFile, Buffer.from(await (await seed.request(`/api/torrents/${infoHash}/torrent`)).arrayBuffer()));

  const s = await startTestServer(t);
  // One added through Cascade's API first: transmission-remote lists it too (id 1, first seen).
  const magnetHash = 'c'.repeat(40);
  const viaApi = await s.json('/api/torrents', { method: 'POST', json: { uri: `magnet:?xt=urn:btih:${magnetHash}&dn=from-cascade-api`, paused: true } });
  assert.equal(viaApi.status, 201, JSON.stringify(viaApi.body));
  const before = listRows(await remoteOk(s, ['-l']));
  assert.deepEqual(before.map((r) => [r.id, r.name, r.status]), [[1, 'from-cascade-api', 'Stopped']]);

  // -a FILE sends the .torrent base64 in "metainfo"; -w sets its download-dir.
  const tv = join(s.root, 'tv');
  mkdirSync(tv);
  const added = await remoteOk(s, ['-a', torrentFile, '-w', tv]);
  assert.match(added, /responded: "success"/);
  const api = (await s.json('/api/torrents')).body.torrents as any[];
  const mine = api.find((x) => x.infoHash === infoHash);
  assert.ok(mine, 'the torrent added through transmission-remote is in Cascade’s list');
  assert.equal(mine.savePath, tv);

  // It downloads from the seed (found through the seed's tracker in the .torrent).
  const done = await until('download done', async () => {
    const row = listRows(await remoteOk(s, ['-l'])).find((r) => r.id === 2);
    return row?.done === '100%' ? row : undefined;
  }, 250);
  assert.equal(done.name, 'pack');
  assertSameBytes(readFileSync(join(tv, 'pack', 'a.bin')), Buffer.from(a));
  assertSameBytes(readFileSync(join(tv, 'pack', 'sub', 'b.bin')), Buffer.from(b));
  const rpc = rpcClient(s);
  const [got] = (await rpc.ok('torrent-get', { ids: [2], fields: ['percentDone', 'fileStats', 'files', 'leftUntilDone', 'status'] })).torrents;
  assert.equal(got.percentDone, 1);
  assert.equal(got.leftUntilDone, 0);
  assert.deepEqual(got.fileStats.map((f: any) => f.bytesCompleted).sort(), [a.length, b.length].sort());
  assert.deepEqual(got.files.map((f: any) => f.name).sort(), ['pack/a.bin', 'pack/sub/b.bin']);

  const info = await remoteOk(s, ['-t', '2', '-i']);
  assert.match(info, /Name: pack\n/);
  assert.match(info, new RegExp(`Hash: ${infoHash}`));
  assert.match(info, new RegExp(`Location: ${tv}\\n`));
  assert.match(info, /Percent Done: 100%/);
  assert.match(info, /Total size: 270\.0 kB/);

  const files = await remoteOk(s, ['-t', '2', '-f']);
  assert.match(files, /pack \(2 files\)/);
  assert.match(files, /100% Normal\s+Yes\s+200\.0 kB\s+pack\/a\.bin/);
  assert.match(files, /100% Normal\s+Yes\s+70\.00 kB\s+pack\/sub\/b\.bin/);

  // Labels are Cascade's tags (no category here of that name).
  await remoteOk(s, ['-t', '2', '-L', 'tv,hd']);
  const tagged = (await s.json(`/api/torrents/${infoHash}`)).body;
  assert.deepEqual(tagged.tags, ['tv', 'hd']);
  assert.match(await remoteOk(s, ['-t', '2', '-i']), /Labels: tv, hd/);

  await remoteOk(s, ['-t', '2', '-S']);
  assert.equal((await s.json(`/api/torrents/${infoHash}`)).body.state, 'paused');
  assert.equal(listRows(await remoteOk(s, ['-l'])).find((r) => r.id === 2)!.status, 'Stopped');
  await remoteOk(s, ['-t', '2', '-s']);
  await until('seeding again', async () => (await s.json(`/api/torrents/${infoHash}`)).body.state === 'seeding');
  await remoteOk(s, ['-t', '2', '-v']);
  await until('verified', async () => {
    const d = (await s.json(`/api/torrents/${infoHash}`)).body;
    return d.state === 'seeding' && d.progress === 1;
  });

  const session = await remoteOk(s, ['-si']);
  assert.match(session, /RPC version: 17/);
  assert.match(session, new RegExp(`Download directory: ${s.downloadDir}`));
  const stats = await remoteOk(s, ['-st']);
  assert.match(stats, /CURRENT SESSION[\s\S]*Downloaded: 270\.0 kB/);

  // Wrong password: transmission-remote gets the 401 and says so.
  const denied = await remote(s, ['-l'], 'not-the-token');
  assert.notEqual(denied.code, 0);
  assert.match(denied.stdout + denied.stderr, /401/);

  // Remove with data: gone from disk and from Cascade's list; the other one without its data.
  await remoteOk(s, ['-t', '2', '--remove-and-delete']);
  await until('data deleted', () => !existsSync(join(tv, 'pack')));
  await remoteOk(s, ['-t', '1', '-r']);
  assert.deepEqual((await s.json('/api/torrents')).body.torrents, []);
  assert.deepEqual(listRows(await remoteOk(s, ['-l'])), []);
});

test('transmission-remote: session settings, per-torrent limits, move, recently active, and what Cascade refuses', { timeout: 60_000 }, async (t) => {
  const s = await startTestServer(t);
  const hash = 'f'.repeat(40);
  assert.equal((await s.json('/api/torrents', { method: 'POST', json: { uri: `magnet:?xt=urn:btih:${hash}&dn=later`, paused: true } })).status, 201);

  // Node-wide: limits in kB/s (1000 bytes), turtle mode, ratio goal, paused adds.
  await remoteOk(s, ['-d', '300', '-u', '40', '-as', '-asd', '90', '-gsr', '1.5', '--start-paused']);
  const st = (await s.json('/api/settings')).body;
  assert.deepEqual([st.downloadLimit, st.uploadLimit, st.altSpeedEnabled, st.altDownloadLimit, st.ratioLimit, st.startPaused], [300_000, 40_000, true, 90_000, 1.5, true]);
  const si = await remoteOk(s, ['-si']);
  assert.match(si, /Download speed limit: 90 kB\/s \(Enabled limit: 300 kB\/s; Enabled turtle limit: 90 kB\/s\)/);
  assert.match(si, /Default seed ratio limit: 1\.5\n/);
  assert.match(si, /Autostart added torrents: No/);
  await remoteOk(s, ['-D', '-AS', '--no-start-paused']);
  const st2 = (await s.json('/api/settings')).body;
  assert.deepEqual([st2.downloadLimit, st2.altSpeedEnabled, st2.startPaused], [0, false, false]);

  // Per torrent, by hash; recently active lists it (it just changed).
  await remoteOk(s, ['-t', hash, '-d', '25', '-u', '5']);
  const d = (await s.json(`/api/torrents/${hash}`)).body;
  assert.deepEqual([d.downloadLimit, d.uploadLimit], [25_000, 5_000]);
  assert.match(await remoteOk(s, ['-t', '1', '-i']), /Download Limit: 25 kB\/s[\s\S]*Upload Limit: 5 kB\/s/);
  assert.deepEqual(listRows(await remoteOk(s, ['-t', 'active', '-l'])).map((r) => r.name), ['later']);

  const target = join(s.root, 'moved');
  assert.match(await remoteOk(s, ['-t', '1', '--reannounce']), /success/);
  await remoteOk(s, ['-t', '1', '--move', target]);
  assert.equal((await s.json(`/api/torrents/${hash}`)).body.savePath, target);
  const find = await remote(s, ['-t', '1', '--find', target]);
  assert.notEqual(find.code, 0);
  assert.match(find.stdout, /Error: Cascade moves the data/);

  // Refusals come back as transmission-remote's "Error: …" and a failing exit status.
  for (const [args, message] of [
    [['--exit'], /session-close is refused/],
    [['--utp'], /no uTP/],
    [['-o'], /DHT is switched when the node starts/],
    [['-t', '1', '-Bh'], /no bandwidth priority/],
    [['-pt'], /Port is open: No/],
  ] as const) {
    const r = await remote(s, [...args]);
    assert.match(r.stdout + r.stderr, message, args.join(' '));
    if (args[0] !== '-pt') assert.notEqual(r.code, 0, args.join(' '));
  }
  // The node still runs and answers.
  assert.equal(listRows(await remoteOk(s, ['-l'])).length, 1);
});

test('transmission-remote and RPC: trackers, peers, file priorities, rename on disk, labels, move, pieces, groups (issue 45)', { timeout: 90_000 }, async (t) => {
  const s = await startTestServer(t);
  const shared = await s.json('/api/torrents', { method: 'POST', body: formWith([['pack/a.bin', patternBytes(90_000, 3)], ['pack/sub/b.bin', patternBytes(40_000, 4)]]) });
  assert.equal(shared.status, 201, JSON.stringify(shared.body));
  const infoHash: string = shared.body.infoHash;
  await until('seeding', async () => (await s.json(`/api/torrents/${infoHash}`)).body.state === 'seeding');
  const dir: string = (await s.json(`/api/torrents/${infoHash}`)).body.savePath;
  const rpc = rpcClient(s);

  // Trackers: -it lists them, -td adds one, -tr removes it by id.
  const before = await remoteOk(s, ['-t', '1', '-it']);
  assert.match(before, /Tracker 0: /);
  await remoteOk(s, ['-t', '1', '-td', 'http://127.0.0.1:1/announce']);
  const withNew = await remoteOk(s, ['-t', '1', '-it']);
  const id = /Tracker (\d+): http:\/\/127\.0\.0\.1:1/.exec(withNew)?.[1];
  assert.ok(id !== undefined, withNew);
  await remoteOk(s, ['-t', '1', '-tr', id!]);
  assert.doesNotMatch(await remoteOk(s, ['-t', '1', '-it']), /127\.0\.0\.1:1\//);
  // trackerList (tiers, a blank line between), and what torrent-get answers for it.
  await rpc.ok('torrent-set', { ids: [1], trackerList: 'http://127.0.0.1:2/announce\nhttp://127.0.0.1:3/announce\n\nudp://127.0.0.1:4' });
  const [tr] = (await rpc.ok('torrent-get', { ids: [1], fields: ['trackerList', 'trackerStats'] })).torrents;
  assert.equal(tr.trackerList, 'http://127.0.0.1:2/announce\nhttp://127.0.0.1:3/announce\n\nudp://127.0.0.1:4');
  assert.deepEqual(tr.trackerStats.map((x: any) => [x.announce, x.tier]), [['http://127.0.0.1:2/announce', 0], ['http://127.0.0.1:3/announce', 0], ['udp://127.0.0.1:4', 1]]);
  assert.equal((await rpc.call('torrent-set', { ids: [1], trackerList: 'not a url' })).result.includes('not a tracker URL'), true);

  // Peers: none connected; -ip prints its header and nothing else.
  assert.match(await remoteOk(s, ['-t', '1', '-ip']), /Address\s+Flags\s+Done/);

  // Priorities: -ph / -pl by file number, shown by -if and torrent-get.
  await remoteOk(s, ['-t', '1', '-ph', '0']);
  await remoteOk(s, ['-t', '1', '-pl', '1']);
  const files = await remoteOk(s, ['-t', '1', '-if']);
  assert.match(files, /High\s+Yes\s+90\.00 kB\s+pack\/a\.bin/);
  assert.match(files, /Low\s+Yes\s+40\.00 kB\s+pack\/sub\/b\.bin/);
  const [p] = (await rpc.ok('torrent-get', { ids: [1], fields: ['priorities', 'wanted', 'fileStats', 'pieces', 'pieceCount', 'availability', 'isStalled', 'webseedsSendingToUs'] })).torrents;
  assert.deepEqual(p.priorities, [1, -1]);
  assert.deepEqual(p.wanted, [1, 1]);
  assert.deepEqual(p.fileStats.map((f: any) => f.priority), [1, -1]);
  // Every piece had: a full bitfield (spare bits 0), availability -1 for each.
  const bits = Buffer.from(p.pieces, 'base64');
  assert.equal(bits.length, Math.ceil(p.pieceCount / 8));
  for (let i = 0; i < p.pieceCount; i++) assert.ok(bits[i >> 3]! & (0x80 >> (i & 7)), `piece ${i}`);
  assert.deepEqual(p.availability, new Array(p.pieceCount).fill(-1));
  assert.equal(p.isStalled, false);
  assert.equal(p.webseedsSendingToUs, 0);
  await remoteOk(s, ['-t', '1', '-pn', 'all']);
  assert.deepEqual((await rpc.ok('torrent-get', { ids: [1], fields: ['priorities'] })).torrents[0].priorities, [0, 0]);

  // Rename (torrent-rename-path; transmission-remote 3.00 has no --rename, 4.0's sends this):
  // a file, then the torrent's folder; the data follows on disk.
  assert.deepEqual(await rpc.ok('torrent-rename-path', { ids: [1], path: 'pack/a.bin', name: 'a2.bin' }), { path: 'pack/a.bin', name: 'a2.bin', id: 1 });
  assert.ok(existsSync(join(dir, 'pack', 'a2.bin')));
  const renamed = await rpc.ok('torrent-rename-path', { ids: [1], path: 'pack', name: 'pack2' });
  assert.deepEqual(renamed, { path: 'pack', name: 'pack2', id: 1 });
  assert.ok(existsSync(join(dir, 'pack2', 'sub', 'b.bin')));
  assert.match(await remoteOk(s, ['-t', '1', '-if']), /pack2\/a2\.bin/);
  assert.match(await remoteOk(s, ['-t', '1', '-i']), /Name: pack2\n/);
  assert.match((await rpc.call('torrent-rename-path', { ids: [1], path: 'pack2/none', name: 'x' })).result, /no file or folder none/);

  // Labels and move.
  await remoteOk(s, ['-t', '1', '-L', 'keep,this']);
  assert.deepEqual((await s.json(`/api/torrents/${infoHash}`)).body.tags, ['keep', 'this']);
  const target = join(s.root, 'elsewhere');
  await remoteOk(s, ['-t', '1', '--move', target]);
  await until('moved', () => existsSync(join(target, 'pack2', 'a2.bin')));
  await rpc.ok('torrent-set', { ids: [1], location: join(s.root, 'again') });
  await until('moved again', () => existsSync(join(s.root, 'again', 'pack2', 'a2.bin')));

  // Bandwidth groups: their limits become the members' own.
  await rpc.ok('group-set', { name: 'slow', 'speed-limit-down-enabled': true, 'speed-limit-down': 50 });
  await rpc.ok('torrent-set', { ids: [1], group: 'slow' });
  assert.equal((await s.json(`/api/torrents/${infoHash}`)).body.downloadLimit, 50_000);
  await rpc.ok('group-set', { name: 'slow', 'speed-limit-down': 70 });
  assert.equal((await s.json(`/api/torrents/${infoHash}`)).body.downloadLimit, 70_000);
  const groups = await rpc.ok('group-get', { group: 'slow' });
  assert.equal(groups.group[0]['speed-limit-down'], 70);
  assert.equal((await rpc.ok('torrent-get', { ids: [1], fields: ['group'] })).torrents[0].group, 'slow');
});
