// The node's chat relay counts its per-address budgets (here: identities signed in per address) by
// the client's address as the node decides it (issue 44): a forwarded address only from a proxy the
// owner named with --trusted-proxy. Real node on 127.0.0.1, socket.io clients setting the header a
// reverse proxy would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { io as ioClient, type Socket } from 'socket.io-client';
import { AUTH_DOMAIN, b64u, generateIdentity, makeProfile, signBytes } from '@cascade/chat';
import { utf8 } from '@cascade/identity';
import { DEFAULT_LIMITS } from '@cascade/chat/server';
import { startTestServer, type TestServer } from './server-helpers.ts';

function ack<T = any>(s: Socket, ev: string, arg: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${ev}: no ack`)), 10_000);
    s.emit(ev, arg, (r: T) => {
      clearTimeout(t);
      resolve(r);
    });
  });
}

/** A new identity signs in to the node's /chat from `xff`; resolves to the relay's answer. */
async function chatSignIn(s: TestServer, xff: string, sockets: Socket[]): Promise<{ ok?: boolean; error?: string }> {
  const sock = ioClient(`${s.url}/chat`, { transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: { 'x-forwarded-for': xff } });
  sockets.push(sock);
  await new Promise<void>((r, j) => {
    sock.once('connect', () => r());
    sock.once('connect_error', j);
  });
  const id = generateIdentity('someone');
  const { nonce } = await ack<{ nonce: string }>(sock, 'auth:challenge', {});
  return ack(sock, 'auth', { did: id.did, sig: b64u(signBytes(id, AUTH_DOMAIN, utf8(`${nonce}|${id.did}`))), profile: makeProfile(id) });
}

test('chat budgets per address: forwarded addresses count only from a named proxy', { timeout: 120_000 }, async (t) => {
  const sockets: Socket[] = [];
  t.after(() => sockets.forEach((s) => s.close()));
  const max = DEFAULT_LIMITS.maxIdentitiesPerAddress;

  const proxied = await startTestServer(t, { trustedProxies: ['127.0.0.1'] });
  for (let i = 0; i < max; i++) assert.equal((await chatSignIn(proxied, '203.0.113.1', sockets)).ok, true, `identity ${i}`);
  assert.equal((await chatSignIn(proxied, '203.0.113.1', sockets)).error, 'rate-limited', 'one forwarded client past its budget');
  assert.equal((await chatSignIn(proxied, '203.0.113.2', sockets)).ok, true, 'another forwarded client has its own');

  // No named proxy: the header is the caller's own say; all of them are 127.0.0.1.
  const plain = await startTestServer(t);
  for (let i = 0; i < max; i++) assert.equal((await chatSignIn(plain, `198.51.100.${i}`, sockets)).ok, true, `identity ${i}`);
  assert.equal((await chatSignIn(plain, '198.51.100.250', sockets)).error, 'rate-limited');
});
