import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { BencodeError, decode, encode, isDict } from '../src/encoding/bencode.ts';
import { fromHex, toHex } from '../src/encoding/hex.ts';
import { encodeTorrent, MetainfoError, parseInfoDict, parseTorrent } from '../src/metainfo/metainfo.ts';
import { sha1 } from '../src/hashing/sha1.ts';

const te = new TextEncoder();
const nodeSha1 = (b: Uint8Array) => new Uint8Array(createHash('sha1').update(b).digest());
const hashes = (n: number) => new Uint8Array(randomBytes(20 * n));

function torrent(info: Record<string, unknown>, outer: Record<string, unknown> = {}): Uint8Array {
  return encode({ ...outer, info });
}

const single = () => ({ name: 'file.bin', 'piece length': 16384, length: 40000, pieces: hashes(3) });
const multi = () => ({
  name: 'dir',
  'piece length': 32768,
  pieces: hashes(2),
  files: [
    { length: 10, path: ['a.txt'] },
    { length: 40000, path: ['sub', 'b.bin'] },
    { length: 0, path: ['empty'] },
  ],
});

function rejects(buf: Uint8Array, pattern: RegExp) {
  assert.throws(
    () => parseTorrent(buf),
    (err: unknown) => {
      assert.ok(err instanceof MetainfoError, `expected MetainfoError, got ${err}`);
      assert.match(err.message, /^invalid torrent: /);
      assert.match(err.message, pattern);
      return true;
    },
  );
}

test('sha1 matches node:crypto across padding boundaries', () => {
  assert.equal(toHex(sha1(new Uint8Array(0))), 'da39a3ee5e6b4b0d3255bfef95601890afd80709');
  assert.equal(toHex(sha1(te.encode('abc'))), 'a9993e364706816aba3e25717850c26c9cd0d89d');
  for (const n of [1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000, 100_000]) {
    const data = new Uint8Array(randomBytes(n));
    assert.deepEqual(sha1(data), nodeSha1(data), `length ${n}`);
  }
});

test('hex round trip and rejection', () => {
  const b = new Uint8Array(randomBytes(20));
  assert.deepEqual(fromHex(toHex(b)), b);
  assert.deepEqual(fromHex('00FFaa'), new Uint8Array([0, 255, 170]));
  assert.throws(() => fromHex('abc'), /invalid hex/);
  assert.throws(() => fromHex('zz'), /invalid hex/);
});

test('single-file torrent', () => {
  const info = single();
  const buf = torrent(info, { announce: 'http://t/announce', comment: 'hi', 'created by': 'x', 'creation date': 1700000000 });
  const m = parseTorrent(buf);
  assert.equal(m.name, 'file.bin');
  assert.equal(m.multiFile, false);
  assert.equal(m.length, 40000);
  assert.equal(m.pieceCount, 3);
  assert.deepEqual(m.files, [{ path: ['file.bin'], length: 40000, offset: 0 }]);
  assert.deepEqual(m.infoBytes, encode(info));
  assert.deepEqual(m.infoHash, nodeSha1(encode(info)));
  assert.equal(m.infoHashHex, toHex(m.infoHash));
  assert.deepEqual(m.announce, [['http://t/announce']]);
  assert.equal(m.private, false);
  assert.equal(m.comment, 'hi');
  assert.equal(m.createdBy, 'x');
  assert.equal(m.creationDate, 1700000000);
  assert.deepEqual(m.urlList, []);
});

test('multi-file torrent computes offsets', () => {
  const m = parseTorrent(torrent(multi()));
  assert.equal(m.multiFile, true);
  assert.equal(m.length, 40010);
  assert.deepEqual(m.files, [
    { path: ['a.txt'], length: 10, offset: 0 },
    { path: ['sub', 'b.bin'], length: 40000, offset: 10 },
    { path: ['empty'], length: 0, offset: 40010 },
  ]);
});

