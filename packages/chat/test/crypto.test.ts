import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ed25519 } from '@noble/curves/ed25519.js';
import {
  b64u, ChatError, createCharter, createInvitation, createSenderKey, didFromSigningKey, exportIdentity, fingerprint, fromB64u,
  generateIdentity, importIdentity, makeProfile, needsRotation, openDirect, openGroup, ReplayGuard, safetyNumber, sealDirect,
  sealGroup, senderKeyFromPayload, senderKeyPayload, signEnvelope, signingKeyFromDid, verifiedMembers, verifyEnvelope,
  verifyInvitation, verifyProfile, type Envelope, type Identity,
} from '../index.ts';
import { fromBase58btc, base58btc } from '@cascade/identity';

const text = (t: string) => ({ kind: 'text' as const, text: t });
const rcpt = (id: Identity) => ({ did: id.did, dh: id.dhPublic });
function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ChatError, `expected ChatError, got ${String(e)}`);
    return e.code;
  }
  assert.fail('expected a rejection');
}
/** flip one base64url character of a field */
function flip(s: string, at = 5): string {
  const c = s[at] === 'A' ? 'B' : 'A';
  return s.slice(0, at) + c + s.slice(at + 1);
}

test('did:key encodes Ed25519 with multicodec 0xed01 in base58btc', () => {
  // W3C did:key test vector (Ed25519)
  const did = 'did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp';
  const pub = signingKeyFromDid(did);
  assert.equal(pub.length, 32);
  assert.equal(didFromSigningKey(pub), did);
  const raw = fromBase58btc(did.slice('did:key:z'.length));
  assert.deepEqual([...raw.slice(0, 2)], [0xed, 0x01]);
  const id = generateIdentity('alice');
  assert.match(id.did, /^did:key:z6Mk[1-9A-HJ-NP-Za-km-z]+$/);
  assert.deepEqual(signingKeyFromDid(id.did), id.signPublic);
  assert.throws(() => signingKeyFromDid('did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme'), /Ed25519/); // secp256k1 did:key
  assert.equal(base58btc(new Uint8Array([0, 0, 1])), '112');
});

test('fingerprint is short and stable; safety number is symmetric and pair-specific', () => {
  const a = generateIdentity('a');
  const b = generateIdentity('b');
  const c = generateIdentity('c');
  assert.match(fingerprint(a.did), /^[0-9A-F]{4}( [0-9A-F]{4}){4}$/);
  assert.equal(fingerprint(a.did), fingerprint(a.did));
  assert.notEqual(fingerprint(a.did), fingerprint(b.did));
  const ab = safetyNumber(a.did, b.did);
  assert.match(ab, /^\d{5}( \d{5}){11}$/);
  assert.equal(ab, safetyNumber(b.did, a.did));
  assert.notEqual(ab, safetyNumber(a.did, c.did));
});

test('profiles bind the X25519 key and name to the did', () => {
  const a = generateIdentity('Alice');
  const p = makeProfile(a);
  assert.ok(verifyProfile(p));
  assert.ok(!verifyProfile({ ...p, name: 'Mallory' }));
  assert.ok(!verifyProfile({ ...p, dh: b64u(generateIdentity().dhPublic) }));
  const m = generateIdentity('m');
  assert.ok(!verifyProfile({ ...makeProfile(m), did: a.did }));
});

test('identity export is passphrase-encrypted and round-trips', async () => {
  const a = generateIdentity('Alice');
  const file = await exportIdentity(a, 'correct horse battery staple', { N: 2 ** 10 });
  assert.ok(!file.includes(b64u(a.signSecret)) && !file.includes(b64u(a.dhSecret)), 'secret keys are not in the file in clear');
  const parsed = JSON.parse(file);
  assert.equal(parsed.kdf.name, 'scrypt');
  assert.equal(parsed.cipher, 'xchacha20poly1305');
  const b = await importIdentity(file, 'correct horse battery staple');
  assert.equal(b.did, a.did);
  assert.deepEqual(b.signSecret, a.signSecret);
  assert.deepEqual(b.dhPublic, a.dhPublic);
  assert.equal(b.name, 'Alice');
  await assert.rejects(importIdentity(file, 'wrong passphrase'), /wrong passphrase/);
  const tampered = JSON.stringify({ ...parsed, ct: flip(parsed.ct, 10) });
  await assert.rejects(importIdentity(tampered, 'correct horse battery staple'), /wrong passphrase or damaged/);
  await assert.rejects(importIdentity('{"hello":1}', 'x'), /not a Cascade identity file/);
});

