// The memory store keeps IP peers as packed records (src/packed-peers.ts). These tests pin what
// that packing must never lose: the id index through adds, updates, swap-removes, seed changes
// and compaction; IPv4 and IPv6 addresses in compact and dictionary replies; samples without
// duplicates; exact expiry; and a bound on bytes per peer computed from the store's arrays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from '../index.ts';
import type { AnnounceInput } from '../index.ts';
import { PackedSwarms, pickedSlots } from '../src/store/packed-peers.ts';
import { formatIpv6, parseIp16 } from '../src/store/ip16.ts';
import { startTracker } from '../index.ts';
import { esc, getBencoded, id } from './helpers.ts';
import { text } from '@cascade/engine/bencode';
import type { BDict } from '@cascade/engine/bencode';

const hex = (n: number) => n.toString(16).padStart(2, '0').repeat(20);
const peerHex = (n: number) => n.toString(16).padStart(40, '0');

function input(ih: number, peer: number, o: Partial<AnnounceInput> = {}): AnnounceInput {
  return { infoHashHex: hex(ih), peerIdHex: peerHex(peer), kind: 'ip', host: '127.0.0.1', port: 6000 + peer, owner: '', left: 10, uploaded: 0, downloaded: 0, numwant: 50, ...o };
}

// A small deterministic generator, so a failure replays.
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test('packed records keep their index through adds, updates, swap-removes, seed changes, expiry, swarm deletion and compaction', () => {
  const sw = new PackedSwarms();
  const ihOf = (k: number) => Buffer.alloc(20, k + 1);
  const ids = Array.from({ length: 6 }, (_, k) => sw.create(ihOf(k), 0));
  const models = ids.map(() => new Map<number, { port: number; seed: boolean; v6: boolean; seen: number }>());
  const rand = rng(25);
  const idBuf = Buffer.alloc(20);
  const ip = Buffer.alloc(16);
  const idOf = (n: number) => {
    idBuf.fill(0);
    idBuf.write('-CS0001-', 0, 'latin1');
    idBuf.writeUInt32BE(n, 16);
    return idBuf;
  };
  const addr = (n: number, v6: boolean) => (v6 ? `2001:db8::${(n + 1).toString(16)}` : `10.0.${n >> 8}.${n & 255}`);
  const check = (op: number) => {
    assert.equal(sw.count, ids.length);
    for (let k = 0; k < ids.length; k++) {
      const s = ids[k]!;
      const m = models[k]!;
      assert.equal(sw.find(ihOf(k), 0), s, `swarm ${k} found by infohash`);
      assert.equal(sw.n(s), m.size);
      assert.equal(sw.seeds(s), [...m.values()].filter((x) => x.seed).length);
      assert.equal(sw.ipv6Peers(s), [...m.values()].filter((x) => x.v6).length);
      for (const [peer, want] of m) {
        const at = sw.findPeer(s, idOf(peer), 0);
        assert.ok(at >= 0, `peer ${peer} lost from swarm ${k} at op ${op}`);
        assert.equal(sw.port(s, at), want.port);
        assert.equal(sw.isSeed(s, at), want.seed);
        const a = sw.address(s, at);
        assert.equal(want.v6 ? formatIpv6(a, 0) : `${a[12]}.${a[13]}.${a[14]}.${a[15]}`, addr(peer, want.v6));
      }
    }
  };
  for (let op = 0; op < 20_000; op++) {
    const k = Math.floor(rand() * ids.length);
    const s = ids[k]!;
    const model = models[k]!;
    const n = Math.floor(rand() * 400);
    const slot = sw.findPeer(s, idOf(n), 0);
    assert.equal(slot >= 0, model.has(n), `op ${op}: findPeer(${n})`);
    // Mostly growth at first, then mostly departures, so swarms both grow and shrink.
    if (rand() < (op < 12_000 ? 0.35 : 0.75) && slot >= 0) {
      sw.remove(s, slot);
      model.delete(n);
    } else {
      const seed = rand() < 0.3;
      const v6 = rand() < 0.2;
      const port = 1 + Math.floor(rand() * 65535);
      parseIp16(addr(n, v6), ip, 0);
      if (slot < 0) sw.add(s, idOf(n), 0, ip, 0, v6, port, seed, op);
      else sw.write(s, sw.setSeed(s, slot, seed), ip, 0, v6, port, op);
      model.set(n, { port, seed, v6, seen: op });
    }
    if (op % 2500 === 0) sw.compact();
    if (op % 1000 === 999) {
      const cutoff = op - 1500;
      for (let j = 0; j < ids.length; j++) {
        const gone = [...models[j]!].filter(([, x]) => x.seen < cutoff);
        assert.equal(sw.expire(ids[j]!, cutoff), gone.length, `expiry at op ${op}`);
        assert.equal(sw.expiredSeeds, gone.filter(([, x]) => x.seed).length);
        for (const [peer] of gone) models[j]!.delete(peer);
      }
    }
    // Now and then a swarm empties and goes, and a new one takes a number.
    if (op % 3000 === 1500) {
      const j = op % ids.length;
      for (const peer of [...models[j]!.keys()]) sw.remove(ids[j]!, sw.findPeer(ids[j]!, idOf(peer), 0));
      models[j]!.clear();
      sw.delete(ids[j]!);
      assert.equal(sw.find(ihOf(j), 0), -1);
      ids[j] = sw.create(ihOf(j), 0);
    }
    if (op % 500 === 0 || op === 19_999) check(op);
  }
});

