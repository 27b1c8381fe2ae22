// A torrent removed with its data while it moves (issue 63, found by bench:crash --cluster: a surplus
// copy trimmed 70 ms after a move asked through another member): the removal deleted the files where
// the torrent was recorded before the move, which the move had already emptied, and the move then
// finished into the new folder: the moved files stayed for good, of a torrent no longer there. Now a
// removal waits for the move and deletes the data where it went.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Session, createTorrent } from '../index.ts';

test('a torrent removed with its data while it moves: nothing of it stays, in either folder', { timeout: 60_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'cascade-remove-move-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'a', 'pack', 'sub'), { recursive: true });
  for (const [name, size] of [['one.bin', 300_001], ['sub/two.bin', 200_003]] as const) writeFileSync(join(root, 'a', 'pack', name), randomBytes(size));
  const { torrent } = await createTorrent(join(root, 'a', 'pack'), { pieceLength: 16 * 1024 });
  // The move's files go, then it waits here (its new save path not yet the torrent's).
  let moved!: () => void;
  let letGo!: () => void;
  const filesMoved = new Promise<void>((r) => (moved = r));
  const gate = new Promise<void>((r) => (letGo = r));
  const session = await Session.create({
    host: '127.0.0.1',
    dht: false,
    webrtc: false,
    moveData: async (_meta, _from, _to, standard) => {
      await standard();
      moved();
      await gate;
    },
  });
  t.after(() => session.close());
  const h = await session.add(torrent, { savePath: join(root, 'a') });
  while (h.stats().progress < 1) await new Promise((r) => setTimeout(r, 20));

  const moving = h.move(join(root, 'b'));
  await filesMoved;
  const removing = session.remove(h.infoHashHex, { deleteData: true });
  await new Promise((r) => setTimeout(r, 50));
  letGo();
  await Promise.allSettled([moving]);
  await removing;
  for (const dir of ['a', 'b']) {
    for (const name of ['one.bin', 'sub/two.bin']) assert.equal(existsSync(join(root, dir, 'pack', name)), false, `${dir}/pack/${name} deleted`);
  }
});
