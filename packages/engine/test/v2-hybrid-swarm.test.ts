// A hybrid swarm (BEP 52): Cascade seeds a hybrid torrent and two clients download it at once — a
// v1-only one (WebTorrent in Node, over TCP: it knows nothing of v2 and reads the torrent's v1 half,
// pad files included) and a v2-capable one (libtorrent 2.0) — on 127.0.0.1. Both finish byte for
// byte, and the seeder had them connected at the same time. (aria2 1.36 cannot join: it computes a
// wrong infohash for hybrid torrents; Debian's Transmission 3.00 refuses them — docs/bittorrent-v2.md.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import { createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import WebTorrent from 'webtorrent';
import { Session, createTorrent } from '../index.ts';
import { tmpDir } from './session-helpers.ts';

const LT_FETCH = fileURLToPath(new URL('./lt_fetch.py', import.meta.url));
const sha = async (p: string) => createHash('sha256').update(await fs.readFile(p)).digest('hex');

test('hybrid: WebTorrent (v1 only) and libtorrent (v2) download from a Cascade seeder at once', { timeout: 120_000 }, async (t) => {
  const root = await tmpDir(t);
  const pack = path.join(root, 'pack');
  await fs.mkdir(pack, { recursive: true });
  const files = ['a.bin', 'b.bin', 'c.txt'];
  await fs.writeFile(path.join(pack, 'a.bin'), randomBytes(100_000));
  await fs.writeFile(path.join(pack, 'b.bin'), randomBytes(2 * 1024 * 1024 + 1));
  await fs.writeFile(path.join(pack, 'c.txt'), randomBytes(33));
  const made = await createTorrent(pack, { version: 'hybrid', pieceLength: 32 * 1024 });
  assert.equal(made.metainfo.version, 'hybrid');
  const torrentPath = path.join(root, 'pack.torrent');
  await fs.writeFile(torrentPath, made.torrent);

  const session = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false });
  t.after(() => session.close());
  const seed = await session.add(made.torrent, { savePath: root });
  assert.equal(seed.stats().state, 'seeding');
  // Slow enough that both are still downloading when the other joins.
  session.setRateLimits({ upload: 1024 * 1024 });
  let mostPeers = 0;
  const peerWatch = setInterval(() => (mostPeers = Math.max(mostPeers, seed.peers().length)), 50);
  t.after(() => clearInterval(peerWatch));

  // libtorrent, v2-capable: it reads the v2 half (pieces checked against the piece layers).
  const ltOut = path.join(root, 'lt-out');
  const lt = spawn('/usr/bin/python3', [LT_FETCH, torrentPath, ltOut, `127.0.0.1:${session.port}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  const ltLog: string[] = [];
  lt.stderr.on('data', (d) => ltLog.push(String(d)));
  t.after(() => {
    lt.stdin.end();
    lt.kill();
  });
  const ltDone = (async () => {
    for await (const line of readline.createInterface({ input: lt.stdout })) {
      ltLog.push(line);
      if (line === 'done') return;
    }
    throw new Error(`libtorrent ended before done: ${ltLog.slice(-20).join('\n')}`);
  })();

  // WebTorrent, v1 only.
  const client = new WebTorrent({ dht: false, tracker: false, lsd: false, utp: false, natUpnp: false, natPmp: false } as ConstructorParameters<typeof WebTorrent>[0]);
  t.after(() => new Promise<void>((r) => client.destroy(() => r())));
  const wtOut = path.join(root, 'wt-out');
  const wt = client.add(Buffer.from(made.torrent), { path: wtOut });
  const wtDone = new Promise<void>((resolve, reject) => {
    wt.on('infoHash', () => wt.addPeer(`127.0.0.1:${session.port}`));
    wt.on('done', () => resolve());
    wt.on('error', (e: Error | string) => reject(e instanceof Error ? e : new Error(String(e))));
  });
  await new Promise<void>((r, j) => (wt.infoHash ? r() : (wt.once('infoHash', () => r()), wt.once('error', j))));
  assert.equal(wt.infoHash, made.metainfo.infoHashHex, 'WebTorrent sees the v1 infohash');

  await Promise.all([ltDone, wtDone]);
  for (const f of files) {
    const want = await sha(path.join(pack, f));
    assert.equal(await sha(path.join(ltOut, 'pack', f)), want, `libtorrent: ${f}`);
    assert.equal(await sha(path.join(wtOut, 'pack', f)), want, `WebTorrent: ${f}`);
  }
  assert.ok(mostPeers >= 2, `both clients were connected to the seeder at once (most at a time: ${mostPeers})`);
});
