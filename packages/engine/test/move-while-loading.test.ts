// A move asked for while a torrent is still loading (issue 63, the 200-kill crash run's kill 47: a
// node restarted and was at once told to move a torrent). Loading reads the resume data and stats
// the files; a move that ran in between took the files away from under that look, which then found
// their pieces missing (or no storage at all) and the torrent fetched them again. The move now waits
// for the look to end, then moves a torrent that has every piece. Staged with a resume store whose
// load waits until the move has been asked for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Session, createTorrent, type ResumeData } from '../index.ts';
import { assertSameBytes } from '../../../scripts/assert-bytes.ts';

const PIECE = 16 * 1024;

for (const held of ['resume data', 'file stats'] as const)
  test(`a move asked for while the torrent loads (its ${held} held) waits for the load, and keeps every piece`, async (t) => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'cascade-move-loading-'));
  t.after(() => fs.rm(root, { recursive: true, force: true }));
  const payload = randomBytes(24 * PIECE);
  await fs.mkdir(path.join(root, 'a'));
  await fs.writeFile(path.join(root, 'a', 'data.bin'), payload);
  const { torrent } = await createTorrent(path.join(root, 'a', 'data.bin'), { pieceLength: PIECE });

  // A first run checks the file and saves resume data saying every piece is here.
  const saved = new Map<string, ResumeData>();
  const first = await Session.create({
    host: '127.0.0.1', dht: false, webrtc: false,
    resumeStore: { load: async () => undefined, save: async (ih, data) => void saved.set(ih, data), delete: async () => {} },
  });
  const h1 = await first.add(torrent, { savePath: path.join(root, 'a') });
  for (let i = 0; h1.stats().progress < 1 && i < 200; i++) await new Promise((r) => setTimeout(r, 25));
  await first.close();
  assert.equal(saved.size, 1, 'resume data saved by the first run');

  // The second run's load waits until the move has been asked for.
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let loads = 0;
  let stats = 0;
  const second = await Session.create({
    host: '127.0.0.1', dht: false, webrtc: false,
    // The first look at the files waits for the gate, then stats them as they are by then.
    storageFor: (_meta, _savePath, standard) => {
      const inner = standard();
      return {
        ...inner,
        writePiece: (i, d) => inner.writePiece(i, d),
        readPiece: (i, into) => inner.readPiece(i, into),
        close: () => inner.close(),
        destroy: () => inner.destroy(),
        fileStats: async (files) => {
          if (held === 'file stats' && stats++ === 0) {
            loads++;
            await gate;
          }
          return inner.fileStats!(files);
        },
      };
    },
    resumeStore: {
      load: async (ih) => {
        if (held === 'resume data') {
          loads++;
          await gate;
        }
        return saved.get(ih);
      },
      save: async (ih, data) => void saved.set(ih, data),
      delete: async () => {},
    },
  });
  t.after(() => second.close());
  // add() resolves once the torrent has loaded: the move is asked for through the session meanwhile,
  // as the node's API finds a torrent its library is still loading.
  const adding = second.add(torrent, { savePath: path.join(root, 'a') });
  for (let i = 0; loads === 0 && i < 200; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(loads, 1, 'the load is under way');
  const ih = [...saved.keys()][0]!;
  const h2 = second.get(ih);
  assert.ok(h2, 'the session knows the torrent while it loads');
  const moved = h2.move(path.join(root, 'b'));
  await new Promise((r) => setTimeout(r, 100));
  release();
  await adding;
  await moved;
  for (let i = 0; h2.stats().state !== 'seeding' && i < 200; i++) await new Promise((r) => setTimeout(r, 25));
  const s = h2.stats();
  assert.equal(s.state, 'seeding', `after the move: ${JSON.stringify({ state: s.state, progress: s.progress, verified: s.verifiedPieces })}`);
  assert.equal(s.verifiedPieces, 24, 'every piece kept');
  assert.equal(h2.savePath, path.join(root, 'b'));
  assertSameBytes(await fs.readFile(path.join(root, 'b', 'data.bin')), payload);
  await assert.rejects(fs.stat(path.join(root, 'a', 'data.bin')), 'nothing left behind');
});
