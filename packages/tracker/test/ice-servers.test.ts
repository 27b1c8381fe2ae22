// GET /ice-servers (issue 23): the tracker's STUN service for anyone, TURN credentials in coturn's
// shared-secret scheme when configured — on a private tracker only for a registered passkey —
// readable from any origin. The credentials' use against a real coturn is in turn-coturn.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { parseStunUrl, stunProbe } from '@cascade/reachability';
import { startTracker } from '../index.ts';
import { checkTurnUrl } from '../src/ice/turn-url.ts';
import { iceServersPath } from '../src/ice/ice-servers.ts';

interface IceAnswer {
  iceServers: { urls: string | string[]; username?: string; credential?: string }[];
  ttl: number;
}

const SECRET = 'not-a-real-secret';
const TURN = ['turn:127.0.0.51:3478', 'turn:127.0.0.51:3478?transport=tcp', 'turns:turn.example:5349'];

/** GET with a chosen Host header (fetch does not let a caller set it). */
function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, { headers }, (res) => {
      let body = '';
      res.on('data', (d) => (body += String(d)));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    }).on('error', reject);
  });
}

test('public tracker: STUN entry on the bound address, TURN credentials in coturn\'s scheme, CORS, no caching', async (t) => {
  const tracker = await startTracker({ host: '127.0.0.52', httpPort: 0, udpPort: 0, turn: { urls: TURN, secret: SECRET, ttl: 3600 } });
  t.after(() => tracker.close());
  assert.equal(tracker.iceServersUrl, `http://127.0.0.52:${tracker.httpPort}/ice-servers`);
  assert.equal(tracker.stunUrl, `stun:127.0.0.52:${tracker.udpPort}`);

  const before = Math.floor(Date.now() / 1000);
  const res = await fetch(tracker.iceServersUrl, { headers: { origin: 'http://web.example' } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  assert.equal(res.headers.get('cache-control'), 'no-store');
  const body = (await res.json()) as IceAnswer;
  assert.equal(body.ttl, 3600);
  assert.deepEqual(body.iceServers[0], { urls: tracker.stunUrl });
  const turn = body.iceServers[1]!;
  assert.deepEqual(turn.urls, TURN);
  const [expiry, label] = turn.username!.split(':');
  assert.ok(Number(expiry) >= before + 3600 && Number(expiry) <= before + 3602, `expiry ${expiry}`);
  assert.equal(label, 'cascade');
  // What coturn computes with use-auth-secret: base64(HMAC-SHA1(secret, username)).
  assert.equal(turn.credential, createHmac('sha1', SECRET).update(turn.username!).digest('base64'));

  // The STUN entry is a working STUN service.
  const s = dgram.createSocket('udp4');
  s.bind(0, '127.0.0.53');
  await once(s, 'listening');
  t.after(() => s.close());
  const answer = await stunProbe(s, parseStunUrl(body.iceServers[0]!.urls as string));
  assert.deepEqual(answer.mapped, { family: 4, address: '127.0.0.53', port: s.address().port });

  // A browser's preflight (it sends none for a plain GET, but some wrappers add headers).
  const pre = await fetch(tracker.iceServersUrl, { method: 'OPTIONS' });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), '*');
  assert.equal((await fetch(tracker.iceServersUrl, { method: 'POST' })).status, 405);
});

test('without TURN: only the STUN entry; a wildcard bind names the host the request came in on', async (t) => {
  const tracker = await startTracker({ host: '0.0.0.0', httpPort: 0, udpPort: 0 });
  t.after(() => tracker.close());
  const url = `http://127.0.0.54:${tracker.httpPort}/ice-servers`;
  const plain = JSON.parse((await get(url)).body) as IceAnswer;
  assert.deepEqual(plain.iceServers, [{ urls: `stun:127.0.0.54:${tracker.udpPort}` }]);
  const named = JSON.parse((await get(url, { host: `tracker.example:${tracker.httpPort}` })).body) as IceAnswer;
  assert.deepEqual(named.iceServers, [{ urls: `stun:tracker.example:${tracker.udpPort}` }]);
  const v6 = JSON.parse((await get(url, { host: `[2001:db8::7]:${tracker.httpPort}` })).body) as IceAnswer;
  assert.deepEqual(v6.iceServers, [{ urls: `stun:[2001:db8::7]:${tracker.udpPort}` }]);
  // A Host header that is no host name is not echoed into a URL.
  const odd = JSON.parse((await get(url, { host: 'a b"c' })).body) as IceAnswer;
  assert.deepEqual(odd.iceServers, [{ urls: `stun:127.0.0.1:${tracker.udpPort}` }]);
  // A public tracker behind a path prefix still answers.
  assert.equal((await get(`http://127.0.0.54:${tracker.httpPort}/tracker/ice-servers`)).status, 200);
});

