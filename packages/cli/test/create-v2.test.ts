// `cascade create <path> [--v2 | --hybrid] [--piece-length N] [--json]`, run as a user runs it
// (bin/cascade.js): the --json contract of issue 15, infohashes equal to libtorrent's for the same
// folder, content ids that are the CIDv1 of each file's SHA-256, and the human form.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cidFromSha256, sha256FromCid } from '@cascade/content';
import { tempDir } from './helpers.ts';

const BIN = join(import.meta.dirname, '../bin/cascade.js');

async function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CASCADE_HOME: '/nonexistent-cascade-home' } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

const LT = `
import json, sys, libtorrent as lt
fs = lt.file_storage()
lt.add_files(fs, sys.argv[1])
t = lt.create_torrent(fs, int(sys.argv[3]), flags=lt.create_torrent.v2_only if sys.argv[4] == 'v2' else 0)
lt.set_piece_hashes(t, sys.argv[2])
ti = lt.torrent_info(t.generate())
ih = ti.info_hashes()
print(json.dumps({'v1': str(ih.v1) if ih.has_v1() else None, 'v2': str(ih.v2), 'magnet': lt.make_magnet_uri(ti)}))
`;

function libtorrent(path: string, parent: string, pieceLength: number, version: 'v2' | 'hybrid') {
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', LT, path, parent, String(pieceLength), version], { encoding: 'utf8' }));
}

test('cascade create --hybrid/--v2 --json: the contract, libtorrent\'s infohashes, content ids', async (t) => {
  const root = tempDir(t);
  const album = join(root, 'album');
  mkdirSync(join(album, 'disc 2'), { recursive: true });
  const contents: Record<string, Buffer> = {
    'cover.jpg': randomBytes(70_001),
    'disc 2/track.flac': randomBytes(200_000),
    'empty.txt': Buffer.alloc(0),
    'notes.txt': randomBytes(5),
  };
  for (const [rel, bytes] of Object.entries(contents)) writeFileSync(join(album, rel), bytes);

  for (const version of ['hybrid', 'v2'] as const) {
    const out = join(root, `${version}.torrent`);
    const made = await run(['create', album, `--${version}`, '--piece-length', '32768', '-o', out, '--json']);
    assert.equal(made.code, 0, made.stderr);
    const lines = made.stdout.trim().split('\n');
    assert.equal(lines.length, 1, 'one JSON line');
    const json = JSON.parse(lines[0]!);
    assert.deepEqual(Object.keys(json), ['magnet', 'infoHash', 'infoHashV2', 'files']);

    const lt = libtorrent(album, root, 32768, version);
    assert.equal(json.infoHashV2, lt.v2, `${version}: v2 infohash as libtorrent's`);
    assert.equal(json.infoHash, version === 'hybrid' ? lt.v1 : null, `${version}: v1 infohash`);
    assert.equal(json.magnet, lt.magnet, `${version}: magnet as libtorrent's`);
    assert.match(json.infoHashV2, /^[0-9a-f]{64}$/);

    // Pad files are not listed; paths are '/'-joined below the torrent's folder, in file tree order.
    assert.deepEqual(json.files.map((f: { path: string }) => f.path), ['cover.jpg', 'disc 2/track.flac', 'empty.txt', 'notes.txt']);
    for (const f of json.files as { path: string; length: number; cid: string }[]) {
      const bytes = contents[f.path]!;
      assert.equal(f.length, bytes.length, f.path);
      const digest = createHash('sha256').update(bytes).digest();
      assert.equal(f.cid, cidFromSha256(digest), f.path);
      assert.deepEqual(Buffer.from(sha256FromCid(f.cid)), digest);
      assert.match(f.cid, /^b[a-z2-7]+$/, 'a base32 CIDv1');
    }
    assert.ok(readFileSync(out).length > 0);
  }
});

test('cascade create: v1 by default, content ids on stderr in human mode, bad combinations refused', async (t) => {
  const root = tempDir(t);
  const file = join(root, 'song.ogg');
  const bytes = randomBytes(40_000);
  writeFileSync(file, bytes);

  const json = await run(['create', file, '-o', join(root, 'v1.torrent'), '--json']);
  assert.equal(json.code, 0, json.stderr);
  const made = JSON.parse(json.stdout);
  assert.match(made.infoHash, /^[0-9a-f]{40}$/);
  assert.equal(made.infoHashV2, null);
  assert.match(made.magnet, /^magnet:\?xt=urn:btih:[0-9a-f]{40}&dn=song\.ogg$/);
  const cid = cidFromSha256(createHash('sha256').update(bytes).digest());
  assert.deepEqual(made.files, [{ path: 'song.ogg', length: 40_000, cid }]);

  const human = await run(['create', file, '--hybrid', '-o', join(root, 'h.torrent')]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /^magnet:\?xt=urn:btih:[0-9a-f]{40}&xt=urn:btmh:1220[0-9a-f]{64}&dn=song\.ogg\n$/, 'stdout is the magnet alone');
  assert.ok(human.stderr.includes(`${cid}  song.ogg`), human.stderr);
  assert.match(human.stderr, /v2 infohash [0-9a-f]{64}/);

  const both = await run(['create', file, '--v2', '--hybrid']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--v2 and --hybrid exclude each other/);
  const small = await run(['create', file, '--v2', '--piece-length', '8192', '-o', join(root, 's.torrent')]);
  assert.equal(small.code, 1);
  assert.match(small.stderr, /power of two of at least 16 KiB/);
});
