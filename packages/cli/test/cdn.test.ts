// A CDN in front of the node (issue 61 item 5, docs/storage/cdn.md), with a real caching proxy:
// Debian's nginx (proxy_cache) on 127.0.0.1 before a `cascade serve`. A torrent made with
// `create --web-seed-from-public-url --cdn-url <nginx>` carries the proxy as its BEP 19 web seed; two
// libtorrent clients (python3-libtorrent) download it from the web seed alone, one after the other:
// the second one's bytes are all cache hits, and the node served each byte once (nginx's
// $upstream_cache_status and $upstream_response_length, in a log format this test reads). Nothing
// personal is cached: a second user behind the same proxy gets 401, not the first one's answer.
// The node's own headers are checked too: strong ETag, immutable, 206/416, 304, no Vary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseTorrent } from '@cascade/engine';
import { tempDir } from './helpers.ts';
import { cascade, entry, ok, startServe, until } from './node-process.ts';

// A web-seed-only download: no peers, no DHT; done when it seeds. Requests of 64 KiB at most, so
// each file is asked for in ranges (the cache answers ranges of what it fetched whole).
const LT_WEBSEED = `
import libtorrent as lt, sys, time
s = lt.session({'listen_interfaces': '127.0.0.1:0', 'enable_dht': False, 'enable_lsd': False, 'enable_upnp': False, 'enable_natpmp': False, 'urlseed_max_request_bytes': 65536})
h = s.add_torrent({'ti': lt.torrent_info(sys.argv[1]), 'save_path': sys.argv[2]})
end = time.time() + 90
while not h.status().is_seeding:
    if time.time() > end:
        print('timeout', h.status().progress, flush=True)
        sys.exit(1)
    time.sleep(0.05)
print('done', h.status().total_payload_download, flush=True)
`;
import { assertSameBytes } from '../../../scripts/assert-bytes.ts';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

function nginxConf(dir: string, port: number, upstream: string): string {
  return `
daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
${process.getuid?.() === 0 ? 'user root;' : ''}
events { worker_connections 256; }
http {
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  proxy_cache_path ${dir}/cache levels=1:2 keys_zone=cdn:1m max_size=64m inactive=1h use_temp_path=off;
  log_format cdn '$upstream_cache_status $status $upstream_response_length $body_bytes_sent $request_uri';
  server {
    listen 127.0.0.1:${port};
    access_log ${dir}/cache.log cdn;
    location / {
      proxy_pass ${upstream};
      proxy_http_version 1.1;
      proxy_cache cdn;
      # One fetch from the node per object, however many clients miss it at once.
      proxy_cache_lock on;
      proxy_cache_lock_timeout 30s;
      # A range answered from a whole-object fetch: the fetch finishes into the cache even when the
      # client that caused it has its bytes and leaves.
      proxy_ignore_client_abort on;
    }
  }
}
`;
}

/** Once nginx has logged every request in flight (a line is written when its request ends). */
async function settled(dir: string): Promise<void> {
  let n = -1;
  for (;;) {
    await new Promise((r) => setTimeout(r, 300));
    const now = readLog(dir).length;
    if (now === n) return;
    n = now;
  }
}

interface LogLine {
  cache: string;
  status: number;
  upstream: number;
  sent: number;
  uri: string;
}

function readLog(dir: string): LogLine[] {
  return readFileSync(join(dir, 'cache.log'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [cache, status, upstream, sent, uri] = l.split(' ') as [string, string, string, string, string];
      // Several upstream tries are listed comma-separated; '-' when none.
      return { cache, status: Number(status), upstream: upstream.split(/[,:]\s*/).reduce((a, n) => a + (Number(n) || 0), 0), sent: Number(sent), uri };
    });
}

