// File paths from an untrusted .torrent, made safe the way libtorrent makes them (so a torrent
// opens with the same files in Cascade as in libtorrent, issue 43): each path element is cleaned
// rather than refused (torrent_info.cpp, sanitize_append_path_element: separators and the
// direction-changing code points dropped, control characters and invalid UTF-8 turned into '_',
// '.' and '..' dropped, an empty element made '_', an element cut at 240 bytes keeping its
// extension), names two files share are made unique as libtorrent renames them
// (resolve_duplicate_filenames: "a.txt" → "a.1.txt", compared without ASCII case, directories
// first), and BEP 47 symlinks may only point at the torrent's own files and folders
// (file_storage::sanitize_symlinks; any other target becomes the link itself). Nothing of what
// is left can climb out of, or root, the download folder. Elements a torrent normally holds pass
// one regular-expression test and are not copied.

import type { FileEntry } from '../types.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// Anything that makes an element need the byte-wise treatment: a separator, NUL, a control character,
// a direction mark, or U+FFFD (decoded from invalid UTF-8, whose raw bytes libtorrent replaces
// its own way). Module-level: a regex literal inside the function is a new object per call.
const NEEDS_WORK = /[\0-\x1f/\\\u200e\u200f\u202a-\u202e\ufffd]/;
/** Elements longer than this (UTF-8 bytes) are cut, their extension kept. */
const MAX_ELEMENT = 240;
const DIRECTION_MARKS = new Set([0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x200e, 0x200f]);
const UNDERSCORE = 0x5f;
const DOT = 0x2e;

/**
 * One path element as it may be stored: the element itself when clean, else libtorrent's cleaned
 * form, undefined when nothing is left of it ('.', '..', only separators). Give the raw bytes when
 * the decoded text holds U+FFFD, so invalid UTF-8 is replaced byte for byte as libtorrent does.
 */
export function sanitizeElement(element: string | Uint8Array): string | undefined {
  if (typeof element === 'string') {
    // Under 80 UTF-16 units an element is under 240 UTF-8 bytes: no need to count them.
    if (isCleanElement(element)) return element;
    return sanitizeBytes(encoder.encode(element));
  }
  // Bytes that decode clean (no U+FFFD: valid UTF-8) are the element as it is.
  if (element.length < 240) {
    const text = decoder.decode(element);
    if (isCleanElement(text)) return text;
  }
  return sanitizeBytes(element);
}

/** True when `element` (decoded text) is kept as it is: callers skip the raw bytes then. */
export function isCleanElement(element: string): boolean {
  return element.length > 0 && element.length < 80 && !NEEDS_WORK.test(element) && element !== '.' && element !== '..';
}

/** Elements cleaned and joined, libtorrent's way: a path of which nothing is left is "_". */
export function sanitizePath(elements: readonly (string | Uint8Array)[]): string[] {
  const out: string[] = [];
  for (const e of elements) {
    const s = sanitizeElement(e);
    if (s !== undefined) out.push(s);
  }
  if (out.length === 0) out.push('_');
  return out;
}

function sanitizeBytes(el: Uint8Array): string | undefined {
  if (el.length === 0) return '_';
  if (el.length === 1 && el[0] === DOT) return undefined;
  const out: number[] = [];
  let added = 0;
  let dots = 0;
  let extensionFound = false;
  let len = 1;
  for (let i = 0; i < el.length; i += len) {
    const [cp, n] = codePoint(el, i);
    len = n;
    // NUL too: libtorrent's filter finds it in its (NUL-terminated) list of separators.
    if (cp === 0 || cp === 0x2f || cp === 0x5c || DIRECTION_MARKS.has(cp)) continue;
    if (cp < 32) {
      // invalid UTF-8 (-1) or a control character
      out.push(UNDERSCORE);
      added++;
      continue;
    }
    for (let k = i; k < i + n; k++) out.push(el[k]!);
    if (cp === DOT) dots++;
    added += n;
    if (added >= MAX_ELEMENT && !extensionFound) {
      // Cut here, but keep an extension found in the element's last 10 bytes.
      let dot = -1;
      for (let j = el.length - 1; j > Math.max(el.length - 10, i); j--) {
        if (el[j] === DOT) {
          dot = j;
          break;
        }
      }
      if (dot === -1) break;
      extensionFound = true;
      i = dot - n;
    }
  }
  if (added === dots && added <= 2) return undefined;
  return decoder.decode(new Uint8Array(out));
}

