// Files changed after completion (issue 19, item 14). Before, a file modified on disk after the
// torrent completed was still reported complete and served. Now: on start, the files whose size or
// mtime differ from the resume data are hashed again (only their pieces), the torrent is no longer
// complete for what fails, and a peer repairs it. A change that keeps size and mtime is found by a
// forced recheck: POST /api/torrents/:infoHash/recheck and `cascade recheck <hash>`, with state
// "checking" while it runs. Real servers, a real engine seeder on 127.0.0.1, the real CLI.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, mkdirSync, openSync, readFileSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session, createTorrent, type Metainfo, type Torrent } from '../../packages/engine/index.ts';
import { startTestServer, formWith, type TestServer } from '../../packages/http/test/server-helpers.ts';
import { describeProc, spawnCascade, waitForExit } from '../interop/helpers.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const PIECE = 256 * KiB;

function scratch(t: TestContext): string {
  const root = mkdtempSync(join(tmpdir(), 'cascade-recheck-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  return root;
}

async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function detail(server: TestServer, ih: string) {
  const r = await server.json(`/api/torrents/${ih}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body as { state: string; verifiedPieces: number; pieceCount: number; files: { path: string; progress: number }[] };
}

const inState = (server: TestServer, ih: string, state: string) =>
  until(`state "${state}"`, 60_000, async () => {
    const d = await detail(server, ih);
    return d.state === state ? d : undefined;
  });

/** Pieces whose bytes, as they are on disk now, hash right: the truth a check must find. */
function piecesOnDisk(meta: Metainfo, dir: string): { good: number; touching: (files: number[]) => number } {
  const files = meta.files.map((f) => readFileSync(join(dir, meta.name, ...f.path)));
  const whole = Buffer.concat(files);
  let good = 0;
  for (let i = 0; i < meta.pieceCount; i++) {
    const start = i * meta.pieceLength;
    const end = Math.min(start + meta.pieceLength, meta.length);
    if (end > whole.length) continue;
    const digest = createHash('sha1').update(whole.subarray(start, end)).digest();
    if (digest.equals(Buffer.from(meta.pieceHashes.subarray(i * 20, i * 20 + 20)))) good++;
  }
  // Pieces touching any of `which` whose bytes are all still there (truncation aside).
  const touching = (which: number[]) => {
    let n = 0;
    for (let i = 0; i < meta.pieceCount; i++) {
      const start = i * meta.pieceLength;
      const end = Math.min(start + meta.pieceLength, meta.length);
      const hit = which.some((w) => meta.files[w]!.offset < end && meta.files[w]!.offset + meta.files[w]!.length > start);
      const present = meta.files.every((f, k) => f.offset >= end || f.offset + f.length <= start || files[k]!.length >= Math.min(f.length, end - f.offset));
      if (hit && present) n++;
    }
    return n;
  };
  return { good, touching };
}

/** Overwrites `bytes` at `offset` of a file (same size). */
function overwrite(file: string, offset: number, bytes: Uint8Array): void {
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

async function seederFor(t: TestContext, torrent: Uint8Array, dir: string): Promise<string> {
  const s = await Session.create({ port: 0, host: '127.0.0.1', dht: false, webrtc: false });
  t.after(() => s.close());
  const h = await s.add(torrent, { savePath: dir });
  await until('the seeder to be ready', 30_000, async () => (h.stats().state === 'seeding' ? true : undefined));
  return `127.0.0.1:${s.port}`;
}

test('files changed after completion are rechecked on restart (only their pieces) and repaired from a peer', { timeout: 180_000 }, async (t) => {
  const root = scratch(t);
  const src = join(root, 'src');
  const set = join(src, 'set');
  mkdirSync(set, { recursive: true });
  const originals = { 'a.bin': randomBytes(3 * MiB + 100), 'b.bin': randomBytes(2 * MiB + 5000), 'c.bin': randomBytes(2 * MiB) };
  for (const [name, data] of Object.entries(originals)) writeFileSync(join(set, name), data);
  const { torrent, metainfo: meta } = await createTorrent(set, { pieceLength: PIECE });
  const ih = meta.infoHashHex;
  const stateDir = join(root, 'state');
  const downloads = join(root, 'downloads');
  const magnet = `magnet:?xt=urn:btih:${ih}`;

  // 1. Download it completely, then stop the node and the seeder.
  const seederSession = await Session.create({ port: 0, host: '127.0.0.1', dht: false, webrtc: false });
  const sh = await seederSession.add(torrent, { savePath: src });
  await until('the seeder', 30_000, async () => (sh.stats().state === 'seeding' ? true : undefined));
  const first = await startTestServer(t, { stateDir, downloadDir: downloads });
  const add = await first.json('/api/torrents', { method: 'POST', json: { uri: magnet, peers: [`127.0.0.1:${seederSession.port}`] } });
  assert.equal(add.status, 201, JSON.stringify(add.body));
  await inState(first, ih, 'seeding');
  await first.close();
  await seederSession.close();

  // 2. Behind its back: b.bin keeps its size but not its bytes (and gets another mtime); c.bin is cut short.
  const b = join(downloads, 'set', 'b.bin');
  const c = join(downloads, 'set', 'c.bin');
  overwrite(b, 1 * MiB, randomBytes(1000));
  const later = new Date(statSync(b).mtimeMs + 10_000);
  utimesSync(b, later, later);
  truncateSync(c, 1 * MiB + 7);
  const truth = piecesOnDisk(meta, downloads);
  const expectHashed = truth.touching([1, 2]);

  // 3. Restart: only the pieces of b.bin and c.bin are hashed; what changed is no longer complete.
  const second = await startTestServer(t, { stateDir, downloadDir: downloads });
  await second.ready;
  // The library loads a torrent paused and the queue starts it, which is when its data is checked.
  const check = await until('the restart check', 60_000, async () => (second.node.session.get(ih) as unknown as Torrent | undefined)?.lastCheck);
  t.diagnostic(`restart check: hashed ${check.hashed} of ${meta.pieceCount} pieces in ${check.ms} ms; ${truth.good} verified`);
  const d = await detail(second, ih);
  assert.equal(d.verifiedPieces, truth.good, 'exactly the pieces whose bytes are right are verified');
  assert.ok(d.verifiedPieces < meta.pieceCount, 'no longer complete');
  assert.notEqual(d.state, 'seeding');
  assert.equal(check.hashed, expectHashed, 'only the pieces of the changed files were hashed');
  const progress = Object.fromEntries(d.files.map((f) => [f.path, f.progress]));
  assert.equal(progress['a.bin'], 1, 'the untouched file stays complete');
  assert.ok(progress['b.bin']! < 1 && progress['c.bin']! < 1, `changed files are not complete: ${JSON.stringify(progress)}`);

  // 4. A peer comes back: the damage is downloaded again, byte for byte.
  const peer = await seederFor(t, torrent, src);
  const again = await second.json('/api/torrents', { method: 'POST', json: { uri: magnet, peers: [peer] } });
  assert.equal(again.status, 200, JSON.stringify(again.body));
  await inState(second, ih, 'seeding');
  for (const [name, data] of Object.entries(originals)) {
    assert.ok(readFileSync(join(downloads, 'set', name)).equals(data), `${name} is repaired`);
  }
});

test('a forced recheck (API and `cascade recheck`) finds a change that kept size and mtime; state is "checking" meanwhile', { timeout: 180_000 }, async (t) => {
  const root = scratch(t);
  const downloads = join(root, 'downloads');
  const set = join(downloads, 'big');
  mkdirSync(set, { recursive: true });
  const files = ['one.bin', 'two.bin', 'three.bin', 'four.bin'];
  for (const f of files) writeFileSync(join(set, f), randomBytes(24 * MiB + 333));
  const { torrent, metainfo: meta } = await createTorrent(set, { pieceLength: 1 * MiB });
  const ih = meta.infoHashHex;
  const stateDir = join(root, 'state');
  const server = await startTestServer(t, { stateDir, downloadDir: downloads });
  const add = await server.request('/api/torrents', { method: 'POST', body: formWith([['big.torrent', torrent]], 'torrent') });
  assert.equal(add.status, 201, await add.text());
  await inState(server, ih, 'seeding');

  // The sneaky change: same size, mtime put back. A restart would trust it; a recheck must not.
  const victim = join(set, 'three.bin');
  const st = statSync(victim);
  const at = 5 * MiB + 10;
  const original = readFileSync(victim).subarray(at, at + 64);
  overwrite(victim, at, randomBytes(64));
  utimesSync(victim, st.atime, st.mtime);

  const engine = server.node.session.get(ih) as unknown as Torrent;
  const seen = new Set<string>();
  engine.on('checking', () => seen.add(engine.stats().state));
  const started = Date.now();
  const r = await server.json(`/api/torrents/${ih}/recheck`, { method: 'POST' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.state, 'checking', 'the answer says it is checking');
  assert.equal((await detail(server, ih)).state, 'checking', 'the detail says so while it runs');
  const after = await until('the recheck to end', 60_000, async () => {
    const x = await detail(server, ih);
    return x.state === 'checking' ? undefined : x;
  });
  t.diagnostic(`API recheck of ${meta.pieceCount} pieces (${(meta.length / MiB).toFixed(0)} MiB): ${engine.lastCheck!.ms} ms engine, ${Date.now() - started} ms seen from the API`);
  assert.deepEqual([...seen], ['checking'], 'every progress event saw state "checking"');
  assert.equal(engine.lastCheck!.hashed, meta.pieceCount, 'a forced recheck hashes everything');
  assert.equal(after.verifiedPieces, meta.pieceCount - 1, 'the one changed piece is no longer verified');
  assert.equal(after.state, 'downloading');

  // Put the bytes back and recheck from the CLI against the running node: complete again.
  overwrite(victim, at, original);
  const cli = await spawnCascade(t, 'recheck', [ih.slice(0, 10)], { stateDir, node: false });
  const exit = await waitForExit(cli, 30_000);
  assert.equal(exit.code, 0, describeProc(cli));
  const answer = cli.events.find((e) => e.infoHash === ih);
  assert.ok(answer, describeProc(cli));
  assert.equal(answer.state, 'checking', describeProc(cli));
  const done = await inState(server, ih, 'seeding');
  assert.equal(done.verifiedPieces, meta.pieceCount);
  t.diagnostic(`CLI recheck: ${engine.lastCheck!.ms} ms`);

  // Unknown torrents are a 404, and the CLI without a node says there is none.
  const missing = await server.json(`/api/torrents/${'0'.repeat(40)}/recheck`, { method: 'POST' });
  assert.equal(missing.status, 404, JSON.stringify(missing.body));
  const offline = await spawnCascade(t, 'recheck', [ih], { stateDir: join(root, 'no-node'), node: false });
  const offExit = await waitForExit(offline, 30_000);
  assert.notEqual(offExit.code, 0, describeProc(offline));
  assert.match(JSON.stringify(offline.events), /no running node/, describeProc(offline));
});
