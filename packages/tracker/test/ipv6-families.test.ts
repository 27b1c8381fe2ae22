// Announces per address family: a tracker name with both A and AAAA records (`localhost` at
// 127.0.0.1 and ::1: a resolver given to Cascade, a hosts file in a mount namespace for
// libtorrent) is announced to over IPv4 and over IPv6, and our tracker (on '::') keeps the peer at
// both addresses; BEP 7's ipv4= / ipv6= list it at the address named.
// Before: Cascade announced once, over the family the name resolved to first, and the tracker kept
// one record per peer id, so libtorrent's two announces (one per listen socket) replaced each
// other; ipv4= / ipv6= were ignored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Session, createTorrent, parseTorrent } from '@cascade/engine';
import { decode } from '@cascade/engine/bencode';
import { libtorrent } from '../../engine/test/lt-v6.ts';
import { startTracker } from '../index.ts';

const BOTH = [{ address: '127.0.0.1', family: 4 as const }, { address: '::1', family: 6 as const }];

test('a dual-stack client is listed at both addresses; ipv4= / ipv6= name the other one', { timeout: 60_000 }, async (t) => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'cascade-families-'));
  t.after(() => fs.rm(root, { recursive: true, force: true }));
  const tracker = await startTracker({ host: '::', interval: 5, rateLimit: false });
  t.after(() => tracker.close());
  const make = async (name: string, announce: string) => {
    await fs.writeFile(path.join(root, name), randomBytes(50_000));
    const made = await createTorrent(path.join(root, name), { announce: [announce], pieceLength: 16 * 1024 });
    const file = path.join(root, `${name}.torrent`);
    await fs.writeFile(file, made.torrent);
    return { file, torrent: made.torrent, infoHash: parseTorrent(made.torrent).infoHashHex };
  };
  /** The peers the tracker lists for `infoHash` (asked over IPv4 by a look-up that is not listed). */
  const listed = async (infoHash: string, extra = '') => {
    const q = `info_hash=${escape(infoHash)}&peer_id=${escape(randomBytes(20).toString('hex'))}&port=0&left=1&compact=0&numwant=50${extra}`;
    const body = new Uint8Array(await (await fetch(`http://127.0.0.1:${tracker.httpPort}/announce?${q}`)).arrayBuffer());
    const peers = (decode(body).value as { peers: { ip: Uint8Array; port: number; 'peer id': Uint8Array }[] }).peers;
    return peers.map((p) => ({ ip: Buffer.from(p.ip).toString(), port: p.port, id: Buffer.from(p['peer id']).toString('hex') }));
  };
  const until = async (ok: () => Promise<boolean>) => {
    const deadline = Date.now() + 20_000;
    while (!(await ok())) {
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 200));
    }
    return true;
  };

  for (const scheme of ['http', 'udp'] as const) {
    await t.test(`Cascade over ${scheme}: one announce per family, the tracker lists it at 127.0.0.1 and ::1`, async () => {
      const url = scheme === 'http' ? `http://localhost:${tracker.httpPort}/announce` : `udp://localhost:${tracker.udpPort}`;
      const x = await make(`cascade-${scheme}.bin`, url);
      const s = await Session.create({ dht: false, webrtc: false, resolve: async (h) => (h === 'localhost' ? BOTH : []) });
      t.after(() => s.close());
      await s.add(x.torrent, { savePath: root });
      let peers: Awaited<ReturnType<typeof listed>> = [];
      const both = await until(async () => {
        peers = await listed(x.infoHash);
        return ['127.0.0.1', '::1'].every((ip) => peers.some((p) => p.ip === ip && p.port === s.port && p.id === s.peerIdHex));
      });
      assert.ok(both, JSON.stringify(peers));
      assert.equal(peers.length, 2);
    });
  }

  await t.test('libtorrent, listening on 127.0.0.1 and [::1], announces from each: both kept', async () => {
    const x = await make('lt.bin', `http://localhost:${tracker.httpPort}/announce`);
    const hosts = path.join(root, 'hosts');
    await fs.writeFile(hosts, '127.0.0.1 localhost\n::1 localhost\n');
    const lt = await libtorrent(t, ['seed', x.file, root], 'lt_v6.py', { env: { LT_LISTEN: '127.0.0.1:0,[::1]:0' }, hostsFile: hosts });
    await lt.until((m) => m.seeding);
    let peers: Awaited<ReturnType<typeof listed>> = [];
    const both = await until(async () => {
      peers = (await listed(x.infoHash)).filter((p) => p.id.startsWith(Buffer.from('-LT').toString('hex')));
      return peers.some((p) => p.ip === '127.0.0.1') && peers.some((p) => p.ip === '::1');
    });
    assert.ok(both, JSON.stringify(peers));
    assert.equal(new Set(peers.map((p) => p.id)).size, 1, 'one peer id, two addresses');
  });

  await t.test('BEP 7 ipv6= on an IPv4 announce (and ipv4= on an IPv6 one) lists the other address; junk dropped', async () => {
    const ih = randomBytes(20).toString('hex');
    const id = randomBytes(20).toString('hex');
    const announce = async (base: string, extra: string, peer = id) => {
      const q = `info_hash=${escape(ih)}&peer_id=${escape(peer)}&port=6881&left=0&compact=1${extra}`;
      const r = await fetch(`${base}/announce?${q}`);
      assert.equal(r.status, 200);
      await r.arrayBuffer();
    };
    await announce(`http://127.0.0.1:${tracker.httpPort}`, '&ipv6=fd00%3A%3A5&ipv4=10.9.9.9');
    let peers = await listed(ih);
    assert.deepEqual(peers.map((p) => p.ip).sort(), ['127.0.0.1', 'fd00::5'], 'ipv4= of the request\'s own family is not a second address');
    assert.ok(peers.every((p) => p.id === id && p.port === 6881));
    // One address per family: each is the newest the peer gave for it.
    await announce(`http://[::1]:${tracker.httpPort}`, '&ipv4=10.1.2.3%3A6881');
    peers = await listed(ih);
    assert.deepEqual(peers.map((p) => p.ip).sort(), ['10.1.2.3', '::1']);
    const junk = randomBytes(20).toString('hex');
    for (const v of ['ipv6=garbage', 'ipv6=ff02%3A%3A1', 'ipv6=%3A%3A', 'ipv6=%3A%3Affff%3A1.2.3.4', 'ipv6=fe80%3A%3A1%25eth0', `ipv6=${'1'.repeat(5000)}`, 'ipv6=[fd00%3A%3A7]%3A1']) {
      await announce(`http://127.0.0.1:${tracker.httpPort}`, `&${v}`, junk);
    }
    peers = await listed(ih);
    assert.deepEqual(peers.filter((p) => p.id === junk).map((p) => p.ip).sort(), ['127.0.0.1', 'fd00::7'], 'only the last, bracketed, is an address');
  });
});

function escape(hex: string): string {
  return hex.replace(/../g, '%$&');
}
