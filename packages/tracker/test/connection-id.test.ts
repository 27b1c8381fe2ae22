// BEP 15 connection ids (src/udp/connection-id.ts): a keyed MAC of the sender's address, port and
// a two-minute slot, with a cache of ids already proven. Whatever the cache holds, an id is
// accepted exactly when the MAC accepts it: for the sender it was issued to, in its slot and the
// next, and never a forged one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ConnectionIds } from '../src/udp/connection-id.ts';

const SLOT = 120_000;
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % SLOT);

function issue(ids: ConnectionIds, addr: string, port: number, now: number): Buffer {
  const b = Buffer.alloc(16);
  ids.write(b, 0, addr, port, now);
  return b;
}

test('an id holds for its sender in its slot and the next, whether proven before or not', () => {
  const ids = new ConnectionIds(randomBytes(8));
  const id = issue(ids, '10.0.0.1', 6881, T0 + 5_000);
  for (const round of ['unproven', 'cached'])
    for (const now of [T0 + 5_000, T0 + SLOT - 1, T0 + SLOT, T0 + 2 * SLOT - 1]) assert.ok(ids.check(id, '10.0.0.1', 6881, now), `${round} at ${now - T0}`);
  assert.equal(ids.check(id, '10.0.0.1', 6881, T0 + 2 * SLOT), false, 'two slots on: expired, cached or not');
  assert.equal(ids.check(id, '10.0.0.1', 6881, T0 - 1), false, 'before the slot it was issued in');
  assert.ok(ids.check(id, '10.0.0.1', 6881, T0 + 10), 'still good in its slot after those refusals');
});

test('a proven id is refused from any other address or port, and a forged one from anyone', () => {
  const ids = new ConnectionIds(randomBytes(8));
  const now = T0 + 1_000;
  const id = issue(ids, '192.0.2.7', 40_000, now);
  assert.ok(ids.check(id, '192.0.2.7', 40_000, now));
  // The same id replayed by others: a spoofer that saw it, a neighbour behind another NAT port.
  assert.equal(ids.check(id, '192.0.2.7', 40_001, now), false);
  assert.equal(ids.check(id, '192.0.2.8', 40_000, now), false);
  assert.equal(ids.check(id, '::ffff:192.0.2.7', 40_000, now), false, 'another text is another sender');
  // Forged: every single bit flipped, and random ids, from the very sender whose id is cached.
  for (let bit = 0; bit < 64; bit++) {
    const f = Buffer.from(id);
    f[bit >> 3]! ^= 1 << (bit & 7);
    assert.equal(ids.check(f, '192.0.2.7', 40_000, now), false, `bit ${bit}`);
  }
  for (let i = 0; i < 1000; i++) assert.equal(ids.check(randomBytes(16), '192.0.2.7', 40_000, now), false);
  assert.ok(ids.check(id, '192.0.2.7', 40_000, now), 'the genuine id still holds');
  // Another key (another tracker, or this one restarted) issued nothing here.
  assert.equal(new ConnectionIds(randomBytes(8)).check(id, '192.0.2.7', 40_000, now), false);
});

test('many senders sharing cache entries: each keeps its own id, none gets another\'s', () => {
  const ids = new ConnectionIds(randomBytes(8));
  const now = T0 + 7_000;
  // 5,000 senders over 1,024 entries: most entries are fought over.
  const senders = Array.from({ length: 5000 }, (_, i) => ({ addr: `10.${i >> 8}.${i & 255}.1`, port: 1024 + (i % 7) }));
  const idOf = senders.map((s) => issue(ids, s.addr, s.port, now));
  for (let pass = 0; pass < 2; pass++) {
    senders.forEach((s, i) => {
      assert.ok(ids.check(idOf[i]!, s.addr, s.port, now), `sender ${i}`);
      const other = idOf[(i + 1) % senders.length]!;
      assert.equal(ids.check(other, s.addr, s.port, now), false, `sender ${i} with its neighbour's id`);
    });
  }
});
