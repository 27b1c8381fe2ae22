// Defect 8 (issue 20): magnets carried only 127.0.0.1 trackers and nothing told the user. A node
// reachable beyond this machine now says so where the user shares (shareWarning in the list, the
// detail and /api/health), and the publicUrl setting (or serve --public-url) gives the announce URLs
// new torrents and magnets carry, while the node keeps announcing to its own tracker locally.
// No test here reaches past 127.0.0.0/8: public names are only stored and compared, never dialled.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { restartableServer, until } from './model-helpers.ts';
import { formWith, patternBytes } from './server-helpers.ts';
import { shareWarning } from '@cascade/node/features';
import { startServer } from '../index.ts';
import { testServerOptions } from './server-helpers.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

test('shareWarning: only for a node reachable from elsewhere whose trackers are all on this machine', () => {
  const wide = { hosts: ['127.0.0.1', '0.0.0.0'], dht: false };
  assert.match(shareWarning(['http://127.0.0.1:6969/announce', 'ws://localhost:6969/announce', 'udp://[::1]:1/announce'], wide)!, /public URL/);
  assert.match(shareWarning([], wide)!, /no tracker/);
  assert.match(shareWarning(['http://127.0.0.1:1/announce'], { ...wide, dht: true })!, /DHT/);
  assert.equal(shareWarning(['http://127.0.0.1:6969/announce', 'https://tracker.example.org/announce'], wide), null);
  assert.equal(shareWarning(['http://127.0.0.1:6969/announce'], { hosts: ['127.0.0.1', '::1'], dht: false }), null, 'a local-only node');
  assert.equal(shareWarning(['http://192.168.1.5:6969/announce'], { hosts: ['192.168.1.5'], dht: false }), null);
});

test('publicUrl: the warning on a wide node, then announce URLs of the public URL in new torrents and magnets', { timeout: 60_000 }, async (t) => {
  // Listening on every interface (bound only: nothing here dials out).
  const n = await restartableServer(t, { btHost: '0.0.0.0' });
  const health = (await n.json('/api/health')).body;
  assert.match(health.shareWarning, /127\.0\.0\.1.*public URL/s);
  assert.equal(health.publicUrl, null);
  assert.match((await n.json('/api/torrents')).body.shareWarning, /public URL/);

  const before = await n.json('/api/torrents', { method: 'POST', body: formWith([['old.bin', patternBytes(20_000, 1)]]) });
  assert.match(before.body.magnet, /tr=http%3A%2F%2F127\.0\.0\.1/);
  assert.match((await n.json(`/api/torrents/${before.body.infoHash}`)).body.shareWarning, /public URL/);

  // 127.0.0.2: a loopback address the tracker does not listen on, so the announce URLs can be told
  // apart from the tracker's own without leaving the machine.
  const tracker = n.server.tracker!;
  const pub = `http://127.0.0.2:${tracker.httpPort}`;
  const set = await n.json('/api/settings', { method: 'PATCH', json: { publicUrl: `${pub}/` } });
  assert.equal(set.body.publicUrl, pub);
  const made = await n.json('/api/torrents', { method: 'POST', body: formWith([['new.bin', patternBytes(20_000, 2)]]) });
  const trackers = new URL(made.body.magnet).searchParams.getAll('tr');
  assert.deepEqual(trackers, [`${pub}/announce`, `ws://127.0.0.2:${tracker.httpPort}/announce`]);
  const torrentFile = Buffer.from(await (await fetch(`${n.server.url}/api/torrents/${made.body.infoHash}/torrent`, { headers: { authorization: `Bearer ${n.server.token}` } })).arrayBuffer());
  assert.ok(torrentFile.includes(Buffer.from(`${pub}/announce`)), 'the .torrent announces there too');
  assert.ok(!torrentFile.includes(Buffer.from('127.0.0.1')), 'and not to 127.0.0.1');
  // The node still announces to its own tracker, so it is in the swarm others are sent to.
  await until('the node in its own tracker’s swarm', () => tracker.swarm(made.body.infoHash).complete >= 1);

  const h = (await n.json('/api/health')).body;
  assert.equal(h.publicUrl, pub);
  assert.equal(h.tracker.http, `${pub}/announce`, 'health names the public announce URLs');
  assert.equal(h.tracker.ws, `ws://127.0.0.2:${tracker.httpPort}/announce`);

  // A public name (stored, never dialled): the warnings go for the node, and for the old torrent
  // too: its magnet names where the node announces it now (issue 44), though its .torrent still
  // names 127.0.0.1 only.
  await n.json('/api/settings', { method: 'PATCH', json: { publicUrl: 'https://cascade.example.org' } });
  assert.equal((await n.json('/api/health')).body.shareWarning, null);
  assert.equal((await n.json('/api/torrents')).body.shareWarning, null);
  const old = (await n.json(`/api/torrents/${before.body.infoHash}`)).body;
  assert.ok(new URL(old.magnet).searchParams.getAll('tr').includes('https://cascade.example.org/announce'), old.magnet);
  assert.equal(old.shareWarning, null);
  const wss = (await n.json('/api/health')).body.tracker;
  assert.equal(wss.ws, 'wss://cascade.example.org/announce');

  await n.restart();
  assert.equal((await n.json('/api/settings')).body.publicUrl, 'https://cascade.example.org', 'kept');
});

