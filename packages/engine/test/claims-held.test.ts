// claimsHeld: what a resume record's claims still hold on disk before the torrent checks its data
// (a paused torrent is listed by them; packages/node's unchecked-claims.ts). Two files, a piece
// across both: a file gone, changed or short drops exactly the claimed pieces touching it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createTorrent, parseTorrent, Bitfield } from '../index.ts';
import { claimsHeld, dataGone } from '../src/pieces/check.ts';
import { tmpDir } from './session-helpers.ts';

const pieces = (bytes: Uint8Array, n: number) => Array.from({ length: n }, (_, i) => new Bitfield(n, bytes).get(i) ? 1 : 0).join('');

/** Two files, 300,000 and 200,000 bytes, in pieces of 64 KiB: 8 pieces, piece 4 holds a's end and b's start. */
async function twoFiles(t: Parameters<typeof tmpDir>[0]) {
  const root = await tmpDir(t);
  const src = path.join(root, 'pack');
  await fs.mkdir(src, { recursive: true });
  await fs.writeFile(path.join(src, 'a.bin'), randomBytes(300_000));
  await fs.writeFile(path.join(src, 'b.bin'), randomBytes(200_000));
  const meta = parseTorrent((await createTorrent(src, { pieceLength: 64 * 1024 })).torrent);
  const file = (name: string) => meta.files.findIndex((f) => f.path.at(-1) === name);
  return { meta, n: meta.pieceCount, a: file('a.bin'), b: file('b.bin') };
}

test('claims held against the files: gone, changed and short files drop the pieces touching them', async (t) => {
  const { meta, n, a, b } = await twoFiles(t);
  assert.equal(n, 8);
  const all = new Bitfield(n);
  for (let i = 0; i < n; i++) if (i !== 6) all.set(i); // piece 6 never verified
  const saved = meta.files.map((f) => ({ length: f.length, mtimeMs: 1000 }));
  const stats = (patch: Record<number, { length: number; mtimeMs: number } | undefined>) => meta.files.map((f, i) => (i in patch ? patch[i] : { length: f.length, mtimeMs: 1000 }));

  const asSaved = claimsHeld(meta, all.bytes, stats({}), saved);
  assert.equal(pieces(asSaved.have, n), '11111101', 'every file as saved: the claims stand');
  assert.deepEqual(asSaved.files, []);
  assert.deepEqual(asSaved.missing, []);

  const bGone = claimsHeld(meta, all.bytes, stats({ [b]: undefined }), saved);
  assert.equal(pieces(bGone.have, n), '11110000', 'b gone: the pieces touching it (4-7)');
  assert.deepEqual(bGone.files, [b]);
  assert.deepEqual(bGone.missing, [b], 'b gone with data in it: missing');
  // Gone again after its claims were dropped (the record narrowed, its stat kept): still missing.
  assert.deepEqual(claimsHeld(meta, new Bitfield(n).bytes, stats({ [b]: undefined }), saved).missing, [b], 'missing with nothing claimed');
  // A file the record saw no data in (never written: saved as absent, length 0) is not missing.
  const neverWritten = saved.map((f, i) => (i === b ? { length: 0, mtimeMs: 0 } : f));
  assert.deepEqual(claimsHeld(meta, all.bytes, stats({ [b]: undefined }), neverWritten).missing, [], 'never written: not missing');

  const aChanged = claimsHeld(meta, all.bytes, stats({ [a]: { length: 300_000, mtimeMs: 2000 } }), saved);
  assert.equal(pieces(aChanged.have, n), '00000101', 'a written since (another mtime): pieces 0-4');
  assert.deepEqual(aChanged.files, [a]);
  assert.deepEqual(aChanged.missing, [], 'changed, not gone');

  // A record without file stats (older) cannot tell a change: only a file too short drops pieces.
  const aShort = claimsHeld(meta, all.bytes, stats({ [a]: { length: 100_000, mtimeMs: 5 } }), undefined);
  assert.equal(pieces(aShort.have, n), '10000101', 'a cut to 100,000 bytes: pieces 1-4 reach past its end, piece 0 does not');
  assert.deepEqual(aShort.files, [a]);
});

test('data gone: every file the record saw data in is absent (a drive not mounted), not some', async (t) => {
  const { meta, n, a, b } = await twoFiles(t);
  const all = new Bitfield(n);
  for (let i = 0; i < n; i++) all.set(i);
  const files = meta.files.map((f) => ({ length: f.length, mtimeMs: 1000 }));
  const stat = { length: 1, mtimeMs: 1 };
  const stats = (present: number[]) => meta.files.map((_, i) => (present.includes(i) ? stat : undefined));
  assert.deepEqual(dataGone(meta, { have: all.bytes, files }, stats([])), [a, b].sort(), 'both gone');
  assert.deepEqual(dataGone(meta, { have: all.bytes, files }, stats([a])), [], 'a is there: a file deleted by hand, fetched again');
  const bNeverWritten = files.map((f, i) => (i === b ? { length: 0, mtimeMs: 0 } : f));
  assert.deepEqual(dataGone(meta, { have: all.bytes, files: bNeverWritten }, stats([])), [a], 'b never had data: a is all it had');
  // Narrowed while it waited (the claims in the missing files dropped): the sizes still say.
  assert.deepEqual(dataGone(meta, { have: new Bitfield(n).bytes, files: files.map((f) => ({ ...f, mtimeMs: -1 })) }, stats([])), [a, b].sort(), 'narrowed: still gone');
  assert.deepEqual(dataGone(meta, { have: all.bytes, files: files.map(() => ({ length: 0, mtimeMs: 0 })) }, stats([])), [], 'no data was ever written');
  assert.deepEqual(dataGone(meta, { have: all.bytes }, stats([])), [], 'a record without file stats cannot tell');
});
