// Issue 23 in a network built from namespaces (the NAT lab: packages/reachability/lab): two Cascade
// trackers and a TURN server (Debian's coturn) on a "public" segment in 198.18.0.0/24, nodes in homes
// behind routers doing NAT with iptables. Nodes cannot reach each other over TCP (no port is mapped),
// so data flows over WebRTC: hole punched behind cone NATs with nothing configured (the trackers'
// STUN), relayed through TURN behind symmetric ones, with an explicit --ice-server and with
// credentials the tracker mints. Every node reports its NAT type from what the STUN servers saw.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir } from './helpers.ts';
import { anotherSwarm, cascadeIn, cascadeVerb, peerList, publicSide, transfer } from './nat-lab-nodes.ts';

/** One lab for the file (its public segment and two trackers, a torrent on them), removed after
 *  its last test; each test adds homes of its own, and its nodes stop when it ends. */
const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});
let shared: ReturnType<typeof publicSide> | undefined;
const lab = () => (shared ??= publicSide({ after: (fn) => cleanups.push(fn) }));

test('cone ↔ cone with nothing configured: no TCP path, so the nodes meet over WebRTC, hole punched with the trackers’ STUN; each says "cone" and its router’s address', { timeout: 240_000 }, async (t) => {
  const s = await lab();
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

test('one torrent, both kinds of peers at once: TCP to a seeder on an open host, WebRTC to a seeder behind another NAT', { timeout: 300_000 }, async (t) => {
  // A torrent of its own: the first test's peers of the lab's torrent stay out of this one.
  const s = await anotherSwarm(t, await lab(), 'both-kinds.bin');
  const open = await s.lab.addHome({ nat: 'none' });
  const a = await s.lab.addHome({ nat: 'cone' });
  const b = await s.lab.addHome({ nat: 'cone' });
  const seeders = [[open, join(tempDir(t), 'o')], [a, join(tempDir(t), 'a')]] as const;
  for (const [home, state] of seeders) {
    // The seeder behind the NAT over TCP alone: two cone NATs' uTP dials crossing at the right moment
    // punch a direct path (as BEP 55 does on purpose), and a run of 29 Nov met it that way, not over
    // WebRTC. A TCP dial through port-restricted filtering never gets in, so WebRTC is its one way.
    const utp = home === a ? ['--no-utp'] : [];
    const seeder = cascadeIn(s.lab, home.ns, ['seed', s.torrent, '--dir', s.dataDir, '--json', '--no-dht', '--port', '6881', ...utp, '--state-dir', state]);
    t.after(() => seeder.stop());
    await seeder.event((e) => e.event === 'seeding', 30_000, 'seeding');
    // Slow seeders, so the download lasts long enough to watch both at work, even on a machine
    // busy with other tests (the WebRTC side needs its STUN probe and an offer round first).
    await cascadeVerb(s.lab, home.ns, ['limits', '--up', '64k', '--state-dir', state]);
  }
  const stateB = join(tempDir(t), 'b');
  const leecher = cascadeIn(s.lab, b.ns, ['download', s.torrent, '-o', tempDir(t), '--json', '--no-dht', '--port', '6881', '--state-dir', stateB]);
  t.after(() => leecher.stop());
  const seen = new Set<string>();
  const deadline = Date.now() + 90_000;
  while (seen.size < 2 && Date.now() < deadline && !leecher.events.some((e) => e.event === 'done')) {
    const r = await cascadeVerb(s.lab, b.ns, ['peers', s.infoHash, '--state-dir', stateB]).catch(() => ({}));
    // A direct connection to the open host is TCP or uTP (it is dialled uTP first, as libtorrent does).
    for (const p of peerList(r)) if (p.downloaded > 0) seen.add(p.transport === 'tcp' || p.transport === 'utp' ? `direct ${String(p.address).split(':')[0]}` : p.transport);
    await new Promise((r) => setTimeout(r, 500));
  }
  if (seen.size < 2) {
    // What the downloader knew when it gave up: its network and its trackers.
    const h = await cascadeVerb(s.lab, b.ns, ['health', '--state-dir', stateB]).catch((err: Error) => ({ error: err.message }));
    const ann = await cascadeVerb(s.lab, b.ns, ['announce', '--state-dir', stateB]).catch((err: Error) => ({ error: err.message }));
    t.diagnostic(`downloader: network ${JSON.stringify((h as any).network)}; trackers ${JSON.stringify((ann as any).torrents?.[0]?.trackers)}`);
  }
  assert.deepEqual([...seen].sort(), [`direct ${open.lanAddress}`, 'webrtc'], 'pieces came over TCP or uTP from the open host and over WebRTC from the one behind a NAT');
  await leecher.event((e) => e.event === 'done', 120_000, 'the download done');
});

test('an open host says "open"; its address is its own', { timeout: 120_000 }, async (t) => {
  const s = await lab();
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