test('announce-list tiers win over announce; url-list as string or list; private', () => {
  const m = parseTorrent(
    torrent({ ...single(), private: 1 }, {
      announce: 'http://ignored',
      'announce-list': [['http://a', 'udp://b'], [], ['http://c', 'http://a'], [5]],
      'url-list': 'http://seed/',
    }),
  );
  assert.deepEqual(m.announce, [['http://a', 'udp://b'], ['http://c']]);
  assert.deepEqual(m.urlList, ['http://seed/']);
  assert.equal(m.private, true);
  const m2 = parseTorrent(torrent(single(), { 'url-list': ['http://x/', 'http://y/'], 'announce-list': [] , announce: 'http://only' }));
  assert.deepEqual(m2.urlList, ['http://x/', 'http://y/']);
  assert.deepEqual(m2.announce, [['http://only']]);
  assert.equal(parseTorrent(torrent({ ...single(), private: 0 })).private, false);
});

test('BEP 47 pad files and utf-8 variants', () => {
  const m = parseTorrent(
    torrent({
      name: 'legacy',
      'name.utf-8': 'Ünïcødé',
      'piece length': 16384,
      pieces: hashes(2),
      files: [
        { length: 100, path: ['x'], 'path.utf-8': ['é', 'x'] },
        { length: 16284, path: ['.pad', '16284'], attr: 'p' },
        { length: 100, path: ['y'], attr: 'x' },
        { length: 200, path: ['.pad', '16284'], attr: 'ph' }, // duplicate pad paths are normal
        { length: 200, path: ['.pad', '16284'], attr: 'p' },
      ],
    }),
  );
  assert.equal(m.name, 'Ünïcødé');
  // Pads of one size may share a name; of another size they are renamed as libtorrent renames
  // them (a pad is never on disk either way).
  assert.deepEqual(m.files.map((f) => [f.path.join('/'), f.offset, f.pad ?? false]), [
    ['é/x', 0, false],
    ['.pad/16284', 100, true],
    ['y', 16384, false],
    ['.pad/16284.1', 16484, true],
    ['.pad/16284.2', 16684, true], // libtorrent 2.0.8 names these two the same way
  ]);
  assert.equal(m.files[2]!.executable, true);
  assert.equal(m.files[3]!.hidden, true);
  assert.equal(m.files[0]!.executable, undefined);
});

test('infohash covers the raw info bytes even when not canonically encoded', () => {
  // Keys out of order and an unknown key: re-encoding would change the hash.
  const rawInfo = te.encode('d6:lengthi5e4:name1:x12:piece lengthi16384e6:pieces20:' + 'a'.repeat(20) + '1:zi1e5:extra3:yese');
  const buf = new Uint8Array([...te.encode('d8:announce8:http://t4:info'), ...rawInfo, ...te.encode('e')]);
  const m = parseTorrent(buf);
  assert.deepEqual(m.infoBytes, rawInfo);
  assert.deepEqual(m.infoHash, nodeSha1(rawInfo));

  const re = encodeTorrent(m);
  const { value, span } = decode(re, { spanOf: 'info' });
  assert.ok(isDict(value) && span);
  assert.deepEqual(re.subarray(span.start, span.end), rawInfo);
  assert.equal(parseTorrent(re).infoHashHex, m.infoHashHex);
});

test('encodeTorrent round trip keeps every field', () => {
  const m = parseTorrent(
    torrent(multi(), {
      'announce-list': [['http://a'], ['http://b', 'http://c']],
      'url-list': ['http://ws/'],
      comment: 'c',
      'created by': 'me',
      'creation date': 123,
    }),
  );
  const back = parseTorrent(encodeTorrent(m));
  assert.deepEqual(back, m);
  // A single tracker is written as plain `announce`.
  const one = parseTorrent(encodeTorrent({ ...m, announce: [['http://a']] }));
  assert.deepEqual(one.announce, [['http://a']]);
  const top = decode(encodeTorrent({ ...m, announce: [['http://a']] })).value;
  assert.ok(isDict(top) && !('announce-list' in top));
});

