// --host binds outgoing connections too (libtorrent's outgoing_interfaces): peers and HTTP and UDP
// trackers see the session's address, not the one the system would choose (127.0.0.1 on loopback).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { startTracker } from '@cascade/tracker';
import { Session, createTorrent } from '../index.ts';

test('a session on 127.0.0.5 dials peers and asks HTTP and UDP trackers from 127.0.0.5', { timeout: 30_000 }, async (t) => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'cascade-outgoing-'));
  t.after(() => fs.rm(root, { recursive: true, force: true }));
  const tracker = await startTracker({ host: '127.0.0.1', interval: 60, ws: true });
  t.after(() => tracker.close());
  // An HTTP tracker that records who asks and answers with nobody (the real one, on UDP, keeps the list).
  const httpFrom: string[] = [];
  const front = http.createServer((req, res) => {
    httpFrom.push(req.socket.remoteAddress!);
    res.end('d8:intervali60e5:peers0:e');
  });
  front.listen(0, '127.0.0.1');
  await once(front, 'listening');
  t.after(() => front.close());
  const peerFrom: string[] = [];
  const peer = net.createServer((s) => {
    peerFrom.push(s.remoteAddress!);
    s.destroy();
  });
  peer.listen(0, '127.0.0.1');
  await once(peer, 'listening');
  t.after(() => peer.close());

  const src = path.join(root, 'x.bin');
  await fs.writeFile(src, randomBytes(50_000));
  const frontUrl = `http://127.0.0.1:${(front.address() as net.AddressInfo).port}/announce`;
  const { torrent, metainfo } = await createTorrent(src, { announce: [frontUrl, tracker.udpAnnounceUrl] });
  const s = await Session.create({ port: 0, host: '127.0.0.5', dht: false, webrtc: false });
  t.after(() => s.close());
  const h = await s.add(torrent, { savePath: path.join(root, 'dl'), peers: [`127.0.0.1:${(peer.address() as net.AddressInfo).port}`] });
  const deadline = Date.now() + 15_000;
  while ((peerFrom.length === 0 || httpFrom.length === 0 || tracker.swarm(metainfo.infoHashHex).incomplete === 0) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.deepEqual([...new Set(peerFrom)], ['127.0.0.5'], 'the peer saw');
  assert.deepEqual([...new Set(httpFrom)], ['127.0.0.5'], 'the HTTP tracker saw');
  // The UDP tracker lists the peer under the address its datagram came from.
  const probe = await fetch(`http://127.0.0.1:${tracker.httpPort}/announce?info_hash=${metainfo.infoHashHex.replace(/../g, '%$&')}&peer_id=${'-PR0001-'.padEnd(20, 'y')}&port=9&left=1&compact=0`);
  const listed = Buffer.from(await probe.arrayBuffer()).toString('latin1');
  assert.match(listed, /2:ip9:127\.0\.0\.5/, 'the UDP tracker lists the session under 127.0.0.5');
  assert.doesNotMatch(listed, /2:ip9:127\.0\.0\.1/);
  void h;
});
