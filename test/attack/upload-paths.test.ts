// Upload paths the file system cannot take (issue 19, item 7): a folder upload whose names are each
// short enough but whose path is too long or too deep for the disk (ENAMETOOLONG from mkdir or open)
// answered 500 with the server's staging path in the message. It must be a 4xx naming the problem,
// never a server path, and leave nothing behind; and no 5xx may ever carry a server path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { startTestServer, type TestServer } from '../../packages/http/test/server-helpers.ts';

function post(s: TestServer, body: Buffer, boundary: string): Promise<{ status: number; body: string }> {
  const url = new URL(s.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: '/api/torrents',
        headers: { authorization: `Bearer ${s.token}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function folderUpload(boundary: string, names: string[]): Buffer {
  let out = '';
  for (const n of names) {
    out += `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${n}"\r\nContent-Type: application/octet-stream\r\n\r\nsome bytes\r\n`;
  }
  return Buffer.from(out + `--${boundary}--\r\n`);
}

test('upload paths too long or too deep for the disk get a 4xx naming the problem, no server path, nothing left', { timeout: 60_000 }, async (t) => {
  const s = await startTestServer(t);
  const b = 'pathsb0undary';
  const cases: [string, string[]][] = [
    // Every component under 255 bytes, the whole far over PATH_MAX (4096).
    ['40 components of 250 bytes', [Array.from({ length: 40 }, (_, i) => String(i % 10).repeat(250)).join('/') + '/f.bin']],
    // 3000 levels of one-letter folders: 6000 bytes.
    ['3000 nested folders', [Array(3000).fill('d').join('/') + '/f.bin']],
    // Just under PATH_MAX on its own, over it once inside the download dir.
    ['a 4000-byte path', [Array.from({ length: 16 }, () => 'p'.repeat(249)).join('/') + '/f.bin']],
    // A good file first, then the bad one: the first must not stay behind either.
    ['a good file, then a long path', ['top/ok.bin', 'top/' + Array.from({ length: 20 }, () => 'q'.repeat(250)).join('/') + '/f.bin']],
  ];
  for (const [what, names] of cases) {
    const r = await post(s, folderUpload(b, names), b);
    assert.ok(r.status >= 400 && r.status < 500, `${what}: ${r.status} ${r.body.slice(0, 300)}`);
    const message = JSON.parse(r.body).message as string;
    assert.match(message, /too long|too deep/i, `${what}: ${message.slice(0, 300)}`);
    for (const secret of [s.root, s.downloadDir, tmpdir() + '/', '.cascade-upload-']) {
      assert.ok(!r.body.includes(secret), `${what}: the reply shows a server path (${secret}): ${r.body.slice(0, 300)}`);
    }
  }
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(readdirSync(s.downloadDir), [], 'a refused upload left something in the download dir');
  assert.equal(s.node.session.list().length, 0);
});

test('a 5xx never shows a server path: an upload into a download dir that became a file', { timeout: 30_000 }, async (t) => {
  const s = await startTestServer(t);
  // The disk's fault, not the client's: a 5xx is right, but its message must not name the path.
  rmSync(s.downloadDir, { recursive: true, force: true });
  writeFileSync(s.downloadDir, 'not a folder');
  const b = 'fivexxb0undary';
  const r = await post(s, folderUpload(b, ['a.bin']), b);
  assert.ok(r.status >= 500, `${r.status} ${r.body}`);
  assert.equal(JSON.parse(r.body).statusCode, r.status);
  for (const secret of [s.root, s.downloadDir, tmpdir() + '/', '.cascade-upload-', 'downloads']) {
    assert.ok(!r.body.includes(secret), `the 5xx shows a server path (${secret}): ${r.body}`);
  }
});

/** Raw bytes to the API; resolves with whatever came back once the server closes (or after ms). */
function rawExchange(s: TestServer, head: string, body: Buffer, ms = 5000): Promise<string> {
  return new Promise((resolve) => {
    const sock = connect(s.httpPort, '127.0.0.1');
    let out = '';
    const timer = setTimeout(() => sock.destroy(), ms);
    sock.on('data', (d) => (out += d));
    sock.on('error', () => {});
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    sock.write(Buffer.concat([Buffer.from(head.replace('{token}', s.token)), body]));
  });
}

test('a boundary longer than RFC 2046 allows is a 400; a chunked body broken mid-upload leaves no staging folder behind', { timeout: 60_000 }, async (t) => {
  const s = await startTestServer(t);
  const part = (b: string) => Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\nContent-Type: application/octet-stream\r\n\r\nhello\r\n--${b}--\r\n`);
  for (const b of ['b'.repeat(71), 'b'.repeat(1000)]) {
    const r = await post(s, part(b), b);
    assert.equal(r.status, 400, `a ${b.length}-character boundary: ${r.status} ${r.body.slice(0, 200)}`);
    assert.match(JSON.parse(r.body).message, /boundary/);
  }
  // Node's HTTP parser rejects the bad chunk size after the handler has started: the upload must
  // still be cleaned up, and the handler must not wait forever for a body that will never come.
  const b = 'chunkyb0undary';
  for (const size of ['zz', '-1', 'ffffffffffffffffff']) {
    const head =
      'POST /api/torrents HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n' +
      `Content-Type: multipart/form-data; boundary=${b}\r\nTransfer-Encoding: chunked\r\n\r\n`;
    const body = Buffer.concat([Buffer.from(`10\r\n`), part(b).subarray(0, 16), Buffer.from(`\r\n${size}\r\n`), part(b).subarray(16)]);
    const reply = await rawExchange(s, head, body);
    assert.match(reply, /^HTTP\/1\.1 4\d\d/, `chunk size ${size}: ${reply.slice(0, 200)}`);
  }
  // A whole body (by Content-Length) whose multipart never ends, then bytes that are no request:
  // Node drops the connection with the body parsed but not yet read.
  const unfinished = Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n\r\nhello`);
  await rawExchange(
    s,
    'POST /api/torrents HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n' +
      `Content-Type: multipart/form-data; boundary=${b}\r\nContent-Length: ${unfinished.length}\r\n\r\n`,
    Buffer.concat([unfinished, Buffer.from('-garbage that is no request\r\n\r\n')]),
  );
  // A client that promised more and went quiet, then away.
  const head =
    'POST /api/torrents HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n' +
    `Content-Type: multipart/form-data; boundary=${b}\r\nContent-Length: 100000\r\n\r\n`;
  await rawExchange(s, head, part(b).subarray(0, 120), 500);
  await new Promise((r) => setTimeout(r, 1000));
  assert.deepEqual(readdirSync(s.downloadDir), [], 'an upload cut off by a broken body left its staging folder');
});
