// WebRTC peers find each other within seconds under a real tracker's two-minute interval: a seed that
// joins a swarm of leechers (or comes back after a restart) offers itself to them, and a peer with no
// connection announces again soon instead of waiting the interval out (issue 11, defect 5: one failed
// or dropped WebRTC attempt cost a browser two minutes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startWsTracker } from './ws-tracker.ts';
import { Session, createTorrent, type TorrentHandle, type WebRtcOptions } from '../index.ts';

// No minAnnounceInterval: the defaults a user gets (30 s floor, the tracker's 120 s).
const RTC: WebRtcOptions = { iceServers: [], bindAddress: '127.0.0.1' };
const rtcSession = () => Session.create({ port: 0, host: '127.0.0.1', dht: false, webrtc: RTC });

function done(h: TorrentHandle, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not done after ${ms} ms: ${JSON.stringify(h.stats())}`)), ms);
    if (h.stats().state === 'seeding') return clearTimeout(timer), resolve();
    h.once('done', () => (clearTimeout(timer), resolve()));
  });
}

async function until(what: string, cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A one-file torrent of `size` random bytes announced to a tracker with a real interval. */
async function setup(t: { after: (fn: () => unknown) => void }, size: number, pieceLength: number) {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'cascade-rejoin-'));
  t.after(() => fs.rm(root, { recursive: true, force: true }));
  const tracker = await startWsTracker({ interval: 1800 });
  t.after(() => tracker.close());
  const src = path.join(root, 'seed', 'data.bin');
  await fs.mkdir(path.dirname(src), { recursive: true });
  const payload = randomBytes(size);
  await fs.writeFile(src, payload);
  const { torrent } = await createTorrent(src, { pieceLength, announce: [tracker.url] });
  return { root, payload, torrent };
}

test('a seed joining two connected WebRTC leechers reaches them in seconds, not at their next announce', { timeout: 180_000 }, async (t) => {
  const { root, payload, torrent } = await setup(t, 2_000_000, 64 * 1024);

  const [s, a, b] = await Promise.all([rtcSession(), rtcSession(), rtcSession()]);
  t.after(() => Promise.all([s.close(), a.close(), b.close()]));
  const la = await a.add(torrent, { savePath: path.join(root, 'a') });
  const lb = await b.add(torrent, { savePath: path.join(root, 'b') });
  // The leechers meet (nothing to trade), so the swarm is no longer empty for either of them.
  // Each has had a tracker reply that counts the other, so neither is announcing early any more.
  const sawBoth = (h: TorrentHandle) => h.stats().peers === 1 && h.trackers()[0]?.peers === 2;
  await until('the two leechers to connect and hear of each other', () => sawBoth(la) && sawBoth(lb), 40_000);
  const t0 = Date.now();
  await s.add(torrent, { savePath: path.join(root, 'seed') });
  await Promise.all([done(la, 20_000), done(lb, 20_000)]);
  assert.ok(Date.now() - t0 < 20_000);
  assert.ok((await fs.readFile(path.join(root, 'a', 'data.bin'))).equals(payload));
  assert.ok((await fs.readFile(path.join(root, 'b', 'data.bin'))).equals(payload));
});

test('a leecher whose only WebRTC peer restarts mid-download finds it again within seconds', { timeout: 180_000 }, async (t) => {
  const { root, payload, torrent } = await setup(t, 48 * 1024 * 1024, 256 * 1024);

  const [s, l] = await Promise.all([rtcSession(), rtcSession()]);
  t.after(() => Promise.all([s.close(), l.close()]));
  const seed = await s.add(torrent, { savePath: path.join(root, 'seed') });
  await done(seed, 30_000);
  const lt = await l.add(torrent, { savePath: path.join(root, 'out') });
  // The seed restarts at the leecher's first piece: the connection closes mid-download.
  await new Promise<void>((resolve) => lt.once('verified', () => void seed.pause().then(resolve)));
  await until('the leecher to lose its peer', () => lt.stats().peers === 0, 10_000);
  assert.ok(lt.stats().progress < 0.5, `restarted mid-download (${lt.stats().progress})`);
  await new Promise((r) => setTimeout(r, 500));
  const t0 = Date.now();
  await seed.resume();
  await done(lt, 30_000);
  assert.ok(Date.now() - t0 < 30_000);
  assert.ok((await fs.readFile(path.join(root, 'out', 'data.bin'))).equals(payload));
});
