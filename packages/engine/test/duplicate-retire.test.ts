// A second connection to a peer already sending us data (both ends dialled each other): both ends
// drop the same one, let go once the blocks asked for on it have crossed, so nothing is sent twice
// and the seeder's upload is exactly the payload (issue 44, item 7: a 300 KB torrent had counted
// 365–600 KB uploaded).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Session, createTorrent } from '../index.ts';
import { tmpDir, whenDone } from './session-helpers.ts';

const until = async (what: string, ok: () => boolean, ms = 20_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

test('a duplicate connection to a peer mid-transfer is dropped by both ends: every block is sent once', { timeout: 60_000 }, async (t) => {
  const root = await tmpDir(t);
  const size = 2 * 1024 * 1024;
  await fs.mkdir(path.join(root, 'seed'));
  await fs.writeFile(path.join(root, 'seed', 'data.bin'), randomBytes(size));
  const { torrent, metainfo } = await createTorrent(path.join(root, 'seed', 'data.bin'), { pieceLength: 32 * 1024 });
  // Both ends keep the connection dialled by the lower peer id. The seeder (higher id) dials
  // first; once data flows, the leecher (lower id) dials too, so the connection carrying the
  // transfer is the one both ends drop. (A seed with a peer dials no more: it must go first.)
  const id = (last: number) => Uint8Array.from([...new TextEncoder().encode('-CS0001-'), ...new Uint8Array(11), last]);
  const seeder = await Session.create({ port: 0, host: '127.0.0.1', dht: false, webrtc: false, peerId: id(9) });
  const leecher = await Session.create({ port: 0, host: '127.0.0.1', dht: false, webrtc: false, peerId: id(1) });
  t.after(() => Promise.all([seeder.close(), leecher.close()]));
  // Slow enough that a full pipeline of requests is in flight when the second connection comes.
  seeder.setRateLimits({ upload: 512 * 1024 });
  const s = await seeder.add(torrent, { savePath: path.join(root, 'seed') });
  await whenDone(s);
  const l = await leecher.add(torrent, { savePath: path.join(root, 'out') });
  s.addPeer(`127.0.0.1:${leecher.port}`);
  await until('the transfer to start', () => l.stats().downloaded >= 256 * 1024);
  l.addPeer(`127.0.0.1:${seeder.port}`);
  let both = false;
  await until('the second connection', () => (both ||= l.peers().length >= 2) || l.stats().progress === 1);
  await whenDone(l);
  assert.equal(l.stats().downloaded, metainfo.length, 'every block arrived once');
  assert.equal(s.stats().uploaded, metainfo.length, 'the seeder sent every block once');
  t.diagnostic(both ? 'two connections were seen at once' : 'the second connection was never listed beside the first');
  // Both connections stayed before (duplicateToDrop's second pass over a Map iterator found it
  // empty), and in the endgame every block was asked for on both: up to twice the payload sent.
  await until('one connection left', () => l.peers().length === 1 && s.peers().length === 1);
});
