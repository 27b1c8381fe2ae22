// The first claim of a fresh node (issue 44): it takes the one-time claim code from the state dir
// (0600), not a loopback address — behind a reverse proxy on the same machine every visitor is
// 127.0.0.1. Wrong codes are limited per client address, and a forwarded address counts only from a
// proxy the owner named (--trusted-proxy): X-Forwarded-For or Forwarded. The same rule decides the
// address the built-in tracker records for an announce on the web port. Real server on 127.0.0.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { generateIdentity, signSignIn, type Identity } from '@cascade/identity';
import { startTestServer, claimCodeOf, type TestServer } from './server-helpers.ts';

async function signIn(s: TestServer, id: Identity): Promise<string> {
  const c = await s.json('/api/auth/challenge', { method: 'POST', anonymous: true, json: { method: 'did', did: id.did } });
  const v = await s.json('/api/auth/verify', { method: 'POST', anonymous: true, json: { message: c.body.message, signature: signSignIn(id, c.body.message) } });
  assert.equal(v.status, 200, JSON.stringify(v.body));
  return v.res.headers.get('set-cookie')!.split(';')[0]!;
}

const claimWith = (s: TestServer, cookie: string, code: string | undefined, headers: Record<string, string> = {}) =>
  s.json('/api/auth/claim', { method: 'POST', headers: { cookie, origin: s.url, ...headers }, json: code === undefined ? {} : { code } });

test('the first claim needs the claim code from the state dir; a loopback address alone claims nothing; the code works once', { timeout: 60_000 }, async (t) => {
  const s = await startTestServer(t);
  const file = join(s.node.db.stateDir, 'claim-code');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const code = claimCodeOf(s);
  assert.match(code, /^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$/);
  assert.equal(await s.claimCode(), code);

  const stranger = await signIn(s, generateIdentity('stranger'));
  assert.equal((await s.json('/api/auth/me', { headers: { cookie: stranger } })).body.claimable, true);
  // From 127.0.0.1, as every visitor behind a reverse proxy on this machine would be: no code, no claim.
  const none = await claimWith(s, stranger, undefined);
  assert.equal(none.status, 403);
  assert.match(none.body.message, /claim code is missing.*cascade claim-code/);
  const wrong = await claimWith(s, stranger, 'AAAA-BBBB-CCCC-DDDD');
  assert.equal(wrong.status, 403);
  assert.match(wrong.body.message, /not this node’s claim code/);
  assert.equal(await s.claimed(), false);

  // Typed by hand: lower case, without the dashes.
  const owner = generateIdentity('owner');
  const ownerCookie = await signIn(s, owner);
  const ok = await claimWith(s, ownerCookie, code.toLowerCase().replaceAll('-', ' '));
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.role, 'owner');
  assert.equal(existsSync(file), false, 'spent');
  assert.equal(await s.claimCode(), undefined);
  assert.equal((await claimWith(s, stranger, code)).status, 409);
  assert.deepEqual((await s.json('/api/auth/me', { headers: { cookie: stranger } })).body.claimable, false);
});

test('wrong claim codes are limited per client address; a forwarded address counts only from a named proxy', { timeout: 60_000 }, async (t) => {
  // No trusted proxy: X-Forwarded-For is the caller's own say, so every try is 127.0.0.1's.
  const plain = await startTestServer(t);
  const a = await signIn(plain, generateIdentity('a'));
  for (let i = 0; i < 10; i++) assert.equal((await claimWith(plain, a, 'WRONG-CODE', { 'x-forwarded-for': `203.0.113.${i}` })).status, 403);
  const blocked = await claimWith(plain, a, claimCodeOf(plain), { 'x-forwarded-for': '198.51.100.1' });
  assert.equal(blocked.status, 429);
  assert.match(blocked.body.message, /too many wrong claim codes from 127\.0\.0\.1/);

  // 127.0.0.1 named as the proxy: each forwarded client has its own tries, by either header.
  const proxied = await startTestServer(t, { trustedProxies: ['127.0.0.1'] });
  const b = await signIn(proxied, generateIdentity('b'));
  for (let i = 0; i < 10; i++) assert.equal((await claimWith(proxied, b, 'WRONG-CODE', { forwarded: 'for="[2001:db8::5]:443";proto=https' })).status, 403);
  const limited = await claimWith(proxied, b, claimCodeOf(proxied), { 'x-forwarded-for': '198.51.100.7, 2001:db8::5' });
  assert.equal(limited.status, 429);
  assert.match(limited.body.message, /from 2001:db8::5/);
  assert.equal((await claimWith(proxied, b, claimCodeOf(proxied), { 'x-forwarded-for': '203.0.113.9' })).status, 200);
});

/** The peer address (4 bytes) of a compact announce reply's first peer. */
function firstPeer(body: Buffer): string {
  const at = body.indexOf('5:peers6:');
  assert.ok(at >= 0, body.toString('latin1'));
  return [...body.subarray(at + 9, at + 13)].join('.');
}

test('an announce on the web port is recorded at the forwarded address only from a named proxy', { timeout: 60_000 }, async (t) => {
  const hash = '%AB'.repeat(20);
  const announce = async (s: TestServer, peer: string, port: number, xff: string) => {
    const res = await fetch(`${s.url}/announce?info_hash=${hash}&peer_id=${peer.repeat(20)}&port=${port}&left=5&compact=1`, { headers: { 'x-forwarded-for': xff } });
    return Buffer.from(await res.arrayBuffer());
  };
  const plain = await startTestServer(t);
  await announce(plain, 'a', 7001, '203.0.113.8');
  assert.equal(firstPeer(await announce(plain, 'b', 7002, '203.0.113.9')), '127.0.0.1', 'an unnamed proxy is not believed');
  const proxied = await startTestServer(t, { trustedProxies: ['127.0.0.0/8'] });
  await announce(proxied, 'a', 7001, '203.0.113.8');
  assert.equal(firstPeer(await announce(proxied, 'b', 7002, '203.0.113.9')), '203.0.113.8');
  assert.deepEqual((await proxied.json('/api/settings')).body.trustedProxies, ['127.0.0.0/8'], '--trusted-proxy is kept as the setting');

  // The setting applies while the node runs: named in Settings, the proxy is believed at once.
  const bad = await plain.json('/api/settings', { method: 'PATCH', json: { trustedProxies: ['proxy.example'] } });
  assert.equal(bad.status, 400);
  assert.match(bad.body.message, /trustedProxies/);
  assert.equal((await plain.json('/api/settings', { method: 'PATCH', json: { trustedProxies: ['127.0.0.1'] } })).status, 200);
  const other = '%CD'.repeat(20);
  await fetch(`${plain.url}/announce?info_hash=${other}&peer_id=${'c'.repeat(20)}&port=7003&left=5&compact=1`, { headers: { 'x-forwarded-for': '198.51.100.3' } });
  const res = await fetch(`${plain.url}/announce?info_hash=${other}&peer_id=${'d'.repeat(20)}&port=7004&left=5&compact=1`, { headers: { 'x-forwarded-for': '198.51.100.4' } });
  assert.equal(firstPeer(Buffer.from(await res.arrayBuffer())), '198.51.100.3');
});
