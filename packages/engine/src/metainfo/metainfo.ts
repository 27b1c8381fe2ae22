// .torrent parsing (BEP 3, 12, 19, 27, 47; v2 and hybrid per BEP 52 with metainfo-v2.ts) and re-encoding. Input is untrusted: every field is
// type-checked, file paths are validated so nothing can escape the download directory, and what
// passes the limits (limits.ts) is built lean: keys we do not read are skipped unbuilt, and the file
// list is read one entry at a time, so 100,000 files cost tens of MB rather than hundreds.

import { decode, encode, isDict, listItemSpans, text } from '../encoding/bencode.ts';
import type { BDict, BValue, DecodeOptions, Shape, Span } from '../encoding/bencode.ts';
import { DEFAULT_TORRENT_LIMITS, torrentLimits, type TorrentLimits } from './limits.ts';
import { concatBytes, toHex } from '../encoding/hex.ts';
import { bencoded, checkLength, fail } from './metainfo-checks.ts';
import { parseFiles, torrentName } from './metainfo-files.ts';
import { resolveDuplicates, resolveSymlinks } from './metainfo-paths.ts';
import { checkPieceLayers, checkSortedKeys, checkV2PieceLength, encodePieceLayers, matchHybrid, parseFileTree, readPieceLayers, v2Layout, v2PieceCount } from './metainfo-v2.ts';
import { sha1 } from '../hashing/sha1.ts';
import { lastingCopy } from '../encoding/lasting-bytes.ts';
import { sharedTiers } from '../discovery/shared-tiers.ts';
import { sha256 } from '../hashing/sha256.ts';
import type { FileEntry, Metainfo } from '../types.ts';


export { checkComponent, MetainfoError } from './metainfo-checks.ts';

/** The largest piece Cascade makes a torrent with. */
export const MAX_PIECE_LENGTH = 256 * 1024 * 1024;
/** The largest piece a .torrent may have: libtorrent's limit (INT_MAX / 2), so what it opens opens here. */
export const MAX_PARSED_PIECE_LENGTH = 2 ** 30 - 1;
export const MAX_FILES = DEFAULT_TORRENT_LIMITS.maxFiles;
/** Tracker URLs kept from announce-list (the rest are dropped: each one is announced to). */
export const MAX_TRACKERS = 200;
/** Web seed URLs kept from url-list. */
export const MAX_WEB_SEEDS = 50;

const INFO_SHAPE: Shape = {
  name: true, 'name.utf-8': true, 'piece length': true, pieces: true, length: true, files: 'span', private: true,
  'meta version': true, 'file tree': 'span',
};
const TORRENT_SHAPE: Shape = {
  info: INFO_SHAPE, announce: true, 'announce-list': 'span', 'url-list': 'span', 'piece layers': 'span',
  comment: true, 'comment.utf-8': true, 'created by': true, 'creation date': true,
};

/** The parts of a .torrent that live outside `info` (and so are not covered by the infohash). */
export type OuterFields = Partial<Pick<Metainfo, 'announce' | 'urlList' | 'comment' | 'createdBy' | 'creationDate'>> & {
  /** BEP 52 `piece layers` (by pieces root hex). Given, every file longer than a piece must have a
   *  layer that hashes to its root; absent (metadata from a magnet), peers supply them later. */
  pieceLayers?: Map<string, Uint8Array>;
};


// A plain copy: the Metainfo must not pin the caller's (possibly huge) buffer, and Buffer#slice
// would return a view rather than a copy.
const copy = (b: Uint8Array): Uint8Array => new Uint8Array(b);
/** The info dict's copy the Metainfo keeps: a small one (a torrent of a few pieces) from a shared
 *  chunk, as its infohash is; a buffer of its own cost ~300 bytes beside ~150 (issue 64). */