test('memory given back at once (a big swarm\'s own buffer, chunks emptied by compaction) held nothing still in use', () => {
  const sw = new PackedSwarms();
  const ip = Buffer.alloc(16);
  parseIp16('10.1.2.3', ip, 0);
  const idOf = (n: number) => {
    const b = Buffer.alloc(20);
    b.writeUInt32BE(n, 16);
    return b;
  };
  const ihOf = (k: number) => Buffer.alloc(20, k + 1);
  // A swarm of thousands gets a buffer of its own; 100 swarms of 300 fill several chunks.
  const big = sw.create(Buffer.alloc(20, 0xee), 0);
  for (let n = 0; n < 6000; n++) sw.add(big, idOf(n), 0, ip, 0, false, 1 + (n % 60000), n % 4 === 0, 1);
  const small = Array.from({ length: 100 }, (_, k) => sw.create(ihOf(k), 0));
  for (const s of small) for (let n = 0; n < 300; n++) sw.add(s, idOf(n), 0, ip, 0, false, 1000 + n, false, 1);
  const chunksBefore = sw.chunkBytes;
  // Most peers leave most swarms; compaction then needs fewer chunks and drops the rest.
  small.forEach((s, k) => {
    if (k % 4 !== 0) for (let n = 10; n < 300; n++) sw.remove(s, sw.findPeer(s, idOf(n), 0));
  });
  sw.compact();
  assert.ok(sw.chunkBytes < chunksBefore / 2, `chunks ${chunksBefore} → ${sw.chunkBytes}`);
  // The big swarm shrinks into the slab, and its own buffer is given back.
  for (let n = 100; n < 6000; n++) sw.remove(big, sw.findPeer(big, idOf(n), 0));
  sw.compact();
  small.forEach((s, k) => {
    const kept = k % 4 === 0 ? 300 : 10;
    assert.equal(sw.n(s), kept);
    for (let n = 0; n < kept; n++) assert.equal(sw.port(s, sw.findPeer(s, idOf(n), 0)), 1000 + n, `swarm ${k} peer ${n}`);
  });
  assert.equal(sw.n(big), 100);
  for (let n = 0; n < 100; n++) {
    const at = sw.findPeer(big, idOf(n), 0);
    assert.equal(sw.port(big, at), 1 + n);
    assert.equal(sw.isSeed(big, at), n % 4 === 0);
  }
});

test('many swarms: the infohash index grows and shrinks without losing one', () => {
  const sw = new PackedSwarms();
  const ih = (i: number) => {
    const b = Buffer.alloc(20);
    b.writeUInt32BE(i, 0);
    b.writeUInt32BE(i * 7, 16);
    return b;
  };
  const nums = new Map<number, number>();
  for (let i = 0; i < 3000; i++) nums.set(i, sw.create(ih(i), 0));
  for (let i = 0; i < 3000; i += 3) {
    sw.delete(nums.get(i)!);
    nums.delete(i);
  }
  for (let i = 3000; i < 4000; i++) nums.set(i, sw.create(ih(i), 0));
  assert.equal(sw.count, nums.size);
  for (let i = 0; i < 4000; i++) assert.equal(sw.find(ih(i), 0), nums.get(i) ?? -1, `swarm ${i}`);
  assert.equal(new Set(nums.values()).size, nums.size, 'numbers are not shared');
});

