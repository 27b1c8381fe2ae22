// How deep a downloader may queue requests with a Cascade seeder (issue 40, Cascade → libtorrent).
// libtorrent keeps min(our reqq, its own limit) requests outstanding; at 500 (8 MiB) half of them
// sat in the socket's buffers and our seeder ran dry whenever libtorrent's network thread waited
// for a CPU. We advertise 2000, as libtorrent's own seeder does, and serve a queue that deep in full;
// past twice that, a peer is flooding and the excess is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Session, createTorrent } from '../index.ts';
import { decodeExtHandshake } from '../src/wire/extended.ts';
import { encodeBlockRef, encodeHandshake, encodeSimple, MSG } from '../src/wire/protocol.ts';
import { onMessages } from './raw-peer.ts';
import { MAX_QUEUED_UPLOADS } from '../src/swarm/uploader.ts';

const BLOCK = 16 * 1024;

/** A seeder of 1,500 blocks, and a raw fast-extension peer that sends `rounds` × every block's
 *  request in one write once unchoked; resolves when each request got a block or a reject. */
async function probe(t: { after: (fn: () => unknown) => void }, rounds: number) {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'cascade-reqq-'));
  t.after(() => fs.rm(root, { recursive: true, force: true }));
  const pieceLength = 256 * 1024;
  const payload = randomBytes(1500 * BLOCK);
  await fs.mkdir(path.join(root, 'seed'));
  await fs.writeFile(path.join(root, 'seed', 'data.bin'), payload);
  const { torrent, metainfo } = await createTorrent(path.join(root, 'seed', 'data.bin'), { pieceLength });
  const seeder = await Session.create({ host: '127.0.0.1', dht: false });
  t.after(() => seeder.close());
  await seeder.add(torrent, { savePath: path.join(root, 'seed') });

  const sock = net.connect(seeder.port, '127.0.0.1');
  t.after(() => sock.destroy());
  sock.on('error', () => {});
  sock.write(encodeHandshake(metainfo.infoHash, Buffer.from('-XX0001-reqqprobe!!!'), { extended: true, fast: true, dht: false }));
  sock.write(encodeSimple(MSG.interested));

  const count = payload.length / BLOCK;
  let reqq: number | undefined;
  let requested = false;
  let blocks = 0;
  let rejects = 0;
  let wrong = 0;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out: reqq ${reqq}, ${blocks} blocks, ${rejects} rejects`)), 30_000);
    sock.on('close', () => reject(new Error(`closed: reqq ${reqq}, ${blocks} blocks`)));
    const answered = () => {
      if (blocks + rejects === rounds * count) {
        clearTimeout(timer);
        resolve();
      }
    };
    onMessages(sock, (m) => {
      if (m[0] === MSG.extended && m[1] === 0) reqq = decodeExtHandshake(m.subarray(2)).reqq;
      else if (m[0] === MSG.unchoke && !requested) {
        requested = true;
        const out: Uint8Array[] = [];
        for (let r = 0; r < rounds; r++) {
          for (let i = 0; i < count; i++) out.push(encodeBlockRef(MSG.request, Math.floor((i * BLOCK) / pieceLength), (i * BLOCK) % pieceLength, BLOCK));
        }
        sock.write(Buffer.concat(out));
      } else if (m[0] === MSG.reject) {
        rejects++;
        answered();
      } else if (m[0] === MSG.piece) {
        const at = m.readUInt32BE(1) * pieceLength + m.readUInt32BE(5);
        if (!payload.subarray(at, at + BLOCK).equals(m.subarray(9))) wrong++;
        blocks++;
        answered();
      }
    });
  });
  return { reqq, blocks, rejects, wrong };
}

test('a Cascade seeder advertises reqq 2000 and answers 1,500 requests queued at once, none rejected', async (t) => {
  // Every block of the torrent in one write: three times the old reqq of 500.
  const r = await probe(t, 1);
  assert.equal(r.reqq, 2000, 'the reqq in the seeder’s extension handshake');
  assert.equal(r.rejects, 0);
  assert.equal(r.blocks, 1500);
  assert.equal(r.wrong, 0, 'every block arrived with the right bytes');
});

test('a flood of 12,000 requests in one write: those past twice the reqq are refused, every one is answered, the rest served right', async (t) => {
  // Each queued request is memory the seeder holds for the peer: unbounded, a peer could make it
  // hold millions. Refused past 4000 queued (fast extension: a reject each).
  const r = await probe(t, 8);
  t.diagnostic(`${r.blocks} blocks, ${r.rejects} rejects`);
  assert.ok(r.rejects >= 12_000 - MAX_QUEUED_UPLOADS - 2000, `${r.rejects} rejects`);
  assert.ok(r.blocks >= MAX_QUEUED_UPLOADS, `${r.blocks} blocks`);
  assert.equal(r.wrong, 0);
});
