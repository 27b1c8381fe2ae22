// Our tracker on [::1] with libtorrent (listening on [::1] only) and Cascade on both ends: BEP 7
// peers6 over HTTP, BEP 15 over udp6 (18-byte peers), the tracker answering IPv6 peers with IPv6
// peers, and Cascade's tracker client dialing what peers6 gives it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Session, createTorrent, parseTorrent } from '@cascade/engine';
import { libtorrent } from '../../engine/test/lt-v6.ts';
import { whenDone } from '../../engine/test/session-helpers.ts';
import { startTracker } from '../index.ts';

test('tracker on [::1]: libtorrent and Cascade meet over HTTP (peers6) and UDP (BEP 15 on udp6), both ways', { timeout: 120_000 }, async (t) => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'cascade-v6-tracker-'));
  t.after(() => fs.rm(root, { recursive: true, force: true }));
  const tracker = await startTracker({ host: '::1', interval: 5, rateLimit: false });
  t.after(() => tracker.close());
  assert.match(tracker.httpAnnounceUrl, /^http:\/\/\[::1\]:\d+\/announce$/);

  const make = async (name: string, announce: string) => {
    const dir = path.join(root, name);
    await fs.mkdir(dir);
    await fs.writeFile(path.join(dir, `${name}.bin`), randomBytes(300_000));
    const made = await createTorrent(path.join(dir, `${name}.bin`), { announce: [announce], pieceLength: 32 * 1024 });
    const file = path.join(root, `${name}.torrent`);
    await fs.writeFile(file, made.torrent);
    return { dir, file, torrent: made.torrent, infoHash: parseTorrent(made.torrent).infoHashHex };
  };

  for (const [kind, url] of [['HTTP', tracker.httpAnnounceUrl], ['UDP', tracker.udpAnnounceUrl]] as const) {
    await t.test(`${kind}: Cascade downloads from a libtorrent seeder it only hears of from the tracker`, async () => {
      const x = await make(`lt-seed-${kind}`, url);
      const lt = await libtorrent(t, ['seed', x.file, x.dir]);
      await lt.until((m) => m.seeding);
      const s = await Session.create({ dht: false, webrtc: false });
      try {
        const h = await s.add(x.torrent, { savePath: path.join(root, `cascade-${kind}`) });
        await whenDone(h, 60_000);
        assert.ok(h.sources!().some((b) => b.address === `[::1]:${lt.port}` && b.downloaded > 0), JSON.stringify(h.sources!()));
      } finally {
        await s.close();
      }
    });

    await t.test(`${kind}: libtorrent downloads from a Cascade seeder it only hears of from the tracker`, async () => {
      const x = await make(`cascade-seed-${kind}`, url);
      const s = await Session.create({ dht: false, webrtc: false });
      try {
        const seed = await s.add(x.torrent, { savePath: x.dir });
        await whenDone(seed);
        // The tracker lists one seeder, Cascade, at the address it announced from (::1); libtorrent
        // listens on [::1] only, so what it gets comes over IPv6 from us.
        const lt = await libtorrent(t, ['download', x.file, path.join(root, `lt-${kind}`)]);
        await lt.until((m) => m.done, 60_000);
        await lt.until((m) => ((m.peers as string[]).includes(`[::1]:${s.port}`) ? true : undefined), 5_000);
      } finally {
        await s.close();
      }
    });
  }
});