/** The code point at `i` and how many bytes it takes; -1 for an invalid sequence (libtorrent's
 *  parse_utf8_codepoint: a bad sequence is skipped whole, as its lead byte announces it). */
function codePoint(b: Uint8Array, i: number): [number, number] {
  const c = b[i]!;
  if (c < 0x80) return [c, 1];
  const n = c >> 5 === 0b110 ? 2 : c >> 4 === 0b1110 ? 3 : c >> 3 === 0b11110 ? 4 : c >> 2 === 0b111110 ? 5 : 0;
  if (n === 0) return [-1, 1];
  if (n > 4) return [-1, n];
  if (n > b.length - i) return [-1, b.length - i];
  let cp = c & (n === 2 ? 0x1f : n === 3 ? 0x0f : 0x07);
  for (let k = 1; k < n; k++) {
    const cc = b[i + k]!;
    if (cc < 0x80 || cc > 0xbf) return [-1, n];
    cp = (cp << 6) | (cc & 0x3f);
  }
  if ((n === 2 && cp < 0x80) || (n === 3 && cp < 0x800) || (n === 4 && cp < 0x10000)) return [-1, n];
  if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return [-1, n];
  return [cp, n];
}

/** ASCII-only lower case, as libtorrent compares names (é and É stay two names). */
function lower(s: string): string {
  // eslint-disable-next-line no-control-regex
  return /[^\0-\x7f]/.test(s) ? s.replace(/[A-Z]+/g, (m) => m.toLowerCase()) : s.toLowerCase();
}

/**
 * Renames, in place, every file whose path (without ASCII case) is a folder of the torrent or an
 * earlier file's: "a/b.txt" becomes "a/b.1.txt", then ".2", … as libtorrent renames them (pad
 * files of one size may share a name: they are never on disk). `name` is the torrent's folder
 * (libtorrent finds the extension in "<name>/<path>", so ".hidden" becomes ".1.hidden"). A cheap
 * pass finds out first whether anything collides at all.
 */
export function resolveDuplicates(files: FileEntry[], name: string, multiFile: boolean): void {
  if (files.length < 2) return;
  // Full Unicode lower case finds every name ASCII lower case would (and a few more): a superset
  // is enough to decide whether the exact pass below must run at all.
  const keys = new Set<string>();
  const pads = new Map<string, number>(); // pads of one size share a name freely
  const dirs = new Set<string>();
  let lastDir = '';
  let collides = false;
  for (const f of files) {
    const key = (f.path.length === 1 ? f.path[0]! : f.path.join('/')).toLowerCase();
    if (f.pad) {
      const size = pads.get(key);
      if (size !== undefined && size !== f.length) collides = true;
      pads.set(key, f.length);
    } else {
      if (keys.has(key)) collides = true;
      keys.add(key);
    }
    // Files of one folder come together: its parents were noted with the previous file.
    const cut = key.lastIndexOf('/');
    const dir = cut === -1 ? '' : key.slice(0, cut);
    if (dir !== lastDir && dir.length > 0) {
      for (let at = dir.indexOf('/'); at !== -1; at = dir.indexOf('/', at + 1)) dirs.add(dir.slice(0, at));
      dirs.add(dir);
    }
    lastDir = dir;
  }
  if (!collides) for (const k of keys) if (dirs.has(k) || pads.has(k)) collides = true;
  if (!collides) for (const k of pads.keys()) if (dirs.has(k)) collides = true;
  if (!collides) return;

  const exactDirs = new Set<string>();
  for (const f of files) for (let d = 1; d < f.path.length; d++) exactDirs.add(lower(f.path.slice(0, d).join('/')));
  const taken = new Map<string, number>(); // lower-case path → file index, or -1 for a folder
  for (const d of exactDirs) taken.set(d, -1);
  const prefix = multiFile ? `${name}/` : '';
  files.forEach((f, i) => {
    const key = lower(f.path.join('/'));
    const other = taken.get(key);
    if (other === undefined) {
      taken.set(key, i);
      return;
    }
    if (other >= 0 && f.pad && files[other]!.pad && f.length === files[other]!.length) return;
    const full = prefix + f.path.join('/');
    const ext = extension(full);
    const base = removeExtension(full);
    for (let n = 1; ; n++) {
      const renamed = `${base}.${n}${ext}`;
      const k = lower(renamed.slice(prefix.length));
      if (taken.has(k)) continue;
      taken.set(k, i);
      f.path = renamed.slice(prefix.length).split('/');
      return;
    }
  });
}

