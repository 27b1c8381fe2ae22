// Issue 23, relayed fallback, in the NAT lab: behind symmetric NATs (MASQUERADE --random-fully: a
// new port per destination) what a STUN server saw is useless to a peer, so hole punching cannot
// work; the nodes connect through a TURN server (Debian's coturn on the public segment), first with
// an explicit --ice-server whose user and password are percent-encoded, then with nothing configured,
// through credentials the tracker mints for coturn's use-auth-secret. Peers say relayed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { coturn, publicSide, transfer, TURN_SECRET } from './nat-lab-nodes.ts';

test('symmetric ↔ symmetric: hole punching cannot work; through coturn with an explicit --ice-server, then with credentials the tracker mints; peers say relayed; "symmetric"', { timeout: 360_000 }, async (t) => {
  const s = await publicSide(t, ['--turn-url', `turn:198.18.0.13:3478`, '--turn-secret', TURN_SECRET]);
  const staticTurn = await coturn(s.lab, await s.lab.publicHost(2), { user: 'labuser', password: 'p@ss:word' });
  await coturn(s.lab, await s.lab.publicHost(3), { secret: TURN_SECRET });

  // Explicit: a TURN URL whose user and password are percent-encoded.
  const explicit = await transfer(t, s, 'symmetric', ['--ice-server', `turn:labuser:p%40ss%3Aword@${new URL(`http://${staticTurn.url.slice(5)}`).host}`]);
  assert.ok(explicit.peers.length > 0 && explicit.peers.every((p) => p.transport === 'webrtc' && p.relayed === true), `relayed WebRTC: ${JSON.stringify(explicit.peers)}`);
  assert.equal(explicit.healthB.network?.nat, 'symmetric', JSON.stringify(explicit.healthB.network));
  assert.equal(explicit.healthB.network.iceSource, 'setting');
  assert.match(staticTurn.log(), /user <labuser>: incoming packet ALLOCATE processed, success/, 'coturn took the percent-decoded user and password');

  // Nothing configured: the tracker's /ice-servers hands out coturn credentials (use-auth-secret).
  const minted = await transfer(t, s, 'symmetric');
  assert.ok(minted.peers.length > 0 && minted.peers.every((p) => p.transport === 'webrtc' && p.relayed === true), `relayed WebRTC: ${JSON.stringify(minted.peers)}`);
  const turn = minted.healthB.network.iceServers.find((x: { urls: string[] }) => x.urls[0]!.startsWith('turn:'));
  assert.ok(turn, 'a TURN server from the tracker is in force');
  assert.match(turn.username, /^\d+:/, 'coturn’s expiry:label user name');
  assert.equal(minted.healthB.network.nat, 'symmetric');
  t.diagnostic(`symmetric ↔ symmetric through TURN: explicit ${explicit.seconds.toFixed(1)} s, minted ${minted.seconds.toFixed(1)} s for 4 MiB`);
});

