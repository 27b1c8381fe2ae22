// Which torrent owns which file on disk. Torrents may share a folder but never a file: a torrent
// whose file is another's (two torrents named "movie.mkv"), or would need another's file as its
// folder, must neither write it (a download over someone's finished data) nor delete it (removing
// "its" data). A torrent claims its files once its metainfo is known, before storage opens; a
// refused claim fails that torrent before any byte is written.

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
  name: string;
  files: string[];
  dirs: string[];
}

export class FileOwners {
  /** Absolute file path → infohash of its owner. */
  readonly #files = new Map<string, string>();
  /** Absolute folder path → infohashes with files below it (how many each). */
  readonly #dirs = new Map<string, Map<string, number>>();
  readonly #claims = new Map<string, Claim>();

  /** Claims every (non-padding) file of `meta` under savePath; throws FileConflictError naming the
   *  owner when another torrent has one of them. Returns the release function; claiming again is free. */
  claim(meta: Metainfo, savePath: string): () => void {
    const ih = meta.infoHashHex;
    const release = () => this.release(ih);
    if (this.#claims.has(ih)) return release;
    const base = path.resolve(savePath);
    const files = filePaths(meta, base).filter((_, i) => !meta.files[i]!.pad);
    const dirs = new Set<string>();
    for (const f of files) {
      for (let d = path.dirname(f); d.length > base.length && d.startsWith(base + path.sep); d = path.dirname(d)) dirs.add(d);
    }
    const rel = (p: string) => path.relative(base, p).split(path.sep).join('/');
    for (const f of files) {
      const owner = this.#files.get(f) ?? this.#otherUnder(f, ih);
      if (owner && owner !== ih) throw this.#conflict(rel(f), owner);
    }
    for (const d of dirs) {
      const owner = this.#files.get(d);
      if (owner && owner !== ih) throw this.#conflict(rel(d), owner);
    }
    this.#claims.set(ih, { name: meta.name, files, dirs: [...dirs] });
    for (const f of files) this.#files.set(f, ih);
    for (const d of dirs) {
      let m = this.#dirs.get(d);
      if (!m) this.#dirs.set(d, (m = new Map()));
      m.set(ih, (m.get(ih) ?? 0) + 1);
    }
    return release;
  }

  private release(ih: string): void {
    const c = this.#claims.get(ih);
    if (!c) return;
    this.#claims.delete(ih);
    for (const f of c.files) if (this.#files.get(f) === ih) this.#files.delete(f);
    for (const d of c.dirs) {
      const m = this.#dirs.get(d);
      m?.delete(ih);
      if (m && m.size === 0) this.#dirs.delete(d);
    }
  }

  #otherUnder(dir: string, ih: string): string | undefined {
    for (const owner of this.#dirs.get(dir)?.keys() ?? []) if (owner !== ih) return owner;
    return undefined;
  }

  #conflict(rel: string, owner: string): FileConflictError {
    const name = this.#claims.get(owner)?.name;
    return new FileConflictError(`"${rel}" already belongs to torrent ${name ? `"${name}" ` : ''}(${owner}): a torrent never writes another's files`);
  }
}
