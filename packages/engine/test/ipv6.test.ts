// IPv6 with libtorrent as the other end, on ::1 (libtorrent listens on [::1] only, so nothing it
// does can go over IPv4): the dual-stack listener (libtorrent dials us at ::1, an IPv4 peer still
// gets in on the same port), dialing a v6 peer, and the BEP 32 DHT on udp6 — against another
// Cascade node and against libtorrent's. One libtorrent seeder serves every subtest.
// Before: the listener took '0.0.0.0' (a v6 dial failed with ECONNREFUSED), and a session on '::'
// never started (the IPv4-only DHT's bind on '::' failed as a warning and listen() waited for ever).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Session, createTorrent, toMagnet, parseTorrent } from '../index.ts';
import { libtorrent } from './lt-v6.ts';
import { tmpDir, whenDone } from './session-helpers.ts';

test('IPv6 on ::1 against libtorrent: dual-stack listener, v6 dials, BEP 32 DHT', { timeout: 120_000 }, async (t) => {
  const root = await tmpDir(t);
  const src = path.join(root, 'src');
  await fs.mkdir(src);
  await fs.writeFile(path.join(src, 'v6.bin'), randomBytes(600_000));
  const made = await createTorrent(path.join(src, 'v6.bin'), { pieceLength: 32 * 1024 });
  const torrentFile = path.join(root, 'v6.torrent');
  await fs.writeFile(torrentFile, made.torrent);
  const meta = parseTorrent(made.torrent);

  // libtorrent seeds on [::1] only, its DHT on.
  const lt = await libtorrent(t, ['seed', torrentFile, src, 'dht']);
  await lt.until((m) => m.seeding);

  await t.test('Cascade dials a libtorrent peer at [::1] and downloads', async () => {
    const s = await Session.create({ dht: false, webrtc: false });
    try {
      const h = await s.add(made.torrent, { savePath: path.join(root, 'dial6'), peers: [`[::1]:${lt.port}`] });
      await whenDone(h);
      assert.ok(h.sources!().some((b) => b.address === `[::1]:${lt.port}` && b.downloaded > 0), JSON.stringify(h.sources!()));
    } finally {
      await s.close();
    }
  });

  await t.test('with no host the listener is dual-stack: libtorrent dials [::1], an IPv4 peer 127.0.0.1, same port', async () => {
    // Cascade seeds; libtorrent downloads over IPv6 from it.
    const seed = await Session.create({ dht: false, webrtc: false });
    t.after(() => seed.close());
    await seed.add(made.torrent, { savePath: src });
    const ltDown = await libtorrent(t, ['download', torrentFile, path.join(root, 'lt-down')]);
    ltDown.send(`peer ::1 ${seed.port}`);
    await ltDown.until((m) => m.done);
    // And an IPv4-only session reaches the same listener at 127.0.0.1.
    const v4 = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false });
    try {
      const h = await v4.add(made.torrent, { savePath: path.join(root, 'v4-down'), peers: [`127.0.0.1:${seed.port}`] });
      await whenDone(h);
      const incoming = seed.get(meta.infoHashHex)!.peers().filter((p) => p.source === 'incoming').map((p) => p.address);
      assert.ok(incoming.some((a) => a.startsWith('127.0.0.1:')), `an IPv4 peer, written as IPv4: ${incoming}`);
    } finally {
      await v4.close();
    }
  });

  await t.test('BEP 11: libtorrent\'s added6 reaches Cascade, which dials the IPv6 peer it names', async () => {
    // D1 downloads slowly from libtorrent (rate-limited), so it is still there when D2 arrives;
    // libtorrent then tells D2 about D1 in added6, and D2 dials D1 at [::1].
    const d1 = await Session.create({ dht: false, webrtc: false });
    const d2 = await Session.create({ dht: false, webrtc: false });
    try {
      d1.setRateLimits({ download: 40_000 });
      await d1.add(made.torrent, { savePath: path.join(root, 'pex-d1'), peers: [`[::1]:${lt.port}`] });
      await new Promise((r) => setTimeout(r, 500));
      d2.setRateLimits({ download: 40_000 });
      const h2 = await d2.add(made.torrent, { savePath: path.join(root, 'pex-d2'), peers: [`[::1]:${lt.port}`] });
      const deadline = Date.now() + 20_000;
      const fromPex = () => h2.discovery().peersTried.find((p) => p.source === 'pex' && p.address === `[::1]:${d1.port}`);
      while (!fromPex() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      assert.ok(fromPex(), JSON.stringify(h2.discovery()));
    } finally {
      await Promise.all([d1.close(), d2.close()]);
    }
  });

  let seed: Session | undefined;
  t.after(() => seed?.close());
  await t.test('BEP 32: libtorrent finds a Cascade seeder through the IPv6 DHT (Cascade answers get_peers with 18-byte values)', async () => {
    // A Cascade seed announces to libtorrent's DHT node; a second libtorrent, knowing only the
    // Cascade node, looks the torrent up and dials the address it is given.
    seed = await Session.create({ dht: { bootstrap: [`[::1]:${lt.port}`] }, webrtc: false });
    await seed!.add(made.torrent, { savePath: src });
    const finder = await libtorrent(t, ['idle', '-', root, 'dht']);
    finder.send(`dht ::1 ${seed!.dhtPort}`);
    await finder.until((m) => ((m.dhtNodes as number) > 0 ? true : undefined));
    finder.send(`magnet ${toMagnet({ infoHashHex: meta.infoHashHex })} ${path.join(root, 'lt-dht')}`);
    await finder.until((m) => m.done, 60_000);
  });

  await t.test('BEP 32: Cascade looks a torrent up through libtorrent\'s IPv6 DHT node from a bare magnet', async () => {
    // Its one contact is libtorrent's node, which holds the Cascade seeder's announce (above).
    const s = await Session.create({ host: '::1', dht: { bootstrap: [`[::1]:${lt.port}`] }, webrtc: false });
    try {
      const h = await s.add(toMagnet({ infoHashHex: meta.infoHashHex }), { savePath: path.join(root, 'dht6') });
      await whenDone(h, 60_000);
      assert.ok((h.discovery().dht?.peersFound ?? 0) > 0, JSON.stringify(h.discovery()));
    } finally {
      await s.close();
    }
  });

  await t.test('BEP 32 between Cascade nodes on udp6 only: a seeder announces to a bootstrap node, a downloader finds it', async () => {
    const b = await Session.create({ host: '::1', dht: { bootstrap: [] }, webrtc: false });
    const a = await Session.create({ host: '::1', dht: { bootstrap: [`[::1]:${b.dhtPort}`] }, webrtc: false });
    const c = await Session.create({ host: '::1', dht: { bootstrap: [`[::1]:${b.dhtPort}`] }, webrtc: false });
    try {
      await a.add(made.torrent, { savePath: src });
      // The seeder's announce reaches B before the downloader asks.
      await new Promise((r) => setTimeout(r, 1000));
      const h = await c.add(toMagnet({ infoHashHex: meta.infoHashHex }), { savePath: path.join(root, 'dht6-cascade') });
      await whenDone(h, 60_000);
      assert.ok(h.sources!().some((x) => x.address === `[::1]:${a.port}` && x.downloaded > 0), JSON.stringify(h.sources!()));
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });
});
