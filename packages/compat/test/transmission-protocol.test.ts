// Transmission RPC over raw HTTP: the credential and session-id handshake in Transmission's order,
// and every kind of bad request answered Transmission's way (HTTP 200 with a `result` naming the
// problem), never a 5xx or a hang.

import test from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startTestServer } from '../../http/test/server-helpers.ts';
import { rpcClient } from './transmission-helpers.ts';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

test('handshake: 401 before 409, any user name with the node token, one session id, both paths', async (t) => {
  const s = await startTestServer(t);
  for (const path of ['/transmission/rpc', '/transmission/rpc/']) {
    const none = await s.anonymous(path, { method: 'POST', body: '{"method":"session-get"}' });
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Basic realm="Transmission"');
    assert.match(await none.text(), /<h1>401: Unauthorized<\/h1>.*API token/);
    const wrong = await s.anonymous(path, { method: 'POST', headers: { authorization: basic('admin', 'nope') }, body: '{}' });
    assert.equal(wrong.status, 401);
    // Cascade's own Bearer token is not Transmission's Basic: refused here.
    const bearer = await s.anonymous(path, { method: 'POST', headers: { authorization: `Bearer ${s.token}` }, body: '{}' });
    assert.equal(bearer.status, 401);
    // Credentials are checked before the session id: a valid id without them is still a 401.
    const first = await s.anonymous(path, { method: 'POST', headers: { authorization: basic('whoever', s.token) }, body: '{}' });
    assert.equal(first.status, 409);
    const id = first.headers.get('x-transmission-session-id');
    assert.match(id ?? '', /^[0-9a-f]{48}$/);
    assert.equal(first.headers.get('access-control-expose-headers'), 'X-Transmission-Session-Id');
    assert.match(await first.text(), new RegExp(`<h1>409: Conflict</h1>.*X-Transmission-Session-Id: ${id}`));
    const noAuth = await s.anonymous(path, { method: 'POST', headers: { 'x-transmission-session-id': id! }, body: '{}' });
    assert.equal(noAuth.status, 401);
    const badId = await s.anonymous(path, { method: 'POST', headers: { authorization: basic('', s.token), 'x-transmission-session-id': 'stale' }, body: '{}' });
    assert.equal(badId.status, 409);
    assert.equal(badId.headers.get('x-transmission-session-id'), id, 'one id for the process');
    // GET (Sonarr asks for the id this way) gets the 409; with the id it is not an RPC: 405.
    const get = await s.anonymous(path, { headers: { authorization: basic('sonarr', s.token) } });
    assert.equal(get.status, 409);
    assert.equal(get.headers.get('x-transmission-session-id'), id);
    const get2 = await s.anonymous(path, { headers: { authorization: basic('sonarr', s.token), 'x-transmission-session-id': id! } });
    assert.equal(get2.status, 405);
    const ok = await s.anonymous(path, {
      method: 'POST',
      headers: { authorization: basic('', s.token), 'x-transmission-session-id': id!, 'content-type': 'application/x-www-form-urlencoded' },
      body: '{"method":"session-get","arguments":{"fields":["rpc-version","session-id"]},"tag":7}',
    });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { result: 'success', arguments: { 'rpc-version': 17, 'session-id': id }, tag: 7 });
  }
  // The node's gate still checks the Host (DNS rebinding): before any credential.
  const status = await new Promise<number | undefined>((resolve, reject) => {
    const req = request(s.url + '/transmission/rpc', { method: 'POST', headers: { host: 'evil.example', authorization: basic('', s.token) } }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', reject);
    req.end('{}');
  });
  assert.equal(status, 403);
});