test('pick: never the announcer, never twice, seeds get only leechers, numwant respected at every size', () => {
  const sw = new PackedSwarms();
  const s = sw.create(Buffer.alloc(20, 9), 0);
  const ip = Buffer.alloc(16);
  parseIp16('127.0.0.1', ip, 0);
  for (let i = 0; i < 120; i++) sw.add(s, Buffer.from(peerHex(i), 'hex'), 0, ip, 0, false, 1000 + i, i < 40, 0);
  assert.equal(sw.seeds(s), 40);
  for (const self of [0, 39, 40, 119]) {
    const selfSeed = sw.isSeed(s, self);
    for (let numwant = 0; numwant <= 130; numwant += 7) {
      const k = sw.pick(s, self, numwant);
      const slots = [...pickedSlots().subarray(0, k)];
      const candidates = selfSeed ? sw.leechers(s) : sw.n(s) - 1;
      assert.equal(k, Math.min(numwant, candidates));
      assert.equal(new Set(slots).size, k, 'no duplicates');
      assert.ok(!slots.includes(self), 'never itself');
      if (selfSeed) assert.ok(slots.every((x) => !sw.isSeed(s, x)), 'a seed gets no seeds');
      assert.ok(slots.every((x) => x >= 0 && x < sw.n(s)));
    }
  }
  // Every candidate is about equally likely: 6,000 draws of 10 from 119 give each about 504.
  const hits = new Map<number, number>();
  for (let i = 0; i < 6000; i++) {
    const k = sw.pick(s, 60, 10);
    for (const x of pickedSlots().subarray(0, k)) hits.set(x, (hits.get(x) ?? 0) + 1);
  }
  assert.equal(hits.size, 119);
  for (const [slot, n] of hits) assert.ok(n > 300 && n < 750, `slot ${slot} drawn ${n} times`);
});

test('window sample: wherever the announcer sits and whatever numwant, every candidate equally likely, never the announcer, and the reply is those peers', () => {
  const sw = new PackedSwarms();
  const s = sw.create(Buffer.alloc(20, 11), 0);
  const ip = Buffer.alloc(16);
  // 30 leechers then 10 seeds, each at its own port (the reply's bytes name the slot).
  for (let i = 0; i < 40; i++) {
    parseIp16(`10.0.${i}.1`, ip, 0);
    sw.add(s, Buffer.from(peerHex(i), 'hex'), 0, ip, 0, false, 2000 + i, i >= 30, 0);
  }
  const portAt = (slot: number) => sw.port(s, slot);
  for (const self of [0, 1, 15, 28, 29, 30, 39]) {
    const seed = sw.isSeed(s, self);
    const candidates = seed ? sw.leechers(s) : sw.n(s) - 1;
    for (const numwant of [1, 7, candidates - 1, candidates]) {
      const hits = new Map<number, number>();
      const draws = 4000;
      const out = Buffer.alloc(6 * 50);
      for (let d = 0; d < draws; d++) {
        const k = sw.pick(s, self, numwant);
        assert.equal(k, Math.min(numwant, candidates));
        const bytes = sw.writePicked(s, k, 4, out, 0);
        assert.equal(bytes, 6 * k);
        const slots = [...pickedSlots().subarray(0, k)];
        // What was written is exactly the picked slots, in order.
        assert.deepEqual(Array.from({ length: k }, (_, i) => out.readUInt16BE(6 * i + 4)), slots.map(portAt));
        assert.equal(new Set(slots).size, k, 'no peer twice');
        assert.ok(!slots.includes(self), 'never the announcer');
        if (seed) assert.ok(slots.every((x) => !sw.isSeed(s, x)), 'a seed gets no seeds');
        for (const x of slots) hits.set(x, (hits.get(x) ?? 0) + 1);
      }
      assert.equal(hits.size, candidates, `self ${self}, numwant ${numwant}: every candidate drawn`);
      // Each candidate is drawn k / candidates of the time: within five standard deviations (a
      // slot drawn twice as often, or never, is far outside).
      const p = Math.min(numwant, candidates) / candidates;
      const expected = draws * p;
      const sd = Math.sqrt(draws * p * (1 - p));
      for (const [slot, n] of hits) assert.ok(Math.abs(n - expected) <= 5 * sd + 1, `self ${self}, numwant ${numwant}: slot ${slot} drawn ${n} times, expected ${expected}`);
    }
  }
});

