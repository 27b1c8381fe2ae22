// .torrent parsing (parseTorrent, parseInfoDict in packages/engine/src/metainfo.ts). Clean error:
// MetainfoError. Inputs come from a generator of structurally valid torrents with hostile field
// values (paths that climb out, boundary lengths, wrong types, bad piece counts), then byte-level
// mutations. Accepted torrents must satisfy the invariants the rest of the engine relies on.

import { decode, encode } from '../../../packages/engine/src/bencode.ts';
import { encodeTorrent, MAX_FILES, MetainfoError, parseInfoDict, parseTorrent } from '../../../packages/engine/src/metainfo.ts';
import { sha1 } from '../../../packages/engine/src/sha1.ts';
import { toHex } from '../../../packages/engine/src/hex.ts';
import type { Metainfo } from '../../../packages/engine/src/types.ts';
import type { Rng } from '../lib/rng.ts';
import { check, judge, type Target } from '../lib/target.ts';

const HOSTILE_NAMES = ['', ' ', '.', '..', '../x', 'a/b', 'a\\b', 'C:', 'c:evil', 'x\0y', 'é', '\u202e', 'CON', 'a'.repeat(4096), '\ufeffbom', '\t'];

function pick<T>(rng: Rng, good: T, bad: readonly unknown[], p = 0.1): unknown {
  return rng.chance(p) ? rng.pick(bad) : good;
}

const BAD_INTS = [0, -1, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, 256 * 1024 * 1024 + 1, 18446744073709551616n, 'x', [1], {}];

function component(rng: Rng): string {
  return rng.chance(0.08) ? rng.pick(HOSTILE_NAMES) : rng.pick(['a', 'b', 'dir', 'file.bin', 'Ünï', 'x'.repeat(rng.small(40) + 1)]);
}

/** A torrent (or, with `bare`, just its info dict) as a value tree ready for encode(). */
export function freshTorrent(rng: Rng, bare = false): Record<string, unknown> {
  let pieceLength = rng.pick([16384, 32768, 1 << 20, 1, 3]);
  const multi = rng.chance(0.5);
  const files: Record<string, unknown>[] = [];
  let total = 0;
  const count = multi ? rng.small(12) + 1 : 1;
  for (let i = 0; i < count; i++) {
    const length = rng.chance(0.1) ? 0 : rng.small(pieceLength < 1024 ? 2000 : 200_000);
    total += length;
    const path = Array.from({ length: rng.small(3) + 1 }, () => component(rng));
    const f: Record<string, unknown> = { length: pick(rng, length, BAD_INTS, 0.03), path: pick(rng, path, [[], 'a', [1], [new Uint8Array([0xff])]], 0.03) };
    if (rng.chance(0.05)) f['path.utf-8'] = rng.chance(0.5) ? path.map((c) => c + '~') : ['..'];
    if (rng.chance(0.05)) f['attr'] = rng.pick(['p', 'x', 'px', 'h']);
    files.push(f);
  }
  // Duplicates and file/directory clashes.
  if (multi && rng.chance(0.05) && files.length > 0) files.push({ ...files[0]! });
  if (multi && rng.chance(0.03)) files.push({ length: 1, path: [(files[0]!.path as string[])[0] ?? 'a', 'inner'] });
  // Keep the piece hashes under ~40 kB however small the pieces: size costs time, not coverage.
  pieceLength = Math.max(pieceLength, Math.ceil(total / 2000));
  const pieces = Math.ceil(total / pieceLength) + (rng.chance(0.05) ? rng.pick([-1, 1]) : 0);
  const info: Record<string, unknown> = {
    name: rng.chance(0.1) ? rng.pick(HOSTILE_NAMES) : component(rng),
    'piece length': pick(rng, pieceLength, BAD_INTS, 0.05),
    pieces: rng.chance(0.03) ? rng.bytes(rng.small(100)) : rng.bytes(Math.max(0, pieces) * 20),
  };
  if (rng.chance(0.03)) info['name.utf-8'] = rng.pick(HOSTILE_NAMES);
  if (multi) info.files = pick(rng, files, [[], 'files', [1], {}], 0.03);
  else info.length = pick(rng, total, BAD_INTS, 0.05);
  if (rng.chance(0.1)) info.private = rng.pick([0, 1, 2, -1, 'yes']);
  if (rng.chance(0.02)) delete info[rng.pick(['name', 'piece length', 'pieces', 'files', 'length'])];
  if (bare) return info;
  const top: Record<string, unknown> = { info: rng.chance(0.02) ? rng.pick(['info', [], 5]) : info };
  if (rng.chance(0.7)) top.announce = rng.pick(['http://127.0.0.1:6969/announce', ' udp://t:1 ', '', 5]);
  if (rng.chance(0.4)) top['announce-list'] = rng.pick([[['http://a/ann', 'http://b/ann'], ['udp://c:1']], [[]], ['x'], [[5, 'http://a']], 'x']);
  if (rng.chance(0.3)) top['url-list'] = rng.pick(['http://ws/', ['http://a/', 'http://a/', ''], 5]);
  if (rng.chance(0.3)) top.comment = rng.pick(['hi', new Uint8Array([0xff, 0xfe])]);
  if (rng.chance(0.2)) top['comment.utf-8'] = 'ok';
  if (rng.chance(0.3)) top['creation date'] = rng.pick([0, -1, 1700000000, 2 ** 53 + 2]);
  if (rng.chance(0.2)) top['created by'] = 'fuzz';
  return top;
}

