// BEP 52 (BitTorrent v2) parts of a .torrent: the `file tree`, `piece layers`, the v2 piece
// address space, and the hybrid check that the v1 fields describe the same files. Input is
// untrusted, as in metainfo.ts: the same limits and path checks apply, and every piece layer must
// hash up to its file's pieces root before it is believed.
//
// A v2 file starts on a piece boundary. The engine's storage and picker think in v1 terms (one
// byte stream cut into pieces), so a v2-only torrent gets the layout a hybrid would have: a pad
// entry after each non-empty file that does not end on a piece boundary, the last one included,
// unless the torrent has a single file: exactly where libtorrent 2.0 puts BEP 47 pad files in a
// hybrid torrent (file_storage::canonicalize).

import { BencodeReader, decode, dictItemSpans, isDict, type BValue, type Span } from '../encoding/bencode.ts';
import { concatBytes, equalBytes, fromHex, toHex } from '../encoding/hex.ts';
import { HASH_LENGTH, rootFromPieceLayer } from '../hashing/merkle.ts';
import { bencoded, checkLength, fail } from './metainfo-checks.ts';
import { attributes, withAttributes } from './metainfo-files.ts';
import { isCleanElement, sanitizeElement } from './metainfo-paths.ts';

const textDecoder = new TextDecoder();
import type { TorrentLimits } from './limits.ts';
import type { FileEntry } from '../types.ts';

export const MIN_V2_PIECE_LENGTH = 16 * 1024;

export type TreeFile = Omit<FileEntry, 'offset'>;


/** BEP 52 wants `piece length` a power of two of at least 16 KiB. */
export function checkV2PieceLength(pieceLength: number): void {
  if (pieceLength < MIN_V2_PIECE_LENGTH || (pieceLength & (pieceLength - 1)) !== 0) {
    fail(`piece length ${pieceLength} of a v2 torrent is not a power of two of at least 16 KiB`);
  }
}

/**
 * The files of a `file tree` in tree order (keys in byte order, as the bytes hold them). `single`
 * is true when the tree is one file at its root: a single-file torrent named by that key. `buf`
 * must be the Metainfo's own copy of the info dict: pieces roots are views into it. One pass
 * over bytes the outer decode has already checked: each directory is entered where it lies, so a
 * deep or wide tree costs its size once, not once per level. Names are cleaned as libtorrent
 * cleans them (metainfo-paths.ts): a key of which nothing is left adds no folder.
 */