test('through nginx proxy_cache: two libtorrent web-seed downloads, the second all cache hits, the node serving each byte once; nothing personal cached', { timeout: 180_000 }, async (t) => {
  const dir = tempDir(t);
  const port = await freePort();
  const cdn = `http://127.0.0.1:${port}`;
  // Its public URL is the proxy's: what `create --web-seed-from-public-url` writes without --cdn-url.
  const node = await startServe(t, { args: ['--no-chain', '--public-url', cdn] });

  // Two files (a folder: the web seed's paths are name/file), 16 KiB pieces: many range requests.
  const data = join(dir, 'data');
  mkdirSync(join(data, 'album'), { recursive: true });
  const a = new Uint8Array(300 * 1024).map((_, i) => (i * 31 + 7) % 251);
  const b = new Uint8Array(200 * 1024).map((_, i) => (i * 17 + 3) % 241);
  writeFileSync(join(data, 'album', 'a.bin'), a);
  writeFileSync(join(data, 'album', 'b.bin'), b);
  const torrent = join(dir, 'album.torrent');
  const made = await cascade(['create', join(data, 'album'), '-o', torrent, '--piece-length', '16384', '--web-seed-from-public-url', '--cdn-url', cdn, '--json']);
  assert.equal(made.code, 0, made.stderr);
  const ih = made.json.infoHash as string;
  assert.equal(made.json.webSeed, `${cdn}/webseed/${ih}/`);
  await ok(node, ['add', torrent, '--save-path', data]);
  await until('the node seeding', async () => ((await entry(node, ih)).progress === 1 ? true : undefined));

  // The node's own answer: what a shared cache needs.
  const file = `${node.url}/webseed/${ih}/album/a.bin`;
  const part = await fetch(file, { headers: { range: 'bytes=100-199' } });
  assert.equal(part.status, 206);
  assert.deepEqual(new Uint8Array(await part.arrayBuffer()), a.slice(100, 200));
  assert.equal(part.headers.get('content-range'), `bytes 100-199/${a.length}`);
  assert.equal(part.headers.get('accept-ranges'), 'bytes');
  assert.equal(part.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.equal(part.headers.get('vary'), null);
  const etag = part.headers.get('etag')!;
  assert.match(etag, /^"[0-9a-f]{40}\.\d+"$/, 'a strong ETag');
  assert.equal((await fetch(file, { headers: { 'if-none-match': etag } })).status, 304);
  const head = await fetch(file, { method: 'HEAD' });
  assert.deepEqual([head.status, head.headers.get('content-length'), head.headers.get('etag')], [200, String(a.length), etag]);
  const past = await fetch(file, { headers: { range: `bytes=${a.length}-` } });
  assert.deepEqual([past.status, past.headers.get('content-range')], [416, `bytes */${a.length}`]);
  assert.equal((await fetch(`${node.url}/webseed/${ih}/album/nope.bin`)).status, 404);
  const cid = made.json.files[0].cid as string;
  assert.equal((await fetch(`${node.url}/ipfs/${cid}?format=raw`, { headers: { 'if-none-match': `"${cid}.raw"` } })).status, 304);
  const api = await node.api('/api/torrents');
  assert.equal(api.headers.get('cache-control'), 'private, no-store');

  // nginx in front.
  const ngx = join(dir, 'nginx');
  for (const d of ['tmp', 'cache']) mkdirSync(join(ngx, d), { recursive: true });
  writeFileSync(join(ngx, 'nginx.conf'), nginxConf(ngx, port, node.url));
  const proxy = spawn('/usr/sbin/nginx', ['-p', ngx, '-c', join(ngx, 'nginx.conf'), '-e', join(ngx, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
  t.after(() => void proxy.kill('SIGKILL'));
  let ngxErr = '';
  proxy.stderr!.setEncoding('utf8').on('data', (c: string) => (ngxErr += c));
  await until('nginx listening', async () => (await fetch(`${cdn}/api/health`).then(() => true, () => undefined)) ?? (proxy.exitCode !== null ? Promise.reject(new Error(`nginx exited: ${ngxErr}`)) : undefined), 15_000);

  const script = join(dir, 'lt_webseed.py');
  writeFileSync(script, LT_WEBSEED);
  const download = (to: string) => execFileSync('/usr/bin/python3', [script, torrent, to], { encoding: 'utf8', timeout: 120_000 });
  const before = readLog(ngx).length;
  assert.match(download(join(dir, 'first')), /^done/);
  // nginx writes a line when a request ends, which may be after the client has its bytes and left.
  const total = a.length + b.length;
  const seeds = (from: number) => readLog(ngx).slice(from).filter((l) => l.uri.startsWith('/webseed/'));
  await until('nginx logging the first client’s fetches', async () => (seeds(before).reduce((n, l) => n + l.upstream, 0) >= total ? true : undefined), 20_000);
  await settled(ngx);
  const first = readLog(ngx).slice(before).filter((l) => l.uri.startsWith('/webseed/'));
  const afterFirst = readLog(ngx).length;
  assert.match(download(join(dir, 'second')), /^done/);
  await until('nginx logging the second client’s requests', async () => (seeds(afterFirst).reduce((n, l) => n + l.sent, 0) >= total ? true : undefined), 20_000);
  await settled(ngx);
  const second = readLog(ngx).slice(afterFirst).filter((l) => l.uri.startsWith('/webseed/'));
  for (const [name, bytes] of [['a.bin', a], ['b.bin', b]] as const) {
    assertSameBytes(readFileSync(join(dir, 'second', 'album', name)), bytes, `${name} intact`);
  }

  const fromNode = [...first, ...second].reduce((n, l) => n + l.upstream, 0);
  const hitBytes = second.filter((l) => l.cache === 'HIT').reduce((n, l) => n + l.sent, 0);
  const secondBytes = second.reduce((n, l) => n + l.sent, 0);
  t.diagnostic(`first client: ${first.length} requests (${first.map((l) => `${l.cache} ${l.status} ${l.sent}`).join(', ')}), second: ${second.length} requests (${second.map((l) => `${l.cache} ${l.status} ${l.sent}`).join(', ')}), ${hitBytes} of ${secondBytes} bytes hits; node served ${fromNode} bytes for a ${total}-byte torrent`);
  assert.ok(second.length > 0 && second.every((l) => l.cache === 'HIT'), `second client all hits: ${JSON.stringify(second.filter((l) => l.cache !== 'HIT'))}`);
  assert.ok(secondBytes >= total, `the second client got ${secondBytes} of ${total} bytes through the cache`);
  assert.equal(fromNode, total, 'the node served each byte once');

  // A private share by link: its ciphertext is what /webseed serves and the cache keeps (the key
  // never reaches the node); the web seed comes from the node's public URL.
  mkdirSync(join(dir, 'share'));
  writeFileSync(join(dir, 'secret.txt'), 'the plaintext '.repeat(3000));
  const share = await node.run(['create', join(dir, 'secret.txt'), '--encrypt', '--web-seed-from-public-url', '-o', join(dir, 'share', 'secret.torrent'), '--json']);
  assert.equal(share.code, 0, share.stderr);
  assert.equal(share.json.webSeed, `${cdn}/webseed/${share.json.infoHash}/`);
  await ok(node, ['add', join(dir, 'share', 'secret.torrent'), '--save-path', join(dir, 'share')]);
  await until('the share seeding', async () => ((await entry(node, share.json.infoHash)).progress === 1 ? true : undefined));
  const cipher = new Uint8Array(readFileSync(share.json.data));
  for (let i = 0; i < 2; i++) {
    const got: Response = await fetch(`${share.json.webSeed}${share.json.name}`);
    assert.equal(got.status, 200);
    assert.deepEqual(new Uint8Array(await got.arrayBuffer()), cipher, 'the ciphertext, as stored');
  }
  await settled(ngx);
  assert.deepEqual(readLog(ngx).filter((l) => l.uri.includes(share.json.infoHash)).map((l) => l.cache), ['MISS', 'HIT']);

  // The share page's way (POST /api/torrents with webSeed=true): the node's public URL as the web seed.
  const form = new FormData();
  form.append('webSeed', 'true');
  form.append('file', new Blob([b.slice(0, 40_000)]), 'page.bin');
  const shared = await node.api('/api/torrents', { method: 'POST', body: form });
  assert.equal(shared.status, 201, await shared.clone().text());
  const sharedIh = ((await shared.json()) as { infoHash: string }).infoHash;
  const meta = parseTorrent(new Uint8Array(await (await node.api(`/api/torrents/${sharedIh}/torrent`)).arrayBuffer()));
  assert.deepEqual(meta.urlList, [`${cdn}/webseed/${sharedIh}/`]);
  assert.deepEqual(new Uint8Array(await (await fetch(`${meta.urlList[0]}page.bin`)).arrayBuffer()), b.slice(0, 40_000));

  // Personal answers: the first user's list is not what the second (no credentials) gets.
  const mine = await fetch(`${cdn}/api/torrents`, { headers: { authorization: `Bearer ${node.token}` } });
  assert.equal(mine.status, 200);
  assert.equal(mine.headers.get('cache-control'), 'private, no-store');
  await mine.arrayBuffer();
  const theirs = await fetch(`${cdn}/api/torrents`);
  assert.equal(theirs.status, 401);
  await theirs.arrayBuffer();
  const stream = await fetch(`${cdn}/api/torrents/${ih}/files/0`, { headers: { authorization: `Bearer ${node.token}`, range: 'bytes=0-9' } });
  assert.equal(stream.headers.get('cache-control'), 'private, no-store');
  await stream.arrayBuffer();
  assert.equal((await fetch(`${cdn}/api/torrents/${ih}/files/0`, { headers: { range: 'bytes=0-9' } })).status, 401);
  const personal = readLog(ngx).filter((l) => l.uri.startsWith('/api/'));
  assert.ok(personal.every((l) => l.cache !== 'HIT'), `nothing under /api from the cache: ${JSON.stringify(personal)}`);
});