/** From the last '.' of the last element, or "" (libtorrent's extension()). */
function extension(p: string): string {
  for (let i = p.length - 1; i >= 0; i--) {
    if (p[i] === '/') break;
    if (p[i] === '.') return p.slice(i);
  }
  return '';
}

/** `p` without its extension (libtorrent's remove_extension: a leading dot is not one). */
function removeExtension(p: string): string {
  const dot = p.lastIndexOf('.');
  if (dot <= 0 || dot < p.lastIndexOf('/')) return p;
  return p.slice(0, dot);
}

/**
 * BEP 47 symlinks: each target (elements already cleaned, relative to the torrent's folder) is
 * kept when it names one of the torrent's files or folders, directly, relative to the link's own
 * folder, or through other links; any other target becomes the link's own path, which storage
 * creates no link for. libtorrent's rule (file_storage::sanitize_symlinks), so the two agree on
 * what each link points at.
 */
export function resolveSymlinks(files: FileEntry[]): void {
  const fileAt = new Map<string, number>();
  files.forEach((f, i) => fileAt.set(f.path.join('/'), i));
  const folders = new Set<string>(); // every folder holding a file, with its parents
  const direct = new Set<string>(); // folders holding a file directly
  for (const f of files) {
    const dir = f.path.slice(0, -1).join('/');
    direct.add(dir);
    for (let d = 1; d < f.path.length; d++) folders.add(f.path.slice(0, d).join('/'));
  }
  const dirLinks = new Map<string, string>();
  const later: number[] = [];
  files.forEach((f, i) => {
    if (!f.symlink) return;
    const self = f.path.join('/');
    const target = f.symlink.join('/');
    const file = fileAt.get(target);
    if (file !== undefined) {
      if (files[file]!.symlink) dirLinks.set(self, target);
      return;
    }
    if (folders.has(target)) {
      dirLinks.set(self, target);
      return;
    }
    // Relative to the link's own folder, as older torrents wrote them.
    const dir = f.path.slice(0, -1).join('/');
    const near = dir ? `${dir}/${target}` : target;
    if (direct.has(near) || folders.has(near)) {
      f.symlink = near.split('/');
      dirLinks.set(self, near);
      return;
    }
    const nearFile = fileAt.get(near);
    if (nearFile !== undefined) {
      f.symlink = near.split('/');
      if (files[nearFile]!.symlink) dirLinks.set(self, near);
      return;
    }
    dirLinks.set(self, target);
    later.push(i);
  });
  // Targets through other links: each folder on the way must exist or be a link to one.
  for (const i of later) {
    const f = files[i]!;
    let target = f.symlink!.join('/');
    const traversed = new Set<string>();
    let ok = true;
    for (let cut = target.indexOf('/', 1); cut !== -1; cut = target.indexOf('/', cut + 1)) {
      const branch = target.slice(0, cut);
      if (folders.has(branch)) continue;
      const via = dirLinks.get(branch);
      if (via === undefined || traversed.has(branch)) {
        ok = false;
        break;
      }
      traversed.add(branch);
      target = `${via}/${target.slice(cut + 1)}`;
      cut = 0;
    }
    if (!ok || (!fileAt.has(target) && !folders.has(target))) f.symlink = f.path.slice();
  }
}
