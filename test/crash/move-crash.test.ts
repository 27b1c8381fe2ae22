// A kill in the middle of a move (issue 63, items 3 and 5). Moving a torrent renames its files one
// by one and only then stores the new save path: a node killed halfway had half the files in the
// new folder and a record naming the old one, so after the restart it saw those pieces missing,
// downloaded them again into the old folder and left the moved copies behind (data in two places,
// neither whole). Now the move is journalled in the state dir first and a restart puts an
// unfinished one back: the data is whole in exactly one place, the one the node names, and
// nothing is hashed as missing. A folder of many small files makes the move long enough to land
// the kill inside it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createTorrent } from '@cascade/engine';
import { Rig, sleep } from '../../bench/crash/rig.ts';

const FILES = 1500;

test('a SIGKILL halfway through a move leaves the data whole in the place the node names, nothing to download again', { timeout: 180_000 }, async (t) => {
  const rig = new Rig({ rate: 0 });
  t.after(() => rig.dispose());
  const from = join(rig.downloadDir, 'here');
  const folder = join(from, 'many');
  mkdirSync(folder, { recursive: true });
  for (let i = 0; i < FILES; i++) writeFileSync(join(folder, `f${String(i).padStart(4, '0')}.bin`), randomBytes(1500 + (i % 7)));
  const made = await createTorrent(folder, { pieceLength: 16384 });
  const ih = made.metainfo.infoHashHex;
  await rig.start();
  const form = new FormData();
  form.append('savePath', from);
  form.append('torrent', new Blob([Buffer.from(made.torrent)]), 'many.torrent');
  await rig.json('/api/torrents', { method: 'POST', body: form });
  const detail = () => rig.json<{ state: string; savePath: string; verifiedPieces: number; pieceCount: number }>(`/api/torrents/${ih}`);
  const end = Date.now() + 60_000;
  while ((await detail()).state !== 'seeding') {
    assert.ok(Date.now() < end, 'the torrent never seeded its data');
    await sleep(200);
  }

  // The move, killed once some files (not all) are in the new folder.
  const to = join(rig.downloadDir, 'there');
  const moving = rig.api(`/api/torrents/${ih}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ savePath: to }) }).catch(() => undefined);
  const movedSoFar = () => (existsSync(join(to, 'many')) ? readdirSync(join(to, 'many')).length : 0);
  while (movedSoFar() < 50) await sleep(2);
  await rig.kill();
  await moving;
  const split = movedSoFar();
  assert.ok(split > 0 && split < FILES, `the kill landed inside the move (${split} of ${FILES} files moved)`);
  assert.equal(rig.integrity(), 'ok');

  await rig.start();
  let d = await detail();
  const until = Date.now() + 60_000;
  // Loaded (and checked, should its files look changed) in the background after the node serves.
  while (d.state !== 'seeding' && Date.now() < until) (await sleep(200), (d = await detail()));
  assert.ok(d.savePath === from || d.savePath === to, d.savePath);
  const elsewhere = d.savePath === from ? to : from;
  const here = existsSync(join(d.savePath, 'many')) ? readdirSync(join(d.savePath, 'many')).length : 0;
  const there = existsSync(join(elsewhere, 'many')) ? readdirSync(join(elsewhere, 'many')).length : 0;
  assert.deepEqual({ here, there }, { here: FILES, there: 0 }, `every file where the node says (${d.savePath}), none left in ${elsewhere}`);
  // No peer exists: seeding means every piece was found on disk, none left to fetch again.
  assert.equal(d.state, 'seeding');
  assert.equal(d.verifiedPieces, d.pieceCount, 'nothing to download again');
});

test('a private share killed halfway through a move: its plaintext too is whole in exactly one place', { timeout: 180_000 }, async (t) => {
  const rig = new Rig({ rate: 0 });
  t.after(() => rig.dispose());
  await rig.start();
  // A share by link of 800 small files, made by the node itself: it keeps the plaintext (the
  // sharer's original) beside the ciphertext, and moves it file by file before the ciphertext.
  const form = new FormData();
  form.append('encrypt', 'true');
  for (let i = 0; i < 800; i++) form.append('file', new Blob([randomBytes(900 + (i % 5))]), `p${String(i).padStart(3, '0')}.bin`);
  const share = await rig.json<{ infoHash: string }>('/api/torrents', { method: 'POST', body: form });
  const detail = () => rig.json<{ state: string; savePath: string; name: string; files: { path: string; progress: number }[] }>(`/api/torrents/${share.infoHash}`);
  let d = await detail();
  const end = Date.now() + 60_000;
  while (d.state !== 'seeding' && Date.now() < end) (await sleep(200), (d = await detail()));
  const from = d.savePath;
  const plainIn = (dir: string) => (existsSync(join(dir, d.name)) ? readdirSync(join(dir, d.name), { recursive: true }).filter((n) => String(n).endsWith('.bin')).length : 0);
  assert.equal(plainIn(from), 800, `the plaintext is in ${from}/${d.name}`);

  const to = join(rig.downloadDir, 'moved');
  const moving = rig.api(`/api/torrents/${share.infoHash}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ savePath: to }) }).catch(() => undefined);
  while (plainIn(to) < 30) await sleep(2);
  await rig.kill();
  await moving;
  const split = plainIn(to);
  assert.ok(split > 0 && split < 800, `the kill landed inside the move (${split} of 800 plaintext files moved)`);

  await rig.start();
  const after = await detail();
  assert.ok(after.savePath === from || after.savePath === to, after.savePath);
  const other = after.savePath === from ? to : from;
  assert.deepEqual({ here: plainIn(after.savePath), there: plainIn(other) }, { here: 800, there: 0 }, `the plaintext where the node says (${after.savePath}), none left in ${other}`);
});

