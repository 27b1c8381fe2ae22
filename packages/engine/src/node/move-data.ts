// Moves a torrent's files from one save path to another (torrent.move). Each file is renamed, or,
// across file systems (EXDEV), copied with its mtime kept (resume data compares size and mtime) and
// deleted only once every file has its copy. Any failure puts back what was moved and rejects: the
// data is never left half here, half there. Only the torrent's own files move (a folder the user
// also keeps other files in keeps them); the folders it leaves empty are removed.

import fs from 'node:fs/promises';
import path from 'node:path';
import type { StorageMover } from '../session/torrent-context.ts';
import type { SessionOptions } from '../api.ts';
import type { Metainfo } from '../types.ts';
import { filePaths, torrentRoot } from './fs-storage.ts';
import { makeDirs } from './make-dirs.ts';

interface Moved {
  from: string;
  to: string;
  copied: boolean;
}

export const fsStorageMover: StorageMover = {
  resolve: (savePath) => path.resolve(savePath),
  move: moveTorrentFiles,
};

/** The session's mover with SessionOptions.moveData around each move; a rename (files given new
 *  names where they are) stays the files' own. */
export function moverWith(moveData: NonNullable<SessionOptions['moveData']>): StorageMover {
  return {
    resolve: fsStorageMover.resolve,
    move: (meta, from, to, toMeta) => (toMeta ? moveTorrentFiles(meta, from, to, toMeta) : moveData(meta, from, to, () => moveTorrentFiles(meta, from, to))),
  };
}

/** `toMeta`: the same torrent with files renamed (torrent.rename): each file goes to its new name;
 *  files whose path does not change stay put. */
export async function moveTorrentFiles(meta: Metainfo, fromSavePath: string, toSavePath: string, toMeta: Metainfo = meta): Promise<void> {
  const sources = filePaths(meta, fromSavePath);
  const targets = filePaths(toMeta, toSavePath);
  const pairs: [string, string][] = [];
  for (let i = 0; i < sources.length; i++) {
    if (!meta.files[i]!.pad && sources[i] !== targets[i]) pairs.push([sources[i]!, targets[i]!]);
  }
  await moveFiles(pairs, toSavePath, () => removeEmptyDirs(torrentRoot(meta, toSavePath), toSavePath, meta.multiFile));
  await removeEmptyDirs(torrentRoot(meta, fromSavePath), fromSavePath, meta.multiFile);
}

/**
 * Moves each file [from, to] that exists into `toSavePath`: never over a file already there (that
 * refuses the move before anything is touched); on a failure once moving began, what moved is put
 * back, `undo` runs (to remove the folders made) and it rejects with the reason.
 */
export async function moveFiles(pairs: readonly (readonly [string, string])[], toSavePath: string, undo: () => Promise<void>): Promise<void> {
  const present: (readonly [string, string])[] = [];
  for (const pair of pairs) if (await exists(pair[0])) present.push(pair);
  // Never overwrite: a file already at the destination is someone else's data.
  for (const [, to] of present) {
    if (await exists(to)) throw new Error(`${to} already exists`);
  }
  try {
    await makeDirs(toSavePath);
  } catch (err) {
    throw new Error(`cannot create the folder: ${reason(err)}`);
  }
  const moved: Moved[] = [];
  try {
    for (const [from, to] of present) moved.push(await moveFile(from, to));
  } catch (err) {
    await putBack(moved);
    await undo();
    throw new Error(reason(err));
  }
  for (const m of moved) if (m.copied) await fs.rm(m.from, { force: true }).catch(() => {});
}

async function moveFile(from: string, to: string): Promise<Moved> {
  await makeDirs(path.dirname(to));
  try {
    await fs.rename(from, to);
    return { from, to, copied: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
  }
  try {
    await fs.copyFile(from, to, fs.constants.COPYFILE_EXCL);
    const st = await fs.stat(from);
    // Seconds with their fraction, not the Date objects: those round to the nearest millisecond
    // and resume data keeps the mtime floored to one, so a copy made 364.6 ms read back as 365 and
    // every piece was hashed again at the next start.
    await fs.utimes(to, st.atimeMs / 1000, st.mtimeMs / 1000);
  } catch (err) {
    await fs.rm(to, { force: true }).catch(() => {});
    throw err;
  }
  return { from, to, copied: true };
}

async function putBack(moved: Moved[]): Promise<void> {
  for (const m of moved.reverse()) {
    if (m.copied) await fs.rm(m.to, { force: true }).catch(() => {});
    else await fs.rename(m.to, m.from).catch(() => {});
  }
}

/** Removes the torrent's folder (multi-file) and the folders under it that are now empty. */
export async function removeEmptyDirs(root: string, savePath: string, multiFile: boolean): Promise<void> {
  if (!multiFile) return;
  const prune = async (dir: string): Promise<void> => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) await prune(path.join(dir, e.name));
    if (dir.startsWith(path.resolve(savePath) + path.sep)) await fs.rmdir(dir).catch(() => {});
  };
  await prune(root);
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch {
    return false;
  }
}

function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'EACCES' || e?.code === 'EPERM') return `permission denied (${e.path ?? ''})`.replace(' ()', '');
  if (e?.code === 'ENOSPC') return 'no space left on the destination';
  if (e?.code === 'ENOTDIR') return 'a part of that path is a file, not a folder';
  if (e?.code === 'ENOENT' || e?.code === 'EROFS') return `the file system refused (${e.code})`;
  return e?.message ?? String(err);
}
