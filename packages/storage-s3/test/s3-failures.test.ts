// What goes wrong with a bucket, against a real S3 server (s3rver) and a tiny proxy in front of it
// that answers 503 SlowDown: each failure is a clear error on that torrent, what was downloaded
// stays staged (nothing lost), and the session goes on serving its other torrents.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { DeleteBucketCommand, GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { Session, createTorrent, parseTorrent, type TorrentHandle } from '@cascade/engine';
import { ReadCache, S3Backend, S3Storage, makeS3Client } from '../index.ts';
import { startS3rver, throttlingProxy, tmpDir, useS3rverCredentials } from './s3-fixture.ts';
import { assertSameBytes } from '../../../scripts/assert-bytes.ts';

const PIECE = 64 * 1024;

function settled(h: TorrentHandle, ms = 30_000): Promise<'done' | Error> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out: ${JSON.stringify(h.stats())}`)), ms);
    if (h.stats().state === 'seeding') return clearTimeout(timer), resolve('done');
    if (h.stats().state === 'error') return clearTimeout(timer), resolve(new Error(h.stats().error ?? 'error'));
    h.once('done', () => (clearTimeout(timer), resolve('done')));
    h.once('error', (e: Error) => (clearTimeout(timer), resolve(e)));
  });
}

async function pack(root: string, name: string, length: number): Promise<{ torrent: Uint8Array; ih: string; data: Buffer }> {
  const data = randomBytes(length);
  await fs.mkdir(path.join(root, 'seed'), { recursive: true });
  await fs.writeFile(path.join(root, 'seed', name), data);
  const { torrent, metainfo } = await createTorrent(path.join(root, 'seed', name), { pieceLength: PIECE });
  return { torrent, ih: metainfo.infoHashHex, data };
}

test('bad credentials, a missing bucket, a bucket gone before the upload, a throttling store: each said plainly, nothing lost, the rest served', async (t) => {
  useS3rverCredentials();
  const { endpoint } = await startS3rver(t, ['media', 'doomed']);
  const proxy = await throttlingProxy(t, endpoint);
  const root = await tmpDir(t);
  const stateDir = path.join(root, 'state'), downloads = path.join(root, 'downloads');

  // Refused before anything is added: the add's error.
  // (s3rver checks the key id, not SigV4 signatures: a wrong secret alone would pass there.)
  process.env.AWS_ACCESS_KEY_ID = 'AKIAWRONGWRONGWRONG';
  const strangers = await S3Backend.open({ stateDir: path.join(root, 'other'), endpoint });
  t.after(() => strangers.close());
  await assert.rejects(strangers.assign('a'.repeat(40), 's3://media/x'), /s3: checking bucket "media": the store refused the credentials, or they lack permission for "media" \(403\)/);
  useS3rverCredentials();
  const backend = await S3Backend.open({ stateDir, endpoint: proxy.endpoint, partSize: 128 * 1024 });
  t.after(() => backend.close());
  await assert.rejects(backend.assign('b'.repeat(40), 's3://no-such-bucket/x'), /s3: bucket "no-such-bucket" does not exist/);
  await assert.rejects(backend.assign('b'.repeat(40), 's3:/media'), /is not an S3 location/);

  const seeder = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false });
  t.after(() => seeder.close());
  const gone = await pack(root, 'gone.bin', 12 * PIECE + 5);
  const slow = await pack(root, 'slow.bin', 10 * PIECE + 7);
  const throttled = await pack(root, 'throttled.bin', 9 * PIECE + 3);
  const local = await pack(root, 'local.bin', 8 * PIECE + 1);
  for (const p of [gone, slow, throttled, local]) await seeder.add(p.torrent, { savePath: path.join(root, 'seed') });

  const leecher = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false, storageFor: (meta, savePath, standard) => backend.storageFor(meta, savePath) ?? standard() });
  t.after(() => leecher.close());
  const peers = [`127.0.0.1:${seeder.port}`];
  const staged = (ih: string) => fs.readFile(path.join(downloads, '.cascade-s3', ih, '0'));

  // The bucket vanishes between the add's check and the upload: that torrent stops with the
  // reason, its pieces stay staged whole, and a torrent on the disk beside it completes.
  await backend.assign(gone.ih, 's3://doomed/lib');
  await backend.client.send(new DeleteBucketCommand({ Bucket: 'doomed' }));
  const a = await leecher.add(gone.torrent, { savePath: downloads, peers });
  const b = await leecher.add(local.torrent, { savePath: downloads, peers });
  const failed = await settled(a);
  assert.ok(failed instanceof Error, 'the torrent failed');
  assert.match(a.stats().error ?? failed.message, /s3: uploading s3:\/\/doomed\/lib\/gone\.bin \(its pieces stay staged in .*\): bucket "doomed" does not exist/);
  assertSameBytes(await staged(gone.ih), gone.data, 'every byte downloaded is still staged');
  assert.equal(await settled(b), 'done');
  assertSameBytes(await fs.readFile(path.join(downloads, 'local.bin')), local.data);

  // A store that throttles each request's first attempt: the SDK's retries get through, the file
  // lands. (Per request, not every other request overall: with parts in flight together, one part
  // could draw the refused turn at every one of its attempts, which is not what is tested here.)
  const seen = new Set<string>();
  proxy.throttle((_n, method, url) => !seen.has(method + ' ' + url) && !!seen.add(method + ' ' + url));
  await backend.assign(slow.ih, 's3://media/lib');
  assert.equal(await settled(await leecher.add(slow.torrent, { savePath: downloads, peers })), 'done');
  const head = await makeS3Client({ endpoint }).send(new HeadObjectCommand({ Bucket: 'media', Key: 'lib/slow.bin' }));
  assert.equal(head.ContentLength, slow.data.length);
  assert.ok(proxy.counts.refused > 0, 'the proxy did answer 503 SlowDown');

  // A store that throttles every upload: a clear error on that torrent, its pieces kept staged.
  await backend.assign(throttled.ih, 's3://media/lib');
  proxy.throttle((_n, method) => method === 'PUT' || method === 'POST');
  const c = await leecher.add(throttled.torrent, { savePath: downloads, peers });
  const refused = await settled(c);
  assert.ok(refused instanceof Error);
  assert.match(c.stats().error ?? refused.message, /s3: uploading s3:\/\/media\/lib\/throttled\.bin .*: the store is throttling requests \(503 SlowDown\) and the retries did not get through/);
  assertSameBytes(await staged(throttled.ih), throttled.data);

  // The store answers again: a restart checks the staged pieces and uploads the file.
  proxy.throttle(() => false);
  await leecher.remove(throttled.ih);
  const again = await leecher.add(throttled.torrent, { savePath: downloads });
  assert.equal(await settled(again), 'done');
  for (let i = 0; ; i++) {
    const r = await backend.client.send(new HeadObjectCommand({ Bucket: 'media', Key: 'lib/throttled.bin' })).catch(() => undefined);
    if (r) break;
    if (i > 100) assert.fail('the staged file was never uploaded');
    await new Promise((r) => setTimeout(r, 100));
  }
});

test('a multipart upload cut short carries on after a restart from the parts the store has', async (t) => {
  useS3rverCredentials();
  const { endpoint } = await startS3rver(t, ['media']);
  const proxy = await throttlingProxy(t, endpoint);
  const root = await tmpDir(t);
  const { torrent, data } = await pack(root, 'parts.bin', 16 * PIECE + 9);
  const meta = parseTorrent(torrent);
  const client = makeS3Client({ endpoint: proxy.endpoint, maxAttempts: 1 });
  t.after(() => client.destroy());
  const open = () => new S3Storage(meta, { client, location: { bucket: 'media', prefix: 'lib' }, staging: path.join(root, 'staging'), cache: new ReadCache(), partSize: 2 * PIECE, partConcurrency: 1 });
  // Nine parts of 128 KiB; the store takes three, then refuses every part.
  let parts = 0;
  proxy.throttle((_n, method, url) => method === 'PUT' && url.includes('partNumber=') && ++parts > 3);
  const first = open();
  const pieces = (i: number) => data.subarray(i * PIECE, Math.min(data.length, (i + 1) * PIECE));
  for (let i = 0; i < meta.pieceCount - 1; i++) await first.writePiece(i, pieces(i));
  await assert.rejects(first.writePiece(meta.pieceCount - 1, pieces(meta.pieceCount - 1)), /s3: uploading s3:\/\/media\/lib\/parts\.bin .*throttling/);
  await first.close();
  // A restart: the check's fileStats finds the file complete and uploads the six parts left.
  parts = 0;
  proxy.throttle((_n, method, url) => (method === 'PUT' && url.includes('partNumber=') && ++parts, false));
  const second = open();
  await second.fileStats();
  for (let i = 0; second.uploads === 0; i++) {
    if (i > 100) assert.fail('no upload after the restart');
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(parts, 6, 'only the parts the store did not have were sent again');
  const got = await client.send(new GetObjectCommand({ Bucket: 'media', Key: 'lib/parts.bin' }));
  assert.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), data);
  await second.close();
});
