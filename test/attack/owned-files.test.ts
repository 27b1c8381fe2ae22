// Files owned by another torrent (issue 19, item 13). A torrent never writes or deletes a file that
// another torrent owns: adding a torrent whose files would land on another torrent's files is
// refused with 409 naming that torrent (a .torrent at once; a magnet when its metadata arrives, before
// anything is written), and deleting a torrent's data removes only the files its own metainfo lists
// under its save path — never a same-named folder's other files, online or offline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session, createTorrent, toMagnet } from '../../packages/engine/index.ts';
import { startTestServer, formWith, patternBytes, type TestServer } from '../../packages/http/test/server-helpers.ts';

const MAIN = join(import.meta.dirname, '../../packages/cli/src/main.ts');

function temp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-owned-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A .torrent (and its data, in its own folder) named `name`: another torrent's content under that name. */
async function otherTorrent(dir: string, layout: Record<string, Uint8Array> | Uint8Array, name: string) {
  mkdirSync(dir, { recursive: true });
  if (layout instanceof Uint8Array) writeFileSync(join(dir, name), layout);
  else for (const [rel, data] of Object.entries(layout)) {
    mkdirSync(join(dir, name, rel, '..'), { recursive: true });
    writeFileSync(join(dir, name, rel), data);
  }
  return createTorrent(join(dir, name), { pieceLength: 16384 });
}

async function detail(s: TestServer, ih: string): Promise<Record<string, any>> {
  return (await s.json(`/api/torrents/${ih}`)).body;
}

function assertNoServerPath(s: TestServer, body: unknown): void {
  const text = JSON.stringify(body);
  for (const p of [s.root, s.downloadDir, tmpdir() + '/']) assert.ok(!text.includes(p), `the reply shows a server path: ${text}`);
}

test('a torrent whose files are another torrent’s is refused with 409, by .torrent or by magnet, and deleting it never touches them', { timeout: 90_000 }, async (t) => {
  const s = await startTestServer(t);
  const root = temp(t);
  const mine = patternBytes(100_000, 1);

  // A: shared from an upload, seeding downloads/movie.bin.
  const up = await s.json('/api/torrents', { method: 'POST', body: formWith([['movie.bin', mine]]) });
  assert.equal(up.status, 201, JSON.stringify(up.body));
  const a = up.body.infoHash as string;
  await waitFor('A to seed', async () => (await detail(s, a)).state === 'seeding');
  const file = join(s.downloadDir, 'movie.bin');

  // B: another torrent named movie.bin (other bytes). Its one file is A's file.
  const b = await otherTorrent(join(root, 'b'), patternBytes(120_000, 2), 'movie.bin');
  const fd = new FormData();
  fd.append('torrent', new Blob([new Uint8Array(b.torrent)]), 'b.torrent');
  const refused = await s.json('/api/torrents', { method: 'POST', body: fd });
  assert.equal(refused.status, 409, JSON.stringify(refused.body));
  assert.match(refused.body.message, /movie\.bin/);
  assert.match(refused.body.message, new RegExp(a.slice(0, 8)), 'the refusal names the torrent that owns the file');
  assertNoServerPath(s, refused.body);
  assert.equal(s.node.session.get(b.metainfo.infoHashHex), undefined, 'the refused torrent is not loaded');
  assert.equal(s.node.db.getTorrent(b.metainfo.infoHashHex), undefined, 'nor stored');

  // C: a multi-file torrent named movie.bin: A's file would have to be its folder.
  const c = await otherTorrent(join(root, 'c'), { 'x.bin': patternBytes(20_000, 3) }, 'movie.bin');
  const fd2 = new FormData();
  fd2.append('torrent', new Blob([new Uint8Array(c.torrent)]), 'c.torrent');
  const refused2 = await s.json('/api/torrents', { method: 'POST', body: fd2 });
  assert.equal(refused2.status, 409, JSON.stringify(refused2.body));

  // B again, by magnet: the name is unknown until a peer sends the metadata; then B must stop
  // before writing a byte, and say why.
  const seeder = await Session.create({ port: 0, host: '127.0.0.1', dht: false, webrtc: false });
  t.after(() => seeder.close());
  await seeder.add(b.torrent, { savePath: join(root, 'b') });
  await waitFor('the seeder to verify B', () => seeder.list()[0]!.stats().state === 'seeding');
  const byMagnet = await s.json('/api/torrents', {
    method: 'POST',
    json: { uri: toMagnet({ infoHashHex: b.metainfo.infoHashHex }), peers: [`127.0.0.1:${seeder.port}`] },
  });
  assert.equal(byMagnet.status, 201, JSON.stringify(byMagnet.body));
  await waitFor('B (magnet) to fail on the file conflict', async () => (await detail(s, b.metainfo.infoHashHex)).state === 'error');
  const bDetail = await detail(s, b.metainfo.infoHashHex);
  assert.match(bDetail.error ?? '', /movie\.bin/);
  assertNoServerPath(s, bDetail.error);
  await new Promise((r) => setTimeout(r, 1000));
  assert.ok(readFileSync(file).equals(Buffer.from(mine)), 'A’s file was not written to');

  // Deleting B with its data removes nothing of A's.
  const del = await s.json(`/api/torrents/${b.metainfo.infoHashHex}?deleteData=true`, { method: 'DELETE' });
  assert.equal(del.status, 200, JSON.stringify(del.body));
  assert.ok(existsSync(file), 'deleting B’s data deleted A’s file');
  assert.ok(readFileSync(file).equals(Buffer.from(mine)));
  assert.equal((await detail(s, a)).state, 'seeding');

  // And a torrent that owns nothing of A's still adds, next to it.
  const d = await otherTorrent(join(root, 'd'), patternBytes(30_000, 4), 'other.bin');
  const fd3 = new FormData();
  fd3.append('torrent', new Blob([new Uint8Array(d.torrent)]), 'd.torrent');
  assert.equal((await s.json('/api/torrents', { method: 'POST', body: fd3 })).status, 201);
});

