// One identity: did:key + X25519 + an Ethereum account, bound both ways and checkable offline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { privateKeyToAccount } from 'viem/accounts';
import { getAddress, verifyMessage } from 'viem';
import {
  bindingMessage, bindWallet, checksumAddress, deserializeIdentity, exportIdentity, generateIdentity, importIdentity,
  makeBinding, personalSign, recoverPersonalSigner, serializeIdentity, verifyBinding, type Binding,
} from '../index.ts';

const hex = (b: Uint8Array) => `0x${Buffer.from(b).toString('hex')}` as const;

test('an identity has a did:key, an X25519 key and an Ethereum account that survives a round trip', () => {
  const id = generateIdentity('alice');
  assert.match(id.did, /^did:key:z6Mk/);
  assert.equal(id.dhPublic.length, 32);
  assert.match(id.address, /^0x[0-9a-fA-F]{40}$/);
  // The account is viem's idea of the account of that key, EIP-55 checksummed.
  assert.equal(id.address, privateKeyToAccount(hex(id.ethSecret)).address);
  const again = deserializeIdentity(JSON.parse(JSON.stringify(serializeIdentity(id))));
  assert.equal(again.did, id.did);
  assert.equal(again.address, id.address);
});

test('an identity the chat exported before the identity package existed still imports, and gains its account', async () => {
  const file = readFileSync(path.join(import.meta.dirname, 'fixtures/chat-export-v1.json'), 'utf8');
  const id = await importIdentity(file, 'correct horse battery staple');
  assert.equal(id.did, JSON.parse(file).did);
  assert.equal(id.name, 'alice (exported before identity moved)');
  assert.equal((await importIdentity(file, 'correct horse battery staple')).address, id.address, 'the same account every time');
  await assert.rejects(importIdentity(file, 'wrong'), /wrong passphrase or damaged file/);
  // A fresh export of it imports too.
  const re = await importIdentity(await exportIdentity(id, 'another one', { N: 2 ** 10 }), 'another one');
  assert.equal(re.address, id.address);
});

test('personal_sign matches viem byte for byte, and each verifies the other', async () => {
  const id = generateIdentity();
  const account = privateKeyToAccount(hex(id.ethSecret));
  const message = bindingMessage(id.did, id.address);
  const ours = personalSign(id.ethSecret, message);
  assert.equal(ours, await account.signMessage({ message }));
  assert.ok(await verifyMessage({ address: id.address, message, signature: ours }));
  const theirs = await account.signMessage({ message: 'hello from viem' });
  assert.equal(recoverPersonalSigner('hello from viem', theirs), id.address);
  assert.equal(checksumAddress(id.address.toLowerCase()), getAddress(id.address.toLowerCase()));
});

test('a binding verifies offline; every tampered or mismatched binding does not', () => {
  const alice = generateIdentity();
  const bob = generateIdentity();
  const a = makeBinding(alice);
  const b = makeBinding(bob);
  assert.ok(verifyBinding(a));
  assert.ok(verifyBinding(JSON.parse(JSON.stringify(a))), 'survives JSON');
  // makeBinding skips bindWallet's recovery of its own signature; the binding is the same.
  assert.deepEqual(a, bindWallet(alice, alice.address, personalSign(alice.ethSecret, bindingMessage(alice.did, alice.address))));
  const forged: [string, unknown][] = [
    ['another account', { ...a, address: bob.address }],
    ['another did', { ...a, did: bob.did }],
    ["bob's did signature", { ...a, didSig: b.didSig }],
    ["bob's account signature", { ...a, addressSig: b.addressSig }],
    // A middle character: the last one of 86 base64url characters also carries 4 unused bits, so
    // changing only those leaves the signature bytes as they were (this test flaked on that).
    ['a flipped did signature', { ...a, didSig: a.didSig.slice(0, 10) + (a.didSig[10] === 'A' ? 'B' : 'A') + a.didSig.slice(11) }],
    ['a flipped account signature', { ...a, addressSig: a.addressSig.slice(0, 10) + (a.addressSig[10] === '0' ? '1' : '0') + a.addressSig.slice(11) }],
    ['a short account signature', { ...a, addressSig: a.addressSig.slice(0, 60) }],
    ['version 2', { ...a, v: 2 }],
    ['not a did', { ...a, did: 'did:web:example.com' }],
    ['no signatures', { v: 1, did: a.did, address: a.address }],
    ['null', null],
    ['a string', 'binding'],
    ['garbage signatures', { ...a, didSig: '!!!', addressSig: '0xzz' }],
  ];
  for (const [what, x] of forged) assert.equal(verifyBinding(x), false, what);
});

test('an external wallet can be the account: its personal_sign of the binding message binds it', () => {
  const id = generateIdentity();
  const walletKey = secp256k1.utils.randomSecretKey();
  const wallet = privateKeyToAccount(hex(walletKey)).address;
  const message = bindingMessage(id.did, wallet);
  const binding: Binding = bindWallet(id, wallet.toLowerCase(), personalSign(walletKey, message));
  assert.equal(binding.address, wallet);
  assert.ok(verifyBinding(binding));
  // A signature by some other key, or of another message, is refused at once.
  assert.throws(() => bindWallet(id, wallet, personalSign(id.ethSecret, message)), /does not match the account/);
  assert.throws(() => bindWallet(id, wallet, personalSign(walletKey, bindingMessage(generateIdentity().did, wallet))), /does not match/);
});
