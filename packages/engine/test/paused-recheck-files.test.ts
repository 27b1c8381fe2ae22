// A paused torrent holds no open files (torrent.ts pause()), also after a recheck: the check opens
// its files to hash them and must close them again. Before, each paused torrent rechecked kept a
// descriptor per file until it was resumed or removed (issue 63: bench/soak's descriptors grew).
// Nor does a seed with nobody connected that only waits to dial a peer again (a dead address from
// the DHT or a tracker, backed off for up to 5 minutes): before, it held its files for as long as it
// knew such a peer, which with the DHT on was for ever.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Session, createTorrent } from '../index.ts';
import { tmpDir, whenDone } from './session-helpers.ts';

/** This process's descriptors open on files under `dir`. */
function openUnder(dir: string): string[] {
  return readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      return target.startsWith(dir) ? [target] : [];
    } catch {
      return [];
    }
  });
}

/** The close is not awaited by pause(): give it a moment (at most 5 s). */
async function settled(dir: string): Promise<string[]> {
  for (let i = 0; i < 50 && openUnder(dir).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  return openUnder(dir);
}

test('a paused torrent rechecked verifies its data and closes its files again', async (t) => {
  const root = await tmpDir(t);
  const src = path.join(root, 'pack');
  await fs.mkdir(src, { recursive: true });
  await fs.writeFile(path.join(src, 'a.bin'), randomBytes(300_000));
  await fs.writeFile(path.join(src, 'b.bin'), randomBytes(200_000));
  const { torrent } = await createTorrent(src, { pieceLength: 64 * 1024 });
  const session = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false });
  t.after(() => session.close());
  const h = await session.add(torrent, { savePath: root });
  await whenDone(h);
  await h.pause();
  assert.deepEqual(await settled(src), [], 'paused: no open file');
  await h.recheck();
  assert.equal(h.state, 'paused');
  assert.equal(h.stats().progress, 1, 'the recheck found every piece');
  assert.deepEqual(await settled(src), [], 'still paused after the recheck: its files are closed again');
});

test('a seed with nobody connected, only waiting to redial a dead peer, closes its files', async (t) => {
  const root = await tmpDir(t);
  const src = path.join(root, 'pack');
  await fs.mkdir(src, { recursive: true });
  await fs.writeFile(path.join(src, 'c.bin'), randomBytes(300_000));
  const { torrent } = await createTorrent(src, { pieceLength: 64 * 1024 });
  const session = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false });
  t.after(() => session.close());
  const h = await session.add(torrent, { savePath: root });
  await whenDone(h);
  h.addPeer('127.0.0.1:1'); // nobody listens there: the dial fails and is tried again later
  await h.recheck(); // the check opens the files
  assert.equal(h.stats().progress, 1);
  assert.deepEqual(await settled(src), [], 'nothing connected, a redial minutes away: no open file');
});

test('a torrent added paused, never checked, is checked by a recheck: its data found, it stays paused', async (t) => {
  // Add paused, then recheck: how a user seeds data already on disk (cross-seeding). Before, the
  // recheck of a torrent that had never looked at its disk did nothing: it stayed at 0%.
  const root = await tmpDir(t);
  const src = path.join(root, 'pack');
  await fs.mkdir(src, { recursive: true });
  await fs.writeFile(path.join(src, 'a.bin'), randomBytes(300_000));
  const { torrent } = await createTorrent(src, { pieceLength: 64 * 1024 });
  const session = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false });
  t.after(() => session.close());
  const h = await session.add(torrent, { savePath: root, paused: true });
  assert.equal(h.stats().progress, 0, 'added paused: not looked at');
  await h.recheck();
  assert.equal(h.state, 'paused');
  assert.equal(h.stats().progress, 1, 'the recheck found every piece');
  assert.deepEqual(await settled(src), [], 'its files closed again');
});