test('private tracker: STUN for anyone, TURN credentials only for a registered passkey (path or query)', async (t) => {
  const tracker = await startTracker({ host: '127.0.0.55', httpPort: 0, udpPort: 0, private: true, turn: { urls: [TURN[0]!], secret: SECRET } });
  t.after(() => tracker.close());
  const base = `http://127.0.0.55:${tracker.httpPort}`;
  const alice = await tracker.registerUser({ name: 'alice' });

  const anon = (await (await fetch(`${base}/ice-servers`)).json()) as IceAnswer;
  assert.deepEqual(anon.iceServers, [{ urls: tracker.stunUrl }], 'no passkey: STUN only');
  assert.equal(anon.ttl, 86_400, 'the default TTL');

  for (const url of [`${base}/ice-servers/${alice.passkey}`, `${base}/${alice.passkey}/ice-servers`, `${base}/ice-servers?passkey=${alice.passkey}`]) {
    const res = await fetch(url);
    assert.equal(res.status, 200, url);
    const body = (await res.json()) as IceAnswer;
    const turn = body.iceServers[1];
    assert.ok(turn, `${url}: TURN credentials`);
    const label = turn.username!.split(':')[1]!;
    assert.match(label, /^u[0-9a-f]{16}$/, 'a hash of the passkey labels the user');
    assert.ok(!turn.username!.includes(alice.passkey), 'never the passkey itself');
  }
  for (const bad of ['nosuchuser', 'bad%20key']) {
    const res = await fetch(`${base}/ice-servers/${bad}`);
    assert.equal(res.status, 403, bad);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.match(((await res.json()) as { error: string }).error, /unknown passkey/);
  }
});

test('TURN options are checked: URLs (RFC 7065), secret, TTL', async () => {
  for (const ok of ['turn:h:3478', 'turns:h.example:5349', 'turn:10.0.0.1:3478?transport=tcp', 'turn:[2001:db8::1]:3478?transport=udp', 'turn:h']) assert.equal(checkTurnUrl(ok), ok);
  const bad: [string, RegExp][] = [
    ['turn://h:3478', /no "\/\/"/],
    ['turn:user:pw@h:3478', /no user or password/],
    ['stun:h:3478', /not a TURN URL/],
    ['turn:h:70000', /not a TURN URL/],
    ['turn:h:3478?transport=sctp', /not a TURN URL/],
    ['turn:', /not a TURN URL/],
  ];
  for (const [url, why] of bad) assert.throws(() => checkTurnUrl(url), (e: Error) => e.message.startsWith(url) && why.test(e.message), url);
  await assert.rejects(startTracker({ host: '127.0.0.56', httpPort: 0, udpPort: 0, turn: { urls: ['turn://x'], secret: 's' } }), /turn:\/\/x/);
  await assert.rejects(startTracker({ host: '127.0.0.56', httpPort: 0, udpPort: 0, turn: { urls: ['turn:x:1'], secret: '' } }), /secret/);
  await assert.rejects(startTracker({ host: '127.0.0.56', httpPort: 0, udpPort: 0, turn: { urls: ['turn:x:1'], secret: 's', ttl: 0 } }), /TTL/);
});

test('which paths are /ice-servers', () => {
  assert.deepEqual(iceServersPath('/ice-servers'), {});
  assert.deepEqual(iceServersPath('/ice-servers/pk'), { passkey: 'pk' });
  assert.deepEqual(iceServersPath('/pk/ice-servers'), { passkey: 'pk' });
  assert.equal(iceServersPath('/ice-servers/a/b'), undefined);
  assert.equal(iceServersPath('/announce'), undefined);
});