export function parseFileTree(buf: Uint8Array, span: Span, limits: TorrentLimits, hasV1Files = false): { files: TreeFile[]; single: boolean; mayCollide: boolean; links: boolean } {
  if (buf[span.start] !== 0x64) return fail('file tree is not a dictionary');
  const reader = new BencodeReader(buf, { maxDepth: limits.maxDecodeDepth, maxTokens: limits.maxDecodeTokens });
  const files: TreeFile[] = [];
  const prefix: string[] = [];
  const where = (name?: string) => [...prefix, ...(name === undefined ? [] : [name])].join('/');

  // Walks the dictionary at `pos`; returns the offset just past it.
  let depth = 0;
  // Keys of a dictionary differ (checkSortedKeys), so two files can share a name only if cleaning
  // changed one or two differ only in case (or a real '.pad' folder meets the pads): noted here,
  // so a clean tree of 100,000 files skips the look for duplicates (metainfo-paths.ts).
  let mayCollide = false;
  let links = false;
  const walk = (pos: number): number => {
    pos++;
    let entries = 0;
    const names = new Set<string>();
    while (buf[pos] !== 0x65) {
      const key = keyAt(buf, pos);
      pos = key.end;
      entries++;
      if (key.end - key.start === 0) {
        if (depth === 0) fail('the file tree root is a file');
        if (files.length >= limits.maxFiles) fail(`more than ${limits.maxFiles} files, the limit (maxFiles)`);
        reader.pos = pos;
        // Skipped unbuilt by the outer decode, so duplicate keys are first seen here.
        if (prefix.length === 0) mayCollide = true;
        const f = treeFile(bencoded(() => reader.read(FILE_SHAPE)), prefix.length > 0 ? prefix.slice() : ['_'], files.length);
        if (f.symlink) links = true;
        files.push(f);
        pos = reader.pos;
        // The empty key sorts first: anything beside it makes the entry a directory as well.
        if (entries > 1 || buf[pos] !== 0x65) fail(`file tree entry "${where()}" is both a file and a directory`);
        continue;
      }
      // Leading separators go before the cleaning (libtorrent strips them first: "/a" is "a").
      let start = key.start;
      while (start < key.end && buf[start] === 0x2f) start++;
      const raw = buf.subarray(start, key.end);
      const text = textDecoder.decode(raw);
      const name = start === key.start && isCleanElement(text) ? text : sanitizeElement(raw);
      if (name !== text) mayCollide = true;
      if (name !== undefined) {
        const low = name.toLowerCase();
        if (names.has(low) || (depth === 0 && low === '.pad')) mayCollide = true;
        names.add(low);
      }
      if (buf[pos] !== 0x64) fail(`file tree entry "${where(name ?? '')}" is not a dictionary`);
      if (name !== undefined) prefix.push(name);
      depth++;
      pos = walk(pos);
      depth--;
      if (name !== undefined) prefix.pop();
    }
    return pos + 1;
  };
  walk(span.start);
  if (files.length === 0) fail('file tree has no files');
  return { files, single: !hasV1Files && files.length === 1 && files[0]!.path.length === 1, mayCollide, links };
}

const FILE_SHAPE = { length: true, 'pieces root': true, attr: true, 'symlink path': true } as const;

function isZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

/** A dictionary key's bytes at `pos` (input a decode has checked): `<digits>:<bytes>`. */
function keyAt(buf: Uint8Array, pos: number): { start: number; end: number } {
  let n = 0;
  while (buf[pos] !== 0x3a) n = n * 10 + buf[pos++]! - 0x30;
  return { start: pos + 1, end: pos + 1 + n };
}

function treeFile(value: BValue, path: string[], i: number): TreeFile {
  if (!isDict(value)) return fail(`file ${i} (${path.join('/')}) properties are not a dictionary`);
  const a = value['attr'] === undefined ? undefined : attributes(value['attr']);
  // BEP 52 files are aligned by the format itself: a pad in the tree is an error (libtorrent's too).
  if (a?.pad) return fail(`file ${i} (${path.join('/')}) has the pad attribute, which a v2 file tree may not have`);
  let symlink: string[] | undefined;
  if (a?.symlink) {
    const target = value['symlink path'];
    if (target !== undefined && !(Array.isArray(target) && target.every((e) => e instanceof Uint8Array))) {
      return fail(`file ${i} (${path.join('/')}) symlink path is not a list of strings`);
    }
    const t = (target ?? []).map((e) => sanitizeElement(e as Uint8Array)).filter((e): e is string => e !== undefined);
    if (t.length > 0) symlink = t;
  }
  // A symlink takes no room in the payload, whatever length it claims.
  const length = a?.symlink ? 0 : checkLength(value['length'], 'length', i);
  // Built whole, one object shape for the common file: 100,000 of them are read in loops later.
  const withAttr = (f: TreeFile) => (a ? withAttributes(f as FileEntry, a, symlink) : f);
  if (length === 0) return withAttr({ path, length });
  const root = value['pieces root'];
  if (!(root instanceof Uint8Array)) return fail(`file ${i} (${path.join('/')}) has no pieces root`);
  if (root.length !== HASH_LENGTH) return fail(`file ${i} (${path.join('/')}) pieces root is ${root.length} bytes, not 32`);
  if (isZero(root)) return fail(`file ${i} (${path.join('/')}) has a pieces root of zeros`);
  // A view into the info dict bytes the Metainfo keeps anyway: no buffer of its own per file.
  return withAttr({ path, length, piecesRoot: root });
}