test('compact replies: the peers written from the compact area matches the records through adds, seed changes, removals and growth', () => {
  const sw = new PackedSwarms();
  const s = sw.create(Buffer.alloc(20, 7), 0);
  const ip = Buffer.alloc(16);
  const next = rng(7);
  const live = new Map<number, { seed: boolean; port: number; ip: string }>();
  // What a peer's 6 bytes must be: its own address and port, looked up by id.
  const expected = (slot: number) => {
    const a = sw.address(s, slot);
    return Buffer.from([a[12]!, a[13]!, a[14]!, a[15]!, sw.port(s, slot) >> 8, sw.port(s, slot) & 255]).toString('hex');
  };
  for (let step = 0; step < 3000; step++) {
    const peer = Math.floor(next() * 300);
    const id = Buffer.from(peerHex(peer), 'hex');
    const slot = sw.findPeer(s, id, 0);
    if (slot >= 0 && next() < 0.3) {
      sw.remove(s, slot);
      live.delete(peer);
    } else {
      const addr = `10.${peer & 255}.${step & 255}.${(step >> 8) & 255}`;
      parseIp16(addr, ip, 0);
      const seed = next() < 0.3;
      const port = 1024 + step;
      if (slot < 0) sw.add(s, id, 0, ip, 0, false, port, seed, step);
      else sw.write(s, sw.setSeed(s, slot, seed), ip, 0, false, port, step);
      live.set(peer, { seed, port, ip: addr });
    }
    if (step % 50 !== 0 || sw.n(s) === 0) continue;
    const self = Math.floor(next() * sw.n(s));
    const numwant = 1 + Math.floor(next() * 60);
    const out = Buffer.alloc(6 * 80);
    const bytes = sw.writePicked(s, sw.pick(s, self, numwant), 4, out, 0);
    const candidates = sw.isSeed(s, self) ? sw.leechers(s) : sw.n(s) - 1;
    assert.equal(bytes, 6 * Math.min(numwant, candidates));
    // Every entry is some other candidate's address and port, none twice.
    const bySlot = new Map<string, number>();
    for (let slot = 0; slot < sw.n(s); slot++) if (slot !== self && !(sw.isSeed(s, self) && sw.isSeed(s, slot))) bySlot.set(expected(slot), slot);
    const seen = new Set<string>();
    for (let o = 0; o < bytes; o += 6) {
      const e = out.subarray(o, o + 6).toString('hex');
      assert.ok(bySlot.has(e), `step ${step}: ${e} is a candidate's address`);
      assert.ok(!seen.has(e), 'no peer twice');
      seen.add(e);
    }
  }
  assert.equal(sw.n(s), live.size);
});

test('IPv6 text round-trips in canonical form', () => {
  const b = Buffer.alloc(16);
  for (const a of ['::1', '2001:db8::5', 'fe80::1:2:3:4', '2001:db8:0:1:1:1:1:1', '::', '1::', '64:ff9b::c000:221']) {
    assert.equal(parseIp16(a, b, 0), 6);
    assert.equal(formatIpv6(b, 0), a);
  }
  assert.equal(parseIp16('::ffff:1.2.3.4', b, 0), 6);
  assert.deepEqual([...b.subarray(10)], [0xff, 0xff, 1, 2, 3, 4]);
  assert.equal(parseIp16('192.0.2.7', b, 0), 4);
  assert.deepEqual([...b.subarray(10)], [0xff, 0xff, 192, 0, 2, 7]);
});

