// BEP 52 announces: a v2-only torrent announces its truncated v2 hash (its id); a hybrid torrent
// announces under its v1 hash and its truncated v2 hash, as libtorrent does, so v1 and v2 peers
// that know only one of them both find it. A real HTTP tracker on 127.0.0.1 records the info_hash
// of every announce.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs/promises';
import path from 'node:path';
import type net from 'node:net';
import { randomBytes } from 'node:crypto';
import { Session, createTorrent, bencode } from '../index.ts';
import { tmpDir } from './session-helpers.ts';

/** info_hash of an announce URL, as hex (it is percent-encoded raw bytes). */
function infoHashOf(url: string): string {
  const raw = /[?&]info_hash=([^&]*)/.exec(url)![1]!;
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === '%') bytes.push(parseInt(raw.slice(i + 1, (i += 2) + 1), 16));
    else bytes.push(raw.charCodeAt(i));
  }
  return Buffer.from(bytes).toString('hex');
}

for (const version of ['v2', 'hybrid'] as const) {
  test(`${version}: announced under ${version === 'v2' ? 'its truncated v2 hash' : 'its v1 hash and its truncated v2 hash'}`, async (t) => {
    const root = await tmpDir(t);
    const seen = new Set<string>();
    const server = http.createServer((req, res) => {
      seen.add(infoHashOf(req.url!));
      res.end(Buffer.from(bencode({ interval: 1800, peers: new Uint8Array(0) })));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => new Promise<void>((r) => server.close(() => r())));
    const announce = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/announce`;
    await fs.writeFile(path.join(root, 'data.bin'), randomBytes(100_000));
    const { torrent, metainfo } = await createTorrent(path.join(root, 'data.bin'), { pieceLength: 32768, version });
    const session = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false, trackers: [announce] });
    t.after(() => session.close());
    await session.add(torrent, { savePath: root });
    const want = version === 'v2' ? [metainfo.infoHashHex] : [metainfo.infoHashHex, metainfo.infoHashV2Hex!.slice(0, 40)];
    for (let i = 0; i < 100 && seen.size < want.length; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual([...seen].sort(), want.sort());
    if (version === 'v2') assert.equal(metainfo.infoHashHex, metainfo.infoHashV2Hex!.slice(0, 40));
  });
}
