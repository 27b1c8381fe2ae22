// POST /api/torrents {"uri": <http URL of a plain file>}: the node downloads it (202, then
// GET /api/downloads/{id}), checks it against "sha256", shares it as a torrent; a wrong sha256 ends
// in an error with nothing kept; a .torrent URL with "mirrors" draws from them, and the torrent
// detail shows the bytes each source gave.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createTorrent } from '@cascade/engine';
import { cidFromSha256 } from '@cascade/content';
import { startTestServer, testServerOptions, type TestServer } from './server-helpers.ts';
import { startServer } from '../index.ts';
import { assertSameBytes } from '../../../scripts/assert-bytes.ts';

/** Serves `dir` with HEAD, lengths and single ranges, on 127.0.0.1. */
async function fileServer(t: { after: (fn: () => unknown) => void }, dir: string): Promise<string> {
  const srv = http.createServer((req, res) => {
    const path = join(dir, decodeURIComponent(new URL(req.url!, 'http://x').pathname));
    if (!existsSync(path)) return res.writeHead(404).end();
    const data = readFileSync(path);
    const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
    const body = m ? data.subarray(Number(m[1]), Number(m[2]) + 1) : data;
    res.writeHead(m ? 206 : 200, {
      'content-type': 'application/octet-stream',
      'content-length': body.length,
      ...(m ? { 'content-range': `bytes ${m[1]}-${m[2]}/${data.length}` } : {}),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => (srv.closeAllConnections(), srv.close(() => r()))));
  return `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const jobDone = (s: TestServer, id: string) =>
  until(`download ${id}`, async () => {
    const r = await s.json(`/api/downloads/${id}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.state === 'downloading' ? undefined : r.body;
  });

test('a plain file by URL: downloaded, checked against sha256, shared as a torrent; a wrong sha256 keeps nothing', async (t) => {
  const s = await startTestServer(t, { allowPrivateUrls: true });
  const www = join(s.root, 'www');
  mkdirSync(www);
  const data = randomBytes(3 * 1024 * 1024 + 5);
  writeFileSync(join(www, 'data.iso'), data);
  const sha = createHash('sha256').update(data).digest('hex');
  const base = await fileServer(t, www);

  const r = await s.json('/api/torrents', { method: 'POST', json: { uri: `${base}/data.iso`, sha256: sha } });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  assert.equal(r.body.download.name, 'data.iso');
  const job = await jobDone(s, r.body.download.id);
  assert.equal(job.state, 'done', JSON.stringify(job));
  assert.equal(job.sha256, sha);
  assert.equal(job.cid, cidFromSha256(Buffer.from(sha, 'hex')));
  assert.deepEqual(job.sources, [{ url: `${base}/data.iso`, downloaded: data.length }]);
  assertSameBytes(readFileSync(join(job.savePath, 'data.iso')), data);
  // Shared as a torrent of the file where it landed: it seeds once its check is over.
  const seeded = await until('the shared torrent seeding', async () => {
    const d = await s.json(`/api/torrents/${job.infoHash}`);
    return d.status === 200 && d.body.state === 'seeding' ? d.body : undefined;
  });
  assert.equal(seeded.name, 'data.iso');
  assert.equal((await s.json('/api/downloads')).body.downloads.length, 1);

  const wrong = createHash('sha256').update('not these bytes').digest('hex');
  const other = join(s.root, 'elsewhere');
  const bad = await s.json('/api/torrents', { method: 'POST', json: { uri: `${base}/data.iso`, sha256: wrong, savePath: other } });
  assert.equal(bad.status, 202, JSON.stringify(bad.body));
  const failed = await jobDone(s, bad.body.download.id);
  assert.equal(failed.state, 'error');
  assert.match(failed.error, new RegExp(`SHA-256 mismatch — expected ${wrong}, the sources gave ${sha}; nothing was kept`));
  assert.deepEqual(readdirSync(other), []);

  // No sha256, small and untyped: fetched once to see it is no .torrent, then downloaded as a file.
  const unchecked = await s.json('/api/torrents', { method: 'POST', json: { uri: `${base}/data.iso`, savePath: join(s.root, 'third') } });
  assert.equal(unchecked.status, 202, JSON.stringify(unchecked.body));
  assert.equal((await jobDone(s, unchecked.body.download.id)).sha256, sha);

  const junk = await s.json('/api/torrents', { method: 'POST', json: { uri: 'magnet:?xt=urn:btih:' + 'a'.repeat(40), sha256: sha } });
  assert.equal(junk.status, 400);
  assert.match(junk.body.message, /sha256 checks a plain file/);
  const badMirror = await s.json('/api/torrents', { method: 'POST', json: { uri: `${base}/data.iso`, mirrors: ['gopher://x/y'] } });
  assert.equal(badMirror.status, 400);
  assert.match(badMirror.body.message, /mirror "gopher:\/\/x\/y" is not an http\(s\):\/\/ or ftp:\/\/ URL/);
});

test('a torrent added with mirrors downloads from them, and its detail lists the bytes by source', async (t) => {
  const s = await startTestServer(t, { allowPrivateUrls: true });
  const www = join(s.root, 'www');
  mkdirSync(www);
  const data = randomBytes(2 * 1024 * 1024);
  writeFileSync(join(www, 'clip.bin'), data);
  const made = await createTorrent(join(www, 'clip.bin'), { pieceLength: 64 * 1024 });
  writeFileSync(join(www, 'clip.torrent'), made.torrent);
  const base = await fileServer(t, www);
  const out = join(s.root, 'out');
  const r = await s.json('/api/torrents', { method: 'POST', json: { uri: `${base}/clip.torrent`, mirrors: [`${base}/clip.bin`], savePath: out } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const detail = await until('the torrent complete', async () => {
    const d = await s.json(`/api/torrents/${made.metainfo.infoHashHex}`);
    return d.body.state === 'seeding' ? d.body : undefined;
  });
  assertSameBytes(readFileSync(join(out, 'clip.bin')), data);
  assert.deepEqual(detail.sources, [{ address: `${base}/clip.bin`, kind: 'webseed', downloaded: data.length, banned: false }]);
});

test('mirrors are stored with the torrent: after a restart it still draws from them', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'cascade-mirrors-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const www = join(root, 'www');
  mkdirSync(www);
  const data = randomBytes(1024 * 1024 + 5);
  writeFileSync(join(www, 'map.bin'), data);
  const made = await createTorrent(join(www, 'map.bin'), { pieceLength: 64 * 1024 });
  writeFileSync(join(www, 'map.torrent'), made.torrent);
  const base = await fileServer(t, www);
  const opts = { ...testServerOptions(root), allowPrivateUrls: true };
  const out = join(root, 'out');

  // Added paused: nothing is fetched in the first run.
  const first = await startServer(opts);
  const auth = { authorization: `Bearer ${first.token}`, 'content-type': 'application/json' };
  const r = await fetch(`${first.url}/api/torrents`, { method: 'POST', headers: auth, body: JSON.stringify({ uri: `${base}/map.torrent`, mirrors: [`${base}/map.bin`], savePath: out, paused: true }) });
  assert.equal(r.status, 201, await r.text());
  await first.close();

  const second = await startServer(opts);
  t.after(() => second.close());
  const auth2 = { authorization: `Bearer ${second.token}` };
  const ih = made.metainfo.infoHashHex;
  await until('loaded', async () => (await fetch(`${second.url}/api/torrents/${ih}`, { headers: auth2 })).status === 200 || undefined);
  assert.equal((await fetch(`${second.url}/api/torrents/${ih}/resume`, { method: 'POST', headers: auth2 })).status, 200);
  const detail = await until('complete from the stored mirror', async () => {
    const d = (await (await fetch(`${second.url}/api/torrents/${ih}`, { headers: auth2 })).json()) as { state: string; sources: unknown[] };
    return d.state === 'seeding' ? d : undefined;
  });
  assertSameBytes(readFileSync(join(out, 'map.bin')), data);
  assert.deepEqual(detail.sources, [{ address: `${base}/map.bin`, kind: 'webseed', downloaded: data.length, banned: false }]);
});

test("a torrent's mirrors on this machine or its LAN are refused unless the node allows private URLs", async (t) => {
  const s = await startTestServer(t);
  const magnet = `magnet:?xt=urn:btih:${'ab'.repeat(20)}`;
  for (const m of ['http://127.0.0.1:8080/x.iso', 'ftp://10.1.2.3/pub/x.iso', 'https://[::1]/x.iso', 'http://169.254.169.254/latest']) {
    const r = await s.json('/api/torrents', { method: 'POST', json: { uri: magnet, mirrors: [m] } });
    assert.equal(r.status, 400, m);
    assert.match(r.body.message, /local or private address/, m);
  }
  // A .torrent URL (public: no fetch happens, the mirror is refused first) with a private mirror.
  const viaTorrentUrl = await s.json('/api/torrents', { method: 'POST', json: { uri: 'https://example.invalid/x.torrent', mirrors: ['http://192.168.1.1/x.iso'] } });
  assert.equal(viaTorrentUrl.status, 400);
  assert.match(viaTorrentUrl.body.message, /mirror http:\/\/192\.168\.1\.1\/x\.iso: .*local or private address/);
  assert.deepEqual((await s.json('/api/torrents')).body.torrents ?? [], [], 'nothing was added');
});

test('malformed asks of the new routes are 4xx with a message: an unknown download, a search with no, blank or huge words', async (t) => {
  const s = await startTestServer(t);
  const unknown = await s.json('/api/downloads/..%2F..%2Fetc%2Fpasswd');
  assert.equal(unknown.status, 404);
  assert.match(unknown.body.message, /no download/);
  assert.doesNotMatch(JSON.stringify(unknown.body), new RegExp(s.root.replace(/[/\\\\]/g, '.')), 'no server path');
  for (const q of ['', '?q=', '?q=%20%20', `?q=${'x'.repeat(600)}`]) {
    const r = await s.json(`/api/search${q}`);
    assert.equal(r.status, 400, q.slice(0, 20));
    assert.equal(typeof r.body.message, 'string');
  }
});
