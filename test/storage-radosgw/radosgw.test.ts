// Issue 61, item 2: Cascade's S3 storage against a real S3 server other than s3rver — Ceph's radosgw
// (Debian 12's 16.2.15, on the single-host cluster ceph.ts makes: one monitor, one OSD on memstore).
// `cascade serve --storage s3://media/library --s3-endpoint <radosgw>` downloads a torrent from
// libtorrent into the bucket, by a multipart upload of two parts; the object is whole; the web seed serves it from the bucket with ranges;
// and, unlike s3rver, radosgw checks SigV4 signatures: `cascade seed --storage` with the right key id
// and a wrong secret is refused with the store's answer in words, while the right pair seeds it.
// Loopback only; the packages come from scripts/system-packages.ts (radosgw ceph-mon ceph-osd).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { createTorrent } from '@cascade/engine';
import { makeS3Client } from '@cascade/storage-s3';
import { tempDir } from '../../packages/cli/test/helpers.ts';
import { ltSeed } from '../../packages/cli/test/lt-seed.ts';
import { cascade, ok, startCascade, startServe, until } from '../../packages/cli/test/node-process.ts';
import { objectSizes } from '../../packages/storage-s3/test/s3-fixture.ts';
import { startRadosgw } from './ceph.ts';

test('serve --storage s3:// against radosgw: a download lands in the bucket, the web seed reads it back, seed --storage checks the signature', { timeout: 240_000 }, async (t) => {
  const gw = await startRadosgw({ timeoutMs: 90_000 });
  t.after(() => gw.stop());
  t.diagnostic(`radosgw (Ceph 16.2.15, one monitor, one memstore OSD) answering with an S3 user after ${gw.startSeconds.toFixed(1)} s`);
  const creds = () => Object.assign(process.env, { AWS_ACCESS_KEY_ID: gw.accessKeyId, AWS_SECRET_ACCESS_KEY: gw.secretAccessKey, AWS_REGION: 'us-east-1' });
  creds();
  const s3 = makeS3Client({ endpoint: gw.endpoint });
  await s3.send(new CreateBucketCommand({ Bucket: 'media' }));
  s3.destroy();

  const dir = tempDir(t);
  mkdirSync(join(dir, 'data'));
  // 12.6 MB: two parts of a multipart upload at the node's 8 MiB (radosgw, like AWS, refuses parts
  // under 5 MiB but the last; s3rver does not check).
  const bytes = Buffer.alloc(12_600_000);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
  writeFileSync(join(dir, 'data', 'Aurora Timelapse.mkv'), bytes);
  const { torrent, metainfo } = await createTorrent(join(dir, 'data', 'Aurora Timelapse.mkv'));
  writeFileSync(join(dir, 'aurora.torrent'), torrent);
  const infoHash = metainfo.infoHashHex;

  const node = await startServe(t, { args: ['--storage', 's3://media/library', '--s3-endpoint', gw.endpoint] });
  const lt = await ltSeed(t, join(dir, 'aurora.torrent'), join(dir, 'data'), 0);
  await ok(node, ['add', join(dir, 'aurora.torrent'), '--peer', `127.0.0.1:${lt.port}`]);
  await until('the object in the bucket', async () => ((await objectSizes(gw.endpoint, 'media', 'library/')).get('library/Aurora Timelapse.mkv') === bytes.length ? true : undefined), 90_000);

  // A multipart object's ETag ends in -<parts>.
  const head = makeS3Client({ endpoint: gw.endpoint });
  const { ETag } = await head.send(new HeadObjectCommand({ Bucket: 'media', Key: 'library/Aurora Timelapse.mkv' }));
  head.destroy();
  assert.match(String(ETag), /-2"$/, 'uploaded in two parts');

  const seedUrl = `${node.url}/webseed/${infoHash}/${encodeURIComponent('Aurora Timelapse.mkv')}`;
  const whole = await fetch(seedUrl);
  assert.equal(whole.status, 200);
  assert.ok(Buffer.from(await whole.arrayBuffer()).equals(bytes), 'the whole file from radosgw, byte for byte');
  const part = await fetch(seedUrl, { headers: { range: 'bytes=500000-600009' } });
  assert.equal(part.status, 206);
  assert.ok(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(500_000, 600_010)));

  // Another node seeds the object after checking it; one with a wrong secret (the right key id) is
  // refused: radosgw checks the signature, s3rver does not.
  const seedArgs = (state: string) => ['seed', join(dir, 'aurora.torrent'), '--storage', 's3://media/library', '--s3-endpoint', gw.endpoint, '--host', '127.0.0.1', '--port', '0', '--no-dht', '--no-chain', '--state-dir', join(dir, state)];
  process.env.AWS_SECRET_ACCESS_KEY = 'not-the-secret-radosgw-knows-0000000000';
  const refused = await cascade(seedArgs('seed-state-2'));
  creds();
  assert.equal(refused.code, 1, refused.stdout + refused.stderr);
  assert.match(refused.stderr, /s3: checking bucket "media": the store refused the credentials, or they lack permission for "media" \(403\)/);
  const seeder = startCascade(t, seedArgs('seed-state'));
  assert.equal((await seeder.event('seeding')).infoHash, infoHash);
  await seeder.stop();
});
