// The assistant on a port nobody can reach. What loopback can reproduce honestly: a node bound to
// 127.0.0.1 (local-only: nobody elsewhere can connect), and a node bound to every address that has
// been up for hours with no incoming connection (port-unreachable; its start time is moved back,
// since waiting 20 minutes is no test) — until a real peer dials in, after which it is not claimed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Session } from '@cascade/engine';
import { ask, bareServer, finding, seeder, until, KiB } from './assistant-helpers.ts';
import { tempDir } from '../../node/test/helpers.ts';

test('bound to 127.0.0.1: local-only, for the node and for a torrent', async (t) => {
  const seed = await seeder(t, 128 * KiB);
  const s = await bareServer(t, { btHost: '127.0.0.1' });
  await s.node.addWith(seed.torrent, {}, {});
  const r = await ask(s, { question: 'nobody can connect to me', infoHash: seed.infoHash });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const f = finding(r.body, 'local-only');
  assert.equal(f.severity, 'problem');
  assert.match(f.evidence, new RegExp(`127\\.0\\.0\\.1:${s.node.session.port}`));
  assert.ok(f.actions.some((a) => a.href === '#/network'));
  // The torrent has no peers, and says so, with the discovery facts.
  assert.match(finding(r.body, 'no-peers').evidence, /0 peers.*DHT off/);
});

test('bound to every address, hours up, nobody connected in: port-unreachable; after a peer dials in, not', async (t) => {
  const seed = await seeder(t, 1024 * KiB);
  const s = await bareServer(t, { btHost: '0.0.0.0' });
  // This node seeds (its data is the seeder's folder), so a peer that wants the data dials in.
  await s.node.addWith(seed.torrent, { savePath: seed.dir }, {});
  const fresh = await ask(s, { question: 'is my port open?', infoHash: seed.infoHash });
  // A node up for seconds has not been missed by anyone yet: no claim either way.
  assert.ok(!fresh.body.findings.some((f) => f.id === 'port-unreachable' || f.id === 'local-only'), JSON.stringify(fresh.body.findings));

  Object.defineProperty(s.node, 'startedAt', { value: Date.now() - 3 * 3600_000 });
  const old = await ask(s, { question: 'is my port open?', infoHash: seed.infoHash });
  const f = finding(old.body, 'port-unreachable');
  assert.match(f.title, /Nobody has connected in to your node for 3 h: port \d+ is probably not forwarded/);
  assert.match(f.evidence, /0 incoming peers \(none since the node started 3 h ago\)/);

  // A real peer dials in (slowed down, so it stays connected while we look): reachable, no claim.
  const other = await Session.create({ port: 0, host: '127.0.0.1', dht: false, webrtc: false });
  t.after(() => other.close());
  other.setRateLimits({ download: 16 * KiB });
  await other.add(seed.torrent, { savePath: tempDir(t), peers: [`127.0.0.1:${s.node.session.port}`] });
  await until('an incoming peer', () => (s.node.session.get(seed.infoHash)!.peers().some((p) => p.source === 'incoming') ? true : undefined));
  const after = await ask(s, { question: 'is my port open?', infoHash: seed.infoHash });
  assert.ok(!after.body.findings.some((x) => x.id === 'port-unreachable'), JSON.stringify(after.body.findings));
  const health = await s.json('/api/health');
  assert.equal(health.body.reachability.status, 'reachable');
});
