// BEP 52 magnets: `xt=urn:btmh:1220<sha-256 hex>` for v2, both xt for a hybrid, checked both ways
// against libtorrent 2.0's make_magnet_uri / parse_magnet_uri on torrents it made.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMagnet, parseTorrentId, toMagnet } from '../src/metainfo/magnet.ts';
import { MetainfoError } from '../src/metainfo/metainfo.ts';
import { createTorrent } from '../src/node/create-torrent.ts';

const V1 = 'c809ce9ba0b9172461dd7ce1b31c98493fce9dc9';
const V2 = '1bcd0e1d82f91fe6d3b3f622f403bd7e1d0549f252eae76775c74286f324b2eb';

// For each torrent: libtorrent's magnet for it, and what libtorrent reads from ours.
const LT = `
import json, sys, libtorrent as lt
out = []
for path, ours in json.loads(sys.argv[1]):
    p = lt.parse_magnet_uri(ours)
    ih = p.info_hashes
    out.append({'magnet': lt.make_magnet_uri(lt.torrent_info(path)), 'v1': str(ih.v1) if ih.has_v1() else None, 'v2': str(ih.v2) if ih.has_v2() else None, 'name': p.name})
print(json.dumps(out))
`;

test('v2-only and hybrid magnets round trip, and agree with libtorrent', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-magnet-v2-'));
  try {
    mkdirSync(join(dir, 'folder'));
    writeFileSync(join(dir, 'folder', 'a.bin'), randomBytes(50_000));
    writeFileSync(join(dir, 'folder', 'b.txt'), randomBytes(10));
    const cases: [string, string][] = [];
    const metas = [];
    for (const version of ['v2', 'hybrid'] as const) {
      const { metainfo, torrent } = await createTorrent(join(dir, 'folder'), { version, pieceLength: 16384 });
      const file = join(dir, `${version}.torrent`);
      writeFileSync(file, torrent);
      const magnet = toMagnet({ infoHashHex: metainfo.infoHashHex, infoHashV2Hex: metainfo.infoHashV2Hex, name: metainfo.name });
      cases.push([file, magnet]);
      metas.push(metainfo);
    }
    const lt = JSON.parse(execFileSync('/usr/bin/python3', ['-c', LT, JSON.stringify(cases)], { encoding: 'utf8' }));
    for (const [i, meta] of metas.entries()) {
      const ours = cases[i]![1];
      // Byte for byte what libtorrent makes (xt order: btih, then btmh).
      assert.equal(ours, lt[i].magnet, meta.version);
      assert.equal(lt[i].v2, meta.infoHashV2Hex);
      assert.equal(lt[i].v1, meta.version === 'hybrid' ? meta.infoHashHex : null);
      assert.equal(lt[i].name, 'folder');
      const back = parseMagnet(lt[i].magnet);
      assert.equal(back.infoHashHex, meta.infoHashHex, 'the torrent id: v1 for a hybrid, truncated v2 for v2-only');
      assert.equal(back.infoHashV2Hex, meta.infoHashV2Hex);
      assert.equal(back.name, 'folder');
    }
    assert.match(cases[0]![1], /^magnet:\?xt=urn:btmh:1220[0-9a-f]{64}&dn=folder$/);
    assert.match(cases[1]![1], /^magnet:\?xt=urn:btih:[0-9a-f]{40}&xt=urn:btmh:1220[0-9a-f]{64}&dn=folder$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('btmh parsing: either order, upper case, trackers kept; bad multihashes refused', () => {
  const m = parseMagnet(`magnet:?xt=urn:btmh:1220${V2.toUpperCase()}&tr=udp://t:1&xt=urn:btih:${V1}`);
  assert.deepEqual(m, { infoHashHex: V1, infoHashV2Hex: V2, trackers: ['udp://t:1'], peers: [], webSeeds: [] });
  assert.deepEqual(parseMagnet(`magnet:?xt=urn:btmh:1220${V2}`), { infoHashHex: V2.slice(0, 40), infoHashV2Hex: V2, trackers: [], peers: [], webSeeds: [] });
  for (const bad of [`1220${V2.slice(2)}`, `1340${V2}${V2}`, `1120${V2}`, V2, `1220${V2}00`]) {
    assert.throws(() => parseMagnet(`magnet:?xt=urn:btmh:${bad}`), (e: unknown) => e instanceof MetainfoError && /bad btmh hash/.test(e.message), bad);
  }
  assert.throws(() => parseMagnet('magnet:?dn=x'), /no urn:btih or urn:btmh infohash/);
  assert.throws(() => toMagnet({}), /no infohash/);
  assert.throws(() => toMagnet({ infoHashV2Hex: V1 }), /bad v2 infohash/);
});

test('a bare 64-hex v2 infohash is a torrent id', () => {
  assert.deepEqual(parseTorrentId(` ${V2.toUpperCase()} `), { infoHashHex: V2.slice(0, 40), infoHashV2Hex: V2, trackers: [], peers: [], webSeeds: [] });
  assert.deepEqual(parseTorrentId(V1), { infoHashHex: V1, trackers: [], peers: [], webSeeds: [] });
  assert.throws(() => parseTorrentId(V2.slice(1)), /v2 infohash \(64 hex\)/);
  assert.equal(toMagnet(parseTorrentId(V2)), `magnet:?xt=urn:btmh:1220${V2}`);
});