test('parseInfoDict handles bare info bytes with outer fields', () => {
  const infoBytes = encode(multi());
  const m = parseInfoDict(infoBytes, { announce: [['udp://x']], urlList: ['http://w/'] });
  assert.deepEqual(m.infoHash, nodeSha1(infoBytes));
  assert.deepEqual(m.announce, [['udp://x']]);
  assert.equal(m.files.length, 3);
  assert.deepEqual(parseInfoDict(infoBytes).announce, []);
  assert.throws(() => parseInfoDict(te.encode('le')), MetainfoError);
  assert.throws(() => parseInfoDict(infoBytes.subarray(0, 30)), MetainfoError);
});

test('hostile inputs throw readable MetainfoErrors', () => {
  const good = torrent(multi());
  const cases: [string, Uint8Array, RegExp][] = [
    ['empty input', new Uint8Array(0), /unexpected end/],
    ['truncated', good.subarray(0, good.length - 7), /./],
    ['garbage', te.encode('\x00\xffnot bencode'), /unexpected byte/],
    ['not a dict', encode([1, 2]), /not a dictionary/],
    ['no info', encode({ announce: 'x' }), /missing info/],
    ['info is a list', encode({ info: [1] }), /missing info/],
    ['deep nesting', te.encode('d4:info' + 'l'.repeat(10000) + 'e'.repeat(10000) + 'e'), /nesting too deep/],
    ['huge string length', te.encode('d4:info99999999999:xe'), /runs past the end/],
    ['no name', torrent({ ...single(), name: undefined }), /name is missing/],
    ['name wrong type', torrent({ ...single(), name: 5 }), /name is missing/],
    ['empty name', torrent({ ...single(), name: '' }), /name is empty/],
    ['name of dots', torrent({ ...single(), name: '..' }), /name is empty once cleaned/],
    ['name of NULs', torrent({ ...single(), name: '\0\0' }), /name is empty once cleaned/],
    ['all files empty', torrent({ ...multi(), pieces: new Uint8Array(0), files: [{ length: 0, path: ['a'] }] }), /holds no data/],
    ['piece length zero', torrent({ ...single(), 'piece length': 0 }), /piece length/],
    ['piece length negative', torrent({ ...single(), 'piece length': -16384 }), /piece length/],
    ['piece length huge', torrent({ ...single(), 'piece length': 2 ** 30 }), /piece length/],
    ['piece length bigint', torrent({ ...single(), 'piece length': 2n ** 60n }), /piece length/],
    ['piece length string', torrent({ ...single(), 'piece length': '16384' }), /piece length/],
    ['pieces missing', torrent({ ...single(), pieces: undefined }), /pieces is missing/],
    ['pieces not multiple of 20', torrent({ ...single(), pieces: hashes(3).subarray(1) }), /not a multiple of 20/],
    ['too few pieces', torrent({ ...single(), pieces: hashes(2) }), /piece hashes/],
    ['too many pieces', torrent({ ...single(), pieces: hashes(4) }), /piece hashes/],
    ['negative length', torrent({ ...single(), length: -1 }), /length must be a non-negative integer/],
    ['length missing', torrent({ ...single(), length: undefined }), /length must be/],
    ['length bigint', torrent({ ...single(), length: 2n ** 64n }), /length must be/],
    ['files not a list', torrent({ ...multi(), files: 'x' }), /files is not a list/],
    ['files empty', torrent({ ...multi(), files: [] }), /files list is empty/],
    ['file not a dict', torrent({ ...multi(), files: [5] }), /file 0 is not a dictionary/],
    ['file negative length', torrent({ ...multi(), files: [{ length: -5, path: ['a'] }] }), /file 0 length/],
    ['path missing', torrent({ ...multi(), files: [{ length: 5 }] }), /file 0 path is missing/],
    ['path not strings', torrent({ ...multi(), files: [{ length: 5, path: [1] }] }), /not a list of strings/],
    ['path empty list', torrent({ ...multi(), files: [{ length: 5, path: [] }] }), /path is missing, empty/],
    ['total overflow', torrent({ ...multi(), files: [{ length: 2 ** 53 - 10, path: ['a'] }, { length: 100, path: ['b'] }] }), /too large/],
    ['too many files', torrent({ ...multi(), files: Array.from({ length: 100_001 }, (_, i) => ({ length: 0, path: [`f${i}`] })) }), /more than 100000 files/],
  ];
  for (const [label, buf, pattern] of cases) {
    try {
      rejects(buf, pattern);
    } catch (err) {
      assert.fail(`${label}: ${(err as Error).message}`);
    }
  }
});

