// The HTTP API end to end against a real node (engine session, state DB, tracker) on 127.0.0.1:
// every endpoint, the good paths and the bad input that must come back as a 4xx with a message.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { parseTorrent, createTorrent } from '@cascade/engine';
import { cidFromSha256 } from '@cascade/content';
import { startTestServer, formWith, patternBytes, type TestServer } from './server-helpers.ts';
import { assertSameBytes } from '../../../scripts/assert-bytes.ts';

const UNKNOWN = 'c'.repeat(40);

function assertError(r: { status: number; body: any }, status: number, message?: RegExp): void {
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${JSON.stringify(r.body)}`);
  assert.equal(r.body.statusCode, status);
  assert.equal(typeof r.body.message, 'string');
  assert.ok(r.body.message.length > 0, 'error message is empty');
  if (message) assert.match(r.body.message, message);
}

async function upload(s: TestServer, files: [string, Uint8Array | string][], field = 'file') {
  return s.json('/api/torrents', { method: 'POST', body: formWith(files, field) });
}

/** Serves fixed bytes on 127.0.0.1 (a stand-in for a website hosting a .torrent). */
async function serveBytes(t: { after: (fn: () => unknown) => void }, routes: Record<string, Uint8Array | number>) {
  const srv = createServer((req, res) => {
    const body = routes[req.url ?? ''];
    if (body === undefined) {
      res.writeHead(404).end('not here');
    } else if (typeof body === 'number') {
      // A "torrent" that never ends: the size cap must stop it.
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(64 * 1024);
      const pump = () => {
        while (res.write(chunk)) if (res.writableLength > body) return res.end();
        res.once('drain', pump);
      };
      pump();
    } else {
      res.writeHead(200, { 'content-type': 'application/x-bittorrent' }).end(body);
    }
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => srv.close(() => r())));
  srv.unref();
  return `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
}

test('GET /api/health reports peers, DHT, reachability and every listening port', async (t) => {
  const s = await startTestServer(t);
  const r = await s.json('/api/health');
  assert.equal(r.status, 200);
  const h = r.body;
  assert.equal(h.ok, true);
  assert.equal(h.bittorrentPort, s.node.session.port);
  assert.ok(h.bittorrentPort > 0);
  assert.equal(h.ports.http, s.httpPort);
  assert.equal(h.ports.bittorrent, h.bittorrentPort);
  assert.equal(h.ports.trackerHttp, s.tracker!.httpPort);
  assert.equal(h.ports.trackerUdp, s.tracker!.udpPort);
  assert.equal(h.ports.control, s.node.control!.port);
  assert.equal(h.ports.dht, null);
  assert.equal(h.dhtEnabled, false);
  assert.equal(h.dhtNodes, 0);
  assert.equal(h.peers, 0);
  assert.deepEqual(h.peersByTransport, { tcp: 0, utp: 0, webrtc: 0, webseed: 0 });
  assert.equal(h.reachability.status, 'local-only'); // the test binds BitTorrent to 127.0.0.1
  assert.match(h.tracker.ws, /^ws:\/\/127\.0\.0\.1:\d+\/announce$/);
  assert.match(h.nodeId, /^[0-9a-f]{64}$/);
  assert.equal(h.downloadDir, s.downloadDir);
});

