// The browser's torrent maker (createTorrentFromFiles: Blob slices, WebCrypto) run in Node, which
// has the same File and crypto.subtle: for v1, v2 and hybrid it must give the infohashes, info
// bytes and piece layers of the Node maker (itself checked against libtorrent and mktorrent).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTorrentFromFiles } from '../src/browser/create-torrent.ts';
import { createTorrent } from '../src/node/create-torrent.ts';

const SIZES: Record<string, number> = { 'a.txt': 70_001, B: 3, empty: 0, 'big.bin': 300_000, 'z.bin': 16_384 };

test('the browser maker equals the Node maker for v1, v2 and hybrid, one file and several', async () => {
  assert.ok(globalThis.crypto?.subtle, 'WebCrypto, as in a secure page');
  const dir = mkdtempSync(join(tmpdir(), 'cascade-browser-create-'));
  try {
    const folder = join(dir, 'files');
    mkdirSync(folder);
    const blobs: File[] = [];
    for (const [name, size] of Object.entries(SIZES)) {
      const bytes = randomBytes(size);
      writeFileSync(join(folder, name), bytes);
      blobs.push(new File([bytes], name));
    }
    for (const version of ['v1', 'v2', 'hybrid'] as const) {
      for (const pieceLength of [16384, 65536]) {
        const label = `${version} @ ${pieceLength}`;
        const node = await createTorrent(folder, { version, pieceLength });
        const progress: number[] = [];
        const page = await createTorrentFromFiles(blobs, { version, pieceLength, onProgress: (done) => progress.push(done) });
        assert.equal(page.metainfo.infoHashHex, node.metainfo.infoHashHex, label);
        assert.equal(page.metainfo.infoHashV2Hex, node.metainfo.infoHashV2Hex, label);
        assert.deepEqual(page.metainfo.infoBytes, node.metainfo.infoBytes, label);
        assert.deepEqual(page.metainfo.pieceLayers, node.metainfo.pieceLayers, label);
        assert.equal(Math.max(...progress), Object.values(SIZES).reduce((a, b) => a + b), 'every byte hashed once');
        // One Blob per entry of the file list, pads included, each real file's own.
        assert.equal(page.blobs.length, page.metainfo.files.length);
        page.metainfo.files.forEach((f, i) => assert.equal(page.blobs[i]!.size, f.pad ? 0 : f.length, `${label} ${f.path.join('/')}`));
      }
      const one = await createTorrentFromFiles([blobs[3]!], { version, pieceLength: 32768 });
      const oneNode = await createTorrent(join(folder, 'big.bin'), { version, pieceLength: 32768 });
      assert.deepEqual(one.metainfo.infoBytes, oneNode.metainfo.infoBytes, `${version} single file`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