// Issue 43: what libtorrent opens by cleaning its paths opens here the same way (the corpus test,
// torrent-corpus.test.ts, compares with libtorrent itself; these are the rules one by one).
test('hostile paths are cleaned as libtorrent cleans them, never refused and never outside the folder', () => {
  const paths = (files: { length: number; path: string[]; 'path.utf-8'?: string[] }[], name = 'dir') =>
    parseTorrent(torrent({ ...multi(), name, pieces: hashes(1), files })).files.map((f) => f.path.join('/'));
  const one = (path: string[]) => paths([{ length: 5, path }])[0];
  assert.equal(one(['..', 'etc', 'passwd']), 'etc/passwd');
  assert.equal(one(['.', 'x']), 'x');
  assert.equal(one(['a/../../b']), 'a....b');
  assert.equal(one(['/etc/passwd']), 'etcpasswd');
  assert.equal(one(['..\\x']), '..x');
  assert.equal(one(['a\0b']), 'ab');
  assert.equal(one(['a\x01b']), 'a_b');
  assert.equal(one(['a', '', 'b']), 'a/_/b');
  assert.equal(one(['..']), '_');
  assert.equal(one(['evil\u202etxt.exe']), 'eviltxt.exe');
  assert.equal(one(['  ']), '  '); // a name of spaces is a name on Linux, as for libtorrent there
  assert.equal(one(['C:', 'x']), 'C:/x'); // no drive on POSIX; storage joins below its own root
  assert.equal(one(['x'.repeat(300) + '.txt']), 'x'.repeat(240) + '.txt');
  assert.equal(paths([{ length: 5, path: ['ok'], 'path.utf-8': ['..'] }])[0], '_');
  // Invalid UTF-8: each bad sequence one '_', as libtorrent reads it (from the raw bytes).
  const raw = encode({ ...multi(), pieces: hashes(1), files: [{ length: 5, path: ['x'] }] });
  const bad = Uint8Array.from([...raw]);
  bad.set([0xff], raw.indexOf(0x78, raw.indexOf(te.encode('pathl')[0]!, raw.indexOf(te.encode('files')[0]!)))); // 'x' → 0xff
  assert.equal(parseInfoDict(bad).files[0]!.path[0], '_');
  // Names two files share: the later one renamed, case ignored, folders first.
  assert.deepEqual(paths([{ length: 5, path: ['a'] }, { length: 5, path: ['A'] }]), ['a', 'A.1']);
  assert.deepEqual(paths([{ length: 5, path: ['a'] }, { length: 5, path: ['a', 'b'] }]), ['a.1', 'a/b']);
  assert.deepEqual(paths([{ length: 5, path: ['f.txt'] }, { length: 5, path: ['f.txt'] }, { length: 5, path: ['f.1.txt'] }]), ['f.txt', 'f.1.txt', 'f.1.1.txt']);
  assert.deepEqual(paths([{ length: 5, path: ['.hidden'] }, { length: 5, path: ['.hidden'] }]), ['.hidden', '.1.hidden']);
  // The name: separators dropped; nothing left of a folder's name, it is the infohash.
  assert.equal(parseTorrent(torrent({ ...single(), name: 'a/b' })).name, 'ab');
  const dots = parseTorrent(torrent({ ...multi(), name: '..' }));
  assert.equal(dots.name, dots.infoHashHex);
  // Bytes after the torrent's dictionary are ignored; the infohash is the info dict's own.
  const good = torrent(single());
  const trailing = parseTorrent(Uint8Array.from([...good, ...te.encode('\ngarbage')]));
  assert.equal(trailing.infoHashHex, parseTorrent(good).infoHashHex);
});

