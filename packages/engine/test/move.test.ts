// torrent.move(newSavePath) (issue 20, "where to save"): the data moves (rename on one file
// system, copy + delete across, here /tmp → /dev/shm), the torrent keeps its verified pieces and
// resume data and seeds from the new place; a move that cannot happen rejects with a clear Error
// and leaves everything where it was, still seeding.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes, createHash } from 'node:crypto';
import { Session, createTorrent, type ResumeData, type ResumeStore } from '../index.ts';
import { tmpDir, whenDone } from './session-helpers.ts';

const sha = async (p: string) => createHash('sha256').update(await fs.readFile(p)).digest('hex');
const FILES = ['a.bin', 'sub/b.bin', 'empty.txt'];

function memoryResume(): ResumeStore & { saved: Map<string, ResumeData> } {
  const saved = new Map<string, ResumeData>();
  return {
    saved,
    load: async (h) => saved.get(h),
    save: async (h, d) => void saved.set(h, d),
    delete: async (h) => void saved.delete(h),
  };
}

async function seeded(t: { after: (fn: () => unknown) => void }) {
  const root = await tmpDir(t);
  const src = path.join(root, 'seed', 'pack');
  await fs.mkdir(path.join(src, 'sub'), { recursive: true });
  await fs.writeFile(path.join(src, 'a.bin'), randomBytes(1_500_001));
  await fs.writeFile(path.join(src, 'sub', 'b.bin'), randomBytes(600_000));
  await fs.writeFile(path.join(src, 'empty.txt'), '');
  const sums = Object.fromEntries(await Promise.all(FILES.map(async (f) => [f, await sha(path.join(src, f))])));
  const { torrent, metainfo } = await createTorrent(src, { pieceLength: 64 * 1024 });
  const resume = memoryResume();
  const seeder = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false, resumeStore: resume });
  t.after(() => seeder.close());
  const s = await seeder.add(torrent, { savePath: path.join(root, 'seed') });
  await whenDone(s);
  return { root, src, sums, torrent, metainfo, seeder, s, resume };
}

async function downloadFrom(t: { after: (fn: () => unknown) => void }, torrent: Uint8Array, port: number, sums: Record<string, string>) {
  const out = await tmpDir(t);
  const leecher = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false });
  t.after(() => leecher.close());
  const l = await leecher.add(torrent, { savePath: out, peers: [`127.0.0.1:${port}`] });
  await whenDone(l);
  for (const f of FILES) assert.equal(await sha(path.join(out, 'pack', f)), sums[f], f);
  await leecher.close();
}

for (const where of ['the same file system', 'another file system (/dev/shm)'] as const) {
  test(`move while seeding to ${where}: files moved intact, pieces kept, a downloader still gets the data`, async (t) => {
    const { root, src, sums, torrent, metainfo, seeder, s, resume } = await seeded(t);
    const target = where === 'the same file system' ? path.join(root, 'moved', 'deeper') : path.join(await tmpDir(t, '/dev/shm'), 'moved');
    const pieces = s.stats().verifiedPieces;
    await s.move(target);
    assert.equal(s.savePath, target);
    for (const f of FILES) assert.equal(await sha(path.join(target, 'pack', f)), sums[f], `${f} at the new place`);
    await assert.rejects(fs.stat(src), { code: 'ENOENT' }, 'nothing left at the old place');
    assert.equal(s.stats().state, 'seeding');
    assert.equal(s.stats().verifiedPieces, pieces, 'verified pieces kept, nothing rechecked');
    assert.equal(resume.saved.get(metainfo.infoHashHex)?.have.length, Math.ceil(metainfo.pieceCount / 8), 'resume data kept');
    await downloadFrom(t, torrent, seeder.port, sums);

    // A restart from the new place trusts its resume data (sizes and mtimes kept by the move).
    await seeder.remove(metainfo.infoHashHex);
    const again = await seeder.add(torrent, { savePath: target });
    assert.equal(again.stats().state, 'seeding');
    assert.equal((again as unknown as { lastCheck: { hashed: number } }).lastCheck.hashed, 0, 'no piece hashed again');
  });
}

test('a move that cannot happen rejects with a clear error and loses nothing', async (t) => {
  const { root, src, sums, torrent, seeder, s } = await seeded(t);
  await fs.writeFile(path.join(root, 'a-file'), 'not a folder');
  await assert.rejects(s.move(path.join(root, 'a-file', 'sub')), (err: Error) => {
    assert.match(err.message, /^cannot move "pack" to .*a-file\/sub: /);
    return true;
  });
  // Files another torrent would write are refused before anything moves.
  const other = await fs.mkdir(path.join(root, 'taken', 'pack'), { recursive: true }).then(() => path.join(root, 'taken'));
  await fs.writeFile(path.join(other, 'pack', 'a.bin'), 'someone else');
  await assert.rejects(s.move(other), /already exists/);
  assert.equal(await fs.readFile(path.join(other, 'pack', 'a.bin'), 'utf8'), 'someone else', 'their file untouched');
  await assert.rejects(s.move(''), /move needs the path of a folder/);

  for (const f of FILES) assert.equal(await sha(path.join(src, f)), sums[f], `${f} still in place`);
  assert.equal(s.savePath, path.join(root, 'seed'));
  assert.equal(s.stats().state, 'seeding');
  await downloadFrom(t, torrent, seeder.port, sums);
});

test('a paused torrent moves and stays paused', async (t) => {
  const { root, sums, s } = await seeded(t);
  await s.pause();
  await s.move(path.join(root, 'elsewhere'));
  assert.equal(s.stats().state, 'paused');
  for (const f of FILES) assert.equal(await sha(path.join(root, 'elsewhere', 'pack', f)), sums[f]);
  await s.resume();
  assert.equal(s.stats().state, 'seeding');
});

test('move while downloading: the download carries on at the new place and completes intact', async (t) => {
  const { root, sums, torrent, seeder } = await seeded(t);
  const leecher = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false });
  t.after(() => leecher.close());
  leecher.setRateLimits({ download: 512 * 1024 }); // about 4 s for the 2.1 MB
  const l = await leecher.add(torrent, { savePath: path.join(root, 'first'), peers: [`127.0.0.1:${seeder.port}`] });
  while (l.stats().verifiedPieces < 5) await new Promise((r) => setTimeout(r, 20));
  const had = l.stats().verifiedPieces;
  await l.move(path.join(root, 'second'));
  assert.ok(l.stats().verifiedPieces >= had, 'verified pieces kept');
  assert.equal(l.stats().state, 'downloading');
  leecher.setRateLimits({ download: 0 });
  await whenDone(l);
  for (const f of FILES) assert.equal(await sha(path.join(root, 'second', 'pack', f)), sums[f], f);
  await assert.rejects(fs.stat(path.join(root, 'first', 'pack')), { code: 'ENOENT' });
});
