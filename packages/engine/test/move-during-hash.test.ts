// A piece whose hash comes back while a move takes the files away (issue 63, found by bench:crash
// --cluster): the move waits only for the writes already under way, so the piece was written to the
// old folder's storage after the move had begun (its file made again there once the others had
// left, the piece counted as held in the new folder, where it is not), or, once that storage was
// dropped, the write threw a TypeError nobody caught (an unhandled rejection: the parent fails so
// here). Now a piece hashed while the torrent moves is not written: it is fetched again once moved.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Session, createTorrent, type TorrentHandle } from '../index.ts';

interface Hasher { sha256(data: Uint8Array): Promise<Uint8Array> }
interface Inside { moving: boolean; storage: { writePiece(index: number, data: Uint8Array): Promise<void> } | undefined }

test('a piece hashed while its torrent moves is not written to the old folder; the copy is whole where it went', { timeout: 60_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'cascade-move-hash-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const data = randomBytes(1024 * 1024);
  mkdirSync(join(root, 'seed'));
  writeFileSync(join(root, 'seed', 'one.bin'), data);
  // Hybrid: a piece's merkle check is hashed apart (the SHA-1 of blocks that come in order is done as
  // they come), so its hash comes back later, as a v1 piece's does when its blocks come out of order
  // from several peers (a cluster's copy filling from the seeder and another member).
  const { torrent } = await createTorrent(join(root, 'seed', 'one.bin'), { pieceLength: 64 * 1024, version: 'hybrid' });
  const seeder = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false });
  const leecher = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false });
  t.after(() => Promise.all([seeder.close(), leecher.close()]));
  await seeder.add(torrent, { savePath: join(root, 'seed') });

  // The leecher's merkle hashes held at a gate once armed: the first piece to come waits there.
  const hasher = (leecher as unknown as { hasher: Hasher }).hasher;
  const sha256 = hasher.sha256.bind(hasher);
  let gate: Promise<void> | undefined;
  let held: (() => void) | undefined;
  const reached = Promise.withResolvers<void>();
  hasher.sha256 = async (d) => {
    const r = await sha256(d);
    if (gate) (reached.resolve(), await gate);
    return r;
  };
  gate = new Promise<void>((r) => (held = r));
  const h: TorrentHandle = await leecher.add(torrent, { savePath: join(root, 'old'), peers: [`127.0.0.1:${seeder.port}`] });
  await reached.promise;

  // The move begins with that piece still being hashed; the hash comes back while it runs.
  const inside = h as unknown as Inside;
  const writesWhileMoving: number[] = [];
  const storage = inside.storage!;
  const writePiece = storage.writePiece.bind(storage);
  storage.writePiece = (index, d) => (inside.moving && writesWhileMoving.push(index), writePiece(index, d));
  const moving = h.move(join(root, 'new'));
  while (!inside.moving) await new Promise((r) => setImmediate(r));
  gate = undefined;
  held!();
  await moving;
  assert.deepEqual(writesWhileMoving, [], 'nothing written to the old folder once the move began');

  const end = Date.now() + 30_000;
  while (h.stats().progress < 1) {
    assert.ok(Date.now() < end, `the download completes after the move (${h.stats().progress})`);
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(readFileSync(join(root, 'new', 'one.bin')).equals(data), 'whole where it went');
  assert.equal(existsSync(join(root, 'old', 'one.bin')), false, 'nothing left in the old folder');
});
