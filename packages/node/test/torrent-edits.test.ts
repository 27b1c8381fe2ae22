// What remotes change on a torrent (issue 45), done once in the node for every door: names stored
// and shown, files renamed on disk, trackers added / edited / removed and stored for the next load,
// bad input refused with NodeError; piece order claims (sequential, first/last, file priorities).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Session, createTorrent } from '@cascade/engine';
import { StateDB } from '@cascade/node-state';
import { NodeError } from '@cascade/node-state/errors';
import {
  addTrackers, checkPeerAddress, editTracker, pieceOrder, pieceStates, removeTrackers, renamePath, renameTorrentFolder, setDisplayName,
  setPieceOrder, setTrackerTiers, trackerTiers,
} from '../src/files/torrent-edits.ts';
import { tempDir } from './helpers.ts';

async function setup(t: { after: (fn: () => unknown) => void }) {
  const root = tempDir(t);
  const src = path.join(root, 'pack');
  await fs.mkdir(path.join(src, 'sub'), { recursive: true });
  await fs.writeFile(path.join(src, 'a.bin'), randomBytes(100_000));
  await fs.writeFile(path.join(src, 'sub', 'b.bin'), randomBytes(50_000));
  const { torrent } = await createTorrent(src, { pieceLength: 16 * 1024 });
  const db = await StateDB.open(path.join(root, 'state'));
  t.after(() => db.close());
  const session = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false });
  t.after(() => session.close());
  const h = await session.add(torrent, { savePath: root });
  await new Promise<void>((r) => (h.stats().state === 'seeding' ? r() : h.once('done', () => r())));
  await db.records.add({ infoHash: h.infoHashHex, name: 'pack', source: torrent, savePath: root, status: 'queued' });
  return { root, db, session, h, torrent, node: { db } };
}

const kind = (k: string) => (err: unknown) => err instanceof NodeError && err.kind === k;

test('names: shown name stored; files and folders renamed on disk, stored for the next load', async (t) => {
  const { root, db, session, h, torrent, node } = await setup(t);
  assert.equal(await setDisplayName(node, h.infoHashHex, '  My pack '), 'My pack');
  assert.equal(db.getTorrent(h.infoHashHex)!.displayName, 'My pack');
  await assert.rejects(setDisplayName(node, h.infoHashHex, 'a\nb'), kind('invalid'));
  await assert.rejects(setDisplayName(node, 'ff'.repeat(20), 'x'), kind('not-found'));

  await renamePath(node, h, 'sub', 'inner/deeper', 'folder');
  await renamePath(node, h, 'a.bin', 'a2.bin', 'file');
  await fs.stat(path.join(root, 'pack', 'inner', 'deeper', 'b.bin'));
  await fs.stat(path.join(root, 'pack', 'a2.bin'));
  await assert.rejects(renamePath(node, h, 'nope', 'x'), kind('invalid'));
  await assert.rejects(renamePath(node, h, 'a2.bin', 'x', 'folder'), kind('invalid'));
  await assert.rejects(renamePath(node, h, 'a2.bin', '../x'), kind('invalid'));
  await assert.rejects(renamePath(node, h, 'a2.bin', 'inner/deeper/b.bin'), kind('conflict'));
  await renameTorrentFolder(node, h, 'pack2');
  await fs.stat(path.join(root, 'pack2', 'a2.bin'));
  assert.deepEqual(db.getTorrent(h.infoHashHex)!.renamedFiles, { 0: ['a2.bin'], 1: ['inner', 'deeper', 'b.bin'], [-1]: ['pack2'] });

  // The next load finds the files where they are now: nothing to fetch.
  const pieces = h.stats().verifiedPieces;
  await session.remove(h.infoHashHex);
  const again = await session.add(torrent, { savePath: root, renamedFiles: db.getTorrent(h.infoHashHex)!.renamedFiles! });
  await new Promise<void>((r) => (again.stats().state === 'seeding' ? r() : again.once('done', () => r())));
  assert.equal(again.stats().verifiedPieces, pieces);
  assert.equal(again.stats().name, 'pack2');
});

test('trackers: added, edited, removed, stored; bad URLs and unknown ones refused', async (t) => {
  const { db, h, node } = await setup(t);
  await addTrackers(node, h, ['http://127.0.0.1:1/announce', 'udp://127.0.0.1:2', 'http://127.0.0.1:1/announce']);
  assert.deepEqual(trackerTiers(h), [['http://127.0.0.1:1/announce'], ['udp://127.0.0.1:2']]);
  await editTracker(node, h, 'udp://127.0.0.1:2', 'udp://127.0.0.1:3');
  await assert.rejects(editTracker(node, h, 'udp://127.0.0.1:9', 'udp://127.0.0.1:4'), kind('conflict'));
  await assert.rejects(editTracker(node, h, 'udp://127.0.0.1:3', 'http://127.0.0.1:1/announce'), kind('conflict'));
  await assert.rejects(addTrackers(node, h, ['ftp://x/']), kind('invalid'));
  await removeTrackers(node, h, ['http://127.0.0.1:1/announce']);
  await assert.rejects(removeTrackers(node, h, ['http://nope/']), kind('conflict'));
  assert.deepEqual(db.getTorrent(h.infoHashHex)!.trackerTiers, [['udp://127.0.0.1:3']]);
  await setTrackerTiers(node, h, [['http://a.example/announce', 'http://b.example/announce'], []]);
  assert.deepEqual(h.trackers().map((x) => x.url).sort(), ['http://a.example/announce', 'http://b.example/announce']);
  await assert.rejects(setTrackerTiers(node, h, 'http://x/'), kind('invalid'));
});

test('peers are checked; pieces and their order', async (t) => {
  const { h, node } = await setup(t);
  assert.equal(checkPeerAddress('127.0.0.1:6881'), '127.0.0.1:6881');
  assert.equal(checkPeerAddress('[::1]:6881'), '[::1]:6881');
  assert.throws(() => checkPeerAddress('127.0.0.1'), kind('invalid'));
  assert.throws(() => checkPeerAddress('127.0.0.1:70000'), kind('invalid'));
  const p = pieceStates(h);
  assert.equal(p.states.length, h.stats().pieceCount);
  assert.ok(p.states.every((s) => s === 2));
  await setPieceOrder(node, h, { sequential: true, firstLast: true, priorities: { files: [1], priority: 'high' } });
  assert.equal(pieceOrder(h).sequential, true);
  assert.equal(pieceOrder(h).priorities.get(1), 'high');
  await assert.rejects(setPieceOrder(node, h, { priorities: { files: [7], priority: 'low' } }), kind('invalid'));
  await setPieceOrder(node, h, { sequential: false, firstLast: false, priorities: { files: [1], priority: 'normal' } });
  assert.equal(pieceOrder(h).sequential, false);
  assert.equal(pieceOrder(h).priorities.size, 0);
  assert.equal(h.stats().state, 'seeding', 'claims on pieces it has fetch nothing');
});