const keep = (b: Uint8Array): Uint8Array => lastingCopy(b, MAX_KEPT_CHUNKED);
const MAX_KEPT_CHUNKED = 512;
const NO_LISTS = Object.freeze([]) as unknown as never[];
/** `created by` names one of a few programs: one string for each, not one per torrent. */
const programs = new Map<string, string>();
const MAX_PROGRAMS = 256;
function program(name: string | undefined): string | undefined {
  if (name === undefined || name.length > 100) return name;
  const had = programs.get(name);
  if (had !== undefined) return had;
  if (programs.size < MAX_PROGRAMS) programs.set(name, name);
  return name;
}

const decodeOrFail = (buf: Uint8Array, opts: DecodeOptions) => bencoded(() => decode(buf, opts));

const decodeLimits = (limits: TorrentLimits) => ({ maxDepth: limits.maxDecodeDepth, maxTokens: limits.maxDecodeTokens });

function checkSize(buf: Uint8Array, limits: TorrentLimits): void {
  if (buf.length > limits.maxTorrentBytes) {
    fail(`it is ${buf.length} bytes, more than the limit of ${limits.maxTorrentBytes} bytes (maxTorrentBytes)`);
  }
}

// One .torrent is parsed by several layers on its way in (the API checks it, the node looks for
// files another torrent owns, the session adds it): the same bytes object yields the same Metainfo,
// parsed once. Nothing mutates a Metainfo, and it holds no reference to the bytes.
const parsed = new WeakMap<Uint8Array, { limits: TorrentLimits; meta: Metainfo }>();

export function parseTorrent(buf: Uint8Array, limits: TorrentLimits = torrentLimits()): Metainfo {
  const known = parsed.get(buf);
  if (known?.limits === limits) return known.meta;
  const meta = parseTorrentBytes(buf, limits);
  parsed.set(buf, { limits, meta });
  return meta;
}

function parseTorrentBytes(buf: Uint8Array, limits: TorrentLimits): Metainfo {
  checkSize(buf, limits);
  // Bytes after the top-level dictionary are ignored, as libtorrent ignores them: some writers
  // leave a newline or padding there, and the infohash covers only `info` anyway.
  const { value, span, spans } = decodeOrFail(buf, { spanOf: 'info', shape: TORRENT_SHAPE, allowTrailing: true, ...decodeLimits(limits) });
  if (!isDict(value)) return fail('top level is not a dictionary');
  if (!isDict(value['info']) || !span) return fail('missing info dictionary');
  const infoBytes = keep(buf.subarray(span.start, span.end));
  const files = spans['info.files'];
  const outer = parseOuter(value, buf, spans);
  const layers = spans['piece layers'];
  // The layers given are checked against their files' roots; a missing one, or one that does not
  // hash to its root (dropped), comes from peers (hash requests), as for a magnet: libtorrent
  // reads them so. Cascade writes such a .torrent itself (encodeTorrent) for a magnet whose
  // layers are not all in yet.
  const given = layers && readPieceLayers(buf, layers);
  if (given) outer.pieceLayers = given;
  // The tree is read from the copy the Metainfo keeps: its pieces roots are views into it.
  const tree = spans['info.file tree'];
  const treeInInfo = tree && { buf: infoBytes, span: { start: tree.start - span.start, end: tree.end - span.start } };
  return buildMetainfo(value['info'], { kept: infoBytes, source: buf.subarray(span.start, span.end) }, outer, files && { buf, span: files }, limits, treeInInfo);
}

/** For metadata fetched over BEP 9: the caller has already checked the bytes hash to the infohash. */
export function parseInfoDict(infoBytes: Uint8Array, outer: OuterFields = {}, limits: TorrentLimits = torrentLimits()): Metainfo {
  checkSize(infoBytes, limits);
  const { value, spans } = decodeOrFail(infoBytes, { shape: INFO_SHAPE, ...decodeLimits(limits) });
  if (!isDict(value)) return fail('info is not a dictionary');
  const files = spans['files'];
  const tree = spans['file tree'];
  const kept = keep(infoBytes);
  return buildMetainfo(value, { kept, source: infoBytes }, outer, files && { buf: infoBytes, span: files }, limits, tree && { buf: kept, span: tree });
}