function checkMeta(m: Metainfo, infoBytes: Uint8Array): void {
  check(toHex(sha1(infoBytes)) === m.infoHashHex && toHex(m.infoHash) === m.infoHashHex, 'infohash is not the SHA-1 of the info bytes');
  check(Buffer.compare(m.infoBytes, infoBytes) === 0, 'infoBytes differ from the info span of the input');
  check(Number.isSafeInteger(m.length) && m.length >= 0, 'length is not a safe non-negative integer');
  check(m.pieceLength > 0 && m.pieceCount === Math.ceil(m.length / m.pieceLength), 'piece count does not match length');
  check(m.pieceHashes.length === m.pieceCount * 20, 'piece hashes do not match the piece count');
  check(m.files.length > 0, 'no files');
  let offset = 0;
  const paths = new Set<string>();
  for (const f of m.files) {
    check(f.offset === offset && Number.isSafeInteger(f.length) && f.length >= 0, 'file offsets are not contiguous');
    offset += f.length;
    check(f.path.length > 0, 'empty file path');
    for (const c of [m.name, ...f.path]) {
      check(c.trim() !== '' && c !== '.' && c !== '..' && !/[/\\\0]/.test(c) && !/^[a-zA-Z]:/.test(c), `unsafe path component ${JSON.stringify(c.slice(0, 40))}`);
    }
    if (!f.pad) {
      check(!paths.has(f.path.join('/')), 'duplicate file path accepted');
      paths.add(f.path.join('/'));
    }
  }
  check(offset === m.length, 'file lengths do not add up');
}

/** Accepted when either parser accepts (inputs are whole torrents or bare info dicts). */
function runOne(input: Uint8Array): void {
  let clean: unknown;
  try {
    const m = parseTorrent(input);
    const span = decode(input, { spanOf: 'info' }).span!;
    checkMeta(m, input.subarray(span.start, span.end));
    // Re-encoding must keep the infohash and the fields (the node stores and serves this form).
    const again = parseTorrent(encodeTorrent(m));
    check(again.infoHashHex === m.infoHashHex, 'encodeTorrent changed the infohash');
    const fields = (x: Metainfo) => JSON.stringify([x.name, x.files, x.announce, x.urlList, x.comment, x.createdBy, x.creationDate, x.private]);
    check(fields(again) === fields(m), 'encodeTorrent round trip changed fields');
    return;
  } catch (err) {
    if (!(err instanceof MetainfoError)) throw err;
    clean = err;
  }
  try {
    checkMeta(parseInfoDict(input), input);
  } catch (err) {
    if (!(err instanceof MetainfoError)) throw err;
    throw clean;
  }
}

// Torrents at the file-count limit and one past it: costly to build, so built once.
const huge = new Map<number, Uint8Array>();
function hugeTorrent(n: number): Uint8Array {
  let t = huge.get(n);
  if (!t) {
    const files = Array.from({ length: n }, (_, i) => ({ length: 1, path: [`f${i}`] }));
    huge.set(n, (t = encode({ info: { files, name: 'many', 'piece length': 1 << 20, pieces: new Uint8Array(20) } })));
  }
  return t;
}

const seedTorrents = (): Uint8Array[] => {
  const single = { announce: 'http://127.0.0.1:6969/announce', info: { length: 20000, name: 'clip.mp4', 'piece length': 16384, pieces: new Uint8Array(40) } };
  const multi = {
    'announce-list': [['http://a/ann'], ['udp://b:1/ann']],
    comment: 'c',
    'creation date': 1700000000,
    info: {
      files: [{ length: 3, path: ['d', 'a'] }, { attr: 'p', length: 16381, path: ['.pad', '16381'] }, { length: 1, path: ['d', 'b'] }],
      name: 'dir',
      'piece length': 16384,
      pieces: new Uint8Array(40),
    },
    'url-list': ['http://127.0.0.1:1/'],
  };
  return [encode(single), encode(multi), encode(single.info), encode(multi.info)];
};

export const target: Target = {
  name: 'metainfo',
  minimize: true,
  mutateOptions: {
    dict: ['i0e', 'i-1e', 'le', 'de', '4:name', '5:files', '4:path', '6:length', '12:piece length', '6:pieces', '4:info', '2:..', '1:/', '3:C:x', '4:attr1:p', 'l2:..e'],
    maxLen: 512 * 1024,
  },
  seeds: seedTorrents,
  fresh: (rng) => (rng.chance(0.0002) ? hugeTorrent(rng.pick([MAX_FILES, MAX_FILES + 1])) : encode(freshTorrent(rng, rng.chance(0.25)))),
  run: (input) =>
    judge(
      () => runOne(input),
      (e) => e instanceof MetainfoError,
    ),
};
