// A torrent removed with its data saves no resume data on its way out (issue 63, found by bench:crash
// --cluster). The node removes the torrent's rows first, then the engine's torrent with its files;
// a save made by that close (a piece verified just before, its save not yet due) landed after the
// rows were gone: a resume row of no torrent, and its progress written on whatever holder row the
// member had by then for the torrent, a copy placed anew (a member's new copy reported complete).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Session, createTorrent } from '../index.ts';

test('a torrent removed with its data: no resume save once the removal began', { timeout: 60_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'cascade-remove-resume-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'seed'));
  writeFileSync(join(root, 'seed', 'one.bin'), randomBytes(64 * 16 * 1024));
  const { torrent } = await createTorrent(join(root, 'seed', 'one.bin'), { pieceLength: 16 * 1024 });
  const seeder = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false });
  const seeding = await seeder.add(torrent, { savePath: join(root, 'seed') });
  seeding.setRateLimits({ upload: 64 * 1024 });
  let removing = false;
  const savedWhileRemoving: number[] = [];
  const leecher = await Session.create({
    host: '127.0.0.1',
    dht: false,
    webrtc: false,
    resumeStore: {
      load: async () => undefined,
      save: async (_ih, data) => void (removing && savedWhileRemoving.push(data.have.length)),
      delete: async () => {},
    },
  });
  t.after(() => Promise.all([seeder.close(), leecher.close()]));
  const h = await leecher.add(torrent, { savePath: join(root, 'out'), peers: [`127.0.0.1:${seeder.port}`] });
  // At a piece's verification its save is due a second later: the removal comes before.
  await new Promise<void>((resolve) => h.once('verified', () => resolve()));
  removing = true;
  await leecher.remove(h.infoHashHex, { deleteData: true });
  await new Promise((r) => setTimeout(r, 1500));
  assert.deepEqual(savedWhileRemoving, [], 'no resume data saved by the removal or after it');
});
