// The choker's rules (swarm/choker.ts), round by round on peers whose byte counters the test moves:
// slots sized to the link, round robin while seeding, tit-for-tat and anti-snubbing while
// downloading, optimistic slots to whoever waited longest. The swarm lab (bench/swarm-lab) measures
// what these rules do to a real swarm; this pins the rules themselves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Choker, MAX_UPLOAD_SLOTS, MIN_UPLOAD_SLOTS, SNUB_MS } from '../src/swarm/choker.ts';
import { Bitfield } from '../src/pieces/bitfield.ts';
import type { Peer } from '../src/swarm/peer.ts';

const PIECE = 256 * 1024;

class Meter {
  total = 0;
  bytesPerS = 0;
  rate(): number {
    return this.bytesPerS;
  }
}

/** The fields of a Peer the choker reads and writes. */
function peer(name: string, pieces = 0) {
  const bits = new Bitfield(100);
  for (let i = 0; i < pieces; i++) bits.set(i);
  const p = {
    name, closed: false, peerInterested: true, peerChoking: true, priority: 0, amChoking: true, optimistic: false,
    unchokedAt: 0, upAtUnchoke: 0, bits, requests: new Map<number, unknown>(), down: new Meter(), up: new Meter(),
    setChoking(choke: boolean, at = Date.now()) {
      if (p.amChoking === choke) return;
      p.amChoking = choke;
      if (!choke) {
        p.unchokedAt = at;
        p.upAtUnchoke = p.up.total;
      }
    },
  };
  return p;
}
type TestPeer = ReturnType<typeof peer>;
const asPeers = (ps: TestPeer[]) => ps as unknown as Peer[];
const unchoked = (ps: TestPeer[]) => ps.filter((p) => !p.amChoking).map((p) => p.name);

test('slots follow the upload rate the torrent reached: 4 on a slow link, one per 128 KiB/s, 16 at most', () => {
  for (const [rate, slots] of [[50_000, MIN_UPLOAD_SLOTS], [1_000_000, 8], [1_500_000, 12], [50_000_000, MAX_UPLOAD_SLOTS]] as const) {
    const c = new Choker();
    const ps = Array.from({ length: 20 }, (_, i) => peer(`p${i}`));
    ps[0]!.up.bytesPerS = rate;
    c.rechoke(asPeers(ps), true, PIECE);
    assert.equal(c.slots, slots, `${rate} B/s`);
    // Regular slots plus max(1, slots / 5) optimistic ones.
    assert.equal(unchoked(ps).length, slots + Math.max(1, Math.floor(slots / 5)), `${rate} B/s`);
  }
});

test('seeding: round robin — each slot is held for a quota, then the peers that waited get it, least complete first', () => {
  const c = new Choker();
  const ps = Array.from({ length: 12 }, (_, i) => peer(`p${i}`, i)); // p0 holds nothing, p11 the most
  let now = 1_000_000;
  const served = new Set<string>();
  for (let round = 0; round < 8; round++) {
    c.rechoke(asPeers(ps), true, PIECE, now);
    if (round === 0) {
      // 4 slots (a slow link) + 1 optimistic: the regular ones go to the least complete.
      for (const name of ['p0', 'p1', 'p2', 'p3']) assert.ok(unchoked(ps).includes(name), `round 0 serves ${name}: ${unchoked(ps)}`);
    }
    for (const p of ps) {
      if (p.amChoking) continue;
      served.add(p.name);
      p.up.total += 5 * PIECE; // past the quota in one round
      p.up.bytesPerS = 100_000;
      p.unchokedAt -= 30_000; // and held long enough
    }
    now += 10_000;
  }
  assert.equal(served.size, 12, `every interested peer had a turn within 8 rounds: ${[...served]}`);
});

test('downloading: tit-for-tat keeps who gives most; a peer silent on our requests for a minute loses its slot', () => {
  const c = new Choker();
  const ps = Array.from({ length: 10 }, (_, i) => peer(`p${i}`));
  let now = 2_000_000;
  const round = (give: (p: TestPeer, i: number) => number) => {
    ps.forEach((p, i) => (p.down.total += give(p, i)));
    c.rechoke(asPeers(ps), false, PIECE, now);
    now += 10_000;
  };
  round(() => 0);
  // p9 gives the most, p0 sends nothing though it has our requests and has unchoked us.
  ps[0]!.peerChoking = false;
  ps[0]!.requests.set(1, {});
  round((_, i) => i * 100_000);
  assert.ok(!ps[9]!.amChoking && !ps[8]!.amChoking, 'the best givers hold slots');
  for (let k = 0; k < 8; k++) round((p, i) => (i === 0 ? 0 : i * 100_000 + (p.name === 'p1' ? 0 : 0)));
  assert.ok(now - 2_000_000 > SNUB_MS);
  assert.ok(ps[0]!.amChoking || ps[0]!.optimistic, 'the snubbing peer has at most an optimistic slot');
});

test('optimistic slots go to the interested peers that waited longest, newcomers first', () => {
  const c = new Choker();
  const ps = Array.from({ length: 30 }, (_, i) => peer(`p${i}`));
  for (const [i, p] of ps.entries()) p.unchokedAt = i < 29 ? 5_000 + i : 0; // p29 never had a slot
  ps[0]!.up.bytesPerS = 1_000; // 4 slots
  ps.forEach((p, i) => (p.down.total = i < 29 ? (29 - i) * 1000 : 0)); // p0..p3 give most: regular
  c.rechoke(asPeers(ps), false, PIECE, 10_000_000);
  assert.deepEqual(unchoked(ps).sort(), ['p0', 'p1', 'p2', 'p29', 'p3'].sort());
  assert.ok(ps[29]!.optimistic);
});

test('between rounds a newcomer is unchoked only while the round\'s own slots are free: downloading, half the link\'s', () => {
  for (const seeding of [false, true]) {
    const c = new Choker();
    const ps = Array.from({ length: 14 }, (_, i) => peer(`p${i}`, i));
    ps[0]!.up.bytesPerS = 1_000_000; // 8 slots, 1 optimistic
    c.rechoke(asPeers(ps), seeding, PIECE);
    const slots = (seeding ? 8 : 4) + 1;
    assert.equal(unchoked(ps).length, slots, seeding ? 'seeding' : 'downloading');
    const late = peer('late');
    const all = asPeers([...ps, late]);
    assert.equal(c.tryUnchoke(asPeers([late])[0]!, all, seeding), false, `${seeding ? 'seeding' : 'downloading'}: every slot of the round is taken`);
    assert.equal(late.amChoking, true);
    // One of them loses interest: its slot is free, and the newcomer takes it at once.
    ps.find((p) => !p.amChoking)!.peerInterested = false;
    assert.equal(c.tryUnchoke(asPeers([late])[0]!, all, seeding), true);
    assert.equal(late.amChoking, false);
  }
});
