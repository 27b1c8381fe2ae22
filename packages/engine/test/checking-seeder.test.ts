// A downloader that connects while the seeder is still checking its data (issue 11, defect 2).
// The seeder says "have none" then (it has nothing verified yet); once checking ends it must tell
// every connected peer what it found, and a downloader must not sit forever on a peer that offers
// nothing: it lets it go and dials it again later.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Session, createTorrent, type ResumeData, type ResumeStore, type TorrentHandle } from '../index.ts';
import { startRawSeeder } from './raw-peer.ts';
import { clock } from '../src/clock.ts';

async function setup(t: { after: (fn: () => unknown) => void }, size: number) {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'cascade-checking-'));
  t.after(() => fs.rm(root, { recursive: true, force: true }));
  const payload = randomBytes(size);
  await fs.mkdir(path.join(root, 'seed'));
  const file = path.join(root, 'seed', 'data.bin');
  await fs.writeFile(file, payload);
  const { torrent, metainfo } = await createTorrent(file, { pieceLength: 64 * 1024 });
  return { root, payload, torrent, metainfo };
}

function done(h: TorrentHandle, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not done after ${ms} ms: ${JSON.stringify(h.stats())}`)), ms);
    if (h.stats().state === 'seeding') return clearTimeout(timer), resolve();
    h.once('done', () => (clearTimeout(timer), resolve()));
  });
}

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Resume data whose load waits for `release()`: holds the seeder's torrent before its check, with
 *  nothing verified yet (what a peer arriving during the check sees). */
function gatedResumeStore(): ResumeStore & { release(): void; loading: boolean } {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const store = {
    loading: false,
    load: async () => ((store.loading = true), await gate, undefined),
    save: async (_h: string, _d: ResumeData) => {},
    delete: async () => {},
    release,
  };
  return store;
}

test('a Cascade downloader that connected during the seeder’s check gets the data once the check ends', async (t) => {
  const { root, payload, torrent } = await setup(t, 4 * 1024 * 1024);
  const store = gatedResumeStore();
  const seeder = await Session.create({ host: '127.0.0.1', dht: false, resumeStore: store });
  const leecher = await Session.create({ host: '127.0.0.1', dht: false });
  t.after(() => Promise.all([seeder.close(), leecher.close()]));
  const seeding = seeder.add(torrent, { savePath: path.join(root, 'seed') });
  await until('the seeder to be finding out what it has', () => store.loading);

  const l = await leecher.add(torrent, { savePath: path.join(root, 'out'), peers: [`127.0.0.1:${seeder.port}`] });
  await until('the peers to meet', () => l.stats().peers === 1 && seeder.list()[0]!.stats().peers === 1);
  assert.equal(seeder.list()[0]!.stats().verifiedPieces, 0, 'the seeder has not checked its data yet');
  store.release();
  await seeding;
  // Before the fix the leecher stayed at 0% with one peer for good; now the seeder's haves arrive
  // on the same connection, so no reconnect is needed.
  await done(l, 10_000);
  assert.ok((await fs.readFile(path.join(root, 'out', 'data.bin'))).equals(payload));
});

test('a downloader lets go of a peer that offers nothing and dials it again later', async (t) => {
  const { root, payload, torrent, metainfo } = await setup(t, 1024 * 1024);
  // First connection: "have none" and silence, as a seeder that never announces its checked data.
  const seeder = await startRawSeeder({ infoHash: metainfo.infoHash, payload, pieceLength: metainfo.pieceLength, corrupt: () => false, silentConnections: 1 });
  const leecher = await Session.create({ host: '127.0.0.1', dht: false });
  t.after(() => Promise.all([seeder.close(), leecher.close()]));
  // The engine's clock is moved on instead of waited out: past the 20 s a peer may offer nothing
  // once the silent connection is up, then past the 5 s before its address is dialled again.
  const real = clock.now;
  let ahead = 0;
  clock.now = () => real() + ahead;
  t.after(() => (clock.now = real));
  const l = await leecher.add(torrent, { savePath: path.join(root, 'out'), peers: [`127.0.0.1:${seeder.port}`] });
  const closed: string[] = [];
  l.on('peer-closed', (e: { reason: string }) => {
    closed.push(e.reason);
    ahead += 6_000;
  });
  await until('the silent connection', () => l.stats().peers > 0);
  ahead += 21_000;
  await done(l, 60_000);
  assert.ok(closed.some((r) => /nothing to trade/.test(r)), `closed for: ${closed.join(', ')}`);
  assert.ok((await fs.readFile(path.join(root, 'out', 'data.bin'))).equals(payload));
});