test('store: IPv4 and IPv6 peers in compact (BEP 23 / BEP 7) and dictionary replies; updates and stops', () => {
  const s = new MemoryStore({ peerTtlMs: 60_000 });
  try {
    s.announce(input(1, 1, { host: '192.0.2.1', port: 1111, left: 0 }));
    s.announce(input(1, 2, { host: '2001:db8::2', port: 2222 }));
    s.announce(input(1, 3, { host: '192.0.2.3', port: 3333 }));
    const c = s.announce(input(1, 4, { host: '192.0.2.4', compact: true }));
    assert.equal(c.peers.length, 0);
    const v4 = new Set<string>();
    for (let i = 0; i < c.compact4!.length; i += 6) v4.add(`${[...c.compact4!.subarray(i, i + 4)].join('.')}:${c.compact4!.readUInt16BE(i + 4)}`);
    assert.deepEqual([...v4].sort(), ['192.0.2.1:1111', '192.0.2.3:3333']);
    assert.equal(c.compact6!.length, 18);
    assert.equal(formatIpv6(c.compact6!, 0), '2001:db8::2');
    assert.equal(c.compact6!.readUInt16BE(16), 2222);
    assert.deepEqual(c.counts, { complete: 1, incomplete: 3, downloaded: 0 });

    const d = s.announce(input(1, 4, { host: '192.0.2.4' }));
    assert.deepEqual(
      d.peers.map((p) => [p.peerIdHex, p.host, p.port]).sort(),
      [
        [peerHex(1), '192.0.2.1', 1111],
        [peerHex(2), '2001:db8::2', 2222],
        [peerHex(3), '192.0.2.3', 3333],
      ],
    );
    // A peer that moves (new address, new port, now IPv6) is one peer, found at its new place.
    s.announce(input(1, 3, { host: '2001:db8::33', port: 4444, left: 0, event: 'completed' }));
    assert.deepEqual(s.findPeer(hex(1), peerHex(3), 'ip'), { peerIdHex: peerHex(3), host: '2001:db8::33', port: 4444, owner: '' });
    assert.deepEqual(s.counts(hex(1)), { complete: 2, incomplete: 2, downloaded: 1 });
    const six = s.announce(input(1, 4, { host: '192.0.2.4', compact: true })).compact6!;
    assert.equal(six.length, 36);
    s.announce(input(1, 2, { event: 'stopped', numwant: 0 }));
    s.announce(input(1, 1, { event: 'stopped', numwant: 0 }));
    assert.equal(s.findPeer(hex(1), peerHex(2), 'ip'), undefined);
    assert.deepEqual(s.totals(), { torrents: 1, peers: 2, seeders: 1, leechers: 1 });
  } finally {
    s.close();
  }
});

test('store: expiry drops exactly the peers past the ttl, and counts follow', async () => {
  const s = new MemoryStore({ peerTtlMs: 400 });
  try {
    for (let p = 1; p <= 30; p++) s.announce(input(2, p, { left: p % 3 === 0 ? 0 : 5 }));
    await new Promise((r) => setTimeout(r, 250));
    // Half of them announce again; the rest must go once the ttl passes, and only they.
    for (let p = 1; p <= 15; p++) s.announce(input(2, p, { left: p % 3 === 0 ? 0 : 5 }));
    await new Promise((r) => setTimeout(r, 250));
    const r = s.announce(input(2, 1, { numwant: 100 }));
    const ports = r.peers.map((p) => p.port).sort((a, b) => a - b);
    assert.deepEqual(ports, Array.from({ length: 14 }, (_, i) => 6002 + i));
    assert.deepEqual(r.counts, { complete: 5, incomplete: 10, downloaded: 0 });
    assert.deepEqual(s.totals(), { torrents: 1, peers: 15, seeders: 5, leechers: 10 });
    for (let p = 16; p <= 30; p++) assert.equal(s.findPeer(hex(2), peerHex(p), 'ip'), undefined);
  } finally {
    s.close();
  }
});

/** Counts full sweeps through the packed table's iterator, which only a full sweep uses. */
function countVisits(s: MemoryStore): { n: number } {
  const sw = (s as unknown as { sw: { all(): Iterable<number> } }).sw;
  const all = sw.all.bind(sw);
  const visits = { n: 0 };
  sw.all = () => (visits.n++, all());
  return visits;
}

test('store: the sweep lets untouched swarms go, and skips its visit while no peer can be overdue', async () => {
  // ttl 400 ms: the sweep runs each second.
  const s = new MemoryStore({ peerTtlMs: 400 });
  const visits = countVisits(s);
  try {
    for (let t = 1; t <= 3; t++) s.announce(input(t, 1, { numwant: 0 }));
    await new Promise((r) => setTimeout(r, 1_300));
    assert.deepEqual(s.totals(), { torrents: 0, peers: 0, seeders: 0, leechers: 0 }, 'nobody announced again: peers and swarms gone');
    assert.equal(visits.n, 1);
    // Nothing left: the next sweeps have nothing to visit.
    await new Promise((r) => setTimeout(r, 1_100));
    assert.equal(visits.n, 1, 'an empty store is not visited');
    // A peer arrives after a sweep: the next sweep that finds it overdue lets it go.
    s.announce(input(4, 2, { numwant: 0 }));
    assert.equal(s.totals().peers, 1);
    await new Promise((r) => setTimeout(r, 2_100));
    assert.deepEqual(s.totals(), { torrents: 0, peers: 0, seeders: 0, leechers: 0 });
    assert.ok(visits.n >= 2);
  } finally {
    s.close();
  }
});

