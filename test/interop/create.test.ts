// Torrents made by `cascade create` load in libtorrent, and their infohash is exactly the one
// libtorrent's own create_torrent (v1 only) computes for the same content and piece length.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  MULTI_FILE_SPEC,
  SINGLE_FILE_SPEC,
  cascadeCreate,
  describeProc,
  ltCheck,
  ltCreate,
  ltInfo,
  makeRandomFiles,
  requireClient,
  tempDir,
} from './helpers.ts';

function base32ToHex(s: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of s.toUpperCase()) {
    const v = alphabet.indexOf(c);
    assert.ok(v >= 0, `bad base32 in magnet: ${s}`);
    bits += v.toString(2).padStart(5, '0');
  }
  let hex = '';
  for (let i = 0; i + 4 <= bits.length; i += 4) hex += parseInt(bits.slice(i, i + 4), 2).toString(16);
  return hex;
}

function magnetInfoHash(magnet: string): string {
  assert.match(magnet, /^magnet:\?/, `not a magnet link: ${magnet}`);
  const xts = new URLSearchParams(magnet.slice('magnet:?'.length)).getAll('xt');
  const btih = xts.find((x) => x.toLowerCase().startsWith('urn:btih:'));
  assert.ok(btih, `magnet has no urn:btih: ${magnet}`);
  const v = btih.slice('urn:btih:'.length);
  return v.length === 32 ? base32ToHex(v) : v.toLowerCase();
}

interface Case {
  title: string;
  layout: 'single' | 'multi';
  pieceLength: number;
  private?: boolean;
  announce?: string[];
  webseed?: string[];
}

const cases: Case[] = [
  { title: 'single file, 16 KiB pieces', layout: 'single', pieceLength: 16 * 1024 },
  {
    title: 'multi-file with nested dirs, 32 KiB pieces, announce + webseed',
    layout: 'multi',
    pieceLength: 32 * 1024,
    announce: ['http://127.0.0.1:6969/announce', 'udp://127.0.0.1:6969/announce'],
    webseed: ['http://127.0.0.1:8080/files/'],
  },
  { title: 'multi-file, 16 KiB pieces, private', layout: 'multi', pieceLength: 16 * 1024, private: true },
];

for (const c of cases) {
  test(`cascade create: ${c.title} — libtorrent loads it with the same infohash`, { timeout: 60_000 }, async (t) => {
    requireClient('cascade');
    requireClient('libtorrent');
    const root = await tempDir(t);
    const src = join(root, 'src');
    const name = c.layout === 'single' ? 'single-fixture.bin' : 'multi-fixture';
    await makeRandomFiles(c.layout === 'single' ? src : join(src, name), c.layout === 'single' ? SINGLE_FILE_SPEC : MULTI_FILE_SPEC);
    const content = join(src, name);

    const extra = ['--piece-length', String(c.pieceLength)];
    for (const a of c.announce ?? []) extra.push('--announce', a);
    for (const w of c.webseed ?? []) extra.push('--webseed', w);
    if (c.private) extra.push('--private');
    const cascadeTorrent = join(root, 'cascade.torrent');
    const created = await cascadeCreate(t, content, cascadeTorrent, extra);

    // libtorrent's reading of Cascade's torrent.
    const info = await ltInfo(cascadeTorrent);
    assert.equal(info.infoHash, created.infoHash.toLowerCase(), 'libtorrent computes a different infohash than cascade reported');
    assert.equal(magnetInfoHash(created.magnet), info.infoHash, 'magnet link carries the wrong infohash');
    assert.equal(info.name, name);
    assert.equal(info.pieceLength, c.pieceLength);
    assert.equal(info.private, c.private === true);
    for (const a of c.announce ?? []) assert.ok(info.trackers.includes(a), `tracker ${a} missing from ${JSON.stringify(info.trackers)}`);
    for (const w of c.webseed ?? []) assert.ok(info.webSeeds.includes(w), `web seed ${w} missing from ${JSON.stringify(info.webSeeds)}`);

    // The same content through libtorrent's create_torrent must give the same info dictionary.
    const ltTorrent = join(root, 'libtorrent.torrent');
    const ltCreated = await ltCreate(content, ltTorrent, { pieceLength: c.pieceLength, private: c.private });
    const ltOwn = await ltInfo(ltTorrent);
    assert.deepEqual(info.files, ltOwn.files, 'file list/order differs from libtorrent create_torrent');
    assert.equal(info.numPieces, ltOwn.numPieces);
    assert.equal(info.totalSize, ltOwn.totalSize);
    assert.equal(
      created.infoHash.toLowerCase(),
      ltCreated.infoHash,
      'cascade create and libtorrent create_torrent (v1) disagree on the infohash for identical content',
    );

    // And libtorrent verifies every piece of the original data against Cascade's piece hashes.
    const check = await ltCheck(cascadeTorrent, src);
    assert.ok(check.complete, `libtorrent's hash check of the data against cascade's torrent failed:\n${describeProc(check.proc)}`);
  });
}
