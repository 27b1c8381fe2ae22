// Relay gossip (issue 14): what a node takes of the relays Cascade peers send it, and what it offers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateIdentity } from '@cascade/identity';
import { signDescriptor, b64u } from '@cascade/onion';
import { RelayGossip } from '../src/relay-gossip.ts';

test('relay gossip takes only good descriptors, a few per sender, and offers its own first', () => {
  let onMessage: ((peer: unknown, who: { did: string }, m: Record<string, unknown>) => void) | undefined;
  const stub = { onMessage: (fn: typeof onMessage) => (onMessage = fn), onIdentified: () => {} };
  const gossip = new RelayGossip(stub as never);
  const now = Date.now();
  const make = (i: number) => signDescriptor(generateIdentity(`r${i}`), { onionKey: b64u(new Uint8Array(32).fill(i)), tcp: `127.0.1.${i}:7000`, exit: null, published: now, expires: now + 600_000 });
  const good = Array.from({ length: 12 }, (_, i) => make(i + 1));
  const forged = { ...make(50), tcp: '127.0.1.99:1' };
  const expired = { ...make(51), expires: now - 1 };
  onMessage!({}, { did: 'did:key:zA' }, { t: 'relays', v: 1, relays: [forged, expired, 'junk', ...good] });
  const kept = gossip.relays();
  assert.ok(kept.length > 0 && kept.length <= 8, `kept ${kept.length}`);
  assert.ok(kept.every((d) => good.some((g) => g.id === d.id)), 'only good descriptors');
  onMessage!({}, { did: 'did:key:zA' }, { t: 'relays', v: 1, relays: good.slice(8) });
  assert.ok(gossip.relays().length <= 8, 'a sender adds no more than its share');
  onMessage!({}, { did: 'did:key:zA' }, { t: 'relays', v: 1, relays: 'not a list' });
  const own = make(60);
  gossip.setOwn(() => own);
  gossip.setKnown(() => good);
  assert.equal(gossip.shareable()[0]!.id, own.id);
  assert.equal(gossip.shareable().length, 8);
});
