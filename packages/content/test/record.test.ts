// Records as a storing node and a reader see them: signed and checked, refused when forged,
// misfiled, oversized or expired; the store's per-publisher limits and expiry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { generateIdentity } from '@cascade/identity';
import { encode, decode } from '@cascade/engine/bencode';
import { cidFromSha256, keysOf, keywordsOf, openRecord, recordKey, RecordStore, signRecord, targetOf, type TorrentStatement } from '../index.ts';

const cid = (s: string) => cidFromSha256(createHash('sha256').update(s).digest());
const NOW = 1_800_000_000;
const alice = generateIdentity('alice');
const statement: TorrentStatement = {
  name: 'Cascade Demo Report-2026.pdf',
  length: 12345,
  infoHash: 'ab'.repeat(20),
  infoHashV2: 'cd'.repeat(32),
  cids: [cid('report'), cid('notes')],
  port: 6881,
};

test('a record is filed under its infohashes, content ids and name words, and reads back as signed', () => {
  assert.deepEqual(keywordsOf(statement.name), ['cascade', 'demo', 'report', '2026', 'pdf']);
  const keys = keysOf(statement);
  assert.deepEqual(keys.slice(0, 4), [`info_hash_idx::${'ab'.repeat(20)}`, `info_hash_idx::${'cd'.repeat(32)}`, `cid_idx::${cid('report')}`, `cid_idx::${cid('notes')}`]);
  assert.ok(keys.includes('keyword_idx::report'));
  for (const key of keys) {
    const { bytes, sig } = signRecord(alice, key, statement, NOW);
    assert.ok(bytes.length <= 1000);
    const r = openRecord(bytes, sig, { now: NOW + 60, key });
    assert.equal(r.publisher, alice.did);
    assert.equal(r.name, statement.name);
    assert.equal(r.infoHash, statement.infoHash);
    assert.equal(r.expires - r.issued, 7200);
    assert.ok(r.cids.includes(statement.cids[0]!) && r.cids.includes(statement.cids[1]!));
  }
  // A cid record carries its own content id first.
  const notes = openRecord(...sig2(signRecord(alice, `cid_idx::${cid('notes')}`, statement, NOW)), { now: NOW });
  assert.equal(notes.cids[0], cid('notes'));
});

test('forged, misfiled, oversized and expired records are refused, saying why', () => {
  const key = recordKey('keyword_idx', 'Report');
  const { bytes, sig } = signRecord(alice, key, statement, NOW);
  // One bit of the signature or of the signed bytes changed.
  const badSig = sig.slice();
  badSig[0]! ^= 1;
  assert.throws(() => openRecord(bytes, badSig, { now: NOW }), /bad signature/);
  const tampered = bytes.slice();
  tampered[tampered.indexOf(0x36)]! ^= 1; // a digit of the length or port: still bencoded
  assert.throws(() => openRecord(tampered, sig, { now: NOW }), /bad signature|canonical|bencoded/);
  // Asked under another key, or re-keyed by its publisher to a word its name does not have.
  assert.throws(() => openRecord(bytes, sig, { now: NOW, key: 'keyword_idx::other' }), /not keyword_idx::other/);
  assert.throws(() => signRecord(alice, 'keyword_idx::linux', statement, NOW), /does not follow/);
  // A content id record whose files do not hold that content id, signed properly by a forger.
  const forged = decodeDict(signRecord(alice, `cid_idx::${cid('report')}`, statement, NOW).bytes);
  forged.c = [createHash('sha256').update('something else').digest()];
  const reSigned = resign(forged);
  assert.throws(() => openRecord(reSigned.bytes, reSigned.sig, { now: NOW }), /does not follow/);
  // Unknown namespace.
  const otherNs = decodeDict(bytes);
  otherNs.k = 'peer_idx::report';
  assert.throws(() => openRecord(...sig2(resign(otherNs)), { now: NOW }), /unknown namespace/);
  // Oversize.
  assert.throws(() => signRecord(alice, 'keyword_idx::report', { ...statement, name: 'report ' + 'x'.repeat(300) }, NOW), /at most 200 bytes|1000/);
  const big = decodeDict(bytes);
  big.pad = new Uint8Array(1000);
  assert.throws(() => openRecord(...sig2(resign(big)), { now: NOW }), /more than 1000/);
  // Expired, from the future, living too long.
  assert.throws(() => openRecord(bytes, sig, { now: NOW + 7200 }), /expired/);
  assert.throws(() => openRecord(bytes, sig, { now: NOW - 3600 }), /future/);
  const long = decodeDict(bytes);
  long.x = NOW + 3 * 3600;
  assert.throws(() => openRecord(...sig2(resign(long)), { now: NOW }), /longer than/);
});

test('the store keeps records within per-publisher and per-key limits, replaces older ones, drops expired', () => {
  let now = NOW;
  const store = new RecordStore({ limits: { perPublisherPerKey: 2, perKey: 3 }, now: () => now });
  const key = 'keyword_idx::report';
  const target = targetOf(key);
  const put = (who: typeof alice, ih: string, at = now) => {
    const { bytes, sig } = signRecord(who, key, { ...statement, infoHash: ih.repeat(20), infoHashV2: null }, at);
    return store.put(bytes, sig, target, '127.0.0.1');
  };
  put(alice, 'a1');
  put(alice, 'a2');
  assert.throws(() => put(alice, 'a3'), /at most 2 records under one key/);
  // The same torrent again, newer: replaces; older: refused.
  now += 10;
  put(alice, 'a1');
  assert.throws(() => put(alice, 'a1', now - 100), /older/);
  assert.equal(store.size, 2);
  // Under another target: refused.
  const { bytes, sig } = signRecord(alice, key, statement, now);
  assert.throws(() => store.put(bytes, sig, targetOf('keyword_idx::demo'), 'x'), /another target/);
  // A full key: the record nearest its end gives way to a longer-lived one.
  const bob = generateIdentity('bob');
  now += 100;
  put(bob, 'b1');
  assert.equal(store.size, 3);
  now += 100;
  put(generateIdentity('carol'), 'c1');
  assert.equal(store.size, 3);
  assert.deepEqual(store.get(target).map((e) => e.record.infoHash!.slice(0, 2)).sort(), ['a1', 'b1', 'c1']);
  // Forged: refused before anything is kept.
  const forged = signRecord(bob, key, statement, now);
  forged.sig[5]! ^= 0xff;
  assert.throws(() => store.put(forged.bytes, forged.sig, target, 'x'), /bad signature/);
  // Expiry.
  now += 7200;
  assert.equal(store.get(target).length, 0);
  assert.equal(store.size, 0);
});

function sig2(r: { bytes: Uint8Array; sig: Uint8Array }): [Uint8Array, Uint8Array] {
  return [r.bytes, r.sig];
}

function decodeDict(bytes: Uint8Array): Record<string, unknown> {
  return decode(bytes).value as Record<string, unknown>;
}

/** Signs a hand-made dictionary the way a forger with a key of its own would. */
function resign(dict: Record<string, unknown>): { bytes: Uint8Array; sig: Uint8Array } {
  const bytes = encode({ ...dict, pk: alice.signPublic });
  return { bytes, sig: signBytesAsAlice(bytes) };
}

import { signBytes } from '@cascade/identity';
function signBytesAsAlice(bytes: Uint8Array): Uint8Array {
  return signBytes(alice, 'cascade-dht-record-v1', bytes);
}
