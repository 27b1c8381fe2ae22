// The iceServers setting and `--ice-server` URLs (issue 23, point 3): checked, stored across a
// restart, put in force for the node's WebRTC at once, and handed to the web UI (TURN secrets to
// members only). No server named here is ever dialled: nothing in these tests opens WebRTC.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIceServerUrl } from '@cascade/node';
import { restartableServer } from './model-helpers.ts';

test('--ice-server URLs: STUN plain, TURN with percent-encoded user and password, clear errors for the rest', () => {
  assert.deepEqual(parseIceServerUrl('stun:stun.example.org:3478'), { urls: ['stun:stun.example.org:3478'] });
  assert.deepEqual(parseIceServerUrl('turn:alice:s3cret@turn.example.org:3478?transport=tcp'), {
    urls: ['turn:turn.example.org:3478?transport=tcp'],
    username: 'alice',
    credential: 's3cret',
  });
  // A password holding ':' and '@', and a user with a ':' of its own, percent-encoded.
  assert.deepEqual(parseIceServerUrl('turns:us%3Aer:p%40ss%3Aword@[2001:db8::1]:5349'), {
    urls: ['turns:[2001:db8::1]:5349'],
    username: 'us:er',
    credential: 'p@ss:word',
  });
  assert.deepEqual(parseIceServerUrl('stun:127.0.0.1'), { urls: ['stun:127.0.0.1'] });
  const bad: [string, RegExp][] = [
    ['http://stun.example.org', /not a stun:, stuns:, turn: or turns: URL/],
    ['turn:turn.example.org:3478', /needs "username" and "credential"|give its user and password/],
    ['stun:u:p@stun.example.org', /take no user or password/],
    ['turn:alice@turn.example.org', /both a user and a password/],
    ['turn:alice:@turn.example.org', /both a user and a password/],
    ['stun:stun.example.org:70000', /port outside 1-65535/],
    ['stun:stun.example.org?transport=tcp', /only turn: and turns:/],
    ['turn:a:%zz@turn.example.org', /bad percent-encoding/],
    ['turn:a:b@turn.example.org?transport=sctp', /not a stun:/],
    ['stun:exa mple.org', /not a stun:/],
  ];
  for (const [url, why] of bad) assert.throws(() => parseIceServerUrl(url), why, url);
});

test('the iceServers setting: PATCHed, checked, in force for new WebRTC connections, kept across a restart; visitors get STUN only', { timeout: 60_000 }, async (t) => {
  // Without the tests' fixed ICE servers, so the node follows its setting.
  const n = await restartableServer(t, { iceServers: undefined });
  const poolIce = () => (n.server.node.session as unknown as { wsPool: { env: { config?: { iceServers?: unknown } } } }).wsPool.env.config?.iceServers;

  assert.deepEqual((await n.json('/api/settings')).body.iceServers, []);
  assert.equal((await n.json('/api/health')).body.webrtc, undefined, 'none set: the browser keeps its default');

  const servers = [
    { urls: ['stun:127.0.0.2:3478'] },
    { urls: 'turn:127.0.0.3:3478?transport=tcp', username: 'alice', credential: 'p@ss' },
  ];
  const set = await n.json('/api/settings', { method: 'PATCH', json: { iceServers: servers } });
  assert.equal(set.status, 200, JSON.stringify(set.body));
  const stored = [{ urls: ['stun:127.0.0.2:3478'] }, { urls: ['turn:127.0.0.3:3478?transport=tcp'], username: 'alice', credential: 'p@ss' }];
  assert.deepEqual(set.body.iceServers, stored);
  // node-datachannel takes TURN credentials inside a URL: percent-encoded there ('@' would cut it).
  const inPool = [stored[0], { ...stored[1], credential: 'p%40ss' }];
  assert.deepEqual(poolIce(), inPool, 'the session’s next RTCPeerConnection gets them');

  const owner = (await n.json('/api/health')).body;
  assert.deepEqual(owner.webrtc, { iceServers: stored });
  const visitor = (await (await fetch(`${n.server.url}/api/health`)).json()) as { webrtc: unknown; chain?: unknown };
  assert.equal(visitor.chain, undefined, 'a visitor’s view');
  assert.deepEqual(visitor.webrtc, { iceServers: [{ urls: ['stun:127.0.0.2:3478'] }] }, 'no TURN secret for a visitor');

  // Refused with the field named; nothing changes.
  const refusals: [unknown, RegExp][] = [
    [{ iceServers: 'stun:x' }, /iceServers/],
    [{ iceServers: [{ urls: ['turn:127.0.0.3:3478'] }] }, /needs "username" and "credential"/],
    [{ iceServers: [{ urls: ['ftp://x'] }] }, /not a stun:/],
    [{ iceServers: [{ urls: ['stun:x'], password: 'y' }] }, /unknown field "password"/],
    [{ iceServers: Array.from({ length: 17 }, () => ({ urls: ['stun:x'] })) }, /at most 16/],
    [{ iceServers: [{ urls: [] }] }, /1 to 8 URLs/],
  ];
  for (const [patch, why] of refusals) {
    const r = await n.json('/api/settings', { method: 'PATCH', json: patch });
    assert.equal(r.status, 400, JSON.stringify(patch));
    assert.match(String(r.body.message), why);
  }
  assert.deepEqual((await n.json('/api/settings')).body.iceServers, stored);

  await n.restart();
  assert.deepEqual((await n.json('/api/settings')).body.iceServers, stored, 'kept across a restart');
  assert.deepEqual(poolIce(), inPool, 'and in force again');
  const cleared = await n.json('/api/settings', { method: 'PATCH', json: { iceServers: [] } });
  assert.deepEqual(cleared.body.iceServers, []);
  assert.equal((await n.json('/api/health')).body.webrtc, undefined);
});
