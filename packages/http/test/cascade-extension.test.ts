// The Cascade wire extension (BEP 10 "cascade", @cascade/identity) between real engine sessions over
// loopback TCP: two Cascade peers identify each other, and libtorrent in the same swarm, which does
// not speak it, still downloads from a Cascade seeder and uploads to a Cascade downloader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { Session, createTorrent, encodeTorrent, type TorrentHandle } from '@cascade/engine';
import { cascadeExtension, generateIdentity, type Identity, type VerifiedHello } from '@cascade/identity';
import { describeProc, ltDownload, startLibtorrent, tempDir, waitForExit } from '../../../test/interop/helpers.ts';
import { formWith, patternBytes, startTestServer } from './server-helpers.ts';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function done(h: TorrentHandle, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not done after ${ms} ms: ${JSON.stringify(h.stats())}`)), ms);
    if (h.stats().state === 'seeding') return clearTimeout(timer), resolve();
    h.once('done', () => (clearTimeout(timer), resolve()));
  });
}

/** A session speaking the extension as `id`; what it learns goes into `seen` (by peer address). */
async function cascadeSession(id: Identity, seen: Map<string, VerifiedHello>, rejected: string[] = []): Promise<Session> {
  const ext = cascadeExtension(id, {
    client: 'Cascade test',
    onIdentified: (peer, who) => seen.set(peer.address, who),
    onRejected: (_peer, reason) => rejected.push(reason),
  });
  return Session.create({ host: '127.0.0.1', port: 0, dht: false, webrtc: false, extensions: [ext] });
}

async function payloadTorrent(root: string, size: number) {
  const file = path.join(root, 'seed', 'data.bin');
  await fs.mkdir(path.dirname(file), { recursive: true });
  const data = randomBytes(size);
  await fs.writeFile(file, data);
  const made = await createTorrent(file, { pieceLength: 64 * 1024 });
  return { ...made, data, file };
}

test('two Cascade sessions identify each other through the extension while trading', { timeout: 60_000 }, async (t) => {
  const root = await tempDir(t, 'cascade-ext-');
  const { torrent, data } = await payloadTorrent(root, 2_000_000);
  const [alice, bob] = [generateIdentity(), generateIdentity()];
  const [seenByA, seenByB] = [new Map<string, VerifiedHello>(), new Map<string, VerifiedHello>()];
  const rejected: string[] = [];
  const a = await cascadeSession(alice, seenByA, rejected);
  const b = await cascadeSession(bob, seenByB, rejected);
  t.after(() => Promise.all([a.close(), b.close()]));
  await done(await a.add(torrent, { savePath: path.join(root, 'seed') }), 10_000);
  const lb = await b.add(torrent, { savePath: path.join(root, 'b'), peers: [`127.0.0.1:${a.port}`] });
  await done(lb, 20_000);
  const deadline = Date.now() + 5000;
  while ((seenByA.size === 0 || seenByB.size === 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual([...seenByB.values()].map((w) => [w.did, w.address]), [[alice.did, alice.address]]);
  assert.deepEqual([...seenByA.values()].map((w) => [w.did, w.address]), [[bob.did, bob.address]]);
  assert.deepEqual([...seenByB.keys()], [`127.0.0.1:${a.port}`]);
  assert.deepEqual(rejected, []);
  assert.equal(sha(await fs.readFile(path.join(root, 'b', 'data.bin'))), sha(data));
});

test('libtorrent downloads from a Cascade seeder that speaks the extension, and seeds to a Cascade downloader', { timeout: 120_000 }, async (t) => {
  const root = await tempDir(t, 'cascade-ext-lt-');
  const { torrent, metainfo, data } = await payloadTorrent(root, 3_000_000);
  const torrentPath = path.join(root, 'data.torrent');
  await fs.writeFile(torrentPath, encodeTorrent(metainfo));
  const rejected: string[] = [];
  const seen = new Map<string, VerifiedHello>();
  const seeder = await cascadeSession(generateIdentity(), seen, rejected);
  t.after(() => seeder.close());
  await done(await seeder.add(torrent, { savePath: path.join(root, 'seed') }), 10_000);

  // libtorrent → from the Cascade seeder.
  const dl = ltDownload(t, torrentPath, path.join(root, 'lt'), { peers: [`127.0.0.1:${seeder.port}`], timeoutSec: 60 });
  const exit = await waitForExit(dl, 75_000);
  assert.equal(exit.code, 0, `libtorrent failed:\n${describeProc(dl)}`);
  assert.equal(sha(await fs.readFile(path.join(root, 'lt', 'data.bin'))), sha(data));

  // libtorrent seeds → a Cascade downloader with the extension.
  const lt = await startLibtorrent(t, torrentPath, path.join(root, 'lt'));
  const leecher = await cascadeSession(generateIdentity(), seen, rejected);
  t.after(() => leecher.close());
  const l = await leecher.add(torrent, { savePath: path.join(root, 'from-lt'), peers: [`127.0.0.1:${lt.port}`] });
  await done(l, 60_000);
  assert.equal(sha(await fs.readFile(path.join(root, 'from-lt', 'data.bin'))), sha(data));
  assert.equal(seen.size, 0, 'libtorrent is nobody’s Cascade peer');
  assert.deepEqual(rejected, []);
});

test("the node's API marks a verified Cascade peer with its did and account", { timeout: 60_000 }, async (t) => {
  const s = await startTestServer(t);
  const data = patternBytes(1_200_000, 5);
  const up = await s.json('/api/torrents', { method: 'POST', body: formWith([['shared.bin', data]]) });
  assert.equal(up.status, 201, JSON.stringify(up.body));
  const { infoHash } = up.body as { infoHash: string };
  const torrent = Buffer.from(await (await s.request(`/api/torrents/${infoHash}/torrent`)).arrayBuffer());

  const visitor = generateIdentity();
  const leecher = await cascadeSession(visitor, new Map());
  t.after(() => leecher.close());
  const root = await tempDir(t, 'cascade-ext-api-');
  const l = await leecher.add(torrent, { savePath: root, peers: [`127.0.0.1:${s.node.session.port}`] });
  // Ask while still connected: two seeds hang up once the download is done.
  let peer: Record<string, unknown> | undefined;
  const deadline = Date.now() + 15_000;
  while (!peer && Date.now() < deadline) {
    const detail = await s.json(`/api/torrents/${infoHash}`);
    peer = (detail.body.peerList as Record<string, unknown>[]).find((p) => p.did !== undefined);
    if (!peer) await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(peer, 'the node listed the Cascade peer with a did');
  assert.equal(peer.did, visitor.did);
  assert.equal(peer.account, visitor.address);
  // The node has verified nothing from a downloader: its own reputation of it is 0; the peer's
  // claim is shown apart.
  assert.equal(peer.reputation, 0);
  assert.equal(typeof peer.claimedReputation, 'number');
  await done(l, 20_000);
});

/** A peer that asks to be served and then never requests anything: it only holds an upload slot. */
function slotHolder(t: { after: (fn: () => unknown) => void }, port: number, infoHash: Uint8Array, n: number): Promise<void> {
  return new Promise((resolve, reject) => {
    // Each from its own address: the node takes only a few handshakes from one address at once.
    const sock = net.connect({ port, host: '127.0.0.1', localAddress: `127.0.0.${30 + n}` });
    t.after(() => sock.destroy());
    sock.on('error', reject);
    let unchoked = false;
    let buf = Buffer.alloc(0);
    sock.on('connect', () => {
      const id = Buffer.from(`-XX0001-holder${String(n).padStart(6, '0')}`);
      sock.write(Buffer.concat([Buffer.from([19]), Buffer.from('BitTorrent protocol'), Buffer.alloc(8), infoHash, id]));
      sock.write(Buffer.from([0, 0, 0, 1, 2])); // interested
    });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 68 && !unchoked) {
        let off = 68;
        while (buf.length >= off + 4) {
          const len = buf.readUInt32BE(off);
          if (buf.length < off + 4 + len) break;
          if (len === 1 && buf[off + 4] === 1) {
            unchoked = true;
            resolve();
          }
          off += 4 + len;
        }
      }
    });
  });
}

test('fast lane: with every upload slot taken, a verified Cascade peer is served before an anonymous one', { timeout: 60_000 }, async (t) => {
  const s = await startTestServer(t);
  const up = await s.json('/api/torrents', { method: 'POST', body: formWith([['popular.bin', patternBytes(4_000_000, 9)]]) });
  assert.equal(up.status, 201, JSON.stringify(up.body));
  const { infoHash } = up.body as { infoHash: string };
  const torrent = Buffer.from(await (await s.request(`/api/torrents/${infoHash}/torrent`)).arrayBuffer());
  const port = s.node.session.port;
  // Nine peers that never request take every slot: the eight a torrent opens before it has
  // measured its link (the choker's FIRST_SLOTS) and its optimistic one. (Five, from when a torrent
  // had four, left slots free since the choker of 28 Nov: both peers were then served at once and
  // the order of their first bytes was a coin toss that CI had won until now.)
  await Promise.all(Array.from({ length: 9 }, (_, n) => slotHolder(t, port, Buffer.from(infoHash, 'hex'), n)));

  const root = await tempDir(t, 'cascade-fastlane-');
  const verified = await cascadeSession(generateIdentity(), new Map());
  const anonymous = await Session.create({ host: '127.0.0.1', port: 0, dht: false, webrtc: false });
  t.after(() => Promise.all([verified.close(), anonymous.close()]));
  const firstByte = new Map<string, number>();
  const t0 = Date.now();
  for (const [name, session] of [['verified', verified], ['anonymous', anonymous]] as const) {
    const h = await session.add(torrent, { savePath: path.join(root, name), peers: [`127.0.0.1:${port}`] });
    h.on('transfer', () => firstByte.has(name) || firstByte.set(name, Date.now() - t0));
  }
  const deadline = Date.now() + 8000;
  while (!firstByte.has('verified') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(firstByte.has('verified'), 'the verified Cascade peer was never served');
  // The anonymous peer waits for a rechoke (every 10 s) and its optimistic slot; the verified one
  // took a slot from a peer that does nothing the moment its hello verified.
  assert.ok(!firstByte.has('anonymous') || firstByte.get('anonymous')! > firstByte.get('verified')!, JSON.stringify([...firstByte]));
  assert.ok(firstByte.get('verified')! < 5000, `verified served after ${firstByte.get('verified')} ms`);
});

test('the node credits a verified Cascade seeder with the bytes it verified, by did', { timeout: 60_000 }, async (t) => {
  const s = await startTestServer(t);
  const root = await tempDir(t, 'cascade-ext-credit-');
  const { torrent, metainfo } = await payloadTorrent(root, 2_500_000);
  const seederId = generateIdentity();
  const seeder = await cascadeSession(seederId, new Map());
  t.after(() => seeder.close());
  await done(await seeder.add(torrent, { savePath: path.join(root, 'seed') }), 10_000);
  const added = await s.node.add(torrent, { savePath: path.join(root, 'node'), peers: [`127.0.0.1:${seeder.port}`] });
  await done(added, 20_000);
  const record = s.node.identified.ledger.record(seederId.did);
  assert.ok(record, 'the seeder has a record under its did');
  assert.equal(Math.round(record.verifiedBytes), metainfo.length);
  assert.equal(record.hashFailures, 0);
  assert.equal(record.account, seederId.address);
});
