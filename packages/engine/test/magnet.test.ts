import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMagnet, parseTorrentId, toMagnet } from '../src/metainfo/magnet.ts';
import { MetainfoError } from '../src/metainfo/metainfo.ts';

const HEX = 'c12fe1c06bba254a9dc9f519b335aa7c1367a88a';
const B32 = 'YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK';

function rejects(uri: string, pattern: RegExp) {
  assert.throws(
    () => parseMagnet(uri),
    (err: unknown) => err instanceof MetainfoError && /^invalid magnet: /.test(err.message) && pattern.test(err.message),
    uri,
  );
}

test('parses a full magnet', () => {
  const m = parseMagnet(
    `magnet:?xt=urn:btih:${HEX.toUpperCase()}&dn=My+File%20%C3%A9.iso` +
      '&tr=udp%3A%2F%2Ftracker.example%3A6969%2Fannounce&tr=http://t2/announce?a=1%26b=2&tr.1=udp://t3:1' +
      '&x.pe=1.2.3.4:6881&x.pe=[2001:db8::1]:51413&x.pe=bogus' +
      '&ws=http%3A%2F%2Fseed%2Fpath%2F&so=0,2,4-6,2&unknown=1',
  );
  assert.deepEqual(m, {
    infoHashHex: HEX,
    name: 'My File é.iso',
    trackers: ['udp://tracker.example:6969/announce', 'http://t2/announce?a=1&b=2', 'udp://t3:1'],
    peers: ['1.2.3.4:6881', '[2001:db8::1]:51413'],
    webSeeds: ['http://seed/path/'],
    selectOnly: [[0, 0], [2, 2], [4, 6]],
  });
});

test('base32 infohash normalizes to lowercase hex', () => {
  assert.equal(parseMagnet(`magnet:?xt=urn:btih:${B32}`).infoHashHex, HEX);
  assert.equal(parseMagnet(`MAGNET:?xt=URN:BTIH:${B32.toLowerCase()}`).infoHashHex, HEX);
});

test('hybrid magnet: btih is the torrent id, btmh its v2 hash', () => {
  const m = parseMagnet(`magnet:?xt=urn:btmh:1220${'ab'.repeat(32)}&xt=urn:btih:${HEX}`);
  assert.equal(m.infoHashHex, HEX);
  assert.equal(m.infoHashV2Hex, 'ab'.repeat(32));
  assert.deepEqual(m.trackers, []);
  assert.equal(m.name, undefined);
  assert.equal(m.selectOnly, undefined);
});

test('bad magnets throw MetainfoError', () => {
  rejects('http://example.com', /magnet:\?/);
  rejects('magnet:?dn=x', /no urn:btih/);
  rejects(`magnet:?xt=urn:btmh:1220${'ab'.repeat(31)}`, /bad btmh hash/);
  rejects(`magnet:?xt=urn:btih:${HEX.slice(1)}`, /bad btih hash/);
  rejects(`magnet:?xt=urn:btih:${HEX}0`, /bad btih hash/);
  rejects(`magnet:?xt=urn:btih:${B32.slice(1)}1`, /bad btih hash/);
  rejects(`magnet:?xt=urn:btih:${HEX}&so=1-x`, /bad so entry/);
  rejects(`magnet:?xt=urn:btih:${HEX}&so=5-2`, /bad so range/);
  rejects(`magnet:?xt=urn:btih:${HEX}&so=-1`, /bad so entry/);
  rejects(`magnet:?xt=urn:btih:${HEX}&so=0-999999999`, /file limit/);
  rejects(`magnet:?xt=urn:btih:${HEX}&dn=%E0%A4%A`, /percent-encoding/);
});

test('toMagnet round trips through parseMagnet', () => {
  const input = {
    infoHashHex: HEX,
    name: 'a & b = c?+',
    trackers: ['udp://t:1/announce', 'http://x/a?b=1&c=2'],
    peers: ['1.2.3.4:5', '[::1]:6881'],
    webSeeds: ['http://ws/dir/'],
    selectOnly: [7, 0, 1, 2, 5],
  };
  const uri = toMagnet(input);
  assert.match(uri, new RegExp(`^magnet:\\?xt=urn:btih:${HEX}&dn=`));
  assert.match(uri, /&so=0-2,5,7$/);
  assert.deepEqual(parseMagnet(uri), { ...input, selectOnly: [[0, 2], [5, 5], [7, 7]] });
  assert.match(toMagnet({ infoHashHex: HEX, selectOnly: [[4, 6], [0, 2], [3, 3], [9, 9]] }), /&so=0-6,9$/);
  assert.equal(toMagnet({ infoHashHex: HEX.toUpperCase() }), `magnet:?xt=urn:btih:${HEX}`);
  assert.throws(() => toMagnet({ infoHashHex: 'nothex' }), MetainfoError);
});

test('parseTorrentId accepts magnets and bare hashes', () => {
  const empty = { trackers: [], peers: [], webSeeds: [] };
  assert.deepEqual(parseTorrentId(` ${HEX.toUpperCase()} `), { infoHashHex: HEX, ...empty });
  assert.deepEqual(parseTorrentId(B32), { infoHashHex: HEX, ...empty });
  assert.equal(parseTorrentId(`magnet:?xt=urn:btih:${HEX}&dn=x`).name, 'x');
  assert.throws(() => parseTorrentId('hello'), (e: unknown) => e instanceof MetainfoError && /invalid torrent id/.test(e.message));
  assert.throws(() => parseTorrentId('magnet:?dn=x'), MetainfoError);
});
