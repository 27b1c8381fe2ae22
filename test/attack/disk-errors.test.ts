// A disk that refuses writes (issue 19, item 11): with the download folder full (ENOSPC) or
// read-only (EROFS) the torrent stops with state "error" and a message naming the cause, and it
// stops downloading: before, the swarm kept sending the same pieces to be thrown away (784 MB in
// 20 s for a 24 MiB torrent, 17.6 GB with a full disk). Resuming retries; once there is room (or the
// mount is writable again) it completes with the right bytes. `cascade download` exits non-zero
// with the same message. Real swarms on 127.0.0.1, a real tmpfs and a real read-only bind mount.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../../packages/http/test/server-helpers.ts';
import { describeProc, spawnCascade, startCascadeSeed, startLibtorrent, ltCreate, cascadeCreate, waitForExit } from '../interop/helpers.ts';

const MiB = 1024 * 1024;
/** How long the stopped torrent is watched for traffic. */
const QUIET_MS = 6000;
/** What may still arrive after the error: blocks already on the wire when the peers were dropped. */
const QUIET_BYTES = 2 * MiB;

function mount(args: string[]): void {
  execFileSync('mount', args);
}

/** A fresh scratch dir of our own (not tempDir: that one's cleanup would race our unmounts). */
function scratch(t: TestContext): string {
  assert.equal(process.getuid?.(), 0, 'this test mounts file systems: run it as root');
  const root = mkdtempSync(join(tmpdir(), 'cascade-disk-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  return root;
}

async function detail(server: TestServer, ih: string): Promise<{ state: string; error: string | null; downloaded: number; progress: number; peers: number }> {
  const r = await server.json(`/api/torrents/${ih}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Waits for the error, then watches the traffic for QUIET_MS; returns the error and the bytes. */
async function errorThenQuiet(t: TestContext, server: TestServer, ih: string, cause: RegExp): Promise<string> {
  const failed = await until('state "error"', 60_000, async () => {
    const d = await detail(server, ih);
    return d.state === 'error' ? d : undefined;
  });
  assert.match(String(failed.error), cause, 'the error names the cause');
  const before = (await detail(server, ih)).downloaded;
  await new Promise((r) => setTimeout(r, QUIET_MS));
  const after = await detail(server, ih);
  t.diagnostic(`after "${failed.error}": ${((after.downloaded - before) / MiB).toFixed(2)} MiB in ${QUIET_MS} ms (${(before / MiB).toFixed(1)} MiB before)`);
  assert.ok(after.downloaded - before < QUIET_BYTES, `${after.downloaded - before} bytes arrived after the torrent stopped`);
  assert.equal(after.state, 'error', 'it stays stopped');
  assert.equal(after.peers, 0, 'no peer stays connected');
  return String(failed.error);
}

async function resumeUntilDone(server: TestServer, ih: string): Promise<void> {
  const r = await server.json(`/api/torrents/${ih}/resume`, { method: 'POST' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await until('completion after resume', 60_000, async () => {
    const d = await detail(server, ih);
    assert.notEqual(d.state, 'error', `failed again: ${d.error}`);
    return d.state === 'seeding' ? d : undefined;
  });
}

test('a full disk (ENOSPC) stops the torrent and its traffic; freeing space and resuming completes it', { timeout: 180_000 }, async (t) => {
  const root = scratch(t);
  const src = join(root, 'src');
  const disk = join(root, 'disk');
  mkdirSync(src);
  mkdirSync(disk);
  const data = randomBytes(24 * MiB);
  writeFileSync(join(src, 'payload.bin'), data);
  const torrent = join(root, 'payload.torrent');
  const created = await ltCreate(join(src, 'payload.bin'), torrent, { pieceLength: 256 * 1024 });
  const seeder = await startLibtorrent(t, torrent, src);

  mount(['-t', 'tmpfs', '-o', 'size=32m', 'tmpfs', disk]);
  try {
    // 8 MiB left: the download fills it a third of the way in.
    writeFileSync(join(disk, 'filler'), Buffer.alloc(24 * MiB, 1));
    const server = await startTestServer(t, { downloadDir: disk });
    try {
      const add = await server.json('/api/torrents', { method: 'POST', json: { uri: `magnet:?xt=urn:btih:${created.infoHash}`, peers: [`127.0.0.1:${seeder.port}`] } });
      assert.equal(add.status, 201, JSON.stringify(add.body));
      const ih = add.body.infoHash as string;
      await errorThenQuiet(t, server, ih, /disk error: .*(ENOSPC|no space left)/i);

      rmSync(join(disk, 'filler'));
      await resumeUntilDone(server, ih);
      assert.ok(readFileSync(join(disk, 'payload.bin')).equals(data), 'the completed file is byte for byte the original');
    } finally {
      await server.close();
    }
  } finally {
    execFileSync('umount', ['-l', disk]);
  }
});

test('a read-only download folder (EROFS) stops the torrent; remounted writable, resuming completes it', { timeout: 180_000 }, async (t) => {
  const root = scratch(t);
  const src = join(root, 'src');
  const dl = join(root, 'downloads');
  mkdirSync(src);
  mkdirSync(dl);
  const data = randomBytes(24 * MiB + 12345);
  writeFileSync(join(src, 'payload.bin'), data);
  const torrent = join(root, 'payload.torrent');
  const created = await cascadeCreate(t, join(src, 'payload.bin'), torrent, ['--piece-length', '262144']);
  const seeder = await startCascadeSeed(t, torrent, src);

  mount(['--bind', dl, dl]);
  try {
    mount(['-o', 'remount,bind,ro', dl]);
    const server = await startTestServer(t, { downloadDir: dl });
    try {
      const add = await server.json('/api/torrents', { method: 'POST', json: { uri: created.magnet, peers: [`127.0.0.1:${seeder.port}`] } });
      assert.equal(add.status, 201, JSON.stringify(add.body));
      const ih = add.body.infoHash as string;
      await errorThenQuiet(t, server, ih, /disk error: .*(EROFS|read-only)/i);

      mount(['-o', 'remount,bind,rw', dl]);
      await resumeUntilDone(server, ih);
      assert.ok(readFileSync(join(dl, 'payload.bin')).equals(data), 'the completed file is byte for byte the original');
    } finally {
      await server.close();
    }
  } finally {
    execFileSync('umount', ['-l', dl]);
  }
});

test('cascade download into a full disk exits non-zero with the disk error, promptly', { timeout: 120_000 }, async (t) => {
  const root = scratch(t);
  const src = join(root, 'src');
  const disk = join(root, 'disk');
  mkdirSync(src);
  mkdirSync(disk);
  writeFileSync(join(src, 'payload.bin'), randomBytes(16 * MiB));
  const torrent = join(root, 'payload.torrent');
  await cascadeCreate(t, join(src, 'payload.bin'), torrent, ['--piece-length', '262144']);
  const seeder = await startCascadeSeed(t, torrent, src);

  mount(['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', disk]);
  try {
    const started = Date.now();
    const dl = await spawnCascade(t, 'download', [torrent, '-o', disk, '--peer', `127.0.0.1:${seeder.port}`]);
    const exit = await waitForExit(dl, 60_000);
    const seconds = (Date.now() - started) / 1000;
    t.diagnostic(`exit ${exit.code} after ${seconds.toFixed(1)} s`);
    assert.notEqual(exit.code, 0, `it must fail:\n${describeProc(dl)}`);
    const error = dl.events.find((e) => e.event === 'error');
    assert.ok(error, `an error event:\n${describeProc(dl)}`);
    assert.match(String(error.message), /disk error: .*(ENOSPC|no space left)/i, describeProc(dl));
  } finally {
    execFileSync('umount', ['-l', disk]);
  }
});
