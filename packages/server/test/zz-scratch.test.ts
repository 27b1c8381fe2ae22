import { test } from 'node:test';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import os from 'node:os';
import { Session, createTorrent } from '@cascade/engine';
import { cascadeExtension, generateIdentity, sendExtensionMessage, type WirePeer } from '@cascade/identity';
test('x', async () => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'x'));
  const file = path.join(root, 'seed', 'data.bin');
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, randomBytes(3_146_962));
  const { torrent } = await createTorrent(file, {});
  let bPeer: WirePeer | undefined;
  const mk = (name: string) => Session.create({ host: '127.0.0.1', port: 0, dht: false, extensions: [cascadeExtension(generateIdentity(), {
    client: 'x', onIdentified: (peer) => { if (name === 'B') bPeer = peer; },
    onMessage: (peer, m) => { console.log(Date.now(), name, 'got', JSON.stringify(m)); if (name === 'A') setTimeout(() => sendExtensionMessage(peer, { t: 'ack', n: m.n }), 5); },
    onRejected: (_p, r) => console.log(name, 'rejected', r) })] });
  const a = await mk('A'); const b = await mk('B');
  await a.add(torrent, { savePath: path.join(root, 'seed') });
  await new Promise((r) => setTimeout(r, 300));
  const hb = await b.add(torrent, { savePath: path.join(root, 'b'), peers: [`127.0.0.1:${a.port}`] });
  let n = 0;
  hb.on('verified', () => { n++; if (n % 10 === 0 || hb.stats().progress >= 1) setTimeout(() => sendExtensionMessage(bPeer!, { t: 'rcpt', n }), 3); });
  await new Promise<void>((r) => hb.once('done', () => r()));
  console.log(Date.now(), 'B done', n);
  await new Promise((r) => setTimeout(r, 2500));
  await a.close(); await b.close();
});