test('BEP 47 symlinks take no room and point only inside the torrent', () => {
  const meta = parseTorrent(torrent({
    name: 'pack',
    'piece length': 16384,
    pieces: hashes(1),
    files: [
      { length: 100, path: ['real', 'data.bin'], attr: 'x' },
      // a claimed length is ignored: a link has no data
      { length: 100, path: ['link'], attr: 'l', 'symlink path': ['real', 'data.bin'] },
      { length: 0, path: ['real', 'near'], attr: 'l', 'symlink path': ['data.bin'] }, // relative to its folder
      { length: 0, path: ['dir-link'], attr: 'l', 'symlink path': ['real'] },
      { length: 0, path: ['escape'], attr: 'l', 'symlink path': ['..', '..', 'etc', 'passwd'] },
      { length: 0, path: ['absolute'], attr: 'l', 'symlink path': ['/etc/passwd'] },
      { length: 0, path: ['no-target'], attr: 'l' },
    ],
  }));
  assert.equal(meta.length, 100);
  const links = Object.fromEntries(meta.files.map((f) => [f.path.join('/'), f.symlink?.join('/')]));
  assert.deepEqual(links, {
    'real/data.bin': undefined,
    link: 'real/data.bin',
    'real/near': 'real/data.bin',
    'dir-link': 'real',
    escape: 'escape', // 'etc/passwd' is no file of the torrent: the link points at itself
    absolute: 'absolute',
    'no-target': undefined, // an empty file, as libtorrent reads it
  });
  assert.equal(meta.files[0]!.executable, true);
});

test('random mutations never escape as anything but MetainfoError', () => {
  const base = torrent(multi(), { announce: 'http://t', 'url-list': ['http://w'] });
  for (let i = 0; i < 3000; i++) {
    const buf = new Uint8Array(base);
    const edits = 1 + (i % 4);
    for (let e = 0; e < edits; e++) buf[Math.floor(Math.random() * buf.length)] = Math.floor(Math.random() * 256);
    const cut = i % 3 === 0 ? buf.subarray(0, Math.floor(Math.random() * buf.length)) : buf;
    try {
      parseTorrent(cut);
    } catch (err) {
      if (!(err instanceof MetainfoError)) throw err;
    }
  }
  for (let i = 0; i < 500; i++) {
    try {
      parseTorrent(new Uint8Array(randomBytes(1 + (i % 200))));
    } catch (err) {
      if (!(err instanceof MetainfoError)) throw err;
    }
  }
});

test('dictionary keys: a leading byte-order mark is kept and a duplicate key is refused', () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const bom = '\uFEFF';
  // "<BOM>info" sorts after "info"; stripped, it would replace the real info dictionary.
  const d = decode(Uint8Array.from([...enc('d4:infoi1e7:'), 0xef, 0xbb, 0xbf, ...enc('infoi2ee')])).value as Record<string, unknown>;
  assert.equal(d.info, 1);
  assert.equal(d[`${bom}info`], 2);
  assert.throws(() => decode(enc('d1:ai1e1:ai2ee')), (e: Error) => e instanceof BencodeError && /duplicate dictionary key "a"/.test(e.message));
});