/**
 * libtorrent refuses a v2 info dictionary with keys out of byte order or repeated anywhere in it
 * (bdecode's soft errors): two clients must not read two different trees from one infohash.
 * `buf` is bytes a decode has already checked.
 */
export function checkSortedKeys(buf: Uint8Array): void {
  let pos = 0;
  const value = (): void => {
    const c = buf[pos]!;
    if (c === 0x69) {
      pos = buf.indexOf(0x65, pos) + 1;
    } else if (c === 0x6c) {
      pos++;
      while (buf[pos] !== 0x65) value();
      pos++;
    } else if (c === 0x64) {
      pos++;
      let prev: { start: number; end: number } | undefined;
      while (buf[pos] !== 0x65) {
        const k = keyAt(buf, pos);
        if (prev && compareBytes(buf, prev, k) >= 0) fail(`a dictionary key in info is out of order or repeated (at byte ${k.start})`);
        prev = k;
        pos = k.end;
        value();
      }
      pos++;
    } else {
      pos = keyAt(buf, pos).end;
    }
  };
  value();
}

function compareBytes(buf: Uint8Array, a: { start: number; end: number }, b: { start: number; end: number }): number {
  const n = Math.min(a.end - a.start, b.end - b.start);
  for (let i = 0; i < n; i++) {
    const d = buf[a.start + i]! - buf[b.start + i]!;
    if (d !== 0) return d;
  }
  return a.end - a.start - (b.end - b.start);
}

/** The v1 byte layout of v2 files: with more than one file, each non-empty one padded to a piece boundary. */
export function v2Layout(files: readonly TreeFile[], pieceLength: number): FileEntry[] {
  const out: FileEntry[] = [];
  let offset = 0;
  files.forEach((f) => {
    out.push({ ...f, offset });
    offset += f.length;
    const gap = (pieceLength - (offset % pieceLength)) % pieceLength;
    if (f.length > 0 && gap > 0 && files.length > 1) {
      out.push({ path: ['.pad', String(gap)], length: gap, offset, pad: true });
      offset += gap;
    }
  });
  return out;
}

/** Pieces in the v2 address space: each file's own, rounded up. */
export function v2PieceCount(files: readonly TreeFile[], pieceLength: number): number {
  return files.reduce((n, f) => n + Math.ceil(f.length / pieceLength), 0);
}

/**
 * A hybrid's v1 `files` (or `length`) must be the tree's files, in tree order, at the offsets the
 * v2 layout gives them. Returns the tree's files in that layout (their attributes and pieces roots
 * with them), as libtorrent lists a hybrid's files; without the pad after the last file when the
 * v1 list has none (older libtorrent wrote hybrids so, and libtorrent accepts both).
 */
export function matchHybrid(v1: readonly FileEntry[], tree: readonly TreeFile[], pieceLength: number): FileEntry[] {
  const real = v1.filter((f) => !f.pad);
  if (real.length !== tree.length) {
    return fail(`hybrid torrent: the v1 file list has ${real.length} files but the file tree has ${tree.length}`);
  }
  const layout = v2Layout(tree, pieceLength);
  let k = 0;
  for (const f of v1) {
    if (f.pad) continue;
    while (layout[k]!.pad) k++;
    const t = layout[k++]!;
    const where = `hybrid torrent: v1 file "${f.path.join('/')}"`;
    if (f.path.join('/') !== t.path.join('/')) fail(`${where} is "${t.path.join('/')}" in the file tree (files in another order or named differently)`);
    if (f.length !== t.length) fail(`${where} is ${f.length} bytes but ${t.length} in the file tree`);
    if (f.offset !== t.offset && f.length > 0) fail(`${where} starts at byte ${f.offset}, not on the piece boundary ${t.offset} v2 needs (pad files missing)`);
  }
  // libtorrent's remove_tail_padding: the last pad, behind any empty files, when v1 lacks it.
  if (layout.length === v1.length + 1) {
    let f = layout.length - 1;
    while (f > 0 && layout[f]!.length === 0) f--;
    if (layout[f]!.pad) {
      const at = layout[f]!.offset;
      layout.splice(f, 1);
      for (let g = f; g < layout.length; g++) layout[g]!.offset = at;
    }
  }
  return layout;
}