test('serve --public-url (ServerOptions.publicUrl) sets the setting; a bad one stops the start with a usage error', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'cascade-model-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const s = await startServer({ ...testServerOptions(root), publicUrl: 'https://files.example.net/cascade/' });
  try {
    assert.equal(s.node.model.getSettings().publicUrl, 'https://files.example.net/cascade');
    assert.deepEqual(s.node.announceUrls().slice(0, 2), ['https://files.example.net/cascade/announce', 'wss://files.example.net/cascade/announce']);
  } finally {
    await s.close();
  }
  await assert.rejects(startServer({ ...testServerOptions(root), publicUrl: 'ftp://nope' }), (err: Error & { exitCode?: number }) => {
    assert.match(err.message, /publicUrl/);
    assert.equal(err.exitCode, 2);
    return true;
  });
});

test('the built-in tracker answers on the web port too: HTTP announce and scrape, WebSocket announce', { timeout: 30_000 }, async (t) => {
  const n = await restartableServer(t);
  const tracker = n.server.tracker!;
  const ih = Buffer.alloc(20, 0xab);
  const esc = (b: Buffer) => [...b].map((x) => `%${x.toString(16).padStart(2, '0')}`).join('');
  const announce = async (peer: string, port: number, left: number, extra = '') => {
    const q = `info_hash=${esc(ih)}&peer_id=${peer}&port=${port}&uploaded=0&downloaded=0&left=${left}&compact=1&event=started${extra}`;
    const res = await fetch(`${n.server.url}/announce?${q}`);
    assert.equal(res.status, 200);
    return Buffer.from(await res.arrayBuffer());
  };
  // A seed that names another address: a client's own ip= is dropped, the caller's address counts.
  const first = await announce('-XX0001-aaaaaaaaaaaa', 51413, 0, '&ip=1.2.3.4');
  assert.match(first.toString('latin1'), /8:intervali\d+e/);
  assert.equal(tracker.swarm(ih.toString('hex')).complete, 1);
  const second = await announce('-XX0001-bbbbbbbbbbbb', 51414, 100);
  const peers = second.subarray(second.indexOf('5:peers6:') + 9, second.indexOf('5:peers6:') + 15);
  assert.deepEqual([...peers], [127, 0, 0, 1, 51413 >> 8, 51413 & 0xff], 'the seed at the address it announced from, not 1.2.3.4');
  const scrape = Buffer.from(await (await fetch(`${n.server.url}/scrape?info_hash=${esc(ih)}`)).arrayBuffer()).toString('latin1');
  assert.match(scrape, /8:completei1e/);

  const { WebSocket } = await import('ws');
  const ws = new WebSocket(`ws://127.0.0.1:${n.server.httpPort}/announce`);
  t.after(() => ws.close());
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const reply = new Promise<Record<string, unknown>>((resolve) => ws.once('message', (m) => resolve(JSON.parse(String(m)) as Record<string, unknown>)));
  ws.send(JSON.stringify({ action: 'announce', info_hash: ih.toString('latin1'), peer_id: '-WW0001-cccccccccccc', numwant: 0, uploaded: 0, downloaded: 0, left: 0, event: 'started', offers: [] }));
  const r = await reply;
  assert.equal(r.action, 'announce');
  assert.equal(typeof r.interval, 'number');
  // Still answering after a second (socket.io leaves the proxied upgrade alone).
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal(ws.readyState, WebSocket.OPEN);
});
