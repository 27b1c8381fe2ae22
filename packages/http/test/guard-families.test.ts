// A node's torrents (their URLs pass the node's URL guard, which pins each request to an address it
// checked) announce over IPv4 and over IPv6 to a tracker whose name has both, as libtorrent does
// once per listen socket: the guard's fetch over one family (UrlGuard.fetchOver). The node runs
// with an /etc/hosts of its own (a mount namespace; the network is this machine's loopback), where
// `localhost` is 127.0.0.1 and ::1; our tracker listens on '::'.
// Before: a guarded session announced once, over the family the name resolved to first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createTorrent, parseTorrent } from '@cascade/engine';
import { decode } from '@cascade/engine/bencode';
import { startTracker } from '@cascade/tracker';

test('a guarded dual-stack node is listed by the tracker at 127.0.0.1 and ::1', { timeout: 60_000 }, async (t) => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'cascade-guard-families-'));
  t.after(() => fs.rm(root, { recursive: true, force: true }));
  const tracker = await startTracker({ host: '::', interval: 5, rateLimit: false });
  t.after(() => tracker.close());
  await fs.writeFile(path.join(root, 'g.bin'), randomBytes(40_000));
  const made = await createTorrent(path.join(root, 'g.bin'), { announce: [`http://localhost:${tracker.httpPort}/announce`], pieceLength: 16 * 1024 });
  await fs.writeFile(path.join(root, 'g.torrent'), made.torrent);
  const infoHash = parseTorrent(made.torrent).infoHashHex;
  const hosts = path.join(root, 'hosts');
  await fs.writeFile(hosts, '127.0.0.1 localhost\n::1 localhost\n');

  const script = fileURLToPath(new URL('../../node/test/guarded-announce.ts', import.meta.url));
  const child = spawn('unshare', ['-m', 'sh', '-c', 'mount --bind "$0" /etc/hosts && exec "$@"', hosts, process.execPath, script, path.join(root, 'g.torrent'), root]);
  t.after(() => {
    child.stdin.end();
    child.kill();
  });
  let err = '';
  child.stderr.on('data', (d) => (err += String(d)));
  const me = await new Promise<{ peerIdHex: string; port: number }>((resolve, reject) => {
    readline.createInterface({ input: child.stdout }).once('line', (l) => resolve(JSON.parse(l)));
    child.once('exit', () => reject(new Error(`the node ended: ${err}`)));
  });

  const esc = (hex: string) => hex.replace(/../g, '%$&');
  const listed = async () => {
    const q = `info_hash=${esc(infoHash)}&peer_id=${esc(randomBytes(20).toString('hex'))}&port=0&left=1&compact=0`;
    const body = new Uint8Array(await (await fetch(`http://127.0.0.1:${tracker.httpPort}/announce?${q}`)).arrayBuffer());
    const peers = (decode(body).value as { peers: { ip: Uint8Array; port: number; 'peer id': Uint8Array }[] }).peers;
    return peers.map((p) => ({ ip: Buffer.from(p.ip).toString(), port: p.port, id: Buffer.from(p['peer id']).toString('hex') }));
  };
  const deadline = Date.now() + 20_000;
  let peers = await listed();
  const both = () => ['127.0.0.1', '::1'].every((ip) => peers.some((p) => p.ip === ip && p.port === me.port && p.id === me.peerIdHex));
  while (!both() && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    peers = await listed();
  }
  assert.ok(both(), `${JSON.stringify(peers)}\n${err}`);
});
