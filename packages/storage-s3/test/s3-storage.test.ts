// Torrents' data in a real S3 server (s3rver on 127.0.0.1): a download lands in the bucket (pieces
// staged, files uploaded whole, multipart above one part), a restart resumes from it, libtorrent
// downloads from a session seeding out of the bucket, a recheck verifies what the bucket holds,
// remove deletes what the node wrote and nothing else, and data someone else put there is seeded
// after a check without a byte uploaded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import { createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { Session, createTorrent, type TorrentHandle } from '@cascade/engine';
import { S3Backend, parseS3Url } from '../index.ts';
import { startS3rver, tmpDir, useS3rverCredentials } from './s3-fixture.ts';

const LT_FETCH = fileURLToPath(new URL('../../engine/test/lt_fetch.py', import.meta.url));
const PIECE = 64 * 1024;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function whenDone(h: TorrentHandle, ms = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out: ${JSON.stringify(h.stats())}`)), ms);
    if (h.stats().state === 'seeding') return clearTimeout(timer), resolve();
    h.once('done', () => (clearTimeout(timer), resolve()));
    h.once('error', (e: Error) => (clearTimeout(timer), reject(e)));
  });
}

/** A folder: a file of many pieces (multipart at the test's part size), a small one, an empty one. */
async function makePack(root: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>([
    ['big.bin', randomBytes(20 * PIECE + 1234)],
    ['sub/small.txt', randomBytes(3000)],
    ['empty.bin', Buffer.alloc(0)],
  ]);
  for (const [name, data] of files) {
    await fs.mkdir(path.dirname(path.join(root, 'pack', name)), { recursive: true });
    await fs.writeFile(path.join(root, 'pack', name), data);
  }
  return files;
}

async function keys(b: S3Backend, bucket: string): Promise<string[]> {
  const r = await b.client.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (r.Contents ?? []).map((c) => c.Key!).sort();
}

async function object(b: S3Backend, bucket: string, key: string): Promise<Uint8Array> {
  return (await b.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray();
}

test('parseS3Url refuses malformed locations with a sentence that says what is wrong', () => {
  assert.deepEqual(parseS3Url('s3://my-bucket/a/b/'), { bucket: 'my-bucket', prefix: 'a/b' });
  assert.deepEqual(parseS3Url('s3://my.bucket'), { bucket: 'my.bucket', prefix: '' });
  assert.throws(() => parseS3Url('s3:/bucket/x'), /is not an S3 location: write s3:\/\/bucket\/prefix/);
  assert.throws(() => parseS3Url('s3:///x'), /names no bucket/);
  assert.throws(() => parseS3Url('s3://My_Bucket/x'), /"My_Bucket" is not a valid bucket name/);
  assert.throws(() => parseS3Url('s3://ok-bucket/a/../b'), /may not contain "\." or "\.\." segments/);
});

test('download into s3rver, restart from it, seed to libtorrent, recheck, remove only ours, seed foreign data', async (t) => {
  useS3rverCredentials();
  const { endpoint } = await startS3rver(t, ['media']);
  const root = await tmpDir(t);
  const files = await makePack(root);
  const { torrent, metainfo } = await createTorrent(path.join(root, 'pack'), { pieceLength: PIECE });
  const ih = metainfo.infoHashHex;

  const seeder = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false });
  t.after(() => seeder.close());
  await whenDone(await seeder.add(torrent, { savePath: root }));

  const stateDir = path.join(root, 'state'), downloads = path.join(root, 'downloads');
  // 256 KiB parts: big.bin (1.25 MiB) goes up in five parts.
  const open = () => S3Backend.open({ stateDir, endpoint, defaultUrl: 's3://media/library', partSize: 256 * 1024, cache: { chunkSize: 256 * 1024, maxBytes: 1024 * 1024 } });
  let backend = await open();
  const withS3 = (b: S3Backend) => Session.create({ host: '127.0.0.1', dht: false, webrtc: false, storageFor: (meta, savePath, standard) => b.storageFor(meta, savePath) ?? standard() });
  assert.equal(await backend.assign(ih, undefined), 's3://media/library');
  let leecher = await withS3(backend);
  let h = await leecher.add(torrent, { savePath: downloads, peers: [`127.0.0.1:${seeder.port}`] });
  await whenDone(h);
  const s = backend.opened.get(ih)!;
  assert.equal(s.uploads, 3, 'each file uploaded once, the empty one too');
  assert.deepEqual(await keys(backend, 'media'), ['library/pack/big.bin', 'library/pack/empty.bin', 'library/pack/sub/small.txt']);
  for (const [name, data] of files) assert.equal(sha(await object(backend, 'media', `library/pack/${name}`)), sha(data), name);
  const staged = await fs.readdir(path.join(downloads, '.cascade-s3', ih));
  assert.deepEqual(staged, ['manifest.json'], 'no staged copy is left once a file is in the bucket');
  await fs.access(path.join(downloads, 'pack')).then(() => assert.fail('nothing lands in the download dir'), () => {});

  // A restart: resume data and the manifest agree with the bucket, so nothing is hashed again.
  await leecher.close();
  backend.close();
  backend = await open();
  leecher = await withS3(backend);
  t.after(() => leecher.close());
  h = await leecher.add(torrent, { savePath: downloads });
  await whenDone(h);
  assert.equal(backend.opened.get(ih)!.uploads, 0, 'nothing uploaded again after the restart');
  await seeder.close();

  // libtorrent downloads from the session seeding out of the bucket (ranged GETs, bounded cache).
  const ltDir = path.join(root, 'lt');
  const torrentFile = path.join(root, 'pack.torrent');
  await fs.writeFile(torrentFile, torrent);
  const lt = spawn('/usr/bin/python3', [LT_FETCH, torrentFile, ltDir, `127.0.0.1:${leecher.port}`], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => void lt.kill());
  let done = false;
  for await (const line of readline.createInterface({ input: lt.stdout })) if (line === 'done') { done = true; break; }
  lt.stdin.end();
  assert.ok(done, 'libtorrent finished');
  for (const [name, data] of files) assert.equal(sha(await fs.readFile(path.join(ltDir, 'pack', name))), sha(data), `libtorrent's ${name}`);
  assert.ok(backend.cache.gets > 0, 'pieces came from the bucket by ranged GETs');
  assert.ok(backend.cache.heldBytes <= 1024 * 1024, `the cache stays within its bound (${backend.cache.heldBytes})`);

  // A recheck reads the bucket, not the cache: a damaged object shows.
  const damaged = Buffer.from(files.get('big.bin')!);
  damaged[5 * PIECE + 10]! ^= 0xff;
  await backend.client.send(new PutObjectCommand({ Bucket: 'media', Key: 'library/pack/big.bin', Body: damaged }));
  await h.recheck();
  assert.equal(h.stats().verifiedPieces, metainfo.pieceCount - 1, 'the damaged piece is found missing');
  await fs.writeFile(path.join(root, 'keep.txt'), 'x');
  await backend.client.send(new PutObjectCommand({ Bucket: 'media', Key: 'library/someone-else.txt', Body: 'not ours' }));

  // Remove with its data: our objects go, someone else's stay.
  await leecher.remove(ih, { deleteData: true });
  await backend.forget(ih);
  assert.deepEqual(await keys(backend, 'media'), ['library/someone-else.txt']);
  await fs.access(path.join(downloads, '.cascade-s3', ih)).then(() => assert.fail('the staging folder goes too'), () => {});

  // Data someone else put in the bucket is verified, then seeded; nothing is uploaded, nothing of theirs deleted.
  for (const [name, data] of files) await backend.client.send(new PutObjectCommand({ Bucket: 'media', Key: `theirs/pack/${name}`, Body: data }));
  assert.equal(await backend.assign(ih, 's3://media/theirs'), 's3://media/theirs');
  h = await leecher.add(torrent, { savePath: downloads });
  await whenDone(h);
  assert.equal(h.stats().verifiedPieces, metainfo.pieceCount);
  assert.equal(backend.opened.get(ih)!.uploads, 0);
  await leecher.remove(ih, { deleteData: true });
  assert.deepEqual((await keys(backend, 'media')).filter((k) => k.startsWith('theirs/')).length, 3, 'their objects stay');
  backend.close();
});
