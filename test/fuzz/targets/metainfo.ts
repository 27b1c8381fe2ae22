// .torrent parsing (parseTorrent, parseInfoDict in packages/engine/src/metainfo/metainfo.ts, v2 and hybrid
// per BEP 52 in metainfo-v2.ts). Clean error: MetainfoError. Inputs come from a generator of
// structurally valid torrents (v1, v2-only, hybrid) with hostile field values (paths that climb out,
// boundary lengths, wrong types, bad piece counts, roots and layers that do not match), then
// byte-level mutations. Accepted torrents must satisfy the invariants the rest of the engine relies on.

import { decode, encode } from '../../../packages/engine/src/encoding/bencode.ts';
import { encodeTorrent, MAX_FILES, MetainfoError, parseInfoDict, parseTorrent } from '../../../packages/engine/src/metainfo/metainfo.ts';
import { sha1 } from '../../../packages/engine/src/hashing/sha1.ts';
import { sha256 } from '../../../packages/engine/src/hashing/sha256.ts';
import { rootFromPieceLayer } from '../../../packages/engine/src/hashing/merkle.ts';
import { pieceLayerProblem, v2Layout } from '../../../packages/engine/src/metainfo/metainfo-v2.ts';
import { toHex } from '../../../packages/engine/src/encoding/hex.ts';
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

/** A v2 or hybrid torrent: files of random sizes around the piece length, their roots and layers
 *  right (a layer's root is computed from it) unless the rng spoils one. */
function freshV2(rng: Rng, bare: boolean): Record<string, unknown> {
  const pieceLength = pick(rng, rng.pick([16384, 32768, 65536]), [8192, 49152, 0, -16384, 'x'], 0.04) as number;
  // Files and layers are made for a valid piece length even when the field is spoiled.
  const pl = typeof pieceLength === 'number' && pieceLength >= 16384 && (pieceLength & (pieceLength - 1)) === 0 ? pieceLength : 16384;
  const single = rng.chance(0.3);
  const files: { path: string[]; length: number }[] = [];
  const tree: Record<string, unknown> = {};
  const layers: Record<string, Uint8Array> = {};
  const roots: Uint8Array[] = [];
  for (let i = 0, n = single ? 1 : rng.small(6) + 1; i < n; i++) {
    const length = rng.chance(0.15) ? 0 : rng.small(pl * 3) + 1;
    const path = single ? [component(rng)] : Array.from({ length: rng.small(2) + 1 }, () => component(rng));
    let root: unknown = rng.bytes(32);
    if (length > pl) {
      const layer = rng.bytes(Math.ceil(length / pl) * 32);
      root = rootFromPieceLayer(layer, pl);
      if (rng.chance(0.05)) layer[0]! ^= 1;
      if (!rng.chance(0.03)) layers[String.fromCharCode(...(root as Uint8Array))] = rng.chance(0.03) ? layer.subarray(32) : layer;
    }
    if (rng.chance(0.03)) root = rng.pick([rng.bytes(31), 5, 'r']);
    let dir = tree;
    for (const c of path) dir = (dir[c] ??= {}) as Record<string, unknown>;
    dir[''] = length === 0 && !rng.chance(0.1) ? { length } : { length: pick(rng, length, BAD_INTS, 0.03), 'pieces root': root };
    files.push({ path, length });
    roots.push(root as Uint8Array);
  }
  const info: Record<string, unknown> = {
    'file tree': rng.chance(0.03) ? rng.pick([{ '': { length: 1 } }, [], {}]) : tree,
    'meta version': pick(rng, 2, [1, 3, 'x'], 0.03),
    name: single ? files[0]!.path[0] : component(rng),
    'piece length': pieceLength,
  };
  if (rng.chance(0.5)) {
    // Hybrid: the v1 fields over the padded layout (rarely with a file renamed or pads dropped).
    const layout = v2Layout(files, pl).filter((f) => !rng.chance(0.02));
    const total = layout.reduce((n, f) => n + f.length, 0);
    info.pieces = rng.bytes(Math.ceil(total / pl) * 20);
    if (single) info.length = files[0]!.length;
    else info.files = layout.map((f) => (f.pad ? { attr: 'p', length: f.length, path: f.path } : { length: f.length, path: rng.chance(0.02) ? ['renamed'] : f.path }));
  }
  if (bare) return info;
  // Raw 32-byte keys: encode() takes JS strings as UTF-8, so these go through latin1 below.
  return { info, 'piece layers': layers };
}

/** encode() with the `piece layers` keys written as their raw bytes. */
function encodeV2(top: Record<string, unknown>): Uint8Array {
  const layers = top['piece layers'] as Record<string, Uint8Array> | undefined;
  if (!layers) return encode(top);
  const marker = new Map<string, Uint8Array>();
  const keyed: Record<string, Uint8Array> = {};
  Object.entries(layers).forEach(([k, v], i) => {
    const stand = `\u0001${String(i).padStart(31, '0')}`;
    marker.set(stand, new Uint8Array([...k].map((c) => c.charCodeAt(0))));
    keyed[stand] = v;
  });
  const bytes = encode({ ...top, 'piece layers': keyed });
  // Same-length stand-ins (32 bytes) swapped for the real keys; the dictionary order may then be
  // unsorted, which the parser must take as it does any key order.
  let text = Buffer.from(bytes).toString('latin1');
  for (const [stand, key] of marker) text = text.replace(stand, Buffer.from(key).toString('latin1'));
  return new Uint8Array(Buffer.from(text, 'latin1'));
}

