// A peer sending garbage mid-transfer (issue 63, item 4), against a real `cascade serve` node that
// downloads from a rate-capped libtorrent seed: one raw TCP peer handshakes properly, says it has
// every piece, unchokes, and a second later sends junk bytes on the wire; another answers every
// request with random bytes (well framed, wrong data). The node drops the first, bans the second for
// the pieces that fail their hash, keeps serving its API, and finishes the download from the good
// peer with the right bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rig, sleep } from '../../bench/crash/rig.ts';

type Mode = 'junk' | 'bad-data';

/** A BitTorrent peer on 127.0.0.1 that lies: `junk` sends random bytes a second after the
 *  handshake; `bad-data` answers each request with random bytes. */
function liar(infoHash: string, pieces: number, mode: Mode, seen: { closed: number; requests: number }): Promise<{ server: Server; port: number }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => (sockets.delete(s), seen.closed++));
    let buf = Buffer.alloc(0);
    let shook = false;
    s.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (!shook) {
        if (buf.length < 68) return;
        buf = buf.subarray(68);
        shook = true;
        const hs = Buffer.concat([Buffer.from([19]), Buffer.from('BitTorrent protocol'), Buffer.alloc(8), Buffer.from(infoHash, 'hex'), Buffer.from('-XX0001-' + randomBytes(6).toString('hex'))]);
        const bits = Buffer.alloc(Math.ceil(pieces / 8), 0xff);
        if (pieces % 8) bits[bits.length - 1] = (0xff << (8 - (pieces % 8))) & 0xff;
        const bitfield = Buffer.concat([u32(1 + bits.length), Buffer.from([5]), bits]);
        s.write(Buffer.concat([hs, bitfield, u32(1), Buffer.from([1])])); // + unchoke
        if (mode === 'junk') setTimeout(() => s.writable && s.write(randomBytes(64 * 1024)), 1000);
      }
      // Requests (id 6): index, begin, length → a piece message of random bytes.
      while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
        const len = buf.readUInt32BE(0);
        const msg = buf.subarray(4, 4 + len);
        buf = buf.subarray(4 + len);
        if (len === 13 && msg[0] === 6) {
          seen.requests++;
          if (mode === 'bad-data') s.write(Buffer.concat([u32(9 + msg.readUInt32BE(9)), Buffer.from([7]), msg.subarray(1, 9), randomBytes(msg.readUInt32BE(9))]));
        }
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port })));
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

test('garbage mid-transfer: the junk peer is dropped, the lying one banned, the download finishes from the good peer', { timeout: 180_000 }, async (t) => {
  const rig = new Rig({ rate: 256 * 1024 });
  t.after(() => rig.dispose());
  await rig.startSeeder();
  const p = await rig.publicPayload(1_500_000, 1);
  const pieces = p.meta!.pieceCount;
  const junkSeen = { closed: 0, requests: 0 };
  const liarSeen = { closed: 0, requests: 0 };
  const junk = await liar(p.ih, pieces, 'junk', junkSeen);
  const lying = await liar(p.ih, pieces, 'bad-data', liarSeen);
  t.after(() => (junk.server.close(), lying.server.close()));
  await rig.start();
  await rig.json('/api/torrents', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ uri: p.uri, peers: [rig.peer, `127.0.0.1:${junk.port}`, `127.0.0.1:${lying.port}`] }) });

  let d: Record<string, any> = {};
  const end = Date.now() + 120_000;
  while (Date.now() < end) {
    d = await rig.json(`/api/torrents/${p.ih}`); // the API keeps answering throughout
    if (d.state === 'seeding') break;
    await sleep(300);
  }
  assert.equal(d.state, 'seeding', `the download finished: ${JSON.stringify({ state: d.state, verified: d.verifiedPieces, error: d.error })}`);
  const file = readFileSync(join(d.savePath, d.files[0].path));
  assert.equal(createHash('sha256').update(file).digest('hex'), p.files.get(''), 'with the right bytes');
  assert.ok(junkSeen.closed >= 1, 'the node closed the connection that sent junk');
  assert.ok(liarSeen.requests > 0, 'the lying peer was asked for blocks (so its data reached the hash check)');
  const sources = (d.sources ?? []) as { address: string; banned: boolean; downloaded: number }[];
  const liarRow = sources.find((s) => s.address.endsWith(`:${lying.port}`));
  assert.ok(!liarRow || liarRow.banned, `the peer whose data failed the hash is banned: ${JSON.stringify(sources)}`);
  assert.ok(liarSeen.closed >= 1, 'and disconnected');
});