type Located = { buf: Uint8Array; span: Span };
/** The info dictionary's bytes: the copy the Metainfo keeps, and the bytes it was decoded from. */
type InfoBytes = { kept: Uint8Array; source: Uint8Array };

/** `v` (a byte string decoded from `info.source`) as a view into the kept copy: a Metainfo's piece
 *  hashes cost no buffer of their own (10,000 torrents: 10,000 fewer ArrayBuffers). */
function inKept(v: Uint8Array, info: InfoBytes): Uint8Array {
  const at = v.byteOffset - info.source.byteOffset;
  if (v.buffer !== info.source.buffer || at < 0 || at + v.length > info.kept.length) return copy(v);
  return info.kept.subarray(at, at + v.length);
}

function buildMetainfo(info: BDict, bytes: InfoBytes, outer: OuterFields, fileList: Located | undefined, limits: TorrentLimits, fileTree?: Located): Metainfo {
  // BEP 52: the version is checked before anything else, so a newer format gets a message saying so.
  const metaVersion = info['meta version'];
  if (metaVersion !== undefined && metaVersion !== 2) return fail(`meta version ${metaVersion} is not supported (this client reads BitTorrent v1 and v2)`);
  // Cleaned as libtorrent cleans it; nothing left of it, a folder is named by the infohash.
  const cleanName = torrentName(info);
  let name = cleanName ?? toHex(sha1(bytes.kept));

  const pieceLength = info['piece length'];
  if (typeof pieceLength !== 'number' || !Number.isInteger(pieceLength) || pieceLength <= 0 || pieceLength > MAX_PARSED_PIECE_LENGTH) {
    return fail(`piece length must be a positive integer no larger than ${MAX_PARSED_PIECE_LENGTH}`);
  }

  let v2: ReturnType<typeof parseFileTree> | undefined;
  if (metaVersion === 2) {
    checkV2PieceLength(pieceLength);
    if (!fileTree) return fail('meta version 2 without a file tree');
    // libtorrent refuses a v2 info dictionary whose keys are out of order or repeated.
    checkSortedKeys(bytes.kept);
    v2 = parseFileTree(fileTree.buf, fileTree.span, limits, fileList !== undefined);
    if (info['pieces'] === undefined) return buildV2Only(info, bytes.kept, outer, limits, name, pieceLength, v2);
  }

  const pieceHashes = info['pieces'];
  if (!(pieceHashes instanceof Uint8Array)) return fail('pieces is missing or not a byte string');
  if (pieceHashes.length % 20 !== 0) return fail('pieces length is not a multiple of 20');

  const pieceCount = pieceHashes.length / 20;
  if (pieceCount > limits.maxPieces) return fail(`${pieceCount} pieces, more than the limit of ${limits.maxPieces} pieces (maxPieces)`);

  const multiFile = fileList !== undefined;
  if (!multiFile && (cleanName === undefined || nameBytes(info) === 0)) return fail(`name is empty${cleanName === undefined ? ' once cleaned of separators and dots' : ''}`);
  const list = multiFile ? parseFiles(fileList.buf, fileList.span, limits, name) : { files: [{ path: [name], length: checkLength(info['length'], 'length'), offset: 0 }], links: false };
  let files = list.files;
  // A hybrid is single- or multi-file as its v1 fields say (a folder of one file has `files`), and
  // its files are the tree's (with their attributes), once the v1 list is found to match them.
  if (v2) files = matchHybrid(files, v2.files, pieceLength);
  if (multiFile) sanitizeLinks(files, name, v2 ? v2.links : list.links, v2?.mayCollide ?? true);
  const length = files.reduce((sum, f) => sum + f.length, 0);
  if (length === 0) return fail('it holds no data (every file is empty)');

  const expected = Math.ceil(length / pieceLength);
  if (pieceCount !== expected) {
    return fail(`has ${pieceCount} piece hashes but ${length} bytes at piece length ${pieceLength} need ${expected}`);
  }

  const infoBytes = bytes.kept;
  // Kept as long as the torrent: from a shared chunk (lasting-bytes.ts), not a buffer of its own.
  const infoHash = lastingCopy(sha1(infoBytes));
  return {
    infoHash,
    infoHashHex: toHex(infoHash),
    ...(v2 ? v2Fields(infoBytes, files, outer, pieceLength, 'hybrid') : {}),
    infoBytes,
    name,
    pieceLength,
    pieceHashes: inKept(pieceHashes, bytes),
    pieceCount,
    length,
    files,
    multiFile,
    ...commonFields(info, outer),
  };
}

