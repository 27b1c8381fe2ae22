// .torrent parsing (BEP 3, 12, 19, 27, 47) and re-encoding. Input is untrusted: every field is
// type-checked and file paths are validated so nothing can escape the download directory.

import { BencodeError, decode, encode, isDict, text } from './bencode.ts';
import type { BDict, BValue } from './bencode.ts';
import { toHex } from './hex.ts';
import { sha1 } from './sha1.ts';
import type { FileEntry, Metainfo } from './types.ts';

export class MetainfoError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MetainfoError';
  }
}

export const MAX_PIECE_LENGTH = 256 * 1024 * 1024;
export const MAX_FILES = 100_000;

/** The parts of a .torrent that live outside `info` (and so are not covered by the infohash). */
export type OuterFields = Partial<Pick<Metainfo, 'announce' | 'urlList' | 'comment' | 'createdBy' | 'creationDate'>>;

const fail = (why: string): never => {
  throw new MetainfoError(`invalid torrent: ${why}`);
};

// A plain copy: the Metainfo must not pin the caller's (possibly huge) buffer, and Buffer#slice
// would return a view rather than a copy.
const copy = (b: Uint8Array): Uint8Array => new Uint8Array(b);

function decodeOrFail(buf: Uint8Array, spanOf?: string) {
  try {
    return decode(buf, { spanOf });
  } catch (err) {
    if (err instanceof BencodeError) throw new MetainfoError(`invalid torrent: ${err.message}`, { cause: err });
    throw err;
  }
}

export function parseTorrent(buf: Uint8Array): Metainfo {
  const { value, span } = decodeOrFail(buf, 'info');
  if (!isDict(value)) return fail('top level is not a dictionary');
  if (!isDict(value['info']) || !span) return fail('missing info dictionary');
  const infoBytes = copy(buf.subarray(span.start, span.end));
  return buildMetainfo(value['info'], infoBytes, parseOuter(value));
}

/** For metadata fetched over BEP 9: the caller has already checked the bytes hash to the infohash. */
export function parseInfoDict(infoBytes: Uint8Array, outer: OuterFields = {}): Metainfo {
  const { value } = decodeOrFail(infoBytes);
  if (!isDict(value)) return fail('info is not a dictionary');
  return buildMetainfo(value, copy(infoBytes), outer);
}

function buildMetainfo(info: BDict, infoBytes: Uint8Array, outer: OuterFields): Metainfo {
  const name = checkComponent(utf8Field(info, 'name') ?? fail('name is missing or not a string'), 'name');

  const pieceLength = info['piece length'];
  if (typeof pieceLength !== 'number' || !Number.isInteger(pieceLength) || pieceLength <= 0 || pieceLength > MAX_PIECE_LENGTH) {
    return fail(`piece length must be a positive integer no larger than ${MAX_PIECE_LENGTH}`);
  }

  const pieceHashes = info['pieces'];
  if (!(pieceHashes instanceof Uint8Array)) return fail('pieces is missing or not a byte string');
  if (pieceHashes.length % 20 !== 0) return fail('pieces length is not a multiple of 20');

  const multiFile = info['files'] !== undefined;
  const files = multiFile ? parseFiles(info['files']) : [{ path: [name], length: checkLength(info['length'], 'length'), offset: 0 }];
  const length = files.reduce((sum, f) => sum + f.length, 0);

  const pieceCount = pieceHashes.length / 20;
  const expected = Math.ceil(length / pieceLength);
  if (pieceCount !== expected) {
    return fail(`has ${pieceCount} piece hashes but ${length} bytes at piece length ${pieceLength} need ${expected}`);
  }

  const priv = info['private'];
  const infoHash = sha1(infoBytes);
  return {
    infoHash,
    infoHashHex: toHex(infoHash),
    infoBytes,
    name,
    pieceLength,
    pieceHashes: copy(pieceHashes),
    pieceCount,
    length,
    files,
    multiFile,
    private: typeof priv === 'number' && priv !== 0,
    announce: outer.announce ?? [],
    urlList: outer.urlList ?? [],
    comment: outer.comment,
    createdBy: outer.createdBy,
    creationDate: outer.creationDate,
  };
}

