// Which torrent owns which file on disk. Torrents may share a folder but never a file: a torrent
// whose file is another's (two torrents named "movie.mkv"), or would need another's file as its
// folder, must neither write it (a download over someone's finished data) nor delete it (removing
// "its" data). A torrent claims its files once its metainfo is known, before storage opens; a
// refused claim fails that torrent before any byte is written.
//
// Only torrents whose roots meet can share a file: one's root (its file, or its folder) is the
// other's, or lies inside it. So a claim is kept by its root alone, and the files of two torrents
// are compared only when their roots meet (two torrents saved into one folder under one name).
// Keeping every file's absolute path instead cost ~10 MB and ~60 MB of garbage to add a torrent
// of 100,000 files (issue 44, item 9).

import path from 'node:path';
import type { Metainfo } from '../types.ts';
import { filePaths } from './fs-storage.ts';

export class FileConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FileConflictError';
  }
}

interface Claim {
  meta: Metainfo;
  /** The absolute save path the torrent claimed under. */
  base: string;
  /** Its file (single-file torrents) or folder. */
  root: string;
}

/** One torrent's files and folders on disk, for comparing two whose roots meet. */
interface Layout {
  files: string[];
  dirs: Set<string>;
}

export class FileOwners {
  readonly #claims = new Map<string, Claim>();
  /** Absolute root → the torrent with exactly that root, or the torrents when several have it
   *  (nearly every root has one: a Set each cost some 400 bytes a torrent at 10,000). */
  readonly #roots = new Map<string, string | Set<string>>();
  /** Absolute folder → how many torrents' roots lie somewhere inside it. Which ones is asked only
   *  when a torrent's root is such a folder (rare): the claims are scanned then. A Set of the
   *  torrents for each folder above a library cost 0.33 MB a folder at 10,000 (issue 64). */
  readonly #below = new Map<string, number>();
  /** The last save path resolved and its absolute form: one string for a library's many claims. */
  #lastSave: [string, string] = ['', ''];

  /** Claims every (non-padding) file of `meta` under savePath; throws FileConflictError naming the
   *  owner when another torrent has one of them. Returns the release function; claiming again is free. */
  claim(meta: Metainfo, savePath: string): () => void {
    const ih = meta.infoHashHex;
    const release = () => this.release(ih);
    if (this.#claims.has(ih)) return release;
    if (this.#lastSave[0] !== savePath) this.#lastSave = [savePath, path.resolve(savePath)];
    const base = this.#lastSave[1];
    const mine: Claim = { meta, base, root: path.resolve(base, meta.name) };
    // Torrents whose roots meet ours: the same root, roots inside ours, roots that hold ours.
    const met = new Set<string>([...owners(this.#roots, mine.root), ...(this.#below.has(mine.root) ? this.#inside(mine.root) : [])]);
    for (const d of ancestors(mine.root)) for (const other of owners(this.#roots, d)) met.add(other);
    met.delete(ih);
    if (met.size > 0) {
      const layout = layoutOf(mine);
      for (const other of met) this.#compare(mine, layout, other);
    }
    this.#claims.set(ih, mine);
    addOwner(this.#roots, mine.root, ih);
    for (const d of ancestors(mine.root)) this.#below.set(d, (this.#below.get(d) ?? 0) + 1);
    return release;
  }

  /** The torrents whose root lies inside the folder `dir`. */
  *#inside(dir: string): Generator<string> {
    const prefix = dir + path.sep;
    for (const [ih, c] of this.#claims) if (c.root.startsWith(prefix)) yield ih;
  }

  private release(ih: string): void {
    const c = this.#claims.get(ih);
    if (!c) return;
    this.#claims.delete(ih);
    removeOwner(this.#roots, c.root, ih);
    for (const d of ancestors(c.root)) {
      const n = (this.#below.get(d) ?? 0) - 1;
      if (n > 0) this.#below.set(d, n);
      else this.#below.delete(d);
    }
  }

  /** Throws when a file of `mine` is a file of `owner`'s, or a folder of one is a file of the other. */
  #compare(mine: Claim, layout: Layout, owner: string): void {
    const theirs = layoutOf(this.#claims.get(owner)!);
    const taken = new Set(theirs.files);
    const rel = (p: string) => path.relative(mine.base, p).split(path.sep).join('/');
    for (const f of layout.files) if (taken.has(f) || theirs.dirs.has(f)) throw this.#conflict(rel(f), owner);
    for (const d of layout.dirs) if (taken.has(d)) throw this.#conflict(rel(d), owner);
  }

  #conflict(rel: string, owner: string): FileConflictError {
    const name = this.#claims.get(owner)?.meta.name;
    return new FileConflictError(`"${rel}" already belongs to torrent ${name ? `"${name}" ` : ''}(${owner}): a torrent never writes another's files`);
  }
}

/** A claim's files (padding left out) and the folders that hold them inside its save path. */
function layoutOf(c: Claim): Layout {
  const files = filePaths(c.meta, c.base).filter((_, i) => !c.meta.files[i]!.pad);
  const dirs = new Set<string>();
  for (const f of files) {
    for (let d = path.dirname(f); d.length > c.base.length && d.startsWith(c.base + path.sep) && !dirs.has(d); d = path.dirname(d)) dirs.add(d);
  }
  return { files, dirs };
}

/** The folders that hold `p`, nearest first, up to the file system's root. */
function* ancestors(p: string): Generator<string> {
  for (let d = path.dirname(p); ; d = path.dirname(d)) {
    yield d;
    if (path.dirname(d) === d) return;
  }
}

/** The torrents with exactly this root. */
function owners(m: Map<string, string | Set<string>>, root: string): Iterable<string> {
  const o = m.get(root);
  return o === undefined ? [] : typeof o === 'string' ? [o] : o;
}

function addOwner(m: Map<string, string | Set<string>>, root: string, ih: string): void {
  const o = m.get(root);
  if (o === undefined || o === ih) m.set(root, ih);
  else if (typeof o === 'string') m.set(root, new Set([o, ih]));
  else o.add(ih);
}

function removeOwner(m: Map<string, string | Set<string>>, root: string, ih: string): void {
  const o = m.get(root);
  if (o === ih) m.delete(root);
  else if (o !== undefined && typeof o !== 'string') {
    o.delete(ih);
    // Back to one owner: its id alone again.
    if (o.size === 1) m.set(root, o.values().next().value!);
    else if (o.size === 0) m.delete(root);
  }
}

