// A node's torrents announce to its built-in tracker in-process (issue 25): no HTTP, UDP or WebSocket
// request reaches the tracker's sockets, yet its swarms list the node, and another node finds it there.

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { bdecode, createTorrent, parseTorrent } from '@cascade/engine';
import { formWith, patternBytes, startTestServer, type TestServer } from './server-helpers.ts';

const esc = (hex: string) => [...Buffer.from(hex, 'hex')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('200 seeded torrents: the built-in tracker lists the node in each swarm, with no HTTP, UDP or WebSocket traffic', { timeout: 120_000 }, async (t) => {
  const s = await startTestServer(t);
  const dir = join(s.root, 'data');
  mkdirSync(dir, { recursive: true });
  const hashes: string[] = [];
  for (let i = 0; i < 200; i++) {
    const file = join(dir, `f${i}.bin`);
    writeFileSync(file, patternBytes(1024, i + 1));
    const { torrent, metainfo } = await createTorrent(file, { pieceLength: 16384 });
    await s.node.add(torrent, { savePath: dir });
    hashes.push(metainfo.infoHashHex);
  }
  const tracker = s.tracker!;
  const localOk = (h: string) => s.node.session.get(h)!.trackers().some((x) => x.url === tracker.httpAnnounceUrl && x.status === 'ok');
  await until('every torrent to have announced to the built-in tracker', () => hashes.every(localOk));
  const stats = await tracker.stats();
  assert.equal(stats.announces.http, 0, 'no HTTP announce reached the tracker');
  assert.equal(stats.announces.udp, 0, 'no UDP announce reached the tracker');
  // One announce per torrent for its HTTP and UDP URLs together.
  assert.ok(stats.localAnnounces >= 200 && stats.localAnnounces < 400, `localAnnounces ${stats.localAnnounces}`);
  // Its WebSocket tier too, in-process: every torrent in each swarm as a WebRTC peer as well, one
  // seed all the same (the same peer id over IP and WebSocket is one peer of the swarm: issue 44
  // item 7), and no WebSocket connection reached the tracker.
  // Seeds' in-process WebSocket announces take no pacer turn (it would let two a second go here).
  const wsOk = (h: string) => s.node.session.get(h)!.trackers().some((x) => x.url === tracker.wsAnnounceUrl && x.status === 'ok');
  await until('every torrent to have announced over the WebSocket tier', () => hashes.every(wsOk), 20_000);
  for (const h of hashes) assert.equal(tracker.swarm(h).complete, 1, h);
  const waiting = (s.node.session as unknown as { schedulerState(): { announcesWaiting: number } }).schedulerState().announcesWaiting;
  assert.equal(waiting, 0, 'nothing waits for a turn');
  assert.equal((await tracker.stats()).wsConnections, 0, 'no WebSocket connection reached the tracker');
  // A client announcing over HTTP gets the node's TCP address in each of these swarms.
  for (const h of hashes.slice(0, 5)) {
    const q = `info_hash=${esc(h)}&peer_id=${'-XX0001-'.padEnd(20, 'x')}&port=6000&left=10&compact=1`;
    const reply = bdecode(new Uint8Array(await (await fetch(`${tracker.httpAnnounceUrl}?${q}`)).arrayBuffer())).value as Record<string, unknown>;
    const peers = reply.peers as Uint8Array;
    const ports = [];
    for (let k = 0; k + 6 <= peers.length; k += 6) ports.push(`${peers[k]}.${peers[k + 1]}.${peers[k + 2]}.${peers[k + 3]}:${(peers[k + 4]! << 8) | peers[k + 5]!}`);
    assert.deepEqual(ports, [`127.0.0.1:${s.node.session.port}`], h);
  }
  // The status still shows both URLs, answered.
  const st = s.node.session.get(hashes[0]!)!.trackers();
  for (const url of [tracker.httpAnnounceUrl, tracker.udpAnnounceUrl]) {
    assert.equal(st.find((x) => x.url === url)?.status, 'ok', `${url}: ${JSON.stringify(st)}`);
  }
});

test('another node finds the seed through its built-in tracker, whose URLs the .torrent keeps', { timeout: 60_000 }, async (t) => {
  const leecher: TestServer = await startTestServer(t);
  const seeder = await startTestServer(t);
  const data = patternBytes(256 * 1024, 7);
  const up = await seeder.json('/api/torrents', { method: 'POST', body: formWith([['found.bin', data]]) });
  assert.equal(up.status, 201);
  const ih = up.body.infoHash as string;
  // ≥ 1: the node is in the swarm twice, as a BitTorrent peer and as a WebRTC (WebSocket) one.
  await until('the seeder in its tracker', () => seeder.tracker!.swarm(ih).complete >= 1);

  const torrentBytes = new Uint8Array(await (await seeder.request(`/api/torrents/${ih}/torrent`)).arrayBuffer());
  const meta = parseTorrent(torrentBytes);
  assert.deepEqual(meta.announce.flat().slice(0, 2), [seeder.tracker!.httpAnnounceUrl, seeder.tracker!.udpAnnounceUrl]);
  // No addPeer: the leecher can only learn of the seeder from the seeder's tracker.
  const added = await leecher.json('/api/torrents', { method: 'POST', body: formWith([['found.torrent', torrentBytes]], 'torrent') });
  assert.equal(added.status, 201);
  await until('the download to finish', () => leecher.node.session.get(ih)?.stats().state === 'seeding');
  assert.ok((await seeder.tracker!.stats()).announces.http + (await seeder.tracker!.stats()).announces.udp > 0, 'the leecher announced over the network');
});
