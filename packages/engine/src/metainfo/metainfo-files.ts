// A v1 `files` list (BEP 3) with its BEP 47 attributes, read one entry at a time (100,000 files
// cost tens of MB, not hundreds), and the torrent's name. Paths are cleaned as libtorrent cleans
// them (metainfo-paths.ts) rather than refused, so what libtorrent opens opens here the same way.

import { BencodeReader, decode, isDict, type BValue, type FieldValue, type Span } from '../encoding/bencode.ts';
import { bencoded, checkLength, fail } from './metainfo-checks.ts';
import { isCleanElement, sanitizeElement, sanitizePath } from './metainfo-paths.ts';
import type { TorrentLimits } from './limits.ts';
import type { FileEntry } from '../types.ts';

const FILE_FIELDS = { length: 'int', path: 'texts', 'path.utf-8': 'texts', attr: 'text', 'symlink path': 'texts' } as const;
const PAD_NAME = '_____padding_file_';

/** BEP 47 `attr` letters that matter here. */
export interface Attributes { pad: boolean; symlink: boolean; executable: boolean; hidden: boolean }

export function attributes(attr: unknown): Attributes {
  const s = typeof attr === 'string' ? attr : attr instanceof Uint8Array ? String.fromCharCode(...attr.subarray(0, 16)) : '';
  return { pad: s.includes('p'), symlink: s.includes('l'), executable: s.includes('x'), hidden: s.includes('h') };
}

/** The entry's flags on top of its path and size (only the ones set: most files have none). */
export function withAttributes(f: FileEntry, a: Attributes, symlink: string[] | undefined): FileEntry {
  if (a.pad) f.pad = true;
  if (a.executable) f.executable = true;
  if (a.hidden) f.hidden = true;
  if (symlink) f.symlink = symlink;
  return f;
}

/**
 * The torrent's name: `name.utf-8` or `name`, cleaned as one path element. undefined when nothing
 * is left of it (libtorrent then names a multi-file torrent by its infohash, and refuses a
 * single-file one).
 */
export function torrentName(info: Record<string, BValue>): string | undefined {
  const raw = info['name.utf-8'] instanceof Uint8Array ? info['name.utf-8'] : info['name'];
  if (!(raw instanceof Uint8Array)) return fail('name is missing or not a string');
  return sanitizeElement(raw);
}

const strings = (v: FieldValue | undefined) => (Array.isArray(v) ? v : undefined);

/** A list of strings from a decoded entry, as raw bytes (only read again when a path needs cleaning). */
function rawStrings(buf: Uint8Array, at: number, key: string, limits: TorrentLimits): Uint8Array[] {
  const { value } = bencoded(() => decode(buf, { offset: at, allowTrailing: true, maxDepth: limits.maxDecodeDepth }));
  const list = isDict(value) ? value[key] : undefined;
  return Array.isArray(list) ? list.filter((v): v is Uint8Array => v instanceof Uint8Array) : [];
}

/** Cleaned elements: the decoded strings as they are when all are clean, else the raw bytes cleaned. */
function cleaned(list: string[], buf: Uint8Array, at: number, key: string, limits: TorrentLimits, orUnderscore: boolean): string[] {
  let clean = true;
  for (const c of list) if (!isCleanElement(c)) clean = false;
  if (clean && list.length > 0) return list;
  const raw = list.some((c) => c.includes('\uFFFD')) ? rawStrings(buf, at, key, limits) : list;
  if (orUnderscore) return sanitizePath(raw);
  return raw.map((e) => sanitizeElement(e)).filter((e): e is string => e !== undefined);
}

/** The file list, one entry decoded at a time (the whole list was checked by the outer decode). */
export function parseFiles(buf: Uint8Array, span: Span, limits: TorrentLimits, name: string): { files: FileEntry[]; links: boolean } {
  if (buf[span.start] !== 0x6c) return fail('files is not a list');
  if (buf[span.start + 1] === 0x65) return fail('files list is empty');

  const files: FileEntry[] = [];
  // Folder names repeat across their files: one string each, not one per file.
  const folderNames = new Map<string, string>();
  const reader = new BencodeReader(buf, { maxDepth: limits.maxDecodeDepth, maxTokens: limits.maxDecodeTokens });
  const padName = name.includes(PAD_NAME);
  let offset = 0;
  let links = false;
  for (let i = 0, pos = span.start + 1; buf[pos] !== 0x65; i++, pos = reader.pos) {
    if (i >= limits.maxFiles) return fail(`more than ${limits.maxFiles} files, the limit (maxFiles)`);
    reader.pos = pos;
    const entry = bencoded(() => reader.fields(FILE_FIELDS));
    if (!entry) return fail(`file ${i} is not a dictionary`);
    const attr = entry['attr'];
    const a = attr === undefined || attr === null ? NO_ATTRIBUTES : attributes(attr);
    // A symlink takes no room in the payload, whatever length it claims (BEP 47, libtorrent).
    const length = a.symlink ? 0 : checkLength(entry['length'], 'length', i);
    const key = entry['path.utf-8'] !== undefined && entry['path.utf-8'] !== null ? 'path.utf-8' : 'path';
    const given = strings(entry[key]);
    let path: string[];
    if (given && given.length > 0) {
      path = cleaned(given, buf, pos, key, limits, true);
      for (let d = 0; d < path.length - 1; d++) {
        const known = folderNames.get(path[d]!);
        if (known === undefined) folderNames.set(path[d]!, path[d]!);
        else path[d] = known;
      }
    } else if (a.pad && !given) {
      // A pad needs no name: libtorrent files it under .pad/ by its size.
      path = ['.pad', String(length)];
    } else {
      return fail(`file ${i} path is missing, empty or not a list of strings`);
    }
    // BEP 47 marks padding with attr 'p' and puts it under `.pad/`; older writers (BitComet, early
    // libtorrent) only named it `_____padding_file_…`. Either way it is zeros that never reach disk.
    const pad = a.pad || path[0] === '.pad' || padName || path.some((c) => c.includes(PAD_NAME));
    let symlink: string[] | undefined;
    if (a.symlink) {
      const target = strings(entry['symlink path']);
      // Without a target (or with nothing left of it) it is an empty file, as libtorrent reads it.
      const t = target ? cleaned(target, buf, pos, 'symlink path', limits, false) : [];
      if (t.length > 0) symlink = t;
      if (symlink) links = true;
    }
    if (offset + length > Number.MAX_SAFE_INTEGER) return fail('total length is too large');
    const f: FileEntry = { path, length, offset };
    files.push(pad || a !== NO_ATTRIBUTES ? withAttributes(f, { ...a, pad }, symlink) : f);
    offset += length;
  }
  return { files, links };
}

const NO_ATTRIBUTES: Attributes = Object.freeze({ pad: false, symlink: false, executable: false, hidden: false });
