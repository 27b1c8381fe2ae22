// One torrent from the swarm and a mirror at once (`cascade download … --mirror URL`): a libtorrent
// seeder and an HTTP server holding the same file both give bytes; when the seeder dies half-way
// the mirror finishes the file; a mirror serving corrupt bytes is banned and the swarm finishes.
// The bytes by source are read off `--json` progress, as a user's script would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTorrent } from '@cascade/engine';
import { startVsftpd } from '../../sources/test/vsftpd.ts';
import { tempDir } from './helpers.ts';
import { ltSeed } from './lt-seed.ts';
import { assertSameBytes } from '../../../scripts/assert-bytes.ts';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const SIZE = 8 * 1024 * 1024;
type T = Parameters<typeof tempDir>[0];

async function fixture(t: T) {
  const root = tempDir(t);
  const www = join(root, 'www');
  await mkdir(www);
  const data = randomBytes(SIZE);
  await writeFile(join(www, 'file.bin'), data);
  const { torrent } = await createTorrent(join(www, 'file.bin'), { pieceLength: 256 * 1024 });
  await writeFile(join(root, 'file.torrent'), torrent);
  return { root, www, data, torrentPath: join(root, 'file.torrent') };
}

/** Serves `dir` with Range support at `rate` bytes/s per response; `corrupt` flips a byte of each. */
async function mirror(t: T, dir: string, rate: number, corrupt = false): Promise<{ url: string; ranges: number }> {
  const state = { ranges: 0 };
  const server = http.createServer(async (req, res) => {
    try {
      const data = await readFile(join(dir, decodeURIComponent(new URL(req.url!, 'http://x').pathname)));
      const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
      if (!m) return res.writeHead(200, { 'content-length': data.length }).end(req.method === 'HEAD' ? undefined : data);
      state.ranges++;
      const body = Buffer.from(data.subarray(Number(m[1]), Number(m[2]) + 1));
      if (corrupt) body[body.length >> 1]! ^= 0xff;
      res.writeHead(206, { 'content-length': body.length, 'content-range': `bytes ${m[1]}-${m[2]}/${data.length}` });
      const step = Math.max(16 * 1024, rate / 20);
      for (let at = 0; at < body.length && !res.destroyed; at += step) {
        res.write(body.subarray(at, at + step));
        await new Promise((r) => setTimeout(r, (step / rate) * 1000));
      }
      res.end();
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/file.bin`,
    get ranges() {
      return state.ranges;
    },
  };
}

interface Source {
  kind: 'peer' | 'mirror';
  address: string;
  downloaded: number;
  banned?: boolean;
}

/** `cascade download --json`, calling `onProgress` with each progress event; resolves at exit. */
function download(t: T, args: string[], onProgress: (e: { progress: number; sources: Source[] }) => void = () => {}) {
  const child = spawn(process.execPath, [MAIN, 'download', ...args, '--json', '--no-dht', '--host', '127.0.0.1', '--port', '0', '--state-dir', join(tempDir(t), 'state')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CASCADE_HOME: '/nonexistent-cascade-home', CASCADE_PORT_MAPPING: 'off' },
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  const events: Record<string, any>[] = [];
  let stderr = '';
  let buf = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  child.stdout!.setEncoding('utf8').on('data', (c: string) => {
    buf += c;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      const e = JSON.parse(line) as Record<string, any>;
      events.push(e);
      if (e.event === 'progress') onProgress(e as { progress: number; sources: Source[] });
    }
  });
  return new Promise<{ code: number | null; events: Record<string, any>[]; stderr: string }>((resolve) =>
    child.once('exit', (code) => (clearTimeout(timer), resolve({ code, events, stderr }))),
  );
}

function bytesOf(sources: Source[], kind: 'peer' | 'mirror'): number {
  return sources.filter((s) => s.kind === kind).reduce((n, s) => n + s.downloaded, 0);
}

test('the swarm and an HTTP mirror both give bytes to one download', async (t) => {
  const f = await fixture(t);
  // About even: the seeder at 1 MiB/s, the mirror at 512 KiB/s per response (its 3 runs in flight: 1.5 MiB/s).
  const seed = await ltSeed(t, f.torrentPath, f.www, 1024 * 1024);
  const web = await mirror(t, f.www, 512 * 1024);
  const out = join(f.root, 'out');
  const r = await download(t, [f.torrentPath, '-o', out, '--peer', `127.0.0.1:${seed.port}`, '--mirror', web.url]);
  assert.equal(r.code, 0, r.stderr);
  assertSameBytes(await readFile(join(out, 'file.bin')), f.data);
  const done = r.events.find((e) => e.event === 'done')!;
  const peer = bytesOf(done.sources, 'peer');
  const fromMirror = bytesOf(done.sources, 'mirror');
  t.diagnostic(`peer ${peer} B, mirror ${fromMirror} B in ${done.seconds.toFixed(1)} s`);
  assert.ok(peer >= SIZE / 8 && fromMirror >= SIZE / 8, `peer ${peer} B, mirror ${fromMirror} B`);
  assert.ok(peer + fromMirror >= SIZE);
  assert.deepEqual(done.sources.find((s: Source) => s.kind === 'mirror').address, web.url);
  assert.equal(done.sources.find((s: Source) => s.kind === 'peer').address, `127.0.0.1:${seed.port}`);
});

test('the seeder killed half-way: the mirror finishes the file', async (t) => {
  const f = await fixture(t);
  const seed = await ltSeed(t, f.torrentPath, f.www, 1024 * 1024);
  const web = await mirror(t, f.www, 512 * 1024);
  const out = join(f.root, 'out');
  let killedAt: number | undefined;
  const r = await download(t, [f.torrentPath, '-o', out, '--peer', `127.0.0.1:${seed.port}`, '--mirror', web.url], (e) => {
    if (killedAt === undefined && e.progress >= 0.3) {
      killedAt = bytesOf(e.sources, 'mirror');
      seed.child.kill('SIGKILL');
    }
  });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(killedAt !== undefined, 'the seeder was killed during the download');
  assertSameBytes(await readFile(join(out, 'file.bin')), f.data);
  const done = r.events.find((e) => e.event === 'done')!;
  const peer = bytesOf(done.sources, 'peer');
  const fromMirror = bytesOf(done.sources, 'mirror');
  t.diagnostic(`peer ${peer} B, mirror ${fromMirror} B (${killedAt} B when the seeder died)`);
  assert.ok(peer > 0, 'the seeder gave bytes before it died');
  // What the seeder did not send came from the mirror after it died.
  assert.ok(fromMirror >= SIZE - peer, `mirror ${fromMirror} B, peer ${peer} B`);
  assert.ok(fromMirror > killedAt!);
});

test('a mirror serving corrupt bytes is banned and the swarm finishes', async (t) => {
  const f = await fixture(t);
  const seed = await ltSeed(t, f.torrentPath, f.www, 2 * 1024 * 1024);
  const bad = await mirror(t, f.www, 4 * 1024 * 1024, true);
  const out = join(f.root, 'out');
  const r = await download(t, [f.torrentPath, '-o', out, '--peer', `127.0.0.1:${seed.port}`, '--mirror', bad.url]);
  assert.equal(r.code, 0, r.stderr);
  assertSameBytes(await readFile(join(out, 'file.bin')), f.data);
  const done = r.events.find((e) => e.event === 'done')!;
  const m = done.sources.find((s: Source) => s.kind === 'mirror');
  t.diagnostic(`mirror ${m?.downloaded} B in ${bad.ranges} ranges, banned ${m?.banned}; peer ${bytesOf(done.sources, 'peer')} B`);
  assert.ok(bad.ranges > 0, 'the mirror was asked');
  assert.equal(m?.banned, true, JSON.stringify(done.sources));
  // Banned at its first bad piece: the rest of its runs (3 in flight at most) went back to the picker, unasked.
  assert.ok(bad.ranges <= 3, `${bad.ranges} ranges asked of the banned mirror`);
  assert.ok(bytesOf(done.sources, 'peer') >= SIZE, 'the swarm gave every piece');
});

test('an ftp:// mirror serves a torrent through the same picker (no peer at all)', async (t) => {
  const f = await fixture(t);
  const ftp = await startVsftpd(f.www);
  t.after(() => ftp.close());
  const out = join(f.root, 'out');
  const r = await download(t, [f.torrentPath, '-o', out, '--mirror', `${ftp.url}file.bin`]);
  assert.equal(r.code, 0, r.stderr);
  assertSameBytes(await readFile(join(out, 'file.bin')), f.data);
  const done = r.events.find((e) => e.event === 'done')!;
  assert.deepEqual(done.sources, [{ kind: 'mirror', address: `${ftp.url}file.bin`, downloaded: SIZE }]);
});
