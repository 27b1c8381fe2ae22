// Issue 23, relayed fallback, in the NAT lab: behind symmetric NATs (MASQUERADE --random-fully: a
// new port per destination) what a STUN server saw is useless to a peer, so hole punching cannot
// work; the nodes connect through a TURN server (Debian's coturn on the public segment), first with
// an explicit --ice-server whose user and password are percent-encoded, then with nothing configured,
// through credentials the tracker mints for coturn's use-auth-secret. Peers say relayed.
// Issue 43: a relay-only node (symmetric NAT, TURN) also connects to cone and open peers.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { anotherSwarm, coturn, publicSide, transfer, TURN_SECRET } from './nat-lab-nodes.ts';

/** One lab for the file, removed after its last test: trackers (the first mints credentials for
 *  the coturn at .13) and two coturns. */
const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});
let shared: ReturnType<typeof setUp> | undefined;
async function setUp() {
  const t = { after: (fn: () => unknown) => void cleanups.push(fn) };
  const s = await publicSide(t, ['--turn-url', `turn:198.18.0.13:3478`, '--turn-secret', TURN_SECRET]);
  const staticTurn = await coturn(t, s.lab, await s.lab.publicHost(2), { user: 'labuser', password: 'p@ss:word' });
  await coturn(t, s.lab, await s.lab.publicHost(3), { secret: TURN_SECRET });
  return { s, staticTurn };
}
const lab = () => (shared ??= setUp());

test('symmetric ↔ symmetric: hole punching cannot work; through coturn with an explicit --ice-server, then with credentials the tracker mints; peers say relayed; "symmetric"', { timeout: 360_000 }, async (t) => {
  const { s, staticTurn } = await lab();

  // Explicit: a TURN URL whose user and password are percent-encoded. Its two nodes are stopped
  // before the next transfer: left running, they are two more seeds of the same torrent (one with no
  // upload limit), and the next download could go from nothing to done between two of its progress
  // events (CI, once: 4 MiB at 15 MB/s), so "data flowing" was never seen, and its peers were theirs.
  const explicitNodes: (() => unknown)[] = [];
  const explicit = await transfer({ after: (fn) => void explicitNodes.push(fn) }, s, 'symmetric', ['--ice-server', `turn:labuser:p%40ss%3Aword@${new URL(`http://${staticTurn.url.slice(5)}`).host}`]);
  assert.ok(explicit.peers.length > 0 && explicit.peers.every((p) => p.transport === 'webrtc' && p.relayed === true), `relayed WebRTC: ${JSON.stringify(explicit.peers)}`);
  assert.equal(explicit.healthB.network?.nat, 'symmetric', JSON.stringify(explicit.healthB.network));
  assert.equal(explicit.healthB.network.iceSource, 'setting');
  assert.match(staticTurn.log(), /user <labuser>: incoming packet ALLOCATE processed, success/, 'coturn took the percent-decoded user and password');
  for (const stop of explicitNodes.reverse()) await stop();

  // Nothing configured: the tracker's /ice-servers hands out coturn credentials (use-auth-secret).
  const minted = await transfer(t, s, 'symmetric');
  assert.ok(minted.peers.length > 0 && minted.peers.every((p) => p.transport === 'webrtc' && p.relayed === true), `relayed WebRTC: ${JSON.stringify(minted.peers)}`);
  const turn = minted.healthB.network.iceServers.find((x: { urls: string[] }) => x.urls[0]!.startsWith('turn:'));
  assert.ok(turn, 'a TURN server from the tracker is in force');
  assert.match(turn.username, /^\d+:/, 'coturn’s expiry:label user name');
  assert.equal(minted.healthB.network.nat, 'symmetric');
  t.diagnostic(`symmetric ↔ symmetric through TURN: explicit ${explicit.seconds.toFixed(1)} s, minted ${minted.seconds.toFixed(1)} s for 4 MiB`);
});

// The relay-only side asks its TURN server to send its checks to every candidate of the peer; a
// cone peer's include its private LAN address, which the public segment cannot route, and coturn
// closed the whole allocation on that failed send: a relay-only node did not connect to a cone peer
// whose offer it answered (before the fix, symmetric → cone found no data within 120 s in 5 runs of
// 6). The other side needs no TURN server of its own: half the cases give one to the symmetric side
// alone (--ice-server; their torrents announce to the tracker that mints none), half have the
// tracker mint for both. An open peer has its BitTorrent port firewalled, so WebRTC is the only way.
test('relay-only ↔ cone and relay-only ↔ open, each side seeding to the other: WebRTC through the relay-only side’s TURN, the bytes intact', { timeout: 240_000 }, async (t) => {
  const { s, staticTurn } = await lab();
  const oneSided = ['--ice-server', `turn:labuser:p%40ss%3Aword@${new URL(`http://${staticTurn.url.slice(5)}`).host}`];
  const cases = [
    { seeder: 'symmetric', downloader: 'cone', turn: 'minted' },
    { seeder: 'cone', downloader: 'symmetric', turn: 'one-sided' },
    { seeder: 'symmetric', downloader: 'none', turn: 'one-sided' },
    { seeder: 'none', downloader: 'symmetric', turn: 'minted' },
  ] as const;
  const runs = await Promise.all(cases.map(async ({ seeder, downloader, turn }) => {
    const announce = turn === 'minted' ? s.announce : [s.t2.ws, s.t2.udp, s.t1.udp];
    const swarm = await anotherSwarm(t, { lab: s.lab, announce }, `${seeder}-to-${downloader}.bin`);
    return transfer(t, swarm, [seeder, downloader], [], { webrtcOnly: true, argsFor: (nat) => (turn === 'one-sided' && nat === 'symmetric' ? oneSided : []) });
  }));
  const kinds = { symmetric: 'symmetric', cone: 'cone', none: 'open' } as const;
  for (const [i, r] of runs.entries()) {
    const { seeder, downloader, turn } = cases[i]!;
    const what = `${seeder} → ${downloader} (TURN ${turn})`;
    // Relayed to a cone peer; an open host the symmetric side may also reach straight from its own
    // socket (libjuice checks from it too; the open host learns it as a peer-reflexive candidate).
    const relayed = seeder === 'none' || downloader === 'none' ? [true, false] : [true];
    assert.ok(r.peers.length > 0 && r.peers.every((p) => p.transport === 'webrtc' && relayed.includes(p.relayed)), `${what}: WebRTC, relayed: ${JSON.stringify(r.peers)}`);
    for (const [h, nat] of [[r.healthA, seeder], [r.healthB, downloader]] as const) {
      assert.equal(h.network?.nat, kinds[nat], `${what}: ${JSON.stringify(h.network)}`);
      assert.equal(h.network.relayOnly, nat === 'symmetric', `${what}: only the symmetric side is relay-only`);
      const hasTurn = h.network.iceServers.some((x: { urls: string[] }) => x.urls.some((u) => u.startsWith('turn:')));
      assert.equal(hasTurn, turn === 'minted' || nat === 'symmetric', `${what}: who has a TURN server`);
    }
  }
  t.diagnostic(runs.map((r, i) => `${cases[i]!.seeder} → ${cases[i]!.downloader} ${r.seconds.toFixed(1)} s ${r.peers[0]?.relayed ? 'relayed' : 'direct'}`).join(', '));
});
