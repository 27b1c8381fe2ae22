// Whom the tracker (and the node, which uses the same rule) believes about a caller's address:
// X-Forwarded-For, else the standard Forwarded header, read only from a named proxy; and the one
// forwarder connection of the node's own web port, believed by its source port alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrustedProxies } from '../src/core/proxy.ts';

const req = (remoteAddress: string, headers: Record<string, string>, remotePort = 40000) => ({ headers, socket: { remoteAddress, remotePort } });

test('Forwarded (RFC 7239) is read like X-Forwarded-For, from a trusted proxy only', () => {
  const p = new TrustedProxies(['127.0.0.1']);
  assert.equal(p.clientAddress(req('127.0.0.1', { forwarded: 'for=198.51.100.1, for="[2001:db8::1]:443";proto=https' })), '2001:db8::1');
  assert.equal(p.clientAddress(req('127.0.0.1', { forwarded: 'for="203.0.113.4:8080"' })), '203.0.113.4');
  assert.equal(p.clientAddress(req('127.0.0.1', { forwarded: 'for=unknown' })), '127.0.0.1', 'an obfuscated node: the proxy stands');
  assert.equal(p.clientAddress(req('127.0.0.1', { forwarded: 'proto=https' })), '127.0.0.1');
  assert.equal(p.clientAddress(req('127.0.0.1', { forwarded: 'for=198.51.100.1', 'x-forwarded-for': '203.0.113.5' })), '203.0.113.5', 'X-Forwarded-For first');
  assert.equal(p.clientAddress(req('10.0.0.9', { forwarded: 'for=198.51.100.1' })), '10.0.0.9', 'not from a named proxy');
});

test('a forwarder connection is believed by its own source port, and only while it lasts', () => {
  const p = new TrustedProxies([]);
  const from = (port: number) => req('127.0.0.1', { 'x-forwarded-for': '203.0.113.7' }, port);
  assert.equal(p.clientAddress(from(5555)), '127.0.0.1', 'loopback alone is not a trusted proxy');
  const undo = p.trustForwarder('127.0.0.1', 5555);
  assert.equal(p.clientAddress(from(5555)), '203.0.113.7');
  assert.equal(p.clientAddress(from(5556)), '127.0.0.1', 'another local connection');
  undo();
  assert.equal(p.clientAddress(from(5555)), '127.0.0.1');
});
