// BEP 52 interop with libtorrent 2.0, real processes on 127.0.0.1: v2-only and hybrid torrents go
// libtorrent → Cascade and Cascade → libtorrent, and every file comes out byte for byte; a
// libtorrent that starts from a v2 magnet gets the metadata and every piece layer from Cascade
// through hash requests (it cannot check a piece without them), and Cascade does the same from
// libtorrent for v2 and hybrid magnets.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import { createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Session, parseTorrent, type TorrentHandle } from '../index.ts';
import { makeLtTorrent } from './v2-fixture.ts';
import { tmpDir, whenDone } from './session-helpers.ts';

const LT_SEED = fileURLToPath(new URL('./lt_seed.py', import.meta.url));
const LT_FETCH = fileURLToPath(new URL('./lt_fetch.py', import.meta.url));
const PIECE = 32 * 1024;
const sha = async (p: string) => createHash('sha256').update(await fs.readFile(p)).digest('hex');

/** A folder with a file smaller than a piece, one of many pieces ending short, an empty one. */
async function content(dir: string): Promise<{ pack: string; files: string[] }> {
  const pack = path.join(dir, 'pack');
  await fs.mkdir(path.join(pack, 'sub'), { recursive: true });
  const files = ['small.bin', 'sub/big.bin', 'empty.bin', 'tail.txt'];
  await fs.writeFile(path.join(pack, files[0]!), randomBytes(10_000));
  await fs.writeFile(path.join(pack, files[1]!), randomBytes(40 * PIECE + 7_777));
  await fs.writeFile(path.join(pack, files[2]!), new Uint8Array(0));
  await fs.writeFile(path.join(pack, files[3]!), randomBytes(PIECE + 1));
  return { pack, files };
}

async function sameFiles(a: string, b: string, files: string[]): Promise<void> {
  for (const f of files) assert.equal(await sha(path.join(b, f)), await sha(path.join(a, f)), f);
}

function spawnLt(t: { after: (fn: () => unknown) => void }, args: string[]): { proc: ChildProcessWithoutNullStreams; lines: AsyncIterator<string>; log: string[] } {
  const proc = spawn('/usr/bin/python3', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const log: string[] = [];
  proc.stderr.on('data', (d) => log.push(String(d)));
  t.after(() => {
    proc.stdin.end();
    proc.kill();
  });
  const lines = readline.createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  return { proc, lines, log };
}

async function until(lines: AsyncIterator<string>, want: (line: string) => boolean, log: string[], ms = 60_000): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = deadline - Date.now();
    const next = await Promise.race([lines.next(), new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), Math.max(0, left)))]);
    if (next === 'timeout' || next.done) throw new Error(`libtorrent did not get there: ${log.slice(-20).join('\n')}`);
    log.push(next.value);
    if (want(next.value)) return next.value;
  }
}

/** libtorrent seeds `torrent` from `root`; Cascade fetches `source` (the .torrent's bytes or a
 *  magnet) from it into root/out; every file must hash-match and no piece fail its check. */
async function fetchFromLt(t: TestContext, root: string, torrent: string, source: Uint8Array | string, pack: string, files: string[]): Promise<TorrentHandle> {
  const lt = spawnLt(t, [LT_SEED, torrent, root]);
  const port = Number((await until(lt.lines, (l) => l.startsWith('port '), lt.log)).slice(5));
  await until(lt.lines, (l) => l === 'seeding', lt.log);
  const session = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false });
  t.after(() => session.close());
  const out = path.join(root, 'out');
  const h = await session.add(source, { savePath: out, peers: [`127.0.0.1:${port}`] });
  let failures = 0;
  h.on('hash-failed', () => failures++);
  await whenDone(h, 60_000);
  await sameFiles(pack, path.join(out, 'pack'), files);
  assert.equal(failures, 0, 'no piece failed its check');
  return h;
}

