// Plain files from real servers: an FTP URL (Debian's vsftpd) checked by --sha256, a wrong hash
// leaving nothing behind, and one file drawn from an HTTP server and an FTP mirror at once, with a
// dead mirror dropped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cidFromSha256 } from '@cascade/content';
import { PlainDownload, Sha256Mismatch, ftpRangeRead, ftpSize } from '../index.ts';
import { startVsftpd } from './vsftpd.ts';
import { assertSameBytes } from '../../../scripts/assert-bytes.ts';

async function fixture(t: { after: (fn: () => Promise<void>) => void }, size: number) {
  const root = await mkdtemp(join(tmpdir(), 'cascade-plain-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const www = join(root, 'www');
  const out = join(root, 'out');
  await Promise.all([import('node:fs/promises').then((f) => f.mkdir(www)), import('node:fs/promises').then((f) => f.mkdir(out))]);
  const data = randomBytes(size);
  await writeFile(join(www, 'file.bin'), data);
  const sha = createHash('sha256').update(data).digest();
  return { root, www, out, data, sha };
}

/** Serves `dir` with Range support, at most `rate` bytes a second per response when given. */
async function httpServer(dir: string, rate?: number): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(async (req, res) => {
    try {
      const data = await readFile(join(dir, decodeURIComponent(new URL(req.url!, 'http://x').pathname)));
      const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
      const body = m ? data.subarray(Number(m[1]), Number(m[2]) + 1) : data;
      res.writeHead(m ? 206 : 200, { 'content-length': body.length, ...(m ? { 'content-range': `bytes ${m[1]}-${m[2]}/${data.length}` } : {}) });
      if (req.method === 'HEAD') return res.end();
      if (!rate) return res.end(body);
      for (let at = 0; at < body.length && !res.destroyed; at += rate / 10) {
        res.write(body.subarray(at, at + rate / 10));
        await new Promise((r) => setTimeout(r, 100));
      }
      res.end();
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

test('an FTP URL is read in ranges and checked against its SHA-256', async (t) => {
  const f = await fixture(t, 5 * 1024 * 1024 + 123);
  const ftp = await startVsftpd(f.www);
  t.after(() => ftp.close());
  const url = `${ftp.url}file.bin`;
  assert.equal(await ftpSize(url), f.data.length);
  // A range from the middle: REST, then the transfer cut once the bytes are in.
  const mid = await ftpRangeRead(url, 1_000_000, 1_000_100, new AbortController().signal);
  assert.deepEqual(Buffer.from(mid), f.data.subarray(1_000_000, 1_000_100));

  const dl = new PlainDownload({ urls: [url], dir: f.out, sha256: f.sha, chunkSize: 1024 * 1024 });
  const r = await dl.run();
  assertSameBytes(await readFile(join(f.out, 'file.bin')), f.data);
  assert.equal(r.sha256, f.sha.toString('hex'));
  assert.equal(r.cid, cidFromSha256(f.sha));
  assert.equal(r.sources[0]!.downloaded, f.data.length);
});

test('a wrong SHA-256 is a clear error and leaves no file that looks complete', async (t) => {
  const f = await fixture(t, 300_000);
  const ftp = await startVsftpd(f.www);
  t.after(() => ftp.close());
  const wrong = createHash('sha256').update('something else').digest();
  const dl = new PlainDownload({ urls: [`${ftp.url}file.bin`], dir: f.out, sha256: wrong });
  await assert.rejects(dl.run(), (err: Error) => {
    assert.ok(err instanceof Sha256Mismatch);
    assert.match(err.message, new RegExp(`expected ${wrong.toString('hex')}, the sources gave ${f.sha.toString('hex')}; nothing was kept`));
    return true;
  });
  assert.deepEqual(await readdir(f.out), []);
});

test('one file from an HTTP server and an FTP mirror at once; a dead mirror is dropped', async (t) => {
  const f = await fixture(t, 8 * 1024 * 1024);
  const ftp = await startVsftpd(f.www);
  t.after(() => ftp.close());
  // Slow enough that both sources are still working when the other takes a chunk.
  const web = await httpServer(f.www, 4 * 1024 * 1024);
  t.after(() => web.close());
  const dead = await httpServer(f.www);
  await dead.close();
  const dl = new PlainDownload({ urls: [`${web.url}file.bin`, `${ftp.url}file.bin`, `${dead.url}file.bin`], dir: f.out, sha256: f.sha, chunkSize: 512 * 1024 });
  const r = await dl.run();
  assertSameBytes(await readFile(join(f.out, 'file.bin')), f.data);
  const [h, fp, d] = r.sources;
  assert.ok(h!.downloaded > 0 && fp!.downloaded > 0, `http ${h!.downloaded} B, ftp ${fp!.downloaded} B`);
  assert.equal(h!.downloaded + fp!.downloaded, f.data.length);
  assert.equal(d!.downloaded, 0);
  assert.match(d!.dropped ?? '', /fetch failed|ECONNREFUSED/);
});
