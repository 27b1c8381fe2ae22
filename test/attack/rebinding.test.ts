// DNS rebinding with Host and Origin both forged (issue 19, item 10). An attacker's page on
// evil.example re-points its name at 127.0.0.1: the browser then sends Host: evil.example:<port> and
// Origin: http://evil.example:<port>, the two agree, and a check that only compares them lets the
// page in. The node must refuse every such request, read or write, HTTP or socket.io, whatever the
// route's access level, and change nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { startTestServer, type TestServer } from '../../packages/http/test/server-helpers.ts';

interface Raw {
  status: number;
  body: string;
}

/** A request exactly as the rebound browser sends it: to 127.0.0.1, naming evil.example. */
function forged(s: TestServer, method: string, path: string, host: string, body?: string, extra: Record<string, string> = {}): Promise<Raw> {
  const port = Number(new URL(s.url).port);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host, origin: `http://${host}`, 'sec-fetch-site': 'same-origin', ...extra };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('DNS rebinding: Host and Origin both forged are refused on every route and the socket.io handshake; nothing changes', { timeout: 60_000 }, async (t) => {
  const s = await startTestServer(t);
  const port = Number(new URL(s.url).port);
  const magnet = `magnet:?xt=urn:btih:${'ab'.repeat(20)}&dn=rebound`;
  const tries: [string, string, string?][] = [
    ['POST', '/api/torrents', JSON.stringify({ uri: magnet })],
    ['POST', '/api/torrents/add', JSON.stringify({ uri: magnet })],
    ['GET', '/api/torrents'],
    ['GET', '/api/health'],
    ['GET', '/api/identity'],
    ['POST', '/api/auth/challenge', JSON.stringify({ method: 'did', did: 'did:key:z6Mk' })],
    ['POST', '/api/auth/claim', '{}'],
    ['GET', '/api/users'],
    ['POST', '/api/users', JSON.stringify({ id: 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK', role: 'member' })],
    ['GET', `/api/torrents/${'ab'.repeat(20)}/files/0/stream`],
    ['GET', '/socket.io/?EIO=4&transport=polling'],
    ['GET', '/'],
  ];
  for (const host of [`evil.example:${port}`, 'evil.example', `127.0.0.1.evil.example:${port}`, `EVIL.example.:${port}`]) {
    for (const [method, path, body] of tries) {
      // With the node's own API token too: a rebound page never has it, but even so the Host is wrong.
      for (const extra of [{}, { authorization: `Bearer ${s.token}` }] as Record<string, string>[]) {
        const r = await forged(s, method, path, host, body, extra);
        assert.equal(r.status, 403, `${method} ${path} with Host ${host}${'authorization' in extra ? ' and the token' : ''}: ${r.status} ${r.body.slice(0, 200)}`);
        // socket.io answers its own generic 403 ("Forbidden"); everything else names the reason.
        if (!path.startsWith('/socket.io')) assert.match(r.body, /host/i, `the refusal of ${path} names the host`);
      }
    }
  }
  // Nothing was added and the node is still unclaimed.
  const list = await s.json('/api/torrents');
  assert.equal(list.status, 200);
  assert.deepEqual(list.body.torrents ?? list.body, []);
  assert.equal(await s.claimed(), false);
  // The same requests with the node's real Host go through (the control for the above).
  const ok = await forged(s, 'POST', '/api/torrents', `127.0.0.1:${port}`, JSON.stringify({ uri: magnet }), { authorization: `Bearer ${s.token}`, origin: s.url });
  assert.ok(ok.status === 200 || ok.status === 201, `${ok.status} ${ok.body}`);
});
