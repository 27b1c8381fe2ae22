// Issue 23 in a network built from namespaces (the NAT lab: packages/reachability/lab): two Cascade
// trackers and a TURN server (Debian's coturn) on a "public" segment in 198.18.0.0/24, nodes in homes
// behind routers doing NAT with iptables. Nodes cannot reach each other over TCP (no port is mapped),
// so data flows over WebRTC: hole punched behind cone NATs with nothing configured (the trackers'
// STUN), relayed through TURN behind symmetric ones, with an explicit --ice-server and with
// credentials the tracker mints. Every node reports its NAT type from what the STUN servers saw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir } from './helpers.ts';
import { cascadeIn, cascadeVerb, publicSide, transfer } from './nat-lab-nodes.ts';

test('cone ↔ cone with nothing configured: no TCP path, so the nodes meet over WebRTC, hole punched with the trackers’ STUN; each says "cone" and its router’s address', { timeout: 240_000 }, async (t) => {
  const s = await publicSide(t);
  const r = await transfer(t, s, 'cone');
  const seederPeers = r.peers.filter((p) => p.progress === 1 || p.transport === 'webrtc');
  assert.ok(seederPeers.length > 0, `the downloader sees the seeder: ${JSON.stringify(r.peers)}`);
  assert.ok(r.peers.every((p) => p.transport === 'webrtc'), `over WebRTC only (TCP cannot pass the NATs): ${JSON.stringify(r.peers)}`);
  assert.ok(r.peers.every((p) => p.relayed === false), 'hole punched, not relayed');
  for (const [h, home] of [[r.healthA, r.a], [r.healthB, r.b]] as const) {
    assert.equal(h.network?.nat, 'cone', JSON.stringify(h.network));
    assert.equal(h.network.externalAddress, home.wanAddress);
    assert.equal(h.network.iceSource, 'trackers');
    assert.ok(h.network.iceServers.some((x: { urls: string[] }) => x.urls.some((u) => u.startsWith('stun:198.18.0.'))), 'the trackers’ STUN in force');
  }
  t.diagnostic(`cone ↔ cone: 4 MiB in ${r.seconds.toFixed(1)} s`);
});

test('an open host says "open"; its address is its own', { timeout: 120_000 }, async (t) => {
  const s = await publicSide(t);
  const open = await s.lab.addHome({ nat: 'none' });
  const state = join(tempDir(t), 'o');
  const node = cascadeIn(s.lab, open.ns, ['seed', s.torrent, '--dir', s.dataDir, '--json', '--no-dht', '--port', '6881', '--state-dir', state]);
  t.after(() => node.stop());
  await node.event((e) => e.event === 'seeding', 30_000, 'seeding');
  let h: Record<string, any> = {};
  for (let i = 0; i < 40; i++) {
    h = await cascadeVerb(s.lab, open.ns, ['health', '--state-dir', state]);
    if (h.network?.nat && h.network.nat !== 'unknown') break;
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.equal(h.network?.nat, 'open', JSON.stringify(h.network));
  assert.equal(h.network.externalAddress, open.lanAddress);
});
