import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stripAddresses, stripMessage, trackerMessageProblem, tunnelProblem } from '../index.ts';

const SDP = [
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 192.168.1.23',
  's=-',
  't=0 0',
  'm=application 54321 UDP/DTLS/SCTP webrtc-datachannel',
  'c=IN IP4 203.0.113.9',
  'a=candidate:1 1 UDP 2122252543 192.168.1.23 54321 typ host',
  'a=candidate:2 1 UDP 1686052863 203.0.113.9 54321 typ srflx raddr 192.168.1.23 rport 54321',
  'a=candidate:3 1 UDP 2122252543 3c1f1b2e-0000-4000-8000-000000000000.local 54321 typ host',
  'a=end-of-candidates',
  'a=ice-ufrag:abcd',
  'a=fingerprint:sha-256 AA:BB',
].join('\r\n');

test('offers and answers leave without addresses: candidates, connection and origin lines', () => {
  const out = stripAddresses(SDP);
  for (const leak of ['192.168.1.23', '203.0.113.9', '.local', 'a=candidate', 'end-of-candidates']) assert.ok(!out.includes(leak), leak);
  assert.match(out, /^o=- 4611731400430051336 2 IN IP4 0\.0\.0\.0$/m);
  assert.match(out, /^c=IN IP4 0\.0\.0\.0$/m);
  assert.match(out, /a=ice-ufrag:abcd/);
  assert.match(out, /a=fingerprint:sha-256 AA:BB/);
  const m = stripMessage({ action: 'announce', offers: [{ offer_id: 'x', offer: { type: 'offer', sdp: SDP } }, null], answer: { type: 'answer', sdp: SDP } });
  assert.ok(!JSON.stringify(m).includes('192.168.1.23'));
});

test('a tunnel is a WebSocket tracker session and nothing else', () => {
  assert.equal(tunnelProblem({ op: 'ws-tracker', url: 'wss://tracker.example/announce' }), undefined);
  for (const bad of [{ op: 'ws-tracker', url: 'http://x' }, { op: 'tcp', host: 'x', port: 22 }, null, 'ws-tracker', { op: 'ws-tracker', url: 'ws://a b' }]) {
    assert.ok(tunnelProblem(bad), JSON.stringify(bad));
  }
  assert.equal(trackerMessageProblem({ action: 'announce', info_hash: 'x' }), undefined);
  assert.equal(trackerMessageProblem({ action: 'scrape' }), undefined);
  for (const bad of [{ action: 'connect' }, [], 'announce', null, { offers: [] }]) assert.ok(trackerMessageProblem(bad), JSON.stringify(bad));
});
