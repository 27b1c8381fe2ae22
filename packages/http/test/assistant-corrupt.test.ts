// The assistant on a download from a seeder that sends corrupt data: a real Cascade engine session
// that verified its file, whose bytes are then flipped on disk. The leecher's pieces fail their
// hash check and the seeder is banned; the API answers with hash-failures and banned-peers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ask, bareServer, corrupt, finding, seeder, until, KiB } from './assistant-helpers.ts';

test('a seeder that sends corrupt pieces: hash-failures and banned-peers, naming the peer', async (t) => {
  const seed = await seeder(t, 512 * KiB, 64 * KiB);
  corrupt(seed);
  const s = await bareServer(t);
  const banned = new Promise<void>((resolve) => {
    s.node.watchers.push((tor) => {
      tor.on('peer-banned', () => resolve());
      return () => {};
    });
  });
  const h = await s.node.addWith(seed.torrent, {}, { peers: [seed.peer] });
  assert.equal(h.infoHashHex, seed.infoHash);
  await banned;
  await until('the engine counters', () => ((s.node.session.counters?.().hashFailures ?? 0) > 0 ? true : undefined));

  const r = await ask(s, { question: 'my download keeps failing and restarting, is something corrupt?', infoHash: seed.infoHash });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const hf = finding(r.body, 'hash-failures');
  assert.equal(hf.infoHash, seed.infoHash);
  assert.match(hf.evidence, /\d+ pieces? of ".*" failed the hash check/);
  const bp = finding(r.body, 'banned-peers');
  assert.ok(bp.evidence.includes(seed.peer), bp.evidence);
  assert.match(bp.title, /1 peer sent corrupt data and was banned/);
  assert.ok(hf.entries.includes('hash-failures-banned-peers'), hf.entries.join());

  // Asked about the node as a whole, the corrupt data shows too (the engine's own counter).
  const node = await ask(s, { question: 'hash check failed, corrupt pieces?' });
  assert.equal(node.status, 200);
  const all = (await import('@cascade/assistant')).runChecks;
  const { AssistantNodeView } = await import('@cascade/node-assistant');
  const view = new AssistantNodeView(s.node, { bittorrentHost: '127.0.0.1' });
  t.after(() => view.close());
  const general = await all(view);
  const g = general.find((f) => f.id === 'hash-failures');
  assert.ok(g, JSON.stringify(general));
  assert.match(g.evidence, /failed the hash check since the node started/);
});