test('store: swarms made by announces are not visited by the sweep while no peer can be overdue', async () => {
  // ttl 4 s: the sweep runs each second. A start wave (a node's 10,000 own seeds announcing) made
  // every swarm at once, and that alone made the next sweep visit all of them.
  const s = new MemoryStore({ peerTtlMs: 4_000 });
  const visits = countVisits(s);
  try {
    for (let t = 1; t <= 3; t++) s.announce(input(t, 1, { numwant: 0 }));
    await new Promise((r) => setTimeout(r, 1_300));
    assert.equal(visits.n, 0, 'no peer is overdue and none left: nothing to visit');
    assert.equal(s.totals().peers, 3);
    s.announce(input(1, 1, { numwant: 0, event: 'stopped' }));
    await new Promise((r) => setTimeout(r, 1_100));
    assert.equal(visits.n, 1, 'a peer left: the next sweep looks');
  } finally {
    s.close();
  }
});

test('memory per peer stays bounded: ≤ 12 MB per 100,000 peers, from the store\'s own arrays', () => {
  const s = new MemoryStore({ peerTtlMs: 60_000 });
  try {
    // 200 torrents × 50 peers, added round-robin as the benchmark does (every swarm grows at once).
    for (let i = 0; i < 10_000; i++) s.announce(input(i % 200, i, { left: i % 4 === 0 ? 0 : 1, numwant: 0 }));
    const m = s.memoryUsage();
    assert.equal(m.ipPeers, 10_000);
    assert.equal(m.swarms, 200);
    // Records are 48 bytes; with the id index and spare capacity, under 80.
    assert.ok(m.packedBytes / m.ipPeers <= 80, `packed ${m.packedBytes / m.ipPeers} bytes/peer`);
    assert.ok(m.bytesPerIpPeer <= 120, `${m.bytesPerIpPeer} bytes/peer`);
    // Segments left behind by growing swarms are reclaimed.
    s.compact();
    assert.ok(m.slabBytes === 0 || s.memoryUsage().slabBytes <= m.slabBytes);
    for (let i = 0; i < 10_000; i += 97) assert.ok(s.findPeer(hex(i % 200), peerHex(i), 'ip'), `peer ${i} after compaction`);
  } finally {
    s.close();
  }
});

test('HTTP: an IPv6 peer comes back in peers6 (compact) and as a dictionary entry (compact=0)', async () => {
  const t = await startTracker({ host: '127.0.0.1', rateLimit: false });
  try {
    const hash = id(0x77);
    const url = (peer: number, port: number, extra: string) =>
      `${t.httpAnnounceUrl}?info_hash=${esc(hash)}&peer_id=${esc(id(peer))}&port=${port}&left=5${extra}`;
    // Loopback clients may claim an address: that is how a local test speaks for an IPv6 peer.
    await getBencoded(url(1, 5001, '&ip=2001:db8::77'));
    await getBencoded(url(2, 5002, ''));
    const compact = await getBencoded(url(3, 5003, '&compact=1'));
    const six = Buffer.from(compact['peers6'] as Uint8Array);
    assert.equal(six.length, 18);
    assert.equal(formatIpv6(six, 0), '2001:db8::77');
    assert.equal(six.readUInt16BE(16), 5001);
    assert.deepEqual(Buffer.from(compact['peers'] as Uint8Array), Buffer.from([127, 0, 0, 1, 5002 >> 8, 5002 & 255]));
    const dict = await getBencoded(url(3, 5003, '&compact=0'));
    const peers = (dict['peers'] as BDict[]).map((p) => [text(p['ip']), p['port']]).sort();
    assert.deepEqual(peers, [
      ['127.0.0.1', 5002],
      ['2001:db8::77', 5001],
    ]);
  } finally {
    await t.close();
  }
});
