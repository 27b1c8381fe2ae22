// A move's journal (issue 63: a crash at any instant), which the node keeps in its state dir. Moving
// a torrent's data renames its files one by one (copies them across file systems) and only then
// stores the new save path; a node killed in between had part of the files in the new folder and a
// record naming the old one, so it found those pieces missing, fetched them again into the old
// folder and left the moved ones behind. So before the first file moves, `<state dir>/moves/
// <infohash>.json` names both folders and the files; it goes once the new save path is stored. At
// the next start, before any torrent loads, a journal whose torrent is still recorded at the old
// folder is undone (its files put back: the move was never acknowledged), one whose torrent is
// recorded at the new folder is only dropped (it finished).

import { closeSync, fsyncSync, linkSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { lstat, readFile, readdir, rm, rmdir } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { makeDirs } from './make-dirs.ts';
import { moveFiles } from './move-data.ts';
import type { Metainfo } from '../types.ts';

interface Journal {
  infoHash: string;
  from: string;
  to: string;
  /** Each file's path below the save path (the torrent's folder first, for a folder). */
  files: string[];
  /** A rename (from = to): each file's new path below the save path, by its index in `files`, and
   *  the names the record holds once the rename is stored (TorrentRecord.renamedFiles). */
  renamedTo?: string[];
  renames?: Record<number, string[]>;
}

/** Where the state puts a torrent now (undefined: removed). */
export interface RecordedAs {
  savePath: string;
  renamedFiles: Record<number, string[]> | null;
}

const dirOf = (stateDir: string) => join(stateDir, 'moves');
/** A move's and a rename's journals apart: one refused because the other is under way must not
 *  remove the other's. */
const fileOf = (stateDir: string, infoHash: string, kind: 'move' | 'rename' = 'move') => join(dirOf(stateDir), `${infoHash}${kind === 'rename' ? '.rename' : ''}.json`);

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
  writeJournal(fileOf(stateDir, infoHash), journal);
}

/** Written before a rename of files in place (torrent-edits.ts): `renames` by file index, as
 *  the record will hold them once stored; `meta` the torrent's files as they are named now. */
export async function beginRename(stateDir: string, infoHash: string, meta: Pick<Metainfo, 'name' | 'multiFile' | 'files'>, savePath: string, renames: Record<number, string[]>, stored: Record<number, string[]>): Promise<void> {
  await makeDirs(dirOf(stateDir));
  const files: string[] = [];
  const renamedTo: string[] = [];
  for (const [i, to] of Object.entries(renames)) {
    const f = meta.files[Number(i)];
    if (!f || f.pad) continue;
    files.push(meta.multiFile ? join(meta.name, ...f.path) : meta.name);
    renamedTo.push(meta.multiFile ? join(meta.name, ...to) : join(...to));
  }
  const journal: Journal = { infoHash, from: savePath, to: savePath, files, renamedTo, renames: stored };
  writeJournal(fileOf(stateDir, infoHash, 'rename'), journal);
}

/** Written whole and fsynced under a temporary name, then linked into place only when none is
 *  there: a second move (or rename) of the same torrent while one runs is refused here, before it
 *  could overwrite the running one's journal. */
function writeJournal(path: string, journal: Journal): void {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify(journal));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new Error('a move or rename of this torrent is already under way');
    throw err;
  } finally {
    unlinkSync(tmp);
  }
}

/** The rename's names are the record's (it was stored). */
function renameStored(j: Journal, rec: RecordedAs): boolean {
  return Object.entries(j.renames ?? {}).every(([i, to]) => JSON.stringify(rec.renamedFiles?.[Number(i)]) === JSON.stringify(to));
}

/** The move is over (done and stored, or failed and put back by the engine). */
export async function endMove(stateDir: string, infoHash: string, kind: 'move' | 'rename' = 'move'): Promise<void> {
  await rm(fileOf(stateDir, infoHash, kind), { force: true });
}

