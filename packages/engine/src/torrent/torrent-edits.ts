// What remotes change on a torrent besides its selection (issue 45): its files' names and its
// pieces as a remote shows them. Off the data path: each is a call a user makes, or a read a
// remote polls, never per block.

import type { Picker } from '../swarm/picker.ts';
import type { Metainfo } from '../types.ts';
import type { TorrentContext } from '../session/torrent-context.ts';
import { readyToMove, type MovableTorrent } from './torrent-move.ts';

/** New names for a torrent's files: each file's path below the torrent's folder, by file index
 *  (a single-file torrent's one file is its name); index -1 renames a multi-file torrent's folder
 *  (`[name]`). Also how a node replays them at the next start. */
export type FileRenames = Record<number, string[]>;

/** One path component a file may be given: what metainfo parsing lets through, nothing more. */
function checkComponent(c: unknown): string {
  if (typeof c !== 'string' || c === '' || c === '.' || c === '..' || /[/\\\0]/.test(c)) {
    throw new Error(`not a file or folder name: ${JSON.stringify(c)}`);
  }
  return c;
}

/** `meta` with files renamed (a new object; the info dict, its hashes and piece layout unchanged,
 *  so peers see the same torrent). Throws an Error on a bad name, an unknown index, a padding
 *  file, or two files given one path. */
export function renamedMetainfo(meta: Metainfo, renames: FileRenames): Metainfo {
  const files = meta.files.slice();
  let name = meta.name;
  for (const [key, path] of Object.entries(renames)) {
    const i = Number(key);
    if (i === -1) {
      if (!meta.multiFile) throw new Error('a single-file torrent has no folder: rename its file');
      if (!Array.isArray(path) || path.length !== 1) throw new Error("the torrent's folder takes a name, not a path");
      name = checkComponent(path[0]);
      continue;
    }
    const f = files[i];
    if (!Number.isInteger(i) || !f || f.pad) throw new Error(`no file ${key} in this torrent`);
    if (!Array.isArray(path) || path.length === 0) throw new Error(`file ${i} needs a name`);
    if (!meta.multiFile && path.length !== 1) throw new Error('the file of a single-file torrent cannot go into a folder');
    files[i] = { ...f, path: path.map(checkComponent) };
  }
  const seen = new Set<string>();
  const folders = new Set<string>();
  for (const f of files) {
    if (f.pad) continue;
    const key = f.path.join('/');
    if (seen.has(key)) throw new Error(`two files would be named ${key}`);
    seen.add(key);
    for (let n = 1; n < f.path.length; n++) folders.add(f.path.slice(0, n).join('/'));
  }
  for (const d of folders) if (seen.has(d)) throw new Error(`${d} would be both a file and a folder`);
  // A single-file torrent's file is its name on disk (see fs-storage).
  return { ...meta, files, name: meta.multiFile ? name : files[0]!.path[0]! };
}

/** Piece states as remotes show them (qBittorrent's pieceStates, Transmission's pieces): 0 not
 *  downloaded, 1 being downloaded, 2 verified; and how many connected peers have each piece. */
export interface PieceReport {
  states: Uint8Array;
  availability: Uint16Array;
}

export function pieceReport(picker: Picker): PieceReport {
  const n = picker.pieceCount;
  const states = new Uint8Array(n);
  for (let i = 0; i < n; i++) if (picker.have.get(i)) states[i] = 2;
  for (const i of picker.active.keys()) if (states[i] === 0) states[i] = 1;
  return { states, availability: picker.availability.slice() };
}

/** What rename needs of a Torrent beyond a move's. */
export interface RenamableTorrent extends MovableTorrent {
  claimAs(meta: Metainfo, old: Metainfo): void;
  renamed(meta: Metainfo, renames: FileRenames): void;
}

/** Renames files on disk as a move does (torrent-move.ts): the torrent lets go of its files, they
 *  are renamed, and it carries on with the pieces it had; on any failure all stays as it was. */
export async function renameFiles(t: RenamableTorrent, ctx: TorrentContext, renames: FileRenames): Promise<void> {
  const meta = t.metainfo;
  if (!meta) throw new Error('its files are not known yet (no metadata)');
  const mover = ctx.storageMover;
  if (!mover) throw new Error('this session cannot rename files (no file system)');
  await readyToMove(t, { checking: 'cannot rename files while the data is being checked', moving: 'a move of this torrent is under way' });
  const next = renamedMetainfo(meta, renames);
  t.claimAs(next, meta); // the new names must be nobody else's
  t.moving = true;
  let running = false;
  try {
    running = await t.suspendForMove();
    await mover.move(meta, t.savePath, t.savePath, next);
  } catch (err) {
    t.claimAs(meta, next);
    t.moving = false;
    await t.resumeAfterMove(t.savePath, undefined, running);
    throw new Error(`cannot rename: ${(err as Error).message}`);
  }
  t.renamed(next, renames);
  t.moving = false;
  await t.resumeAfterMove(t.savePath, undefined, running);
}