for (const kind of ['v2', 'hybrid'] as const) {
  test(`${kind}: libtorrent seeds, Cascade downloads, files hash-match`, async (t) => {
    const root = await tmpDir(t);
    const { pack, files } = await content(root);
    const torrent = path.join(root, 'pack.torrent');
    makeLtTorrent(pack, root, torrent, PIECE, kind);
    const bytes = await fs.readFile(torrent);
    const meta = parseTorrent(bytes);
    assert.equal(meta.version, kind);
    await fetchFromLt(t, root, torrent, bytes, pack, files);
  });

  test(`${kind}: Cascade seeds, libtorrent downloads from the .torrent, files hash-match`, async (t) => {
    const root = await tmpDir(t);
    const { pack, files } = await content(root);
    const torrent = path.join(root, 'pack.torrent');
    makeLtTorrent(pack, root, torrent, PIECE, kind);
    const session = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false });
    t.after(() => session.close());
    const h = await session.add(await fs.readFile(torrent), { savePath: root });
    assert.equal(h.stats().state, 'seeding', 'the check found every piece');
    const out = path.join(root, 'lt-out');
    const lt = spawnLt(t, [LT_FETCH, torrent, out, `127.0.0.1:${session.port}`]);
    await until(lt.lines, (l) => l === 'done', lt.log);
    await sameFiles(pack, path.join(out, 'pack'), files);
  });
}

test('v2: libtorrent from a v2 magnet gets the metadata and the piece layers from Cascade (hash requests)', async (t) => {
  const root = await tmpDir(t);
  const { pack, files } = await content(root);
  const torrent = path.join(root, 'pack.torrent');
  const ids = makeLtTorrent(pack, root, torrent, PIECE, 'v2');
  const session = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false });
  t.after(() => session.close());
  await session.add(await fs.readFile(torrent), { savePath: root });
  const out = path.join(root, 'lt-out');
  const lt = spawnLt(t, [LT_FETCH, `magnet:?xt=urn:btmh:1220${ids.v2}&dn=pack`, out, `127.0.0.1:${session.port}`]);
  await until(lt.lines, (l) => l === 'done', lt.log);
  await sameFiles(pack, path.join(out, 'pack'), files);
});

for (const kind of ['v2', 'hybrid'] as const) {
  const how = kind === 'v2' ? 'piece layers by hash request' : 'pieces checked by SHA-1 and the layers of the metadata-less magnet left out';
  test(`${kind}: Cascade downloads from a ${kind} magnet from libtorrent (metadata checked against the SHA-256; ${how})`, async (t) => {
    const root = await tmpDir(t);
    const { pack, files } = await content(root);
    const torrent = path.join(root, 'pack.torrent');
    const ids = makeLtTorrent(pack, root, torrent, PIECE, kind);
    const magnet = kind === 'v2' ? `magnet:?xt=urn:btmh:1220${ids.v2}&dn=pack` : `magnet:?xt=urn:btih:${ids.v1}&xt=urn:btmh:1220${ids.v2}&dn=pack`;
    const h = await fetchFromLt(t, root, torrent, magnet, pack, files);
    const meta = (h as unknown as { metainfo: { version: string; infoHashV2Hex: string; pieceLayers: Map<string, Uint8Array> } }).metainfo;
    assert.equal(meta.version, kind);
    assert.equal(meta.infoHashV2Hex, ids.v2);
    if (kind === 'v2') assert.equal(meta.pieceLayers.size, 2, 'the piece layers of both multi-piece files came from libtorrent');
  });
}

// Issue 43: a piece layer that does not hash to its file's root is dropped, as libtorrent drops
// it, and the torrent opens all the same: the layer then comes from peers by hash request.
test('v2: a .torrent whose piece layer does not match its root opens, and the layer comes from libtorrent', async (t) => {
  const root = await tmpDir(t);
  const { pack, files } = await content(root);
  const torrent = path.join(root, 'pack.torrent');
  makeLtTorrent(pack, root, torrent, PIECE, 'v2');
  const good = await fs.readFile(torrent);
  const goodMeta = parseTorrent(good);
  const [rootHex, layer] = [...goodMeta.pieceLayers!].find(([, l]) => l.length > 32 * 2)!;
  const bad = Buffer.from(good);
  bad[bad.indexOf(Buffer.from(layer)) + 40]! ^= 0xff; // one hash of the layer, the info dict untouched
  const badMeta = parseTorrent(bad);
  assert.equal(badMeta.infoHashV2Hex, goodMeta.infoHashV2Hex);
  assert.equal(badMeta.pieceLayers!.has(rootHex), false, 'the bad layer is dropped');

  const h = await fetchFromLt(t, root, torrent, bad, pack, files);
  const meta = (h as unknown as { metainfo: { pieceLayers: Map<string, Uint8Array> } }).metainfo;
  assert.deepEqual(meta.pieceLayers.get(rootHex), layer, 'the layer came from libtorrent and checks out');
});
