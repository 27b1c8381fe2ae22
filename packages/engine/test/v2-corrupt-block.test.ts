// BEP 52 pins a corrupt piece to its corrupt 16 KiB block. A v2-speaking seeder serves every block
// intact but one (and answers hash requests honestly, as a peer with a bad disk would): the leecher
// asks it for that piece's block hashes, proves them against the piece layer, bans the sender of
// the bad block, and fetches that one block again (from an honest seeder that joins later) — the
// download costs the payload plus exactly 16 KiB, and the piece's other blocks are kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { Session, createTorrent } from '../index.ts';
import { hashesFor, MerkleTree } from '../src/hashing/merkle.ts';
import { toHex } from '../src/encoding/hex.ts';
import type { HashRequest } from '../src/wire/protocol.ts';
import { startRawSeeder } from './raw-peer.ts';
import { tmpDir, whenDone } from './session-helpers.ts';
import { assertSameBytes } from '../../../scripts/assert-bytes.ts';

const PIECE = 64 * 1024;
const BLOCK = 16 * 1024;

for (const version of ['v2', 'hybrid'] as const) {
  test(`${version}: one corrupt block is fetched again alone, and only its sender is banned`, async (t) => {
    const root = await tmpDir(t);
    const payload = randomBytes(10 * PIECE + 5_000);
    await fs.mkdir(path.join(root, 'seed'));
    await fs.writeFile(path.join(root, 'seed', 'data.bin'), payload);
    const { torrent, metainfo } = await createTorrent(path.join(root, 'seed', 'data.bin'), { pieceLength: PIECE, version });
    assert.equal(metainfo.version, version);

    const leaves = new Uint8Array(Math.ceil(payload.length / BLOCK) * 32);
    for (let b = 0; b * BLOCK < payload.length; b++) leaves.set(createHash('sha256').update(payload.subarray(b * BLOCK, (b + 1) * BLOCK)).digest(), b * 32);
    const tree = MerkleTree.fromLeaves(payload.length, leaves);
    assert.equal(toHex(tree.root), toHex(metainfo.files[0]!.piecesRoot!));
    const hashRequests: HashRequest[] = [];
    const evil = await startRawSeeder({
      infoHash: metainfo.infoHash, payload, pieceLength: PIECE, corrupt: () => false,
      corruptBlock: (index, begin) => index === 3 && begin === 2 * BLOCK,
      v2: { answer: (req) => hashesFor(tree, req) }, hashRequests,
    });
    const honest = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false });
    // The leaves of a 64 KiB piece are hashed on the hash worker (off by default on 2 cores).
    const leecher = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false, hashWorker: true });
    t.after(() => Promise.all([evil.close(), honest.close(), leecher.close()]));
    await honest.add(torrent, { savePath: path.join(root, 'seed') });

    const l = await leecher.add(torrent, { savePath: path.join(root, 'out'), peers: [`127.0.0.1:${evil.port}`] });
    const failed: [number, string[]][] = [];
    const banned: string[] = [];
    l.on('hash-failed', (i: number, who: string[]) => failed.push([i, who]));
    l.on('peer-banned', (e: { address: string }) => banned.push(e.address));
    await new Promise<void>((resolve) => l.once('peer-banned', () => resolve()));
    const evilKey = `127.0.0.1:${evil.port}`;
    assert.deepEqual(failed, [[3, [evilKey]]], 'piece 3 failed once, blamed on its sender alone');
    assert.deepEqual(banned, [evilKey]);
    assert.equal(hashRequests.length, 1, 'one hash request, for the failed piece\'s block hashes');
    assert.deepEqual({ ...hashRequests[0]!, piecesRoot: undefined }, { piecesRoot: undefined, baseLayer: 0, index: 12, length: 4, proofLayers: 1 });

    l.addPeer(`127.0.0.1:${honest.port}`);
    await whenDone(l, 30_000);
    assertSameBytes(await fs.readFile(path.join(root, 'out', 'data.bin')), payload);
    assert.equal(l.stats().downloaded, payload.length + BLOCK, 'everything once, and the bad block once more');
    assert.deepEqual(banned, [evilKey], 'the honest seeder is not blamed');
    assert.equal(leecher.counters().hashFailures, 1);
  });
}
