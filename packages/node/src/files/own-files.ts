// The files a torrent owns on disk: those its metainfo lists under its save path, nothing else.
// Running torrents are guarded by the engine's file claims (engine/src/node/file-owners.ts); this
// covers what the engine does not see — torrents only in the library (queued while no node ran, or
// failed to load): an add whose files a stored torrent owns is refused, and deleting a stored
// torrent's data removes its own files only, never its folder wholesale (another torrent of the
// same name may share it) and never a file another torrent lists.

import { lstat, rm, rmdir } from 'node:fs/promises';
import { dirname, relative, resolve, sep } from 'node:path';
import type { StateDB, TorrentRecord } from '@cascade/node-state';
import { NodeError } from '@cascade/node-state/errors';
import type { EngineLib, Metainfo } from '../core/engine.ts';

export type MetaLib = Pick<EngineLib, 'parseTorrent' | 'parseInfoDict' | 'renamedMetainfo'>;

/** A stored torrent's metainfo: its .torrent bytes (read through the Store: the view holds none),
 *  or the info dict kept with its resume data. */
export async function storedMetainfo(rec: TorrentRecord, db: StateDB, lib: MetaLib): Promise<Metainfo | undefined> {
  try {
    const bytes = rec.torrent ?? (rec.sourceKind === 'torrent' ? await db.records.torrentBytes(rec.infoHash) : null);
    if (bytes) return lib.parseTorrent(bytes);
    const info = (await db.resume.get(rec.infoHash))?.infoBytes;
    return info ? lib.parseInfoDict(info) : undefined;
  } catch {
    return undefined;
  }
}

/** storedMetainfo with its files named as on disk (renamedFiles): else a stored torrent's renamed
 *  files were neither deleted with it nor counted as its own (a trimmed copy's stayed: cluster-holders). */
export const storedFiles = async (rec: TorrentRecord, db: StateDB, lib: MetaLib): Promise<Metainfo | undefined> => renamedOnDisk(await storedMetainfo(rec, db, lib), rec.renamedFiles, lib);

/** `meta` with `renames` (checked when made; a set that no longer applies is left out). */
export function renamedOnDisk(meta: Metainfo | undefined, renames: Record<number, string[]> | null | undefined, lib: MetaLib): Metainfo | undefined {
  try {
    return meta && renames && Object.keys(renames).length > 0 ? lib.renamedMetainfo(meta, renames) : meta;
  } catch {
    return meta;
  }
}

/** Absolute paths of the files (not padding) of `meta` under savePath; any that would escape it are left out. */
export function filesOf(meta: Metainfo, savePath: string): string[] {
  const base = resolve(savePath);
  const out: string[] = [];
  for (const f of meta.files) {
    if (f.pad) continue;
    const p = meta.multiFile ? resolve(base, meta.name, ...f.path) : resolve(base, meta.name);
    if (p.startsWith(base + sep)) out.push(p);
  }
  return out;
}

/** Every file another stored torrent (or a running one, given as `live`) owns, and who owns it. */
export async function otherOwners(
  db: StateDB,
  lib: MetaLib,
  exceptInfoHash: string,
  live: { meta: Metainfo; savePath: string }[] = [],
): Promise<Map<string, { infoHash: string; name: string }>> {
  const owners = new Map<string, { infoHash: string; name: string }>();
  const note = (meta: Metainfo, savePath: string) => {
    if (meta.infoHashHex === exceptInfoHash) return;
    for (const f of filesOf(meta, savePath)) owners.set(f, { infoHash: meta.infoHashHex, name: meta.name });
  };
  for (const l of live) note(l.meta, l.savePath);
  for (const rec of db.listTorrents()) {
    if (rec.infoHash === exceptInfoHash || live.some((l) => l.meta.infoHashHex === rec.infoHash)) continue;
    const meta = await storedFiles(rec, db, lib);
    if (meta) note(meta, rec.savePath);
  }
  return owners;
}

/** Every file the given stored torrents own (by their stored metainfo), and who owns it. */
export async function storedOwners(db: StateDB, lib: MetaLib, infoHashes: readonly string[]): Promise<Map<string, { infoHash: string; name: string }>> {
  const owners = new Map<string, { infoHash: string; name: string }>();
  for (const ih of infoHashes) {
    const rec = db.getTorrent(ih);
    const meta = rec && (await storedFiles(rec, db, lib));
    if (meta) for (const f of filesOf(meta, rec.savePath)) owners.set(f, { infoHash: meta.infoHashHex, name: meta.name });
  }
  return owners;
}

/** Throws a NodeError (409 over HTTP) naming the stored torrent that owns one of `meta`'s files or folders. */
export function refuseOwnedFiles(meta: Metainfo, savePath: string, owners: Map<string, { infoHash: string; name: string }>): void {
  const base = resolve(savePath);
  const ownerDirs = new Map<string, { infoHash: string; name: string }>();
  for (const [f, o] of owners) for (let d = dirname(f); d.startsWith(base + sep); d = dirname(d)) ownerDirs.set(d, o);
  for (const f of filesOf(meta, savePath)) {
    let o = owners.get(f) ?? ownerDirs.get(f);
    for (let d = dirname(f); !o && d.startsWith(base + sep); d = dirname(d)) o = owners.get(d);
    if (o) {
      const rel = relative(base, f).split(sep).join('/');
      throw new NodeError('conflict', `"${rel}" already belongs to torrent "${o.name}" (${o.infoHash}): a torrent never writes another's files`);
    }
  }
}

/**
 * Deletes the files of `meta` under savePath that no other torrent owns (regular files and links
 * only: a folder where a file should be is someone else's), then the folders they leave empty.
 * Returns how many files it removed.
 */
export async function deleteOwnFiles(meta: Metainfo, savePath: string, owners: Map<string, unknown>): Promise<number> {
  let removed = 0;
  const dirs = new Set<string>();
  const root = resolve(savePath, meta.name);
  for (const f of filesOf(meta, savePath)) {
    if (owners.has(f)) continue;
    const st = await lstat(f).catch(() => undefined);
    if (st && !st.isDirectory()) {
      await rm(f, { force: true });
      removed++;
    }
    if (meta.multiFile) for (let d = dirname(f); d === root || d.startsWith(root + sep); d = dirname(d)) dirs.add(d);
  }
  // Deepest first; a folder that still holds anything stays.
  for (const d of [...dirs].sort((a, b) => b.length - a.length)) await rmdir(d).catch(() => {});
  return removed;
}
