// A peer that dialled us over TCP comes from an ephemeral port; trackers and PEX then name it by its
// listen port (BEP 10 `p`). Dialling that address only met the same peer again: a duplicate that one
// end dropped, and by the peer-id rule the lower id's end retired the connection that was trading
// (issue 60: ~35 such dials per downloader in a 16-peer swarm). The dialler now leaves it alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Session, createTorrent, type TorrentHandle } from '../index.ts';

async function until(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a peer that dialled us over TCP is not dialled again at the listen address it told us', async (t) => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'cascade-listen-'));
  t.after(() => fs.rm(root, { recursive: true, force: true }));
  const payload = randomBytes(1024 * 1024);
  await fs.mkdir(path.join(root, 'seed'));
  await fs.writeFile(path.join(root, 'seed', 'data.bin'), payload);
  const { torrent } = await createTorrent(path.join(root, 'seed', 'data.bin'), { pieceLength: 64 * 1024 });

  // TCP only, so the seed's connection reaches the downloader from an ephemeral port.
  const downloader = await Session.create({ host: '127.0.0.1', dht: false, utp: false });
  const seeder = await Session.create({ host: '127.0.0.1', dht: false, utp: false });
  t.after(() => Promise.all([downloader.close(), seeder.close()]));
  // Slow enough that the downloader is still downloading (so still dialling) when it learns the address.
  seeder.setRateLimits({ upload: 512 * 1024 });
  const closed: string[] = [];
  const watch = (h: TorrentHandle, who: string) => h.on('peer-closed', (e: { reason: string }) => closed.push(`${who}: ${e.reason}`));
  const d = await downloader.add(torrent, { savePath: path.join(root, 'out') });
  watch(d, 'downloader');
  const s = await seeder.add(torrent, { savePath: path.join(root, 'seed'), peers: [`127.0.0.1:${downloader.port}`] });
  watch(s, 'seeder');
  await until('the seed to connect and send data', () => d.stats().downloaded > 0);
  const [incoming] = d.peers();
  assert.ok(incoming && !incoming.address.endsWith(`:${seeder.port}`), `the seed came from an ephemeral port: ${JSON.stringify(d.peers())}`);

  // A tracker (or PEX) now names the seed by its listen address.
  d.addPeer(`127.0.0.1:${seeder.port}`);
  await until('the download', () => d.stats().state === 'seeding', 30_000);
  assert.deepEqual(closed.filter((c) => /duplicate/.test(c)), [], 'no second connection to the same peer');
  assert.equal(d.peers().length, 1);
  assert.ok((await fs.readFile(path.join(root, 'out', 'data.bin'))).equals(payload));
});
