// A torrent started while it moves (issue 63, found by bench:crash --cluster): a member back from a
// kill loads a copy paused, the queue starts it, and a move asked while it was down runs at once. The
// start's look at the disk made the torrent's storage in the folder the move was leaving; the move
// then found no piece map to make a new storage for, so the torrent went on writing into the old
// folder (a file made again there) while its save path named the new one: a removal then deleted the
// old folder's file and left the moved one. Now a start waits for the move and begins where the
// data went.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Session, createTorrent } from '../index.ts';

test('a torrent resumed while it moves starts where its data went; nothing is written in the old folder', { timeout: 60_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'cascade-start-move-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const PIECE = 16 * 1024;
  const data = randomBytes(64 * PIECE + 5);
  mkdirSync(join(root, 'seed'));
  writeFileSync(join(root, 'seed', 'one.bin'), data);
  const { torrent } = await createTorrent(join(root, 'seed', 'one.bin'), { pieceLength: PIECE });

  const seeder = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false });
  // The move waits at one gate; the start's look at the disk (its resume data read first) at another.
  const gate = () => {
    let open!: () => void;
    let reached!: () => void;
    const at = new Promise<void>((r) => (reached = r));
    return { wait: new Promise<void>((r) => (open = r)), open, reached, at };
  };
  const move = gate();
  // A look at the disk begun while the move runs is held until the move has ended.
  let movingNow = false;
  let moveEnded: Promise<unknown> = Promise.resolve();
  let lookedDuringMove = false;
  const leecher = await Session.create({
    host: '127.0.0.1',
    dht: false,
    webrtc: false,
    moveData: async (_meta, _from, _to, standard) => {
      movingNow = true;
      move.reached();
      await move.wait;
      await standard();
      movingNow = false;
    },
    resumeStore: {
      load: async () => {
        if (movingNow) (lookedDuringMove = true), await moveEnded.catch(() => {});
        return undefined;
      },
      save: async () => {},
      delete: async () => {},
    },
  });
  t.after(() => Promise.all([seeder.close(), leecher.close()]));
  await seeder.add(torrent, { savePath: join(root, 'seed') });

  const h = await leecher.add(torrent, { savePath: join(root, 'old'), paused: true, peers: [`127.0.0.1:${seeder.port}`] });
  const moved = h.move(join(root, 'new'));
  moveEnded = moved;
  await move.at;
  // The queue starts it while the move runs.
  const resumed = h.resume();
  await new Promise((r) => setTimeout(r, 100));
  move.open();
  await moved;
  await resumed;
  t.diagnostic(`a look at the disk began during the move: ${lookedDuringMove}`);

  const end = Date.now() + 30_000;
  while (h.stats().progress < 1) {
    assert.ok(Date.now() < end, `the download completes (${h.stats().progress}, ${h.stats().state})`);
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(h.savePath, join(root, 'new'));
  assert.ok(readFileSync(join(root, 'new', 'one.bin')).equals(data), 'whole where it went');
  assert.equal(existsSync(join(root, 'old', 'one.bin')), false, 'nothing written in the old folder');
});
