// Issue 20, defect 6: BEP 47 pad files. libtorrent (like qBittorrent) pads multi-file torrents so
// each file starts on a piece boundary; the padding is zeros nobody stores. A real libtorrent-made
// torrent with pad files is downloaded from libtorrent: every pad is marked, none is created on
// disk, none can be selected, the data checks out, and per-file indices stay the metainfo's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { Session, parseTorrent, bencode } from '../index.ts';
import { seedWithLibtorrent, whenDone } from './session-helpers.ts';

const sha = async (p: string) => createHash('sha256').update(await fs.readFile(p)).digest('hex');

/** A v1 torrent made by libtorrent with canonical_files: a pad after every file but the last. */
const MAKE_PADDED = `
import sys, libtorrent as lt
fs = lt.file_storage()
lt.add_files(fs, sys.argv[1])
ct = lt.create_torrent(fs, 32768, flags=lt.create_torrent.v1_only | lt.create_torrent.canonical_files)
lt.set_piece_hashes(ct, sys.argv[2])
open(sys.argv[3], 'wb').write(lt.bencode(ct.generate()))
`;

async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    out.push(path.relative(dir, path.join(e.parentPath, e.name)));
  }
  return out.sort();
}

test('a libtorrent torrent with pad files downloads from libtorrent: no pad on disk, data intact', async (t) => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'cascade-pad-'));
  t.after(() => fs.rm(root, { recursive: true, force: true }));
  const pack = path.join(root, 'seed', 'pack');
  await fs.mkdir(path.join(pack, 'sub'), { recursive: true });
  await fs.writeFile(path.join(pack, 'a.bin'), randomBytes(100_003));
  await fs.writeFile(path.join(pack, 'sub', 'b.bin'), randomBytes(70_001));
  await fs.writeFile(path.join(pack, 'c.txt'), randomBytes(5_000));
  const torrentFile = path.join(root, 'pack.torrent');
  const made = spawnSync('/usr/bin/python3', ['-c', MAKE_PADDED, pack, path.join(root, 'seed'), torrentFile], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  const bytes = await fs.readFile(torrentFile);
  const meta = parseTorrent(bytes);
  const pads = meta.files.flatMap((f, i) => (f.pad ? [i] : []));
  assert.ok(pads.length >= 2, `libtorrent added pad files: ${JSON.stringify(meta.files.map((f) => f.path.join('/')))}`);
  for (const i of pads) assert.equal(meta.files[i]!.path[0], '.pad');

  const port = await seedWithLibtorrent(t, torrentFile, path.join(root, 'seed'));
  const session = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false });
  t.after(() => session.close());
  const out = path.join(root, 'out');
  const h = await session.add(bytes, { savePath: out, peers: [`127.0.0.1:${port}`] });
  // Selecting only the pads selects nothing; selecting everything leaves them out.
  h.selectFiles(meta.files.map((_, i) => i));
  await whenDone(h);
  assert.deepEqual(await listTree(path.join(out, 'pack')), ['a.bin', 'c.txt', 'sub', 'sub/b.bin'], 'no .pad folder or pad file on disk');
  for (const f of ['a.bin', 'sub/b.bin', 'c.txt']) assert.equal(await sha(path.join(out, 'pack', f)), await sha(path.join(pack, f)), f);
  const progress = h.fileProgress();
  assert.equal(progress.length, meta.files.length, 'per-file progress keeps the metainfo indices');
  assert.ok(progress.every((p) => p === 1));
  assert.equal(h.stats().progress, 1);

  // A restart checks the data: pads are not missing files.
  await session.remove(meta.infoHashHex);
  const again = await session.add(bytes, { savePath: out });
  assert.equal(again.stats().state, 'seeding', 'the check found every piece without pad files on disk');
  assert.ok(!(await listTree(path.join(out, 'pack'))).some((p) => p.includes('.pad')));
});

test('pads are recognised by attr "p", by a .pad/ path, and by the old _____padding_file_ name', () => {
  const info = {
    name: 'x',
    'piece length': 16384,
    pieces: new Uint8Array(40),
    files: [
      { length: 100, path: ['a'] },
      { length: 16284, path: ['.pad', '16284'] },
      { length: 100, path: ['b'] },
      { length: 16184, path: ['_____padding_file_0_'] },
      { length: 1, path: ['c'], attr: 'p' },
    ],
  };
  const m = parseTorrent(bencode({ info }));
  assert.deepEqual(m.files.map((f) => f.pad ?? false), [false, true, false, true, true]);
});