/** What moveJournalled throws when the data could not move: it stays where it was. */
export class MoveFailed extends Error {
  constructor(cause: unknown) {
    super(`moving the data failed; it stays where it was: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'MoveFailed';
  }
}

/** A torrent whose data moves (the engine's Torrent). */
interface Movable {
  readonly metainfo: Pick<Metainfo, 'name' | 'multiFile' | 'files'> | undefined;
  readonly savePath: string;
  move(to: string): Promise<void>;
}

/** The move of each torrent under way, by journal file: the next waits for it. */
const underWay = new Map<string, Promise<unknown>>();

/**
 * Moves `torrent`'s data to `to` under the journal, and `store`s the new path (the move counts as
 * done once it resolves) before the journal goes: the node's own moves and a cluster member's move
 * of its copy asked through another member go through it. Two moves of one torrent (a member's own
 * and one asked through another member) go one after the other, each from where the data is then:
 * run together, the second wrote its journal over the first's and removed it when the engine
 * refused it, leaving the first unjournalled. Throws MoveFailed when the data did not move;
 * whatever `store` throws comes as it is (the data moved, the journal stays and the next start puts
 * it back). Resolves false when the data was already at `to` (nothing moved), else true.
 */
export function moveJournalled(stateDir: string, infoHash: string, torrent: Movable, to: string, alsoRoots: readonly string[], store: (path: string) => Promise<void>): Promise<boolean> {
  const key = fileOf(stateDir, infoHash);
  const run = (underWay.get(key) ?? Promise.resolve()).catch(() => {}).then(async () => {
    const from = torrent.savePath;
    if (from === to) return false;
    const meta = torrent.metainfo;
    if (meta) await beginMove(stateDir, infoHash, meta, from, to, alsoRoots).catch((err: unknown) => { throw new MoveFailed(err); });
    try {
      await torrent.move(to);
    } catch (err) {
      await endMove(stateDir, infoHash);
      throw new MoveFailed(err);
    }
    await store(to);
    await endMove(stateDir, infoHash);
    return true;
  });
  underWay.set(key, run);
  void run.catch(() => {}).finally(() => underWay.get(key) === run && underWay.delete(key));
  return run;
}

async function exists(p: string): Promise<boolean> {
  return lstat(p).then(() => true, () => false);
}

/**
 * At start, before the torrents load: undoes each move a crash cut short. `recorded` says where
 * the state puts a torrent now (undefined: removed, and nothing says where its files belong).
 * Returns a line per journal handled, for the log.
 */
export async function undoUnfinishedMoves(stateDir: string, recorded: (infoHash: string) => RecordedAs | undefined | Promise<RecordedAs | undefined>): Promise<string[]> {
  let names: string[];
  try {
    const all = await readdir(dirOf(stateDir));
    // A journal cut off before it was linked into place (writeJournal) names no move that began.
    for (const n of all.filter((n) => n.endsWith('.tmp'))) await rm(join(dirOf(stateDir), n), { force: true });
    names = all.filter((n) => n.endsWith('.json'));
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
    const rec = await recorded(j.infoHash);
    if (rec && (j.renamedTo ? !renameStored(j, rec) : rec.savePath === j.from)) {
      const back: [string, string][] = [];
      for (const [k, rel] of j.files.entries()) {
        const [src, dst] = [join(j.from, rel), join(j.to, j.renamedTo?.[k] ?? rel)];
        const [atOld, atNew] = [await exists(src), await exists(dst)];
        // Both: a copy across file systems was cut short (sources go only once every copy is made).
        if (atOld && atNew) await rm(dst, { force: true });
        else if (atNew) back.push([dst, src]);
      }
      try {
        await moveFiles(back, j.from, async () => {});
        notes.push(`a ${j.renamedTo ? 'rename of files' : 'move'} of ${j.infoHash}${j.renamedTo ? '' : ` to ${j.to}`} was cut short: its ${back.length} files are back ${j.renamedTo ? 'under their old names' : `in ${j.from}`}`);
      } catch (err) {
        notes.push(`a move of ${j.infoHash} to ${j.to} was cut short and could not be undone (${(err as Error).message}); files may be in both folders`);
      }
      await pruneEmpty(j.to, j.renamedTo ?? j.files);
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