test('offline `cascade remove --delete-data` of a torrent named like another torrent’s folder deletes only its own files', { timeout: 60_000 }, async (t) => {
  const root = temp(t);
  const stateDir = join(root, 'state');
  const out = join(root, 'out');
  // A and B are both multi-file torrents named "pack", with different files: they share the folder.
  const a = await otherTorrent(join(root, 'src-a'), { 'a1.bin': patternBytes(20_000, 5), 'sub/a2.bin': patternBytes(10_000, 6) }, 'pack');
  const b = await otherTorrent(join(root, 'src-b'), { 'b1.bin': patternBytes(20_000, 7) }, 'pack');
  writeFileSync(join(root, 'a.torrent'), a.torrent);
  writeFileSync(join(root, 'b.torrent'), b.torrent);
  // Both torrents' data in place, as after a download.
  mkdirSync(join(out, 'pack', 'sub'), { recursive: true });
  writeFileSync(join(out, 'pack', 'a1.bin'), patternBytes(20_000, 5));
  writeFileSync(join(out, 'pack', 'sub', 'a2.bin'), patternBytes(10_000, 6));
  writeFileSync(join(out, 'pack', 'b1.bin'), patternBytes(20_000, 7));
  // Something that is no torrent's at all, in the same folder.
  writeFileSync(join(out, 'pack', 'notes.txt'), 'mine');

  const cascade = async (args: string[]) => {
    const child = spawn(process.execPath, [MAIN, ...args, '--json', '--state-dir', stateDir], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000, killSignal: 'SIGKILL' });
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.stderr.on('data', (d) => (text += d));
    const [code] = (await once(child, 'close')) as [number | null];
    return { code, text };
  };
  for (const f of ['a.torrent', 'b.torrent']) {
    const r = await cascade(['add', join(root, f), '-o', out]);
    assert.equal(r.code, 0, r.text);
  }
  const r = await cascade(['remove', b.metainfo.infoHashHex, '--delete-data']);
  assert.equal(r.code, 0, r.text);
  assert.equal(existsSync(join(out, 'pack', 'b1.bin')), false, 'B’s own file is deleted');
  for (const rel of ['a1.bin', 'sub/a2.bin', 'notes.txt']) assert.ok(existsSync(join(out, 'pack', rel)), `${rel} (not B’s) was deleted`);

  // Removing A with its data leaves the file that belongs to no torrent, and so the folder.
  const r2 = await cascade(['remove', a.metainfo.infoHashHex, '--delete-data']);
  assert.equal(r2.code, 0, r2.text);
  assert.equal(existsSync(join(out, 'pack', 'a1.bin')), false);
  assert.equal(existsSync(join(out, 'pack', 'sub')), false, 'the emptied sub-folder goes');
  assert.ok(existsSync(join(out, 'pack', 'notes.txt')));
});
