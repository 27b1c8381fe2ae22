// What remotes change on a torrent (issue 45): files renamed on disk while it seeds (the pieces
// kept, a downloader still gets the data under the torrent's own names), names replayed at the
// next add, bad names refused with nothing touched; tracker tiers replaced; piece states.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes, createHash } from 'node:crypto';
import { Session, createTorrent } from '../index.ts';
import { tmpDir, whenDone } from './session-helpers.ts';

const sha = async (p: string) => createHash('sha256').update(await fs.readFile(p)).digest('hex');

async function seeded(t: { after: (fn: () => unknown) => void }) {
  const root = await tmpDir(t);
  const src = path.join(root, 'pack');
  await fs.mkdir(path.join(src, 'sub'), { recursive: true });
  await fs.writeFile(path.join(src, 'a.bin'), randomBytes(300_001));
  await fs.writeFile(path.join(src, 'sub', 'b.bin'), randomBytes(200_000));
  const sums = { a: await sha(path.join(src, 'a.bin')), b: await sha(path.join(src, 'sub', 'b.bin')) };
  const { torrent } = await createTorrent(src, { pieceLength: 64 * 1024 });
  const session = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false });
  t.after(() => session.close());
  const s = await session.add(torrent, { savePath: root });
  await whenDone(s);
  return { root, sums, torrent, session, s };
}

test('rename moves files on disk, keeps the pieces, and a downloader still gets the data', async (t) => {
  const { root, sums, torrent, session, s } = await seeded(t);
  const pieces = s.stats().verifiedPieces;
  await s.rename!({ 0: ['renamed', 'a2.bin'] });
  assert.equal(await sha(path.join(root, 'pack', 'renamed', 'a2.bin')), sums.a);
  await assert.rejects(fs.stat(path.join(root, 'pack', 'a.bin')), /ENOENT/);
  assert.deepEqual(s.metainfo!.files.map((f) => f.path.join('/')), ['renamed/a2.bin', 'sub/b.bin']);
  assert.deepEqual(s.renamedFiles!(), { 0: ['renamed', 'a2.bin'] });
  assert.equal(s.stats().verifiedPieces, pieces);
  assert.equal(s.stats().state, 'seeding');

  const out = await tmpDir(t);
  const leecher = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false });
  t.after(() => leecher.close());
  const l = await leecher.add(torrent, { savePath: out, peers: [`127.0.0.1:${session.port}`] });
  await whenDone(l);
  assert.equal(await sha(path.join(out, 'pack', 'a.bin')), sums.a, 'the downloader names files as the torrent does');
  assert.equal(await sha(path.join(out, 'pack', 'sub', 'b.bin')), sums.b);

  // Replayed at the next add: the files are found under their new names, nothing is fetched.
  await session.remove(s.infoHashHex);
  const again = await session.add(torrent, { savePath: root, renamedFiles: { 0: ['renamed', 'a2.bin'] } });
  await whenDone(again);
  assert.equal(again.stats().verifiedPieces, pieces);
  assert.deepEqual(again.metainfo!.files[0]!.path, ['renamed', 'a2.bin']);

  // The torrent's folder (index -1): everything moves under the new one, the old one goes.
  await again.rename!({ [-1]: ['pack2'] });
  assert.equal(again.metainfo!.name, 'pack2');
  assert.equal(await sha(path.join(root, 'pack2', 'renamed', 'a2.bin')), sums.a);
  assert.equal(await sha(path.join(root, 'pack2', 'sub', 'b.bin')), sums.b);
  await assert.rejects(fs.stat(path.join(root, 'pack')), /ENOENT/);
  assert.equal(again.stats().verifiedPieces, pieces);
});

test('bad renames are refused and change nothing', async (t) => {
  const { root, sums, s } = await seeded(t);
  await assert.rejects(s.rename!({ 0: ['..', 'x'] }), /not a file or folder name/);
  await assert.rejects(s.rename!({ 0: ['sub', 'b.bin'] }), /two files would be named sub\/b.bin/);
  await assert.rejects(s.rename!({ 0: ['sub'] }), /both a file and a folder/);
  await assert.rejects(s.rename!({ 5: ['x'] }), /no file 5/);
  assert.equal(await sha(path.join(root, 'pack', 'a.bin')), sums.a);
  assert.equal(s.stats().state, 'seeding');
});

test('tracker tiers are replaced and piece states reported', async (t) => {
  const { s } = await seeded(t);
  assert.deepEqual(s.trackerList!(), []);
  await s.setTrackers!([['http://127.0.0.1:1/announce'], [], ['udp://127.0.0.1:1']]);
  assert.deepEqual(s.trackerList!(), [['http://127.0.0.1:1/announce'], ['udp://127.0.0.1:1']]);
  assert.deepEqual(s.trackers().map((x) => x.url).sort(), ['http://127.0.0.1:1/announce', 'udp://127.0.0.1:1']);
  // What a list row names: the first status's URL, without building the statuses.
  assert.equal(s.firstTrackerUrl!(), s.trackers()[0]!.url);
  const p = s.pieceStates!()!;
  assert.equal(p.states.length, s.stats().pieceCount);
  assert.ok(p.states.every((x) => x === 2));
  assert.ok(p.availability.every((x) => x === 0));
});
