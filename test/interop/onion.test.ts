// Private discovery end to end (issue 14), every process on its own 127.0.0.x so who saw whom is
// checkable: a `cascade download --private-discovery` on 127.0.0.5 finds a libtorrent seeder only
// through 3-hop circuits of `cascade relay` processes (127.0.0.11-13) listed by a Cascade tracker's
// /relays. The tracker (behind a recording proxy that forwards the true source) and a DHT node see
// exits only; the seeder sees the client directly; a relay killed mid-circuit is replaced.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import DHT from 'bittorrent-dht';
import { startTracker } from '@cascade/tracker';
import {
  assertCascadeDone,
  cascadeCreate,
  describeProc,
  kill,
  makeRandomFiles,
  requireClient,
  spawnCascade,
  startLibtorrent,
  tempDir,
  waitForEvent,
  waitForExit,
  type JsonProc,
} from './helpers.ts';

const CLIENT = '127.0.0.5';
const RELAYS = ['127.0.0.11', '127.0.0.12', '127.0.0.13', '127.0.0.14'];

/** An HTTP proxy on `host` in front of the tracker: records who asked about which infohash and
 *  forwards with X-Forwarded-For, so the tracker records the true source. */
async function recordingProxy(t: TestContext, host: string, target: number): Promise<{ url: string; seen: { from: string; infoHash: string }[] }> {
  const seen: { from: string; infoHash: string }[] = [];
  const server = http.createServer((req, res) => {
    const from = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    const m = /[?&]info_hash=([^&]*)/.exec(req.url ?? '');
    if (m) seen.push({ from, infoHash: Buffer.from(unescape(m[1]!), 'latin1').toString('hex') });
    const fwd = http.request(
      { host: '127.0.0.22', port: target, path: req.url, localAddress: host, headers: { 'x-forwarded-for': from } },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    fwd.on('error', () => res.writeHead(502).end());
    fwd.end();
  });
  server.listen(0, host);
  await once(server, 'listening');
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://${host}:${(server.address() as { port: number }).port}/announce`, seen };
}

/** A DHT node that records the source of every get_peers and announce_peer it receives. */
async function dhtNode(t: TestContext, host: string): Promise<{ port: number; queries: { q: string; from: string; infoHash: string }[] }> {
  const dht = new DHT({ bootstrap: false, host });
  const queries: { q: string; from: string; infoHash: string }[] = [];
  const socket = (dht as unknown as { _rpc: { socket: { on(e: 'query', fn: (q: any, peer: { address: string }) => void): void } } })._rpc.socket;
  socket.on('query', (query, peer) => {
    const q = Buffer.from(query.q ?? '').toString();
    const ih = query.a?.info_hash ? Buffer.from(query.a.info_hash).toString('hex') : '';
    queries.push({ q, from: peer.address, infoHash: ih });
  });
  dht.on('error', () => {});
  await new Promise<void>((r) => dht.listen(0, host, () => r()));
  t.after(() => new Promise<void>((r) => dht.destroy(() => r())));
  return { port: dht.address().port, queries };
}

async function relay(t: TestContext, host: string, directory: string, dhtBootstrap: string): Promise<JsonProc> {
  const p = await spawnCascade(t, 'relay', ['--host', host, '--directory', directory, '--dht-bootstrap', dhtBootstrap], { dht: true });
  const ev = await waitForEvent(p, 'listening', { timeoutMs: 20_000 });
  assert.equal(ev.exit, true, describeProc(p));
  return p;
}

test('private discovery: found through circuits, tracker and DHT see exits only, data flows directly, a dead relay is replaced', { timeout: 150_000 }, async (t) => {
  requireClient('cascade');
  requireClient('libtorrent');
  const tracker = await startTracker({ host: '127.0.0.22', interval: 60, trustProxy: ['127.0.0.20'] });
  t.after(() => tracker.close());
  const directory = `http://127.0.0.22:${tracker.httpPort}`;
  const proxy = await recordingProxy(t, '127.0.0.20', tracker.httpPort);
  const dht = await dhtNode(t, '127.0.0.21');

  const root = await tempDir(t);
  await makeRandomFiles(join(root, 'src', 'album'), { 'a.bin': 8 * 1024 * 1024 + 77, 'b.bin': 200_000 });
  const torrent = join(root, 'album.torrent');
  const made = await cascadeCreate(t, join(root, 'src', 'album'), torrent, ['--announce', proxy.url]);
  const seeder = await startLibtorrent(t, torrent, join(root, 'src'));

  const relays = await Promise.all(RELAYS.map((h) => relay(t, h, directory, `127.0.0.21:${dht.port}`)));

  const out = join(root, 'out');
  const dl = await spawnCascade(t, 'download', [torrent, '-o', out, '--private-discovery', '--directory', directory, '--host', CLIENT, '--timeout', '60']);
  dl.child.stdin!.end();
  const built = await waitForEvent(dl, 'circuit', { timeoutMs: 30_000, match: (e) => e.built === true });
  assert.equal(built.hops, 3);
  const exit = await waitForExit(dl, 90_000);
  assertCascadeDone(dl, exit, made.infoHash);
  for (const f of ['a.bin', 'b.bin']) {
    assert.ok(readFileSync(join(out, 'album', f)).equals(readFileSync(join(root, 'src', 'album', f))), `${f} differs`);
  }

  // The tracker: asked about this torrent by the seeder (127.0.0.1) and by exits, never by the client.
  const asked = proxy.seen.filter((s) => s.infoHash === made.infoHash);
  assert.ok(asked.some((s) => RELAYS.includes(s.from)), `no announce came from an exit: ${JSON.stringify(asked)}`);
  assert.ok(asked.every((s) => s.from === '127.0.0.1' || RELAYS.includes(s.from)), `the tracker saw ${JSON.stringify(asked)}`);
  const probe = await fetch(`${proxy.url}?info_hash=${made.infoHash.replace(/../g, '%$&')}&peer_id=${'-PR0001-'.padEnd(20, 'x')}&port=7777&left=1&compact=0&numwant=200`);
  const listed = Buffer.from(await probe.arrayBuffer()).toString('latin1');
  assert.match(listed, /2:ip9:127\.0\.0\.1/, 'the tracker lists the seeder');
  assert.ok(!listed.includes(CLIENT), 'the tracker lists the client');
  // The DHT: looked up through exits only; nobody announced the client.
  const dhtAsked = dht.queries.filter((q) => q.infoHash === made.infoHash);
  assert.ok(dhtAsked.some((q) => q.q === 'get_peers'), `the DHT was never asked: ${JSON.stringify(dht.queries)}`);
  assert.ok(dhtAsked.every((q) => RELAYS.includes(q.from)), `the DHT saw ${JSON.stringify(dhtAsked)}`);
  assert.ok(!dhtAsked.some((q) => q.q === 'announce_peer'));
  // The data: the seeder's peer was the client itself, directly.
  const peersOfSeeder = seeder.proc.events.filter((e) => e.event === 'peer').map((e) => e.address);
  assert.deepEqual(peersOfSeeder, [CLIENT], 'the seeder exchanged with the client, directly, and no one else');

  // A relay dies: the next private download builds around it.
  const dead = relays[0]!;
  kill(dead);
  const out2 = join(root, 'out2');
  const dl2 = await spawnCascade(t, 'download', [torrent, '-o', out2, '--private-discovery', '--directory', directory, '--host', '127.0.0.6', '--timeout', '60']);
  dl2.child.stdin!.end();
  const exit2 = await waitForExit(dl2, 90_000);
  assertCascadeDone(dl2, exit2, made.infoHash);
});
