// Which of a torrent's files exist, learned from one readdir per folder instead of one stat per
// file: a fresh torrent of 100,000 files was 100,000 failing stat calls, each making an Error, and
// the promise, closure and path string per file held tens of MB.

import fs from 'node:fs/promises';
import path from 'node:path';
import type { Metainfo } from '../types.ts';

/** Runs fn over items with at most `limit` calls pending. */
export async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * For each of `files` (indices into a multi-file torrent under `root`), 1 when its folder lists
 * its name or cannot be listed (so a stat must tell), 0 when it is certainly absent.
 */
export async function listedFiles(meta: Metainfo, root: string, files: readonly number[], concurrency: number): Promise<Uint8Array> {
  const folders = new Map<string, number[]>();
  let last: string[] | undefined;
  let lastFolder: number[] = [];
  for (let k = 0; k < files.length; k++) {
    const parts = meta.files[files[k]!]!.path;
    // Files of one folder come together and share its (interned) name strings: no string per file.
    if (!last || !sameFolder(last, parts)) {
      const rel = parts.slice(0, -1).join(path.sep);
      lastFolder = folders.get(rel) ?? [];
      folders.set(rel, lastFolder);
      last = parts;
    }
    lastFolder.push(k);
  }
  const flags = new Uint8Array(files.length);
  await eachLimited([...folders], concurrency, async ([rel, ks]) => {
    let names: Set<string> | undefined;
    try {
      names = new Set(await fs.readdir(rel ? root + path.sep + rel : root));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      names = code === 'ENOENT' || code === 'ENOTDIR' ? new Set() : undefined;
    }
    for (const k of ks) {
      const parts = meta.files[files[k]!]!.path;
      flags[k] = !names || names.has(parts[parts.length - 1]!) ? 1 : 0;
    }
  });
  return flags;
}

function sameFolder(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length - 1; i++) if (a[i] !== b[i]) return false;
  return true;
}
