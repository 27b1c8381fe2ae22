// Hostile BEP 52 hash messages against a Cascade seeder: on a v1 connection any hash message
// closes it; on a v2 connection malformed ones (wrong sizes, absurd counts or depths) close it,
// while a well-formed request for something we cannot prove gets a hash reject and unrequested
// hashes are dropped, the connection staying open; the seeder then serves an honest leecher.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Session, createTorrent } from '../index.ts';
import { encodeHandshake, encodeHashMessage, MSG, type HashRequest } from '../src/wire/protocol.ts';
import { sendHostile } from './raw-peer.ts';
import { tmpDir, whenDone } from './session-helpers.ts';
import { assertSameBytes } from '../../../scripts/assert-bytes.ts';

const PIECE = 32 * 1024;

/** Handshakes (v2 bit set), sends `bytes`, and collects what comes back for `ms`. */
function exchange(port: number, infoHash: Uint8Array, bytes: Uint8Array, ms = 1500): Promise<{ closed: boolean; ids: number[] }> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const ids: number[] = [];
    let closed = false;
    sock.on('error', () => {});
    sock.on('close', () => (closed = true));
    sock.on('connect', () => {
      sock.write(encodeHandshake(infoHash, Buffer.from('-XX0001-hostilepeer2'), { extended: false, fast: true, dht: false, v2: true }));
      sock.write(bytes);
    });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 68 && buf[0] === 19) buf = buf.subarray(68);
      while (buf.length >= 4 && buf[0] !== 19) {
        const len = buf.readUInt32BE(0);
        if (buf.length < 4 + len) break;
        if (len > 0) ids.push(buf[4]!);
        buf = buf.subarray(4 + len);
      }
    });
    setTimeout(() => {
      sock.destroy();
      resolve({ closed, ids });
    }, ms);
  });
}

/** The same message framed one byte shorter. */
function shortened(m: Uint8Array): Uint8Array {
  const out = Buffer.from(m.subarray(0, m.length - 1));
  out.writeUInt32BE(out.length - 4);
  return out;
}

test('hostile hash messages close the connection; honest-but-unanswerable ones get a hash reject', async (t) => {
  const root = await tmpDir(t);
  await fs.mkdir(path.join(root, 'seed'));
  const payload = randomBytes(20 * PIECE + 99);
  await fs.writeFile(path.join(root, 'seed', 'd.bin'), payload);
  const v2 = await createTorrent(path.join(root, 'seed', 'd.bin'), { pieceLength: PIECE, version: 'v2' });
  await fs.mkdir(path.join(root, 'seed1'));
  await fs.writeFile(path.join(root, 'seed1', 'd.bin'), payload);
  const v1 = await createTorrent(path.join(root, 'seed1', 'd.bin'), { pieceLength: PIECE });
  const seeder = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false });
  t.after(() => seeder.close());
  await seeder.add(v2.torrent, { savePath: path.join(root, 'seed') });
  await seeder.add(v1.torrent, { savePath: path.join(root, 'seed1') });

  const root32 = v2.metainfo.files[0]!.piecesRoot!;
  const layer: HashRequest = { piecesRoot: root32, baseLayer: 1, index: 0, length: 32, proofLayers: 0 };
  const request = encodeHashMessage(MSG.hashRequest, layer);
  assert.equal(await sendHostile(seeder.port, v1.metainfo.infoHash, request), 'closed', 'a hash request on a v1 torrent');

  const closes: [string, Uint8Array][] = [
    ['a request one byte short', shortened(request)],
    ['hashes shorter than the header implies', encodeHashMessage(MSG.hashes, layer, new Uint8Array(32 * 31))],
    ['a count that is no power of two', encodeHashMessage(MSG.hashRequest, { ...layer, length: 3 })],
    ['a count of 2^31', encodeHashMessage(MSG.hashRequest, { ...layer, length: 0x80000000 })],
    ['a proof 4 billion layers deep', encodeHashMessage(MSG.hashRequest, { ...layer, proofLayers: 0xffffffff })],
    ['a reject carrying hashes', encodeHashMessage(MSG.hashReject, layer, new Uint8Array(32))],
  ];
  for (const [name, bytes] of closes) assert.equal((await exchange(seeder.port, v2.metainfo.infoHash, bytes)).closed, true, name);

  // Well-formed: answered (hashes), rejected (unknown root, past the layer, index not aligned), or
  // dropped (unrequested hashes), and the connection stays.
  const answered = await exchange(seeder.port, v2.metainfo.infoHash, request);
  assert.deepEqual([answered.closed, answered.ids.filter((i) => i >= MSG.hashRequest)], [false, [MSG.hashes]], 'the piece layer is served');
  const rejects = Buffer.concat([
    encodeHashMessage(MSG.hashRequest, { ...layer, piecesRoot: randomBytes(32) }),
    encodeHashMessage(MSG.hashRequest, { ...layer, index: 1 << 20 }),
    encodeHashMessage(MSG.hashRequest, { ...layer, index: 2, length: 4 }),
    encodeHashMessage(MSG.hashes, layer, new Uint8Array(32 * 32)),
  ]);
  const rejected = await exchange(seeder.port, v2.metainfo.infoHash, rejects);
  assert.deepEqual([rejected.closed, rejected.ids.filter((i) => i >= MSG.hashRequest)], [false, [MSG.hashReject, MSG.hashReject, MSG.hashReject]]);

  const leecher = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false });
  t.after(() => leecher.close());
  const l = await leecher.add(v2.torrent, { savePath: path.join(root, 'out'), peers: [`127.0.0.1:${seeder.port}`] });
  await whenDone(l);
  assertSameBytes(await fs.readFile(path.join(root, 'out', 'd.bin')), payload);
});
