// Issue 61 item 1 through the doors: `cascade serve --storage s3://… --s3-endpoint URL` downloads a
// torrent (from libtorrent) into the bucket, the API's and `cascade add`'s `storage` refuse a
// malformed location and a missing bucket with a sentence, and `cascade seed --storage s3://…`
// seeds what another node put there, after checking it; wrong credentials stop it with a sentence.
// A real S3 server (s3rver) on 127.0.0.1; credentials the standard way, in the environment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers.ts';
import { ltSeed } from './lt-seed.ts';
import { cascade, ok, startCascade, startServe, until } from './node-process.ts';
import { deleteObject, objectSizes, startS3rver, useS3rverCredentials } from '../../storage-s3/test/s3-fixture.ts';

test('serve --storage s3://: a download lands in the bucket; add refuses bad locations; seed --storage seeds it; wrong credentials are said', { timeout: 180_000 }, async (t) => {
  useS3rverCredentials();
  const { endpoint } = await startS3rver(t, ['media']);
  const dir = tempDir(t);
  mkdirSync(join(dir, 'data'));
  const bytes = Buffer.alloc(700_000);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
  writeFileSync(join(dir, 'data', 'Aurora Timelapse.mkv'), bytes);
  const made = await cascade(['create', join(dir, 'data', 'Aurora Timelapse.mkv'), '-o', join(dir, 'aurora.torrent'), '--json']);
  assert.equal(made.code, 0, made.stderr);
  const { infoHash } = made.json as { infoHash: string };

  const node = await startServe(t, { args: ['--storage', 's3://media/library', '--s3-endpoint', endpoint] });
  // Bad locations are the add's error, said plainly; nothing is added.
  const malformed = await node.run(['add', join(dir, 'aurora.torrent'), '--storage', 's3://Not_A_Bucket/x']);
  assert.equal(malformed.code, 2, malformed.stdout + malformed.stderr);
  assert.match(malformed.stderr, /"Not_A_Bucket" is not a valid bucket name/);
  const missing = await node.api('/api/torrents', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ uri: infoHash, storage: 's3://no-such-bucket/x' }) });
  assert.equal(missing.status, 400);
  assert.match(((await missing.json()) as { message: string }).message, /"storage": s3: checking bucket "no-such-bucket"|bucket "no-such-bucket" does not exist/);

  // The node's default: the bucket. libtorrent seeds; the file ends up at library/<name>.
  const lt = await ltSeed(t, join(dir, 'aurora.torrent'), join(dir, 'data'), 0);
  await ok(node, ['add', join(dir, 'aurora.torrent'), '--peer', `127.0.0.1:${lt.port}`]);
  await until('the object in the bucket', async () => ((await objectSizes(endpoint, 'media', 'library/')).get('library/Aurora Timelapse.mkv') === bytes.length ? true : undefined), 60_000);

  // The detail says where the data is (bucket, prefix, the store's host; no credentials), and the
  // BEP 19 / CDN route serves the file from the bucket with the disk's cache headers and ranges.
  const detail = (await (await node.api(`/api/torrents/${infoHash}`)).json()) as { storage: Record<string, string> | null };
  assert.deepEqual(detail.storage, { kind: 's3', url: 's3://media/library', bucket: 'media', prefix: 'library', endpoint: new URL(endpoint).host });
  assert.doesNotMatch(JSON.stringify(detail), /S3RVER|AKIA/);
  const seedUrl = `${node.url}/webseed/${infoHash}/${encodeURIComponent('Aurora Timelapse.mkv')}`;
  const whole = await fetch(seedUrl);
  assert.equal(whole.status, 200);
  assert.equal(whole.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.equal(whole.headers.get('etag'), `"${infoHash}.0"`);
  assert.equal(whole.headers.get('accept-ranges'), 'bytes');
  assert.ok(Buffer.from(await whole.arrayBuffer()).equals(bytes), 'the whole file from the bucket, byte for byte');
  const part = await fetch(seedUrl, { headers: { range: 'bytes=500000-600009' } });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get('content-range'), `bytes 500000-600009/${bytes.length}`);
  assert.ok(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(500_000, 600_010)));
  const past = await fetch(seedUrl, { headers: { range: `bytes=${bytes.length}-` } });
  assert.equal(past.status, 416);
  assert.equal(past.headers.get('content-range'), `bytes */${bytes.length}`);
  assert.equal((await fetch(seedUrl, { headers: { 'if-none-match': `"${infoHash}.0"` } })).status, 304);

  // Another node, another state dir, seeds the object the first one wrote, after checking it; one
  // with a key id the store does not know stops with the store's answer in words. (s3rver checks the
  // key id, not SigV4 signatures: a wrong secret alone would pass there.)
  const seedArgs = (state: string) => ['seed', join(dir, 'aurora.torrent'), '--storage', 's3://media/library', '--s3-endpoint', endpoint, '--host', '127.0.0.1', '--port', '0', '--no-dht', '--no-chain', '--state-dir', join(dir, state)];
  const seeder = startCascade(t, seedArgs('seed-state'));
  process.env.AWS_ACCESS_KEY_ID = 'AKIAWRONGWRONGWRONG';
  const refusing = cascade(seedArgs('seed-state-2'));
  useS3rverCredentials();
  assert.equal((await seeder.event('seeding')).infoHash, infoHash);
  const refused = await refusing;
  assert.equal(refused.code, 1, refused.stdout + refused.stderr);
  assert.match(refused.stderr, /s3: checking bucket "media": the store refused the credentials, or they lack permission for "media" \(403\)/);
  await seeder.stop();

  // The object deleted behind the node's back; a recheck reads the bucket and finds it gone: the web
  // seed then says so (404, not cached, no validator), never a 200 cut short or stale bytes.
  await deleteObject(endpoint, 'media', 'library/Aurora Timelapse.mkv');
  await ok(node, ['recheck', infoHash]);
  const gone = await until('the web seed to stop serving the deleted object', async () => {
    const r = await fetch(seedUrl, { headers: { range: 'bytes=0-99' } });
    return r.status === 200 || r.status === 206 ? (await r.arrayBuffer(), undefined) : r;
  });
  assert.equal(gone.status, 404);
  assert.equal(gone.headers.get('cache-control'), 'no-store');
  assert.equal(gone.headers.get('etag'), null);
  console.log(`# webseed after the object was deleted and rechecked: ${gone.status} ${JSON.stringify(await gone.json())}`);
});