/** A single file's name: libtorrent refuses an empty one where a folder's becomes "_". */
function nameBytes(info: BDict): number {
  const raw = info['name.utf-8'] instanceof Uint8Array ? info['name.utf-8'] : info['name'];
  return raw instanceof Uint8Array ? raw.length : 0;
}

/** libtorrent's order: links checked against the files as named, then names made unique. */
function sanitizeLinks(files: FileEntry[], name: string, links: boolean, mayCollide: boolean): void {
  if (links) resolveSymlinks(files);
  if (mayCollide) resolveDuplicates(files, name, true);
}

function commonFields(info: BDict, outer: OuterFields): Pick<Metainfo, 'private' | 'announce' | 'urlList' | 'comment' | 'createdBy' | 'creationDate'> {
  const priv = info['private'];
  return {
    private: typeof priv === 'number' && priv !== 0,
    // Shared empties (never changed: nothing mutates a Metainfo), not two arrays per torrent; and
    // one frozen copy of each tracker list, as the torrents hold theirs (a library's torrents from
    // one tracker name the same few URLs).
    announce: outer.announce?.length ? sharedTiers(outer.announce) : NO_LISTS,
    urlList: outer.urlList?.length ? outer.urlList : NO_LISTS,
    comment: outer.comment,
    createdBy: program(outer.createdBy),
    creationDate: outer.creationDate,
  };
}

function v2Fields(infoBytes: Uint8Array, files: FileEntry[], outer: OuterFields, pieceLength: number, version: 'v2' | 'hybrid') {
  const infoHashV2 = sha256(infoBytes);
  const given = outer.pieceLayers;
  return {
    version,
    infoHashV2,
    infoHashV2Hex: toHex(infoHashV2),
    pieceLayers: checkPieceLayers(files, given ?? new Map(), pieceLength),
  };
}

/** A v2-only torrent: its id is the truncated SHA-256, its files are laid out as a hybrid's. */
function buildV2Only(info: BDict, infoBytes: Uint8Array, outer: OuterFields, limits: TorrentLimits, name: string, pieceLength: number, v2: ReturnType<typeof parseFileTree>): Metainfo {
  const pieceCount = v2PieceCount(v2.files, pieceLength);
  if (pieceCount > limits.maxPieces) return fail(`${pieceCount} pieces, more than the limit of ${limits.maxPieces} pieces (maxPieces)`);
  // A lone file at the tree's root names the download, as libtorrent reads it.
  if (v2.single) name = v2.files[0]!.path[0]!;
  // A lone file gets no tail pad (libtorrent lists one; it only fills the last piece, which a v2
  // hash does not cover, so nothing on disk or on the wire differs).
  const files = v2Layout(v2.files, pieceLength);
  if (!v2.single) sanitizeLinks(files, name, v2.links, v2.mayCollide);
  if (files.every((f) => f.length === 0)) return fail('it holds no data (every file is empty)');
  const fields = v2Fields(infoBytes, files, outer, pieceLength, 'v2');
  const infoHash = lastingCopy(fields.infoHashV2.subarray(0, 20));
  return {
    infoHash,
    infoHashHex: toHex(infoHash),
    ...fields,
    infoBytes,
    name,
    pieceLength,
    pieceHashes: new Uint8Array(0),
    pieceCount,
    length: files.reduce((n, f) => n + f.length, 0),
    files,
    multiFile: !v2.single,
    ...commonFields(info, outer),
  };
}