function checkMeta(m: Metainfo, infoBytes: Uint8Array): void {
  const v2 = m.version === 'v2' || m.version === 'hybrid';
  if (m.version === 'v2') check(toHex(sha256(infoBytes)).slice(0, 40) === m.infoHashHex && toHex(m.infoHash) === m.infoHashHex, 'a v2 torrent id is not its truncated SHA-256');
  else check(toHex(sha1(infoBytes)) === m.infoHashHex && toHex(m.infoHash) === m.infoHashHex, 'infohash is not the SHA-1 of the info bytes');
  if (v2) check(toHex(sha256(infoBytes)) === m.infoHashV2Hex, 'v2 infohash is not the SHA-256 of the info bytes');
  check(Buffer.compare(m.infoBytes, infoBytes) === 0, 'infoBytes differ from the info span of the input');
  check(Number.isSafeInteger(m.length) && m.length >= 0, 'length is not a safe non-negative integer');
  check(m.pieceLength > 0 && m.pieceCount === Math.ceil(m.length / m.pieceLength), 'piece count does not match length');
  check(m.pieceHashes.length === (m.version === 'v2' ? 0 : m.pieceCount * 20), 'piece hashes do not match the piece count');
  if (v2) {
    check(m.pieceLength >= 16384 && (m.pieceLength & (m.pieceLength - 1)) === 0, 'v2 piece length not a power of two >= 16 KiB');
    for (const f of m.files) {
      if (f.pad) continue;
      check(f.length === 0 || (f.piecesRoot?.length === 32 && f.offset % m.pieceLength === 0), 'a v2 file without a root or off a piece boundary');
      const layer = f.piecesRoot && m.pieceLayers?.get(toHex(f.piecesRoot));
      if (layer) check(pieceLayerProblem(f, layer, m.pieceLength) === undefined, 'a piece layer that does not prove its root was kept');
    }
  }
  check(m.files.length > 0, 'no files');
  let offset = 0;
  const paths = new Set<string>();
  for (const f of m.files) {
    check(f.offset === offset && Number.isSafeInteger(f.length) && f.length >= 0, 'file offsets are not contiguous');
    offset += f.length;
    check(f.path.length > 0, 'empty file path');
    for (const c of [m.name, ...f.path]) {
      // Cleaned as libtorrent cleans them (issue 43): never empty, '.', '..' or holding a separator
      // or NUL. A name of spaces or "C:" is a name on POSIX, and storage joins below its own root.
      check(c !== '' && c !== '.' && c !== '..' && !/[/\\\0]/.test(c), `unsafe path component ${JSON.stringify(c.slice(0, 40))}`);
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
    // Decoded as the parser does: keys it does not read are skipped (a repeated unknown key is no
    // reason to refuse a torrent), so the info span is found the same way.
    const span = decode(input, { spanOf: 'info', shape: { info: {} }, allowTrailing: true }).span!;
    checkMeta(m, input.subarray(span.start, span.end));
    // Re-encoding must keep the infohash and the fields (the node stores and serves this form).
    const again = parseTorrent(encodeTorrent(m));
    check(again.infoHashHex === m.infoHashHex, 'encodeTorrent changed the infohash');
    const layers = (x: Metainfo) => [...(x.pieceLayers ?? new Map()).entries()].map(([k, v]) => k + toHex(v)).sort();
    const fields = (x: Metainfo) => JSON.stringify([x.name, x.files, x.announce, x.urlList, x.comment, x.createdBy, x.creationDate, x.private, x.version, x.infoHashV2Hex, layers(x)]);
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
    dict: [
      'i0e', 'i-1e', 'le', 'de', '4:name', '5:files', '4:path', '6:length', '12:piece length', '6:pieces', '4:info', '2:..', '1:/', '3:C:x', '4:attr1:p', 'l2:..e',
      '9:file tree', '12:meta version', 'i2e', '11:pieces root', '12:piece layers', '0:', 'd0:d6:lengthi1eee', '32:',
    ],
    maxLen: 512 * 1024,
  },
  seeds: seedTorrents,
  fresh: (rng) => {
    if (rng.chance(0.0002)) return hugeTorrent(rng.pick([MAX_FILES, MAX_FILES + 1]));
    if (rng.chance(0.35)) return encodeV2(freshV2(rng, rng.chance(0.2)));
    return encode(freshTorrent(rng, rng.chance(0.25)));
  },
  run: (input) =>
    judge(
      () => runOne(input),
      (e) => e instanceof MetainfoError,
    ),
};