test('uploading a file creates a torrent the node seeds; list, detail, .torrent and streaming', async (t) => {
  const s = await startTestServer(t);
  const data = patternBytes(300_000, 7);
  const up = await upload(s, [['clip.mp4', data]]);
  assert.equal(up.status, 201, JSON.stringify(up.body));
  const { infoHash, magnet, name } = up.body;
  assert.match(infoHash, /^[0-9a-f]{40}$/);
  assert.equal(name, 'clip.mp4');
  assert.ok(magnet.startsWith(`magnet:?xt=urn:btih:${infoHash}`), magnet);
  // The node's own tracker (http, udp, ws) is in the magnet, for peers to find the seed.
  assert.ok(magnet.includes(encodeURIComponent(s.tracker!.httpAnnounceUrl)), magnet);
  assert.ok(magnet.includes(encodeURIComponent(s.tracker!.udpAnnounceUrl)), magnet);
  assertSameBytes(readFileSync(join(s.downloadDir, 'clip.mp4')), Buffer.from(data));
  // No staging leftovers.
  assert.deepEqual(readdirSync(s.downloadDir), ['clip.mp4']);

  const list = await s.json('/api/torrents');
  assert.equal(list.status, 200);
  assert.equal(list.body.torrents.length, 1);
  assert.equal(list.body.torrents[0].infoHash, infoHash);

  const d = await s.json(`/api/torrents/${infoHash.toUpperCase()}`);
  assert.equal(d.status, 200);
  assert.equal(d.body.state, 'seeding');
  assert.equal(d.body.progress, 1);
  assert.equal(d.body.length, data.length);
  assert.equal(d.body.eta, 0);
  assert.deepEqual(d.body.peersByTransport, { tcp: 0, utp: 0, webrtc: 0, webseed: 0 });
  assert.deepEqual(d.body.peerList, []);
  assert.ok(Array.isArray(d.body.trackers));
  assert.equal(d.body.magnet, magnet);
  const { cid, unixfsCid, ...file } = d.body.files[0];
  assert.deepEqual(file, { index: 0, path: 'clip.mp4', length: data.length, progress: 1, selected: true });
  // Its UnixFS CID (issue 61) comes with it: a file of one 1 MiB chunk is its raw leaf, the same id.
  assert.ok(unixfsCid === null || unixfsCid === cid, `unixfsCid ${unixfsCid} beside cid ${cid}`);
  // The file's content id (CIDv1 of its SHA-256) comes once the node has hashed the whole file.
  const expected = cidFromSha256(createHash('sha256').update(data).digest());
  if (cid !== expected) {
    assert.equal(cid, null);
    const deadline = Date.now() + 10_000;
    while ((await s.json(`/api/torrents/${infoHash}`)).body.files[0].cid !== expected) {
      assert.ok(Date.now() < deadline, 'the content id never came');
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  assert.equal((await s.json(`/api/torrents/${infoHash}`)).body.files[0].unixfsCid, expected, 'one chunk: the UnixFS CID is the raw leaf');

  const tf = await s.request(`/api/torrents/${infoHash}/torrent`);
  assert.equal(tf.status, 200);
  assert.equal(tf.headers.get('content-type'), 'application/x-bittorrent');
  assert.match(tf.headers.get('content-disposition')!, /attachment; filename="clip\.mp4\.torrent"/);
  const meta = parseTorrent(new Uint8Array(await tf.arrayBuffer()));
  assert.equal(meta.infoHashHex, infoHash);
  assert.deepEqual(meta.announce.flat().slice(0, 2), [s.tracker!.httpAnnounceUrl, s.tracker!.udpAnnounceUrl]);

  const full = await s.request(`/api/torrents/${infoHash}/files/0`);
  assert.equal(full.status, 200);
  assert.equal(full.headers.get('content-type'), 'video/mp4');
  assert.equal(full.headers.get('accept-ranges'), 'bytes');
  assert.equal(full.headers.get('content-length'), String(data.length));
  assert.deepEqual(Buffer.from(await full.arrayBuffer()), Buffer.from(data));

  const head = await s.request(`/api/torrents/${infoHash}/files/0`, { method: 'HEAD', headers: { range: 'bytes=5-' } });
  assert.equal(head.status, 206);
  assert.equal(head.headers.get('content-length'), String(data.length - 5));
  assert.equal((await head.arrayBuffer()).byteLength, 0);

  const mid = await s.request(`/api/torrents/${infoHash}/files/0`, { headers: { range: 'bytes=100000-165535' } });
  assert.equal(mid.status, 206);
  assert.equal(mid.headers.get('content-range'), `bytes 100000-165535/${data.length}`);
  assert.deepEqual(Buffer.from(await mid.arrayBuffer()), Buffer.from(data.subarray(100000, 165536)));

  const open = await s.request(`/api/torrents/${infoHash}/files/0`, { headers: { range: 'bytes=299990-' } });
  assert.equal(open.status, 206);
  assert.deepEqual(Buffer.from(await open.arrayBuffer()), Buffer.from(data.subarray(299990)));

  const suffix = await s.request(`/api/torrents/${infoHash}/files/0`, { headers: { range: 'bytes=-5' } });
  assert.equal(suffix.status, 206);
  assert.equal(suffix.headers.get('content-range'), `bytes ${data.length - 5}-${data.length - 1}/${data.length}`);
  assert.deepEqual(Buffer.from(await suffix.arrayBuffer()), Buffer.from(data.subarray(data.length - 5)));

  const beyond = await s.json(`/api/torrents/${infoHash}/files/0`, { headers: { range: `bytes=${data.length}-` } });
  assertError(beyond, 416, /beyond the end/);
  assert.equal(beyond.res.headers.get('content-range'), `bytes */${data.length}`);

  const attach = await s.request(`/api/torrents/${infoHash}/files/0?download=true`, { headers: { range: 'bytes=0-0' } });
  assert.match(attach.headers.get('content-disposition')!, /^attachment/);
  await attach.arrayBuffer();

  assertError(await s.json(`/api/torrents/${infoHash}/files/1`), 404, /no file 1/);
  assertError(await s.json(`/api/torrents/${infoHash}/files/x`), 400, /index/);
  assertError(await s.json(`/api/torrents/${infoHash}/files/-1`), 400);
  assertError(await s.json(`/api/torrents/${infoHash}/files/0?download=maybe`), 400);

  // The library row is in the state DB, so the next start seeds it again.
  const rec = s.node.db.getTorrent(infoHash)!;
  assert.equal(rec.savePath, s.downloadDir);
  assert.equal(rec.sourceKind, 'torrent');
});

test('uploads: name clashes, folders, loose files, hostile names, empty and oversized uploads', async (t) => {
  const s = await startTestServer(t, { maxUploadBytes: 100_000 });

  const a = await upload(s, [['same.txt', 'first']]);
  const b = await upload(s, [['same.txt', 'second']]);
  assert.equal(a.status, 201);
  assert.equal(b.status, 201);
  assert.equal(b.body.name, 'same (2).txt');
  assert.notEqual(a.body.infoHash, b.body.infoHash);
  assert.equal(readFileSync(join(s.downloadDir, 'same.txt'), 'utf8'), 'first');

  const folder = await upload(s, [
    ['album/one.txt', 'one'],
    ['album/sub/two.txt', 'two'],
  ]);
  assert.equal(folder.status, 201, JSON.stringify(folder.body));
  assert.equal(folder.body.name, 'album');
  const fd = await s.json(`/api/torrents/${folder.body.infoHash}`);
  assert.deepEqual(
    fd.body.files.map((f: { path: string }) => f.path),
    ['one.txt', 'sub/two.txt'],
  );
  assert.equal(fd.body.state, 'seeding');

  const loose = await upload(s, [
    ['x.txt', 'x'],
    ['y.txt', 'y'],
  ]);
  assert.equal(loose.status, 201);
  assert.match(loose.body.name, /^upload-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}$/);
  assert.equal(readFileSync(join(s.downloadDir, loose.body.name, 'y.txt'), 'utf8'), 'y');

  assertError(await upload(s, [['../escape.txt', 'no']]), 400, /\.\./);
  assert.equal(existsSync(join(s.root, 'escape.txt')), false);
  assertError(await upload(s, [['empty.txt', '']]), 400, /empty/);
  assertError(await upload(s, [['d/a.txt', 'a'], ['d/a.txt', 'b']]), 400, /twice/);

  const big = await upload(s, [['big.bin', patternBytes(150_000)]]);
  assertError(big, 413, /too large/);
  // Several files that each fit but together do not.
  const many = await upload(s, [['m/1.bin', patternBytes(60_000)], ['m/2.bin', patternBytes(60_000)]]);
  assertError(many, 413, /too large/);

  const noFile = new FormData();
  noFile.append('note', 'just a field');
  assertError(await s.json('/api/torrents', { method: 'POST', body: noFile }), 400, /no file/);

  // Failed uploads leave nothing behind: no staging dirs, no partial files.
  const names = readdirSync(s.downloadDir).sort();
  assert.deepEqual(names.filter((n) => n.startsWith('.cascade-upload')), []);
  assert.ok(!names.includes('big.bin') && !names.includes('m') && !names.includes('empty.txt'), names.join(','));
});

test('adding by .torrent upload and by JSON uri (magnet, infohash, .torrent URL), and bad input', async (t) => {
  // The .torrent URLs below are served on 127.0.0.1: private addresses allowed, as on a LAN.
  const s = await startTestServer(t, { allowPrivateUrls: true });
  const src = join(s.root, 'src');
  mkdirSync(src);
  writeFileSync(join(src, 'remote.bin'), patternBytes(50_000, 3));
  const made = await createTorrent(join(src, 'remote.bin'), { announce: ['http://127.0.0.1:1/announce'] });
  // Another torrent of the same bytes, under its own name (one file never has two owners: test/attack/owned-files).
  writeFileSync(join(src, 'remote-2.bin'), patternBytes(50_000, 3));
  const other = await createTorrent(join(src, 'remote-2.bin'), { pieceLength: 32768 });

  const viaFile = await upload(s, [['remote.torrent', made.torrent]], 'torrent');
  assert.equal(viaFile.status, 201, JSON.stringify(viaFile.body));
  assert.equal(viaFile.body.infoHash, made.metainfo.infoHashHex);
  assert.equal(viaFile.body.name, 'remote.bin');
  const again = await upload(s, [['remote.torrent', made.torrent]], 'torrent');
  assert.equal(again.status, 200);
  assert.equal(again.body.existing, true);
  assertError(await upload(s, [['junk.torrent', 'this is no torrent']], 'torrent'), 400, /invalid torrent/);
  const both = formWith([['a.txt', 'a']]);
  both.append('torrent', new Blob([new Uint8Array(made.torrent)]), 'x.torrent');
  assertError(await s.json('/api/torrents', { method: 'POST', body: both }), 400, /either/);

  const hash = 'd'.repeat(40);
  const m = await s.json('/api/torrents', { method: 'POST', json: { uri: `magnet:?xt=urn:btih:${hash}&dn=Some%20Name` } });
  assert.equal(m.status, 201, JSON.stringify(m.body));
  assert.deepEqual([m.body.infoHash, m.body.name], [hash, 'Some Name']);
  const dup = await s.json('/api/torrents', { method: 'POST', json: { uri: hash.toUpperCase() } });
  assert.equal(dup.status, 200);
  assert.equal(dup.body.existing, true);
  const bare = await s.json('/api/torrents', { method: 'POST', json: { uri: 'e'.repeat(40), paused: true, peers: ['127.0.0.1:9'] } });
  assert.equal(bare.status, 201);
  assert.equal(s.node.session.get('e'.repeat(40))!.stats().state, 'paused');

  const base = await serveBytes(t, { '/x.torrent': other.torrent, '/endless': 50 * 1024 * 1024 });
  const viaUrl = await s.json('/api/torrents', { method: 'POST', json: { uri: `${base}/x.torrent` } });
  assert.equal(viaUrl.status, 201, JSON.stringify(viaUrl.body));
  assert.equal(viaUrl.body.infoHash, other.metainfo.infoHashHex);

  assertError(await s.json('/api/torrents', { method: 'POST', json: { uri: `${base}/missing.torrent` } }), 422, /HTTP 404/);
  assertError(await s.json('/api/torrents', { method: 'POST', json: { uri: `${base}/endless` } }), 413, /larger than/);
  assertError(await s.json('/api/torrents', { method: 'POST', json: { uri: 'http://127.0.0.1:1/x.torrent' } }), 422, /cannot fetch/);
  assertError(await s.json('/api/torrents', { method: 'POST', json: { uri: 'magnet:?xt=urn:btih:nothex' } }), 400, /invalid magnet/);
  assertError(await s.json('/api/torrents', { method: 'POST', json: { uri: 'magnet:?dn=no-hash' } }), 400, /invalid magnet/);
  assertError(await s.json('/api/torrents', { method: 'POST', json: { uri: 'not a link' } }), 400, /magnet link, an infohash/);
  assertError(await s.json('/api/torrents', { method: 'POST', json: { uri: 'f'.repeat(40), peers: ['nope'] } }), 400, /host:port/);
  assertError(await s.json('/api/torrents', { method: 'POST', json: { url: 'x' } }), 400, /uri/);
  assertError(await s.json('/api/torrents', { method: 'POST', json: { uri: 42 } }), 400, /uri/);
  assertError(await s.json('/api/torrents', { method: 'POST', json: { uri: '' } }), 400);
  assertError(
    await s.json('/api/torrents', { method: 'POST', body: '{"uri":', headers: { 'content-type': 'application/json' } }),
    400,
  );
  assertError(await s.json('/api/torrents', { method: 'POST', body: 'magnet:?', headers: { 'content-type': 'text/plain' } }), 415);
  assertError(await s.json('/api/torrents', { method: 'POST' }), 400, /multipart|uri/);
  // None of the failures added anything.
  assert.equal(s.node.session.list().length, 4);
});

test('every torrent endpoint answers 404 for an unknown infohash and 400 for a malformed one', async (t) => {
  const s = await startTestServer(t);
  const calls: [string, string, (RequestInit & { json?: unknown })?][] = [
    ['GET', ''],
    ['POST', '/pause'],
    ['POST', '/resume'],
    ['DELETE', ''],
    ['DELETE', '?deleteData=true'],
    ['PUT', '/files', { json: { selected: [0] } }],
    ['GET', '/files/0'],
    ['GET', '/torrent'],
  ];
  for (const [method, suffix, init] of calls) {
    const unknown = await s.json(`/api/torrents/${UNKNOWN}${suffix}`, { method, ...init });
    assertError(unknown, 404, new RegExp(`no torrent with infohash ${UNKNOWN}`));
    const malformed = await s.json(`/api/torrents/not-a-hash${suffix}`, { method, ...init });
    assertError(malformed, 400, /infoHash/);
  }
  assertError(await s.json('/api/nothing-here'), 404, /no route/);
  assertError(await s.json('/api/torrents', { method: 'PATCH' }), 404);
});

test('pause, resume, file selection and remove (with and without data)', async (t) => {
  const s = await startTestServer(t);
  const folder = await upload(s, [
    ['pack/a.bin', patternBytes(20_000, 1)],
    ['pack/b.bin', patternBytes(20_000, 2)],
  ]);
  const ih = folder.body.infoHash;

  const paused = await s.json(`/api/torrents/${ih}/pause`, { method: 'POST' });
  assert.deepEqual(paused.body, { infoHash: ih, state: 'paused' });
  assert.equal(s.node.db.getTorrent(ih)!.status, 'paused');
  const resumed = await s.json(`/api/torrents/${ih}/resume`, { method: 'POST' });
  assert.equal(resumed.status, 200);
  assert.equal(resumed.body.state, 'seeding');

  const sel = await s.json(`/api/torrents/${ih}/files`, { method: 'PUT', json: { selected: [1, 1] } });
  assert.equal(sel.status, 200, JSON.stringify(sel.body));
  assert.deepEqual(sel.body.selected, [1]);
  assert.deepEqual(
    sel.body.files.map((f: { selected: boolean }) => f.selected),
    [false, true],
  );
  assert.deepEqual(s.node.db.getTorrent(ih)!.selectedFiles, [1]);
  const all = await s.json(`/api/torrents/${ih}/files`, { method: 'PUT', json: { selected: [0, 1] } });
  assert.deepEqual(
    all.body.files.map((f: { selected: boolean }) => f.selected),
    [true, true],
  );
  assert.equal(s.node.db.getTorrent(ih)!.selectedFiles, null);
  assertError(await s.json(`/api/torrents/${ih}/files`, { method: 'PUT', json: { selected: [2] } }), 400, /out of range/);
  assertError(await s.json(`/api/torrents/${ih}/files`, { method: 'PUT', json: { selected: 'all' } }), 400, /selected/);
  assertError(await s.json(`/api/torrents/${ih}/files`, { method: 'PUT', json: {} }), 400, /selected/);

  // A magnet with no peers never gets metadata: no files to select, stream, or .torrent to give.
  const mag = 'a1'.repeat(20);
  await s.json('/api/torrents', { method: 'POST', json: { uri: mag } });
  assertError(await s.json(`/api/torrents/${mag}/files`, { method: 'PUT', json: { selected: [0] } }), 409, /metadata/);
  assertError(await s.json(`/api/torrents/${mag}/files/0`), 409, /metadata/);
  assertError(await s.json(`/api/torrents/${mag}/torrent`), 409, /metadata/);
  const magDetail = await s.json(`/api/torrents/${mag}`);
  assert.equal(magDetail.body.files, null);
  assert.equal(magDetail.body.state, 'metadata');

  assertError(await s.json(`/api/torrents/${ih}?deleteData=perhaps`, { method: 'DELETE' }), 400, /deleteData/);
  const kept = await s.json(`/api/torrents/${mag}`, { method: 'DELETE' });
  assert.deepEqual(kept.body, { infoHash: mag, removed: true, deletedData: false });
  const gone = await s.json(`/api/torrents/${ih}?deleteData=true`, { method: 'DELETE' });
  assert.deepEqual(gone.body, { infoHash: ih, removed: true, deletedData: true });
  assert.equal(existsSync(join(s.downloadDir, 'pack')), false);
  assert.equal(s.node.db.getTorrent(ih), undefined);
  assertError(await s.json(`/api/torrents/${ih}`), 404);
  assert.deepEqual((await s.json('/api/torrents')).body.torrents, []);
});

test('a torrent only in the library (it failed to load): detail, pause, 409s, delete with data', async (t) => {
  const s = await startTestServer(t);
  const ih = '7'.repeat(40);
  mkdirSync(join(s.downloadDir, 'stored'), { recursive: true });
  writeFileSync(join(s.downloadDir, 'stored', 'f.txt'), 'x');
  await s.node.db.records.add({ infoHash: ih, name: 'stored', source: ih, savePath: s.downloadDir, status: 'error', pieceCount: 4 });
  // One whose metainfo is known: deleting its data removes the files it lists (and nothing else).
  const made = await createTorrent(join(s.downloadDir, 'stored'));
  writeFileSync(join(s.downloadDir, 'stored', 'not-its.txt'), 'y');
  await s.node.db.records.add({ infoHash: made.metainfo.infoHashHex, name: 'stored', source: made.torrent, savePath: s.downloadDir, status: 'error' });
  const d = await s.json(`/api/torrents/${ih}`);
  assert.equal(d.status, 200);
  assert.equal(d.body.live, false);
  assert.equal(d.body.name, 'stored');
  assert.equal(d.body.files, null);
  assert.match(d.body.magnet, new RegExp(`^magnet:\\?xt=urn:btih:${ih}`));
  assert.equal((await s.json(`/api/torrents/${ih}/pause`, { method: 'POST' })).body.state, 'paused');
  assertError(await s.json(`/api/torrents/${ih}/files/0`), 409, /not loaded/);
  assertError(await s.json(`/api/torrents/${ih}/files`, { method: 'PUT', json: { selected: [0] } }), 409, /not loaded/);
  assertError(await s.json(`/api/torrents/${ih}/torrent`), 409, /metadata/);
  // Its files are unknown (no metadata): the folder named like it is not its to delete.
  const del = await s.json(`/api/torrents/${ih}?deleteData=true`, { method: 'DELETE' });
  assert.equal(del.status, 200);
  assert.equal(existsSync(join(s.downloadDir, 'stored', 'f.txt')), true);
  assert.equal(s.node.db.getTorrent(ih), undefined);
  const del2 = await s.json(`/api/torrents/${made.metainfo.infoHashHex}?deleteData=true`, { method: 'DELETE' });
  assert.equal(del2.status, 200);
  assert.equal(existsSync(join(s.downloadDir, 'stored', 'f.txt')), false);
  assert.equal(existsSync(join(s.downloadDir, 'stored', 'not-its.txt')), true);
});

test('streaming a file that is still downloading waits for its pieces', { timeout: 60_000 }, async (t) => {
  // The leecher first, so it also closes first: its "stopped" announce still finds the seeder's tracker.
  const leecher = await startTestServer(t, { streamWaitMs: 30_000 });
  const seeder = await startTestServer(t);
  const data = patternBytes(2 * 1024 * 1024, 11);
  const up = await upload(seeder, [['movie.webm', data]]);
  assert.equal(up.status, 201);

  const torrentBytes = new Uint8Array(await (await seeder.request(`/api/torrents/${up.body.infoHash}/torrent`)).arrayBuffer());
  const added = await upload(leecher, [['movie.torrent', torrentBytes]], 'torrent');
  assert.equal(added.status, 201);
  const ih = added.body.infoHash;
  // Paused: nothing downloads until the stream is already waiting.
  await leecher.json(`/api/torrents/${ih}/pause`, { method: 'POST' });

  const start = 1_500_000;
  const res = await leecher.request(`/api/torrents/${ih}/files/0`, { headers: { range: `bytes=${start}-` } });
  assert.equal(res.status, 206);
  assert.equal(res.headers.get('content-range'), `bytes ${start}-${data.length - 1}/${data.length}`);
  const body = res.arrayBuffer();
  let settled = false;
  void body.then(() => (settled = true));
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(settled, false, 'the body must not finish before the pieces exist');

  await leecher.json(`/api/torrents/${ih}/resume`, { method: 'POST' });
  leecher.node.session.get(ih)!.addPeer(`127.0.0.1:${seeder.node.session.port}`);
  assert.deepEqual(Buffer.from(await body), Buffer.from(data.subarray(start)));
});

test('cross-origin writes are refused; docs, 404s and the web UI fallback', async (t) => {
  const s = await startTestServer(t);
  const evil = await s.json('/api/torrents', {
    method: 'POST',
    json: { uri: 'b'.repeat(40) },
    headers: { origin: 'http://evil.example' },
  });
  assertError(evil, 403, /evil\.example/);
  assert.equal(s.node.session.list().length, 0);
  const same = await s.json('/api/torrents', { method: 'POST', json: { uri: 'b'.repeat(40) }, headers: { origin: s.url } });
  assert.equal(same.status, 201);

  const docs = await s.request('/api/docs');
  assert.equal(docs.status, 200);
  await docs.arrayBuffer();
  const spec = await s.json('/api/docs/json');
  assert.equal(spec.status, 200);
  assert.match(spec.body.openapi, /^3\./);
  const paths = spec.body.paths;
  for (const [path, method] of [
    ['/api/torrents', 'get'],
    ['/api/torrents', 'post'],
    ['/api/torrents/{infoHash}', 'get'],
    ['/api/torrents/{infoHash}', 'delete'],
    ['/api/torrents/{infoHash}/pause', 'post'],
    ['/api/torrents/{infoHash}/resume', 'post'],
    ['/api/torrents/{infoHash}/files', 'put'],
    ['/api/torrents/{infoHash}/files/{index}', 'get'],
    ['/api/torrents/{infoHash}/torrent', 'get'],
    ['/api/health', 'get'],
    ['/api/health/ready', 'get'],
  ]) {
    assert.ok(paths[path!]?.[method!], `OpenAPI lacks ${method!.toUpperCase()} ${path}`);
  }
  assert.ok(paths['/api/torrents'].post.requestBody.content['multipart/form-data'], 'upload body is documented');

  // No web build: / explains how to make one; other paths are plain 404s.
  const home = await s.request('/');
  assert.equal(home.status, 200);
  assert.match(await home.text(), /npm run build -w @cascade\/web/);
  assertError(await s.json('/some/page'), 404);
});

test('with a web build: static files, and index.html for client-side routes but not for /api', async (t) => {
  const webRoot = join(await import('node:os').then((os) => os.tmpdir()), `cascade-web-${process.pid}-${Date.now()}`);
  mkdirSync(join(webRoot, 'assets'), { recursive: true });
  writeFileSync(join(webRoot, 'index.html'), '<!doctype html><title>app</title>');
  writeFileSync(join(webRoot, 'assets', 'app.js'), 'console.log(1)');
  t.after(() => import('node:fs').then((fs) => fs.rmSync(webRoot, { recursive: true, force: true })));
  const s = await startTestServer(t, { webRoot });

  const home = await s.request('/');
  assert.equal(home.status, 200);
  assert.match(await home.text(), /<title>app<\/title>/);
  const js = await s.request('/assets/app.js');
  assert.equal(js.status, 200);
  assert.equal(await js.text(), 'console.log(1)');
  const route = await s.request('/torrents/abc');
  assert.equal(route.status, 200);
  assert.match(route.headers.get('content-type')!, /text\/html/);
  assert.match(await route.text(), /<title>app<\/title>/);
  assertError(await s.json('/api/nope'), 404, /no route/);
});
