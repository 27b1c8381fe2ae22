// URL fetches (issue 19, item 8): by default the node refuses to fetch a .torrent URL that reaches
// loopback, private, link-local, unique-local, multicast or unspecified addresses, in any spelling
// and on every redirect hop; `allowPrivateUrls` (serve --allow-private-urls) opts in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTorrent } from '../../packages/engine/index.ts';
import { isPrivateAddress } from '@cascade/sources/guarded';
import { startTestServer } from '../../packages/http/test/server-helpers.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A local HTTP server that counts every request it gets: the thing SSRF would reach. */
async function victim(t: { after: (fn: () => unknown) => void }, torrent: Uint8Array) {
  let hits = 0;
  const srv: Server = createServer((req, res) => {
    hits++;
    if (req.url?.startsWith('/hop/')) {
      const n = Number(req.url.slice(5));
      return res.writeHead(302, { location: n > 0 ? `/hop/${n - 1}` : '/x.torrent' }).end();
    }
    res.writeHead(200, { 'content-type': 'application/x-bittorrent' }).end(torrent);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => srv.close(() => r())));
  return { port: (srv.address() as AddressInfo).port, hits: () => hits };
}

async function aTorrent(): Promise<Uint8Array> {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-ssrf-'));
  try {
    writeFileSync(join(dir, 'x.bin'), 'payload'.repeat(1000));
    return (await createTorrent(join(dir, 'x.bin'))).torrent;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('every private address class is recognised, in IPv4, IPv6 and IPv4-in-IPv6 forms', () => {
  for (const a of ['127.0.0.1', '127.255.0.9', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.251', '239.255.255.250', '255.255.255.255',
    '::1', '::', 'fc00::1', 'fd12:3456::1', 'fe80::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:a9fe:a9fe', '64:ff9b::a00:1']) {
    assert.equal(isPrivateAddress(a), true, a);
  }
  for (const a of ['1.1.1.1', '8.8.8.8', '172.32.0.1', '192.169.0.1', '2606:4700::1111', '::ffff:8.8.8.8']) assert.equal(isPrivateAddress(a), false, a);
});

test('the node refuses .torrent URLs that reach local or private addresses, however written, and on redirects', { timeout: 60_000 }, async (t) => {
  const torrent = await aTorrent();
  const v = await victim(t, torrent);
  const s = await startTestServer(t);
  const p = v.port;
  const spellings = [
    `http://127.0.0.1:${p}/x.torrent`,
    `http://localhost:${p}/x.torrent`,
    `http://2130706433:${p}/x.torrent`, // decimal
    `http://0x7f000001:${p}/x.torrent`, // hex
    `http://0x7f.0.0.1:${p}/x.torrent`,
    `http://0177.0.0.1:${p}/x.torrent`, // octal
    `http://127.1:${p}/x.torrent`, // short form
    `http://127.0.0.1.:${p}/x.torrent`, // trailing dot
    `http://[::1]:${p}/x.torrent`,
    `http://[::ffff:127.0.0.1]:${p}/x.torrent`,
    `http://[::ffff:7f00:1]:${p}/x.torrent`,
    `http://0.0.0.0:${p}/x.torrent`,
    `http://0:${p}/x.torrent`,
    `http://169.254.169.254/latest/meta-data/`,
    `http://10.0.0.1:${p}/x.torrent`,
    `http://192.168.0.1/x.torrent`,
    `http://[fe80::1]/x.torrent`,
    `http://[fd00::1]/x.torrent`,
    `http://224.0.0.1/x.torrent`,
    `http://user:pass@127.0.0.1:${p}/x.torrent`,
  ];
  for (const uri of spellings) {
    const r = await s.json('/api/torrents', { method: 'POST', json: { uri } });
    assert.equal(r.status, 422, `${uri}: ${r.status} ${JSON.stringify(r.body)}`);
    assert.match(r.body.message, /local or private address|allow-private-urls/, uri);
  }
  assert.equal(v.hits(), 0, 'the local server was reached');
  // Schemes other than http(s) are not fetched at all.
  for (const uri of ['file:///etc/passwd', 'ftp://127.0.0.1/x.torrent', 'gopher://127.0.0.1:70/']) {
    const r = await s.json('/api/torrents', { method: 'POST', json: { uri } });
    assert.ok(r.status === 400 || r.status === 422, `${uri}: ${r.status}`);
  }
  assert.equal(s.node.session.list().length, 0);
  t.diagnostic(`${spellings.length} spellings of local and private addresses refused; the local server saw ${v.hits()} requests`);
});

test('a redirect into the machine is refused at that hop; with private URLs allowed, redirects are followed up to 5 hops', { timeout: 60_000 }, async (t) => {
  const torrent = await aTorrent();
  const v = await victim(t, torrent);
  // A node that allows private URLs (its LAN) follows ≤ 5 redirects and no more.
  const lan = await startTestServer(t, { allowPrivateUrls: true });
  const five = await lan.json('/api/torrents', { method: 'POST', json: { uri: `http://127.0.0.1:${v.port}/hop/4` } });
  assert.equal(five.status, 201, JSON.stringify(five.body));
  const six = await lan.json('/api/torrents', { method: 'POST', json: { uri: `http://127.0.0.1:${v.port}/hop/5` } });
  assert.equal(six.status, 422, JSON.stringify(six.body));
  assert.match(six.body.message, /more than 5 redirects/);

  // A first hop the guard lets through (127.0.0.2 stands in for a public server) redirects into the
  // machine, in an IPv6-mapped spelling: refused at that hop, the local server never reached.
  const { fetchTorrentFile } = await import('../../packages/node/src/sources/fetch-torrent.ts');
  let relayHits = 0;
  const relay = createServer((_req, res) => {
    relayHits++;
    res.writeHead(302, { location: `http://[::ffff:127.0.0.1]:${v.port}/x.torrent` }).end();
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.2', r));
  t.after(() => new Promise<void>((r) => relay.close(() => r())));
  const relayUrl = `http://127.0.0.2:${(relay.address() as AddressInfo).port}/start`;
  const hitsBefore = v.hits();
  await assert.rejects(fetchTorrentFile(relayUrl, { allowPrivate: (a) => a === '127.0.0.2' }), /local or private address/);
  assert.equal(relayHits, 1);
  assert.equal(v.hits(), hitsBefore, 'the redirect reached the local server');
  // With private addresses allowed the same chain is followed to the end.
  const bytes = await fetchTorrentFile(relayUrl, { allowPrivate: true });
  assert.equal(bytes.length, torrent.length);
  assert.equal(v.hits(), hitsBefore + 1);
});
