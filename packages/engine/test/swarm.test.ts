// Two in-process sessions trade a torrent over loopback TCP: single file, multi-file, magnet-only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes, createHash } from 'node:crypto';
import { Session, createTorrent, toMagnet, type TorrentHandle } from '../index.ts';

async function tmp(t: { after: (fn: () => unknown) => void }): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cascade-swarm-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

function done(h: TorrentHandle, ms = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out: ${JSON.stringify(h.stats())}`)), ms);
    if (h.stats().state === 'seeding') return clearTimeout(timer), resolve();
    h.once('done', () => (clearTimeout(timer), resolve()));
    h.once('error', (e: Error) => (clearTimeout(timer), reject(e)));
  });
}

const sha = async (p: string) => createHash('sha256').update(await fs.readFile(p)).digest('hex');

for (const mode of ['torrent', 'magnet'] as const) {
  test(`download a multi-file torrent from a seeder given the ${mode}`, async (t) => {
    const root = await tmp(t);
    const src = path.join(root, 'seed', 'pack');
    await fs.mkdir(path.join(src, 'sub'), { recursive: true });
    await fs.writeFile(path.join(src, 'a.bin'), randomBytes(1_000_003));
    await fs.writeFile(path.join(src, 'sub', 'b.bin'), randomBytes(777_777));
    await fs.writeFile(path.join(src, 'empty.txt'), '');
    const { torrent, metainfo } = await createTorrent(src, { pieceLength: 32 * 1024 });

    const seeder = await Session.create({ port: 0, host: '127.0.0.1', dht: false });
    const leecher = await Session.create({ port: 0, host: '127.0.0.1', dht: false });
    t.after(() => Promise.all([seeder.close(), leecher.close()]));
    const s = await seeder.add(torrent, { savePath: path.join(root, 'seed') });
    await done(s);
    const source = mode === 'torrent' ? torrent : toMagnet({ infoHashHex: metainfo.infoHashHex, name: metainfo.name });
    const l = await leecher.add(source, { savePath: path.join(root, 'out'), peers: [`127.0.0.1:${seeder.port}`] });
    await done(l);
    for (const f of ['a.bin', 'sub/b.bin']) {
      assert.equal(await sha(path.join(root, 'out', 'pack', f)), await sha(path.join(src, f)));
    }
    assert.equal(l.stats().progress, 1);
    assert.ok(s.stats().uploaded >= metainfo.length);
  });
}

test('wantedDone() says what stats().progress >= 1 says, at every verified piece of a partial selection', async (t) => {
  const root = await tmp(t);
  const src = path.join(root, 'seed', 'pack');
  await fs.mkdir(src, { recursive: true });
  await fs.writeFile(path.join(src, 'a.bin'), randomBytes(600_000));
  await fs.writeFile(path.join(src, 'b.bin'), randomBytes(300_000));
  const { torrent, metainfo } = await createTorrent(src, { pieceLength: 32 * 1024 });
  const seeder = await Session.create({ port: 0, host: '127.0.0.1', dht: false });
  const leecher = await Session.create({ port: 0, host: '127.0.0.1', dht: false });
  t.after(() => Promise.all([seeder.close(), leecher.close()]));
  await done(await seeder.add(torrent, { savePath: path.join(root, 'seed') }));
  const l = await leecher.add(toMagnet({ infoHashHex: metainfo.infoHashHex, name: metainfo.name }), { savePath: path.join(root, 'out') });
  assert.equal(l.wantedDone?.(), false, 'no metadata yet: nothing is done');
  l.once('metadata', () => l.selectFiles([1])); // b.bin only
  const seen: [boolean, boolean][] = [];
  l.on('verified', () => seen.push([l.wantedDone!(), l.stats().progress >= 1]));
  l.addPeer(`127.0.0.1:${seeder.port}`);
  await done(l);
  assert.ok(seen.length > 1);
  for (const [i, [fast, slow]] of seen.entries()) assert.equal(fast, slow, `verified piece #${i}`);
  assert.deepEqual(seen.at(-1), [true, true]);
  assert.ok(l.stats().verifiedPieces < metainfo.pieceCount, 'a.bin was not downloaded');
});