/** `piece layers` as given (keys are raw 32-byte roots); checked against the files by
 *  checkPieceLayers. Not a dictionary, it is ignored (libtorrent reads no layers from it either). */
export function readPieceLayers(buf: Uint8Array, span: Span): Map<string, Uint8Array> | undefined {
  if (buf[span.start] !== 0x64) return undefined;
  const out = new Map<string, Uint8Array>();
  for (const { key, value } of dictItemSpans(buf, span.start, Infinity)) {
    if (key.length !== HASH_LENGTH) fail(`piece layers key of ${key.length} bytes is not a 32-byte pieces root`);
    const v = bencoded(() => decode(buf, { offset: value.start, allowTrailing: true }).value);
    if (!(v instanceof Uint8Array)) fail(`piece layer for ${toHex(key)} is not a byte string`);
    if ((v as Uint8Array).length % HASH_LENGTH !== 0) fail(`piece layer for ${toHex(key)} is ${(v as Uint8Array).length} bytes, not a whole number of 32-byte hashes`);
    if (out.has(toHex(key))) fail(`piece layers has the root ${toHex(key)} twice`);
    out.set(toHex(key), new Uint8Array(v as Uint8Array));
  }
  return out;
}

/** Why `layer` is not file `f`'s piece layer, or undefined when it is (it hashes up to the root). */
export function pieceLayerProblem(f: TreeFile, layer: Uint8Array, pieceLength: number): string | undefined {
  const pieces = Math.ceil(f.length / pieceLength);
  if (layer.length !== pieces * HASH_LENGTH) {
    return `piece layer of "${f.path.join('/')}" is ${layer.length} bytes, not 32 × ${pieces} pieces`;
  }
  if (!equalBytes(rootFromPieceLayer(layer, pieceLength), f.piecesRoot!)) {
    return `piece layer of "${f.path.join('/')}" does not hash to its pieces root`;
  }
  return undefined;
}

/**
 * The layers of the files longer than one piece, each verified against its pieces root. A layer
 * of the wrong size makes the .torrent invalid (as in libtorrent); a missing one, or one that does
 * not hash to its root (dropped), comes from peers later, as for a magnet. Layers for no file are
 * dropped.
 */
export function checkPieceLayers(files: readonly FileEntry[], given: Map<string, Uint8Array>, pieceLength: number): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const f of files) {
    if (!f.piecesRoot || f.length <= pieceLength) continue;
    const hex = toHex(f.piecesRoot);
    if (out.has(hex)) continue; // identical files share a root and a layer
    const layer = given.get(hex);
    if (!layer) continue;
    const pieces = Math.ceil(f.length / pieceLength);
    if (layer.length !== pieces * HASH_LENGTH) fail(`piece layer of "${f.path.join('/')}" is ${layer.length} bytes, not 32 × ${pieces} pieces`);
    if (pieceLayerProblem(f, layer, pieceLength)) continue;
    out.set(hex, layer);
  }
  return out;
}

/** `piece layers` for a .torrent: keys are raw roots, so it is encoded by hand (bencode's keys are text). */
export function encodePieceLayers(layers: Map<string, Uint8Array>): Uint8Array {
  const te = new TextEncoder();
  const parts: Uint8Array[] = [te.encode('d')];
  for (const hex of [...layers.keys()].sort()) {
    const layer = layers.get(hex)!;
    parts.push(te.encode('32:'), fromHex(hex), te.encode(`${layer.length}:`), layer);
  }
  parts.push(te.encode('e'));
  return concatBytes(parts);
}