test('a SIGKILL halfway through a rename of a folder: the files keep the names the node has for them', { timeout: 180_000 }, async (t) => {
  const rig = new Rig({ rate: 0 });
  t.after(() => rig.dispose());
  const save = join(rig.downloadDir, 'r');
  mkdirSync(join(save, 'many', 'd'), { recursive: true });
  for (let i = 0; i < FILES; i++) writeFileSync(join(save, 'many', 'd', `f${String(i).padStart(4, '0')}.bin`), randomBytes(1500 + (i % 7)));
  const made = await createTorrent(join(save, 'many'), { pieceLength: 16384 });
  const ih = made.metainfo.infoHashHex;
  await rig.start();
  const form = new FormData();
  form.append('savePath', save);
  form.append('torrent', new Blob([Buffer.from(made.torrent)]), 'many.torrent');
  await rig.json('/api/torrents', { method: 'POST', body: form });
  const detail = () => rig.json<{ state: string; verifiedPieces: number; pieceCount: number; files: { path: string }[] }>(`/api/torrents/${ih}`);
  const end = Date.now() + 60_000;
  while ((await detail()).state !== 'seeding') (assert.ok(Date.now() < end, 'seeding'), await sleep(200));

  // qBittorrent's renameFolder, as a remote would: every file below d/ is renamed, one by one.
  const login = await rig.api('/api/v2/auth/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `username=a&password=${rig.token}` });
  const sid = /SID=[^;]+/.exec(login.headers.get('set-cookie') ?? '')![0];
  const renaming = rig.api('/api/v2/torrents/renameFolder', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: sid }, body: `hash=${ih}&oldPath=many/d&newPath=many/e` }).catch(() => undefined);
  const renamed = () => (existsSync(join(save, 'many', 'e')) ? readdirSync(join(save, 'many', 'e')).length : 0);
  while (renamed() < 50) await sleep(2);
  await rig.kill();
  await renaming;
  assert.ok(renamed() > 0 && renamed() < FILES, `the kill landed inside the rename (${renamed()} of ${FILES})`);

  await rig.start();
  let d = await detail();
  const until = Date.now() + 60_000;
  while (d.state !== 'seeding' && Date.now() < until) (await sleep(200), (d = await detail()));
  const dirs = new Set(d.files.map((f) => f.path.split('/')[0]));
  assert.equal(dirs.size, 1, `one name for the folder: ${[...dirs].join(', ')}`);
  const [kept] = [...dirs];
  const other = kept === 'd' ? 'e' : 'd';
  const count = (n: string) => (existsSync(join(save, 'many', n)) ? readdirSync(join(save, 'many', n)).length : 0);
  assert.deepEqual({ [kept!]: count(kept!), [other]: count(other) }, { [kept!]: FILES, [other]: 0 }, 'every file under the name the node has');
  assert.equal(d.state, 'seeding');
  assert.equal(d.verifiedPieces, d.pieceCount, 'nothing to download again');
});