function parseFiles(list: BValue | undefined): FileEntry[] {
  if (!Array.isArray(list)) return fail('files is not a list');
  if (list.length === 0) return fail('files list is empty');
  if (list.length > MAX_FILES) return fail(`more than ${MAX_FILES} files`);

  const files: FileEntry[] = [];
  // Two entries mapping to the same disk path (or a file that is also another's directory) would
  // overwrite each other; reject rather than silently rename.
  const taken = new Set<string>();
  const dirs = new Set<string>();
  let offset = 0;
  for (const [i, entry] of list.entries()) {
    if (!isDict(entry)) return fail(`file ${i} is not a dictionary`);
    const length = checkLength(entry['length'], `file ${i} length`);
    const path = filePath(entry, i);
    const attr = text(entry['attr']);
    const pad = attr !== undefined && attr.includes('p');
    if (!pad) {
      const key = path.join('/');
      if (taken.has(key) || dirs.has(key)) return fail(`file path "${key}" appears twice`);
      taken.add(key);
      for (let d = 1; d < path.length; d++) {
        const dir = path.slice(0, d).join('/');
        if (taken.has(dir)) return fail(`file path "${dir}" is both a file and a directory`);
        dirs.add(dir);
      }
    }
    if (offset + length > Number.MAX_SAFE_INTEGER) return fail('total length is too large');
    files.push(pad ? { path, length, offset, pad: true } : { path, length, offset });
    offset += length;
  }
  return files;
}

function filePath(entry: BDict, i: number): string[] {
  // Prefer path.utf-8 (written by clients whose `path` is in a legacy code page) when well-formed.
  const raw = listOfStrings(entry['path.utf-8']) ?? listOfStrings(entry['path']);
  if (!raw) return fail(`file ${i} path is missing or not a list of strings`);
  if (raw.length === 0) return fail(`file ${i} path is empty`);
  return raw.map((c) => checkComponent(c, `file ${i} path`));
}

function listOfStrings(v: BValue | undefined): string[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: string[] = [];
  for (const item of v) {
    const s = text(item);
    if (s === undefined) return undefined;
    out.push(s);
  }
  return out;
}

function utf8Field(dict: BDict, key: string): string | undefined {
  return text(dict[`${key}.utf-8`]) ?? text(dict[key]);
}

function checkLength(v: BValue | undefined, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    return fail(`${what} must be a non-negative integer`);
  }
  return v;
}

/** One path component (or the name); anything that could climb out of, or root, a path is fatal. */
export function checkComponent(c: string, what: string): string {
  if (c.trim() === '') return fail(`${what} has an empty component`);
  if (c === '.' || c === '..') return fail(`${what} contains '${c}'`);
  if (/[/\\\0]/.test(c)) return fail(`${what} component "${printable(c)}" contains a path separator or NUL`);
  if (/^[a-zA-Z]:/.test(c)) return fail(`${what} component "${printable(c)}" looks like a drive letter`);
  return c;
}

function printable(s: string): string {
  const short = s.length > 60 ? `${s.slice(0, 60)}…` : s;
  return short.replace(/[\0-\x1f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

// Outer fields are advisory (not hashed), so malformed ones are dropped instead of failing the torrent.
function parseOuter(top: BDict): OuterFields {
  const seen = new Set<string>();
  const tracker = (v: BValue | undefined): string | undefined => {
    const url = text(v)?.trim();
    if (!url || seen.has(url)) return undefined;
    seen.add(url);
    return url;
  };

  let announce: string[][] = [];
  const list = top['announce-list'];
  if (Array.isArray(list)) {
    for (const tier of list) {
      if (!Array.isArray(tier)) continue;
      const urls = tier.map(tracker).filter((u): u is string => u !== undefined);
      if (urls.length > 0) announce.push(urls);
    }
  }
  // BEP 12: a usable announce-list replaces `announce`.
  if (announce.length === 0) {
    const single = tracker(top['announce']);
    announce = single ? [[single]] : [];
  }

  const urlListRaw = top['url-list'];
  const urlList = (Array.isArray(urlListRaw) ? urlListRaw : [urlListRaw])
    .map((v) => text(v)?.trim())
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
    ['url-list', meta.urlList.length > 0 ? meta.urlList : undefined],
  ]; // already in the byte order BEP 3 requires

  const parts: Uint8Array[] = [new Uint8Array([0x64])];
  for (const [key, value] of fields) {
    if (value === undefined) continue;
    parts.push(encode(key), key === 'info' ? meta.infoBytes : encode(value));
  }
  parts.push(new Uint8Array([0x65]));

  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
