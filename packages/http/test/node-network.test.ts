// How a node says how it is reached (issue 23, points 4 and 6), on loopback: GET /api/network says what
// its network's probe found, for members only; POST /api/network/probe looks again; the web port passes
// /ice-servers to the built-in tracker. The probe itself: packages/node-network/test/node-network.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { restartableServer } from './model-helpers.ts';

test('GET /api/network: what the node found, for members; POST /api/network/probe looks again', { timeout: 60_000 }, async (t) => {
  const n = await restartableServer(t, { iceServers: undefined });
  const first = await n.json('/api/network');
  assert.equal(first.status, 200, JSON.stringify(first.body));
  for (const key of ['nat', 'externalAddress', 'portMapping', 'iceServers']) assert.ok(key in first.body, key);
  assert.ok(['open', 'cone', 'symmetric', 'unknown'].includes(first.body.nat));
  assert.deepEqual(Object.keys(first.body.portMapping).sort(), ['error', 'externalPort', 'method']);
  const probed = await n.json('/api/network/probe', { method: 'POST' });
  assert.equal(probed.status, 200);
  assert.equal(typeof probed.body.probedAt, 'number');
  // On loopback the only tracker is the node's own: it cannot tell the way out.
  assert.equal(probed.body.nat, 'unknown');
  assert.match(probed.body.reason, /no STUN server/);
  const junk = await n.json('/api/network/probe', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' });
  assert.equal(junk.status, 400, 'a malformed body is a clear 400');
  const visitor = await fetch(`${n.server.url}/api/network`);
  assert.ok(visitor.status === 401 || visitor.status === 403, `a visitor gets ${visitor.status}`);
});

test('the web port passes /ice-servers to the built-in tracker, naming the host the asker used', { timeout: 60_000 }, async (t) => {
  const n = await restartableServer(t, { iceServers: undefined, trackerPorts: { http: 0, udp: 0 } });
  const res = await fetch(`${n.server.url}/ice-servers`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  const body = (await res.json()) as { iceServers: { urls: string }[] };
  const udpPort = (await n.json('/api/health')).body.ports.trackerUdp;
  assert.deepEqual(body.iceServers, [{ urls: `stun:127.0.0.1:${udpPort}` }], 'the tracker’s STUN service, no TURN (serve mints none)');
});
