// BEP 10's address fields over real sockets on loopback, with hand-written peers (libtorrent 2.0
// neither sends nor reads `ipv6`; Transmission does): Cascade tells each TCP peer its `yourip`,
// learns its own IPv6 address once two peers from different /64s agree on it, then hands it to
// IPv4 peers as `ipv6`; and an IPv4 peer's `ipv6` is dialled. A routable address is needed for the
// vote (loopback never counts), so the peers here claim fd00::1 for us.
// Before: neither field was sent or read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Session, createTorrent, parseTorrent } from '../index.ts';
import { decode, encode, isDict, type BDict } from '../src/encoding/bencode.ts';
import { ipv6Bytes, ipv6Text } from '../src/encoding/ip6.ts';
import { encodeHandshake, MSG } from '../src/wire/protocol.ts';
import { onMessages } from './raw-peer.ts';
import { tmpDir } from './session-helpers.ts';

/** Connects from `from`, handshakes with extensions, sends `ours` as its extended handshake and
 *  resolves with Cascade's. The socket stays open until the test ends. */
async function extendedPeer(t: { after: (fn: () => unknown) => void }, to: { host: string; port: number }, from: string, infoHash: Uint8Array, ours: Record<string, unknown>): Promise<BDict> {
  const sock = net.connect({ host: to.host, port: to.port, localAddress: from });
  t.after(() => sock.destroy());
  sock.on('error', () => {});
  await once(sock, 'connect');
  sock.write(encodeHandshake(infoHash, randomBytes(20), { extended: true, fast: true, dht: false }));
  const body = encode({ m: { ut_pex: 1 }, ...ours });
  const msg = Buffer.alloc(6);
  msg.writeUInt32BE(2 + body.length);
  msg[4] = MSG.extended;
  msg[5] = 0;
  sock.write(Buffer.concat([msg, body]));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no extended handshake from Cascade')), 10_000);
    onMessages(sock, (m) => {
      if (m.length >= 2 && m[0] === MSG.extended && m[1] === 0) {
        clearTimeout(timer);
        const v = decode(m.subarray(2)).value;
        return isDict(v) ? resolve(v) : reject(new Error('not a dictionary'));
      }
    });
  });
}

const text = (b: unknown) => (b instanceof Uint8Array ? (b.length === 4 ? [...b].join('.') : ipv6Text(b)) : undefined);

test('BEP 10 over sockets: yourip to every peer, our IPv6 address learned from two /64s and sent as ipv6, a peer\'s ipv6 dialled', { timeout: 60_000 }, async (t) => {
  const dir = await tmpDir(t);
  await fs.writeFile(path.join(dir, 'f.bin'), randomBytes(100_000));
  const made = await createTorrent(path.join(dir, 'f.bin'), { pieceLength: 16 * 1024 });
  const infoHash = Buffer.from(parseTorrent(made.torrent).infoHashHex, 'hex');
  // A downloader with nothing yet (it dials the peers it learns of), dual-stack.
  const s = await Session.create({ dht: false, webrtc: false });
  t.after(() => s.close());
  await s.add(made.torrent, { savePath: path.join(dir, 'empty') });
  const v4 = { host: '127.0.0.1', port: s.port };
  const v6 = { host: '::1', port: s.port };

  // yourip: what the connection shows, 4 bytes over IPv4, 16 over IPv6; no ipv6 known yet.
  const first = await extendedPeer(t, v4, '127.0.0.2', infoHash, {});
  assert.equal(text(first.yourip), '127.0.0.2');
  assert.equal(first.ipv6, undefined);
  const over6 = await extendedPeer(t, v6, '::1', infoHash, { yourip: ipv6Bytes('fd00::1') });
  assert.equal(text(over6.yourip), '::1');

  // One /64 said fd00::1 (::1's); a peer from 127.0.0.3 says it too: two groups agree.
  await extendedPeer(t, v4, '127.0.0.3', infoHash, { yourip: ipv6Bytes('fd00::1') });
  let told: BDict | undefined;
  for (let i = 0; i < 50 && !told?.ipv6; i++) {
    told = await extendedPeer(t, v4, `127.0.1.${i + 1}`, infoHash, {});
  }
  assert.equal(text(told?.ipv6), 'fd00::1', 'an IPv4 peer hears our IPv6 address');
  const sixAgain = await extendedPeer(t, v6, '::1', infoHash, {});
  assert.equal(sixAgain.ipv6, undefined, 'an IPv6 peer is not told it');

  // An IPv4 peer naming its IPv6 address (and listen port): Cascade dials it there.
  const listener = net.createServer();
  const dialled = new Promise<Buffer>((resolve) => listener.on('connection', (c) => {
    c.on('error', () => {});
    t.after(() => c.destroy());
    c.once('data', (d: Buffer) => resolve(d));
  }));
  listener.listen(0, '::1');
  await once(listener, 'listening');
  t.after(() => new Promise((r) => listener.close(r)));
  const port = (listener.address() as net.AddressInfo).port;
  await extendedPeer(t, v4, '127.0.0.9', infoHash, { ipv6: ipv6Bytes('::1'), p: port });
  const hello = await dialled;
  assert.equal(hello[0], 19, 'a BitTorrent handshake');
  assert.deepEqual(hello.subarray(28, 48), infoHash, 'for this torrent');
});