test('direct message: recipient and sender can read, a third party cannot', () => {
  const a = generateIdentity('a');
  const b = generateIdentity('b');
  const c = generateIdentity('c');
  const env = sealDirect(a, rcpt(b), 'dm', text('hello bob'), { ctr: 0 });
  assert.ok(verifyEnvelope(env));
  assert.ok(!JSON.stringify(env).includes('hello bob'));
  assert.deepEqual(openDirect(b, env), text('hello bob'));
  assert.deepEqual(openDirect(a, env), text('hello bob'), 'sender keeps a readable copy');
  assert.equal(code(() => openDirect(c, env)), 'not-for-me');
  // each message gets its own content key, ephemeral key and nonce
  const env2 = sealDirect(a, rcpt(b), 'dm', text('hello bob'), { ctr: 1 });
  assert.notEqual(env2.ct, env.ct);
  assert.notEqual(env2.eph, env.eph);
  assert.notEqual(env2.keys![0]!.k, env.keys![0]!.k);
});

test('tampered ciphertext, header, wrapped key or signature are rejected', () => {
  const a = generateIdentity('a');
  const b = generateIdentity('b');
  const env = sealDirect(a, rcpt(b), 'dm', text('secret'), { ctr: 0 });
  // any change without the sender's key breaks the signature
  assert.equal(code(() => openDirect(b, { ...env, ct: flip(env.ct) })), 'bad-signature');
  assert.equal(code(() => openDirect(b, { ...env, ts: env.ts + 1 })), 'bad-signature');
  assert.equal(code(() => openDirect(b, { ...env, keys: [{ ...env.keys![0]!, k: flip(env.keys![0]!.k) }, env.keys![1]!] })), 'bad-signature');
  // wrong signature: a valid signature of a different message
  const other = sealDirect(a, rcpt(b), 'dm', text('other'), { ctr: 1 });
  assert.equal(code(() => openDirect(b, { ...env, sig: other.sig })), 'bad-signature');
  assert.equal(code(() => openDirect(b, { ...env, sig: b64u(ed25519.sign(new Uint8Array(3), a.signSecret)) })), 'bad-signature');
  // a sender who signs tampered ciphertext still fails authenticated decryption
  const resigned = signEnvelope(a, { ...env, ct: flip(env.ct, 12) });
  assert.ok(verifyEnvelope(resigned));
  assert.equal(code(() => openDirect(b, resigned)), 'decrypt-failed');
  // someone re-signing Alice's ciphertext as themselves cannot make Bob read it as theirs
  const m = generateIdentity('m');
  const stolen = signEnvelope(m, { ...env, from: m.did, dh: b64u(m.dhPublic), keys: env.keys });
  assert.equal(code(() => openDirect(b, stolen)), 'decrypt-failed');
  assert.equal(code(() => openDirect(b, { ...env, v: 2 })), 'malformed');
});

test('replay guard: each id once, counters far behind are stale', () => {
  const a = generateIdentity('a');
  const b = generateIdentity('b');
  const g = new ReplayGuard(10);
  const envs: Envelope[] = [];
  for (let i = 0; i < 30; i++) envs.push(sealDirect(a, rcpt(b), 'dm', text(`m${i}`), { ctr: i }));
  assert.equal(g.check(envs[0]!), 'ok');
  g.accept(envs[0]!);
  assert.equal(g.check(envs[0]!), 'replay');
  // out of order within the window is fine
  g.accept(envs[25]!);
  assert.equal(g.check(envs[20]!), 'ok');
  assert.equal(g.check(envs[5]!), 'stale');
  assert.equal(g.highestCounter(ReplayGuard.chain(envs[0]!)), 25);
});