test('bad requests get a result naming the problem, HTTP 200, never a 5xx', async (t) => {
  const s = await startTestServer(t);
  const rpc = rpcClient(s);
  const result = async (body: string) => {
    const r = await rpc.raw(body);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  };
  assert.match((await result('{"method": "session-get",')).result, /^malformed JSON request: /);
  assert.match((await result('')).result, /^no method name/);
  assert.match((await result('[1,2]')).result, /must be a JSON object/);
  assert.equal((await result('{"arguments":{}}')).result, 'no method name');
  assert.deepEqual(await result('{"method":"torrent-explode","tag":12}'), { result: 'method name not recognized', arguments: {}, tag: 12 });
  assert.equal((await result('{"method":"toString"}')).result, 'method name not recognized');
  assert.equal((await result('{"method":"torrent-get","arguments":[1]}')).result, '"arguments" must be a JSON object');
  const call = (method: string, args: unknown) => rpc.call(method, args);
  assert.equal((await call('torrent-get', {})).result, 'no fields specified');
  assert.equal((await call('torrent-get', { fields: 'name' })).result, '"fields" must be a list of field names');
  assert.equal((await call('torrent-get', { fields: ['id'], format: 'xml' })).result, '"format" must be "objects" or "table"');
  assert.match((await call('torrent-get', { fields: ['id'], ids: { all: true } })).result, /"ids" must be a torrent id, a list/);
  assert.match((await call('torrent-remove', { ids: 'everything' })).result, /neither a torrent id, a 40-hex infohash nor "recently-active"/);
  assert.match((await call('torrent-stop', { ids: [1.5] })).result, /not a whole number/);
  assert.match((await call('torrent-start', { ids: ['recently-active'] })).result, /stands alone/);
  // Ids the node does not have are skipped, as Transmission does: removing twice is no error.
  assert.equal((await call('torrent-remove', { ids: [99, 'ab'.repeat(20)] })).result, 'success');
  assert.equal((await call('torrent-add', {})).result, 'no filename or metainfo specified');
  assert.equal((await call('torrent-add', { filename: 'magnet:?xt=urn:btih:' + 'd'.repeat(40), 'download-dir': 'relative/dir' })).result, 'download directory path is not absolute');
  assert.match((await call('torrent-add', { filename: '/etc/passwd' })).result, /^unrecognized info/);
  assert.match((await call('torrent-add', { filename: 'magnet:?xt=urn:btih:nothex' })).result, /magnet/i);
  assert.match((await call('torrent-add', { metainfo: 'bm90IGEgdG9ycmVudA==' })).result, /torrent|bencod|metainfo/i);
  assert.equal((await call('torrent-add', { metainfo: 12 })).result, '"metainfo" must be a string');
  assert.equal((await call('torrent-add', { filename: 'magnet:?xt=urn:btih:' + 'd'.repeat(40), labels: ['a,b'] })).result, 'labels cannot contain comma (,) character');
  assert.equal((await call('torrent-add', { filename: 'magnet:?xt=urn:btih:' + 'd'.repeat(40), paused: 'maybe' })).result, '"paused" must be true or false');
  assert.equal((await call('free-space', {})).result, 'directory path argument is missing');
  assert.equal((await call('free-space', { path: 'tmp' })).result, 'directory path is not absolute');
  assert.match((await call('free-space', { path: '/no/such/dir' })).result, /no free space to report/);
  assert.match((await call('session-close', undefined)).result, /refused/);
  assert.equal((await call('blocklist-update', undefined)).result, 'Cascade has no blocklist');
  assert.equal((await call('torrent-rename-path', { ids: [1], path: 'a', name: 'b' })).result, 'torrent-rename-path requires 1 torrent');
  assert.equal((await call('torrent-set-location', { location: 'x', move: true })).result, 'new location path is not absolute');
  assert.match((await call('torrent-set-location', { location: '/tmp/x' })).result, /"move": true/);
  assert.match((await call('session-set', { 'speed-limit-down': 'fast' })).result, /"speed-limit-down" must be a number/);
  assert.match((await call('session-set', { 'download-dir': 'rel' })).result, /not absolute/);
  assert.match((await call('session-set', { 'utp-enabled': true })).result, /uTP/);
  assert.equal((await call('session-set', { 'utp-enabled': false, 'some-future-key': 1 })).result, 'success');
  // The test node binds BitTorrent to 127.0.0.1: its port is not open to anyone outside.
  assert.deepEqual((await rpc.ok('port-test', undefined))['port-is-open'], false);

  // Too large a body: refused before it is read whole, in Transmission's page style.
  const big = await rpc.raw(`{"method":"torrent-add","arguments":{"metainfo":"${'A'.repeat(17 * 1024 * 1024)}"}}`);
  assert.equal(big.status, 413);
  assert.match(String(big.body), /<h1>413: Payload Too Large<\/h1>/);
  // The node is fine after all that.
  assert.equal((await call('session-stats', undefined)).result, 'success');
});
