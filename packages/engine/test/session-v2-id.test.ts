// A v2 infohash (64 hex) finds its torrent in a Session as the 40-hex torrent id does: for a
// v2-only torrent (whose id is the truncated hash) and for a hybrid (whose id is the v1 hash).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Session } from '../index.ts';
import { createTorrent } from '../src/node/create-torrent.ts';
import { tmpDir, whenDone } from './session-helpers.ts';

test('session.get and remove take a v2 infohash', async (t) => {
  const root = await tmpDir(t);
  mkdirSync(path.join(root, 'pack'));
  writeFileSync(path.join(root, 'pack', 'a.bin'), randomBytes(50_000));
  writeFileSync(path.join(root, 'pack', 'b.bin'), randomBytes(20_000));
  const session = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false });
  t.after(() => session.close());
  for (const version of ['v2', 'hybrid'] as const) {
    const { torrent, metainfo } = await createTorrent(path.join(root, 'pack'), { version, pieceLength: 16384 });
    const v2 = metainfo.infoHashV2Hex!;
    const h = await session.add(torrent, { savePath: root });
    await whenDone(h);
    assert.equal(session.get(v2), h, `${version}: by v2 infohash`);
    assert.equal(session.get(v2.toUpperCase()), h);
    assert.equal(session.get(metainfo.infoHashHex), h, `${version}: by torrent id`);
    const other = (v2.slice(0, 40) + 'f'.repeat(24)).replace(/.$/, (c) => (c === 'f' ? 'e' : 'f'));
    assert.equal(session.get(other), undefined, 'the same first 20 bytes are not enough');
    await session.remove(v2);
    assert.equal(session.get(metainfo.infoHashHex), undefined, `${version}: removed by v2 infohash`);
  }
});
