// Hostile requests to the node's API (issue 19, item 7): malformed uploads get a 4xx that names the
// problem and never a server path, and a refused upload leaves nothing behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { startTestServer, type TestServer } from '../../packages/http/test/server-helpers.ts';

/** A raw POST: the body exactly as given (fetch would fix up a multipart body). */
function rawPost(s: TestServer, path: string, headers: Record<string, string>, body: Buffer, endEarly = false): Promise<{ status: number; body: string }> {
  const url = new URL(s.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method: 'POST', path, headers: { authorization: `Bearer ${s.token}`, ...headers } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', (err) => (endEarly ? resolve({ status: 0, body: '' }) : reject(err)));
    if (endEarly) {
      // The client promises more than it sends, then goes away mid-body.
      req.write(body);
      setTimeout(() => req.destroy(), 200);
      req.on('close', () => resolve({ status: 0, body: '' }));
    } else req.end(body);
  });
}

function multipart(boundary: string, parts: { name: string; filename?: string; data: string }[], close = true): Buffer {
  let out = '';
  for (const p of parts) {
    out += `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"${p.filename !== undefined ? `; filename="${p.filename}"` : ''}\r\n`;
    out += 'Content-Type: application/octet-stream\r\n\r\n' + p.data + '\r\n';
  }
  if (close) out += `--${boundary}--\r\n`;
  return Buffer.from(out);
}

function assertClean4xx(r: { status: number; body: string }, s: TestServer, what: string, reason: RegExp): void {
  if (process.env.DEBUG_ATTACK) console.log(what, r.status, r.body);
  assert.ok(r.status >= 400 && r.status < 500, `${what}: ${r.status} ${r.body}`);
  assert.match(JSON.parse(r.body).message, reason, `${what}: ${r.body}`);
  for (const secret of [s.root, s.downloadDir, '/tmp/', 'node_modules', '.cascade-upload-']) {
    assert.ok(!r.body.includes(secret), `${what}: the reply shows a server path (${secret}): ${r.body}`);
  }
}

function leftovers(s: TestServer): string[] {
  try {
    return readdirSync(s.downloadDir);
  } catch {
    return [];
  }
}

test('malformed multipart uploads get a 4xx naming the problem, no server path, nothing left behind', { timeout: 60_000 }, async (t) => {
  const s = await startTestServer(t);
  const file = { name: 'file', filename: 'a.bin', data: 'x'.repeat(1000) };

  assertClean4xx(await rawPost(s, '/api/torrents', { 'content-type': 'multipart/form-data' }, multipart('b0undary', [file])), s, 'no boundary', /boundary|multipart/i);
  assertClean4xx(await rawPost(s, '/api/torrents', { 'content-type': 'multipart/form-data; boundary=' }, multipart('b0undary', [file])), s, 'empty boundary', /boundary|multipart/i);
  assertClean4xx(await rawPost(s, '/api/torrents', { 'content-type': 'multipart/form-data; boundary=other' }, multipart('b0undary', [file])), s, 'wrong boundary', /multipart|no file|empty|nothing/i);
  assertClean4xx(await rawPost(s, '/api/torrents', { 'content-type': 'multipart/form-data; boundary=b0undary' }, multipart('b0undary', [file], false)), s, 'truncated body', /multipart|truncated|end/i);
  const cut = multipart('b0undary', [file]).subarray(0, 150);
  assertClean4xx(await rawPost(s, '/api/torrents', { 'content-type': 'multipart/form-data; boundary=b0undary' }, cut), s, 'body cut mid-part', /multipart|truncated|end/i);
  // A folder holding both a file "q" and a file "q/r", in both orders.
  for (const order of [['q', 'q/r'], ['q/r', 'q']]) {
    const body = multipart('b0undary', order.map((filename) => ({ name: 'file', filename, data: 'data of ' + filename })));
    // (a duplicate name is its own error)
    assertClean4xx(await rawPost(s, '/api/torrents', { 'content-type': 'multipart/form-data; boundary=b0undary' }, body), s, `files ${order.join(' and ')}`, /both a file and a folder/);
  }
  const twice = multipart('b0undary', [file, file]);
  assertClean4xx(await rawPost(s, '/api/torrents', { 'content-type': 'multipart/form-data; boundary=b0undary' }, twice), s, 'one name twice', /twice/);
  // A .torrent part that is not bencode, and one that is a bencoded list.
  for (const data of ['not a torrent', 'le']) {
    const body = multipart('b0undary', [{ name: 'torrent', filename: 'x.torrent', data }]);
    assertClean4xx(await rawPost(s, '/api/torrents', { 'content-type': 'multipart/form-data; boundary=b0undary' }, body), s, `torrent ${data}`, /torrent|bencode/i);
  }
  // Content types the route does not take at all, and JSON that is not JSON.
  assertClean4xx(await rawPost(s, '/api/torrents', { 'content-type': 'text/plain' }, Buffer.from('hello')), s, 'text/plain', /content.type|unsupported|media/i);
  assertClean4xx(await rawPost(s, '/api/torrents', { 'content-type': 'application/json' }, Buffer.from('{"uri":')), s, 'bad JSON', /JSON|body/i);
  // A client that leaves mid-upload: no reply to check, but nothing may be left on disk.
  await rawPost(s, '/api/torrents', { 'content-type': 'multipart/form-data; boundary=b0undary', 'content-length': '100000' }, multipart('b0undary', [file], false), true);

  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(leftovers(s), [], 'a refused upload left files in the download dir');
  assert.equal(s.node.session.list().length, 0);
  // And the node still takes a good upload.
  const ok = await rawPost(s, '/api/torrents', { 'content-type': 'multipart/form-data; boundary=b0undary' }, multipart('b0undary', [file]));
  assert.equal(ok.status, 201, ok.body);
});