test('group: sender keys decrypt for members, rotation locks out who left', () => {
  const [a, b, c] = [generateIdentity('a'), generateIdentity('b'), generateIdentity('c')];
  const room = 'p:general';
  const k1 = createSenderKey(a.did, room, [a.did, b.did, c.did]);
  // handed out over the pairwise channel
  const toC = sealDirect(a, rcpt(c), 'skey', senderKeyPayload(k1), { ctr: 0, room });
  assert.ok(!JSON.stringify(toC).includes(b64u(k1.key)));
  const cKey1 = senderKeyFromPayload(a.did, openDirect(c, toC));
  const bKey1 = senderKeyFromPayload(a.did, openDirect(b, sealDirect(a, rcpt(b), 'skey', senderKeyPayload(k1), { ctr: 0, room })));
  const m1 = sealGroup(a, k1, text('hi all'), { ctr: 0 });
  assert.ok(!JSON.stringify(m1).includes('hi all'));
  assert.deepEqual(openGroup(m1, cKey1), text('hi all'));
  assert.deepEqual(openGroup(m1, bKey1), text('hi all'));
  // tamper and wrong key
  assert.equal(code(() => openGroup({ ...m1, ct: flip(m1.ct) }, bKey1)), 'bad-signature');
  assert.equal(code(() => openGroup(signEnvelope(a, { ...m1, ct: flip(m1.ct, 9) }), bKey1)), 'decrypt-failed');
  // c leaves: the membership changed, so a rotates
  const members = [a.did, b.did];
  assert.ok(needsRotation(k1, members));
  assert.ok(!needsRotation(k1, [c.did, b.did, a.did]));
  const k2 = createSenderKey(a.did, room, members);
  assert.notEqual(k2.kid, k1.kid);
  const bKey2 = senderKeyFromPayload(a.did, openDirect(b, sealDirect(a, rcpt(b), 'skey', senderKeyPayload(k2), { ctr: 1, room })));
  const m2 = sealGroup(a, k2, text('after c left'), { ctr: 1 });
  assert.deepEqual(openGroup(m2, bKey2), text('after c left'));
  assert.equal(code(() => openGroup(m2, cKey1)), 'unknown-key');
  // even forcing the old key id, c's old key does not open the new message
  assert.equal(code(() => openGroup(signEnvelope(a, { ...m2, kid: k1.kid }), cKey1)), 'decrypt-failed');
});

test('private groups: charter and invitations signed by the admin', () => {
  const [admin, b, c] = [generateIdentity('admin'), generateIdentity('b'), generateIdentity('c')];
  const charter = createCharter(admin, 'Secret club');
  const inv = createInvitation(admin, charter, b.did);
  const copy = { ...inv };
  assert.ok(verifyInvitation(inv, charter, b.did));
  assert.ok(!verifyInvitation(inv, charter, c.did), 'an invitation is for one invitee');
  assert.ok(!verifyInvitation({ ...copy, invitee: c.did }, charter));
  assert.throws(() => createInvitation(b, charter, c.did), /admin/);
  // a member-signed invitation does not count
  const forged = { ...copy, invitee: c.did, inviter: admin.did, sig: b64u(ed25519.sign(new Uint8Array(1), b.signSecret)) };
  assert.ok(!verifyInvitation(forged, charter));
  const v = verifiedMembers({
    id: charter.room, kind: 'private', name: charter.name, charter,
    members: [{ did: admin.did, role: 'admin' }, { did: b.did, role: 'member', invitation: copy }, { did: c.did, role: 'member' }],
  });
  assert.deepEqual(v.members.sort(), [admin.did, b.did].sort());
  assert.deepEqual(v.rejected, [c.did]);
  assert.equal(fromB64u(charter.room.slice(2)).length, 16);
});
