// Defect 9 (issue 20): a magnet nobody has waited at "Fetching metadata" with no word why. After
// ~30 s (shortened here) the detail says what was tried and what answered: the trackers' replies,
// the DHT, the peers dialled and why they failed; `discovery` carries the engine's report. Failed
// on the old code: the detail had neither field.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { io } from 'socket.io-client';
import { restartableServer, until } from './model-helpers.ts';
import { stalledReason } from '@cascade/node/features';

test('a magnet nobody has: after the wait, the detail says what was tried and what answered', { timeout: 60_000 }, async (t) => {
  // A port that refuses: bound then closed, so nothing listens there.
  const refusing = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
  const n = await restartableServer(t);
  n.server.node.model.stalledAfterMs = 2000;
  const ih = 'de'.repeat(20);
  const add = await n.json('/api/torrents', { method: 'POST', json: { uri: `magnet:?xt=urn:btih:${ih}&dn=nobody`, peers: [`127.0.0.1:${refusing}`] } });
  assert.equal(add.status, 201, JSON.stringify(add.body));

  const first = (await n.json(`/api/torrents/${ih}`)).body;
  assert.equal(first.state, 'metadata');
  assert.equal(first.stalledReason, null, 'not before the wait');
  assert.ok(first.discovery, 'the engine report is there from the start');
  assert.equal(first.discovery.dht.enabled, false);

  const detail = await until('a stalled reason', async () => {
    const d = (await n.json(`/api/torrents/${ih}`)).body;
    const ownTracker = d.discovery?.trackers.find((x: { url: string }) => x.url.startsWith('http://127.0.0.1'));
    return d.stalledReason && ownTracker?.lastReplyAt && d.discovery.peersTried.length > 0 ? d : undefined;
  });
  const reason: string = detail.stalledReason;
  assert.match(reason, /metadata/);
  assert.match(reason, /http:\/\/127\.0\.0\.1:\d+\/announce answered .* with 0 peers/, 'the built-in tracker answered, with nobody');
  assert.match(reason, /DHT is off/);
  assert.match(reason, new RegExp(`127\\.0\\.0\\.1:${refusing} \\(from manual\\): connection refused`));
  assert.deepEqual(
    detail.discovery.peersTried.find((p: { address: string }) => p.address === `127.0.0.1:${refusing}`)?.result,
    'connection refused',
  );
  // The list row stays lean; the socket feed's detail carries the same fields, its list the model's.
  assert.equal('stalledReason' in (await n.json('/api/torrents')).body.torrents[0], false);
  const socket = io(n.server.url, { forceNew: true, reconnection: false, extraHeaders: { authorization: `Bearer ${n.server.token}` } });
  t.after(() => socket.disconnect());
  const fromFeed = await new Promise<any>((resolve) => {
    socket.on(`torrent:${ih}`, (d: any) => d?.stalledReason && resolve(d));
    socket.emit('subscribe', ih);
  });
  assert.match(fromFeed.stalledReason, /connection refused/);
  assert.ok(Array.isArray(fromFeed.discovery.peersTried));
  // The whole list comes on connect (long gone by now) and when asked for again.
  const list = await new Promise<any>((resolve) => {
    socket.on('torrents', resolve);
    socket.emit('torrents:resync');
  });
  assert.deepEqual(
    Object.fromEntries(['category', 'tags', 'queuePosition', 'forceStart', 'ratio'].map((k) => [k, list.torrents[0][k]])),
    { category: null, tags: [], queuePosition: 1, forceStart: false, ratio: 0 },
  );
});

test('stalledReason words: trackers that failed, a DHT that was asked, no peer at all', () => {
  const now = 1_000_000_000;
  const report = {
    trackers: [
      { url: 'udp://tracker.example:1337/announce', tier: 0, status: 'error' as const, peers: 0, lastError: 'timed out', lastErrorAt: now - 20_000 },
      { url: 'https://t.example/announce', tier: 1, status: 'ok' as const, peers: 3, lastReplyAt: now - 5_000 },
    ],
    dht: { enabled: true, nodes: 120, lookups: 4, peersFound: 0, lastLookupAt: now - 10_000 },
    peersTried: [],
  };
  assert.equal(stalledReason(report, 10_000, 30_000, now), null);
  const s = stalledReason(report, 95_000, 30_000, now)!;
  assert.match(s, /in 95 s/);
  assert.match(s, /udp:\/\/tracker\.example:1337\/announce failed 20 s ago: timed out/);
  assert.match(s, /https:\/\/t\.example\/announce answered 5 s ago with 3 peers/);
  assert.match(s, /DHT \(120 nodes known\) was asked 4 times, last 10 s ago, and gave 0 peers/);
  assert.match(s, /No peer was found to ask/);
});
