// The Cascade wire extension's handshake, as an attacker would try it: a replayed hello, a did
// without its key, a hello for another torrent, garbage. Two in-memory ends wired back to back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bindingMessage, cascadeExtension, decodeMessage, encodeMessage, generateIdentity, makeBinding, makeHello, personalSign,
  type Identity, type VerifiedHello, type WirePeer,
} from '../index.ts';

const rand = (n: number) => crypto.getRandomValues(new Uint8Array(n));

interface End {
  ext: ReturnType<typeof cascadeExtension>;
  peer: WirePeer;
  sent: Uint8Array[];
  identified: VerifiedHello[];
  rejected: string[];
}

/** One side of a connection: its extension, the view of the other side, what it sent and saw. */
function end(id: Identity, infoHash: Uint8Array, local: Uint8Array, remote: Uint8Array): End {
  const e: End = { sent: [], identified: [], rejected: [] } as unknown as End;
  e.ext = cascadeExtension(id, { client: 'test', onIdentified: (_p, who) => e.identified.push(who), onRejected: (_p, r) => e.rejected.push(r) });
  e.peer = { infoHash, localPeerId: local, remotePeerId: remote, address: '127.0.0.1:1', send: (p) => void e.sent.push(p) };
  return e;
}

/** Connects a and b: each starts, then messages flow until both are quiet. */
function run(a: End, b: End): void {
  a.ext.onPeer(a.peer);
  b.ext.onPeer(b.peer);
  for (let round = 0; round < 5; round++) {
    const fromA = a.sent.splice(0);
    const fromB = b.sent.splice(0);
    for (const m of fromA) b.ext.onMessage(b.peer, m);
    for (const m of fromB) a.ext.onMessage(a.peer, m);
  }
}

function connection(alice: Identity, bob: Identity, infoHash = rand(20)) {
  const [pa, pb] = [rand(20), rand(20)];
  return { a: end(alice, infoHash, pa, pb), b: end(bob, infoHash, pb, pa), infoHash, pa, pb };
}

test('two ends identify each other: did, account, client and the claim', () => {
  const alice = generateIdentity();
  const bob = generateIdentity();
  const { a, b } = connection(alice, bob);
  run(a, b);
  assert.deepEqual(a.identified.map((w) => [w.did, w.address]), [[bob.did, bob.address]]);
  assert.deepEqual(b.identified.map((w) => [w.did, w.address]), [[alice.did, alice.address]]);
  assert.deepEqual([a.rejected, b.rejected], [[], []]);
});

test('a hello captured on one connection does not verify on another (replay)', () => {
  const alice = generateIdentity();
  const bob = generateIdentity();
  const first = connection(alice, bob);
  // Capture alice's hello to bob on the first connection.
  first.a.ext.onPeer(first.a.peer);
  first.b.ext.onPeer(first.b.peer);
  const bobChallenge = first.b.sent.splice(0)[0]!;
  first.a.sent.splice(0);
  first.a.ext.onMessage(first.a.peer, bobChallenge);
  const captured = first.a.sent.splice(0)[0]!;
  assert.equal(decodeMessage(captured) instanceof Error ? '' : (decodeMessage(captured) as { t: string }).t, 'hello');

  // Mallory replays it to bob on a new connection, even under alice's peer id and the same torrent.
  const second = end(bob, first.infoHash, rand(20), first.pa);
  second.ext.onPeer(second.peer);
  second.ext.onMessage(second.peer, captured);
  assert.deepEqual(second.identified, []);
  assert.match(second.rejected[0]!, /does not cover this connection/);
  // And it never verified on the first connection's other end either, for a different torrent.
  const third = end(bob, rand(20), first.pb, first.pa);
  third.ext.onPeer(third.peer);
  third.ext.onMessage(third.peer, captured);
  assert.equal(third.identified.length, 0);
});

test("a did without its key: alice's binding in a hello signed by mallory is refused", () => {
  const alice = generateIdentity();
  const mallory = generateIdentity();
  const bob = generateIdentity();
  const { a, b } = connection(mallory, bob);
  b.ext.onPeer(b.peer);
  const challenge = JSON.parse(new TextDecoder().decode(b.sent.splice(0)[0]!)) as { nonce: string };
  const nonce = Uint8Array.from(Buffer.from(challenge.nonce, 'base64url'));
  const conn = { infoHash: a.peer.infoHash, senderPeerId: a.peer.localPeerId, receiverPeerId: a.peer.remotePeerId, receiverNonce: nonce };
  // Mallory signs with her own key but presents alice's did and binding.
  const forged = { ...makeHello(mallory, makeBinding(mallory), conn, { client: 'x', reputation: 1 }), ...makeBinding(alice) };
  b.ext.onMessage(b.peer, encodeMessage(forged));
  assert.deepEqual(b.identified, []);
  assert.match(b.rejected[0]!, /does not cover this connection|not made by the did/);
  // Her own did with alice's account: the binding fails.
  const b2 = connection(mallory, bob).b;
  b2.ext.onPeer(b2.peer);
  const n2 = Uint8Array.from(Buffer.from((JSON.parse(new TextDecoder().decode(b2.sent.splice(0)[0]!)) as { nonce: string }).nonce, 'base64url'));
  const mixed = makeHello(mallory, makeBinding(mallory), { ...conn, infoHash: b2.peer.infoHash, senderPeerId: b2.peer.remotePeerId, receiverPeerId: b2.peer.localPeerId, receiverNonce: n2 }, { client: 'x', reputation: 0 });
  b2.ext.onMessage(b2.peer, encodeMessage({ ...mixed, address: alice.address, addressSig: personalSign(alice.ethSecret, bindingMessage(mallory.did, alice.address)) }));
  assert.deepEqual(b2.identified, []);
  assert.equal(b2.rejected.length, 1);
});

test('garbage, oversized and out-of-order messages are refused without a throw', () => {
  const { b } = connection(generateIdentity(), generateIdentity());
  b.ext.onMessage(b.peer, new TextEncoder().encode('{"t":"hello"}'));
  assert.match(b.rejected.at(-1)!, /before both sides/);
  b.ext.onPeer(b.peer);
  for (const bad of ['not json', '[1,2]', '{"t":"challenge","nonce":"!!"}', '{"t":"challenge","nonce":"AAAA"}', '{"t":"hello","v":1}', 'x'.repeat(9000)]) {
    b.ext.onMessage(b.peer, new TextEncoder().encode(bad));
  }
  assert.equal(b.identified.length, 0);
  assert.equal(b.rejected.length, 7, b.rejected.join('; '));
});