function utf8Field(dict: BDict, key: string): string | undefined {
  return text(dict[`${key}.utf-8`]) ?? text(dict[key]);
}



// Outer fields are advisory (not hashed), so malformed ones are dropped instead of failing the
// torrent, and so are trackers and web seeds past MAX_TRACKERS / MAX_WEB_SEEDS: the lists are read
// item by item from their spans, never built whole.
function parseOuter(top: BDict, buf: Uint8Array, spans: Record<string, Span>): OuterFields {
  const seen = new Set<string>();
  const tracker = (v: BValue | undefined): string | undefined => {
    const url = text(v)?.trim();
    if (!url || seen.has(url)) return undefined;
    seen.add(url);
    return url;
  };
  // Only strings are built: a list where a URL belongs could hold anything.
  const item = (s: Span): BValue | undefined =>
    buf[s.start]! >= 0x30 && buf[s.start]! <= 0x39 ? decode(buf, { offset: s.start, allowTrailing: true }).value : undefined;

  let announce: string[][] = [];
  const list = spans['announce-list'];
  for (const tierSpan of list ? listItemSpans(buf, list.start, MAX_TRACKERS) : []) {
    if (seen.size >= MAX_TRACKERS) break;
    const urls = listItemSpans(buf, tierSpan.start, MAX_TRACKERS - seen.size)
      .map((s) => tracker(item(s)))
      .filter((u): u is string => u !== undefined);
    if (urls.length > 0) announce.push(urls);
  }
  // BEP 12: a usable announce-list replaces `announce`.
  if (announce.length === 0) {
    const single = tracker(top['announce']);
    announce = single ? [[single]] : [];
  }

  const urlSpan = spans['url-list'];
  const urlItems = !urlSpan ? [] : buf[urlSpan.start] === 0x6c ? listItemSpans(buf, urlSpan.start, MAX_WEB_SEEDS) : [urlSpan];
  const urlList = urlItems
    .map((s) => text(item(s))?.trim())
    .filter((u): u is string => !!u);

  const date = top['creation date'];
  return {
    announce,
    urlList: [...new Set(urlList)],
    comment: utf8Field(top, 'comment'),
    createdBy: text(top['created by']),
    creationDate: typeof date === 'number' ? date : undefined,
  };
}

/** A v2 torrent's layers, as many as it has: a partial set parses again, the rest coming from
 *  peers. An empty dict when no file needs one (as libtorrent writes it); no key when none of
 *  those that need one is known (a magnet's metadata alone, as before). */
function knownLayers(meta: Metainfo): Map<string, Uint8Array> | undefined {
  if (meta.version !== 'v2' && meta.version !== 'hybrid') return undefined;
  const layers = meta.pieceLayers ?? new Map<string, Uint8Array>();
  if (layers.size === 0 && meta.files.some((f) => f.piecesRoot && f.length > meta.pieceLength)) return undefined;
  return layers;
}

/** A full .torrent; `infoBytes` goes in verbatim so the infohash cannot drift through re-encoding. */
export function encodeTorrent(meta: Metainfo): Uint8Array {
  const trackers = meta.announce.flat();
  const fields: [string, unknown][] = [
    ['announce', trackers[0]],
    ['announce-list', trackers.length > 1 ? meta.announce.filter((t) => t.length > 0) : undefined],
    ['comment', meta.comment],
    ['created by', meta.createdBy],
    ['creation date', meta.creationDate],
    ['info', meta.infoBytes],
    ['piece layers', knownLayers(meta)],
    ['url-list', meta.urlList.length > 0 ? meta.urlList : undefined],
  ]; // already in the byte order BEP 3 requires

  const parts: Uint8Array[] = [new Uint8Array([0x64])];
  for (const [key, value] of fields) {
    if (value === undefined) continue;
    const raw = key === 'info' ? meta.infoBytes : key === 'piece layers' ? encodePieceLayers(value as Map<string, Uint8Array>) : encode(value);
    parts.push(encode(key), raw);
  }
  parts.push(new Uint8Array([0x65]));
  return concatBytes(parts);
}
