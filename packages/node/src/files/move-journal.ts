// A move's journal (issue 63: a crash at any instant). Moving a torrent's data renames its files one
// by one (copies them across file systems) and only then stores the new save path; a node killed in
// between had part of the files in the new folder and a record naming the old one, so it found those
// pieces missing, fetched them again into the old folder and left the moved ones behind. So before
// the first file moves, `<state dir>/moves/<infohash>.json` names both folders and the files; it goes
// once the new save path is stored. At the next start, before any torrent loads, a journal whose
// torrent is still recorded at the old folder is undone (its files put back: the move was never
// acknowledged), one whose torrent is recorded at the new folder is only dropped (it finished).

import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { lstat, readFile, readdir, rename, rm, rmdir } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { makeDirs } from '@cascade/engine/make-dirs';
import { moveFiles } from '@cascade/engine/move-files';
import type { Metainfo } from '../core/engine.ts';

interface Journal {
  infoHash: string;
  from: string;
  to: string;
  /** Each file's path below the save path (the torrent's folder first, for a folder). */
  files: string[];
}

const dirOf = (stateDir: string) => join(stateDir, 'moves');
const fileOf = (stateDir: string, infoHash: string) => join(dirOf(stateDir), `${infoHash}.json`);

function relativePaths(meta: Pick<Metainfo, 'name' | 'multiFile' | 'files'>): string[] {
  if (!meta.multiFile) return [meta.name];
  return meta.files.filter((f) => !f.pad).map((f) => join(meta.name, ...f.path));
}

/** Every file below `from`/`root` (or `root` itself when it is one), relative to `from`. */
async function filesUnder(from: string, root: string): Promise<string[]> {
  const st = await lstat(join(from, root)).catch(() => undefined);
  if (!st) return [];
  if (!st.isDirectory()) return [root];
  const entries = await readdir(join(from, root), { recursive: true, withFileTypes: true });
  return entries.filter((e) => !e.isDirectory()).map((e) => join(e.parentPath, e.name).slice(from.length + 1));
}

/** Written (and fsynced: a power loss must not leave a moved file without its journal) before a
 *  move of `meta`'s files from `from` to `to` begins. `alsoRoots`: more files or folders below the
 *  save path that move with them (a private share's plaintext, which private-node moves first). */
export async function beginMove(stateDir: string, infoHash: string, meta: Pick<Metainfo, 'name' | 'multiFile' | 'files'>, from: string, to: string, alsoRoots: readonly string[] = []): Promise<void> {
  await makeDirs(dirOf(stateDir));
  const files = relativePaths(meta);
  for (const root of alsoRoots) files.push(...(await filesUnder(from, root)));
  // A file already at the destination is someone else's (the move refuses it before touching
  // anything): never named here, so an undo can never delete it.
  const mine: string[] = [];
  for (const rel of new Set(files)) if (!(await exists(join(to, rel)))) mine.push(rel);
  const journal: Journal = { infoHash, from, to, files: mine };
  const tmp = `${fileOf(stateDir, infoHash)}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify(journal));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  await rename(tmp, fileOf(stateDir, infoHash));
}

/** The move is over (done and stored, or failed and put back by the engine). */
export async function endMove(stateDir: string, infoHash: string): Promise<void> {
  await rm(fileOf(stateDir, infoHash), { force: true });
}

async function exists(p: string): Promise<boolean> {
  return lstat(p).then(() => true, () => false);
}

/**
 * At start, before the torrents load: undoes each move a crash cut short. `recordedAt` says where
 * the state puts a torrent now (undefined: removed). Returns a line per journal handled, for the log.
 */
export async function undoUnfinishedMoves(stateDir: string, recordedAt: (infoHash: string) => string | undefined): Promise<string[]> {
  let names: string[];
  try {
    names = (await readdir(dirOf(stateDir))).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const notes: string[] = [];
  for (const name of names) {
    const path = join(dirOf(stateDir), name);
    let j: Journal;
    try {
      j = JSON.parse(await readFile(path, 'utf8')) as Journal;
    } catch {
      await rm(path, { force: true });
      continue;
    }
    if (recordedAt(j.infoHash) === j.from) {
      const back: [string, string][] = [];
      for (const rel of j.files) {
        const [src, dst] = [join(j.from, rel), join(j.to, rel)];
        const [atOld, atNew] = [await exists(src), await exists(dst)];
        // Both: a copy across file systems was cut short (sources go only once every copy is made).
        if (atOld && atNew) await rm(dst, { force: true });
        else if (atNew) back.push([dst, src]);
      }
      try {
        await moveFiles(back, j.from, async () => {});
        notes.push(`a move of ${j.infoHash} to ${j.to} was cut short: its ${back.length} moved files are back in ${j.from}`);
      } catch (err) {
        notes.push(`a move of ${j.infoHash} to ${j.to} was cut short and could not be undone (${(err as Error).message}); files may be in both folders`);
      }
      await pruneEmpty(j.to, j.files);
    }
    await rm(path, { force: true });
  }
  return notes;
}

/** Removes the folders below `root` the files' way left empty. */
async function pruneEmpty(root: string, files: string[]): Promise<void> {
  const dirs = new Set<string>();
  for (const rel of files) for (let d = dirname(join(root, rel)); d.startsWith(root + sep); d = dirname(d)) dirs.add(d);
  for (const d of [...dirs].sort((a, b) => b.length - a.length)) await rmdir(d).catch(() => {});
}
