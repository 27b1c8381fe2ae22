// `cascade download` as the protocol manager: junk is refused with what is accepted, and a plain
// file's ftp:// URL (a real vsftpd) is downloaded and checked against --sha256 — a wrong one is an
// error that leaves nothing behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cidFromSha256 } from '@cascade/content';
import { startVsftpd } from '../../sources/test/vsftpd.ts';
import { tempDir } from './helpers.ts';
import { cascade } from './node-process.ts';
import { assertSameBytes } from '../../../scripts/assert-bytes.ts';

test('an identifier nothing handles is a usage error naming what is accepted', async (t) => {
  const dir = tempDir(t);
  for (const junk of ['not-a-thing', 'gopher://example.org/x', 'c9e15763f722f23e98a29decdfae341b98d5305']) {
    const r = await cascade(['download', junk, '-o', dir, '--no-dht']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /is not something Cascade can download: give a magnet link, a \.torrent file or its http\(s\) URL, a v1 \(40 hex\) or v2 \(64 hex\) infohash, a content id/);
  }
  const torrent = await cascade(['download', join(dir, 'missing.torrent'), '-o', dir, '--no-dht']);
  assert.equal(torrent.code, 2);
  assert.match(torrent.stderr, /no such torrent file/);
  const sha = await cascade(['download', 'magnet:?xt=urn:btih:' + 'a'.repeat(40), '--sha256', 'ab'.repeat(32), '-o', dir, '--no-dht']);
  assert.equal(sha.code, 2);
  assert.match(sha.stderr, /--sha256 checks a plain file/);
});

test('an ftp:// URL with --sha256 downloads and is checked; a wrong --sha256 keeps nothing', async (t) => {
  const root = tempDir(t);
  const www = join(root, 'www');
  await mkdir(www);
  const data = randomBytes(3 * 1024 * 1024 + 17);
  await writeFile(join(www, 'disk image.iso'), data);
  const sha = createHash('sha256').update(data).digest('hex');
  const ftp = await startVsftpd(www);
  t.after(() => ftp.close());
  const url = `${ftp.url}disk%20image.iso`;

  const out = join(root, 'out');
  const ok = await cascade(['download', url, '--sha256', sha, '-o', out, '--json']);
  assert.equal(ok.code, 0, ok.stderr);
  assertSameBytes(await readFile(join(out, 'disk image.iso')), data);
  const done = ok.lines.find((l) => l.event === 'done')!;
  assert.equal(done.sha256, sha);
  assert.equal(done.cid, cidFromSha256(Buffer.from(sha, 'hex')));
  assert.deepEqual(done.sources, [{ kind: 'mirror', address: url, downloaded: data.length }]);
  assert.ok(ok.lines.some((l) => l.event === 'progress'));

  const bad = join(root, 'bad');
  const wrong = createHash('sha256').update('other bytes').digest('hex');
  const r = await cascade(['download', url, '--sha256', wrong, '-o', bad, '--json']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout + r.stderr, new RegExp(`SHA-256 mismatch — expected ${wrong}, the sources gave ${sha}; nothing was kept`));
  assert.deepEqual(await readdir(bad), []);
});
