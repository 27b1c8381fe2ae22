// A member's copy of a torrent another member removed while this one was away (issue 63, found by
// bench:crash --cluster): the library's row is gone, this member's holder row is a tombstone, and its
// resume record was left for it (the node's records.remove), so it still knows the copy's files.
// Likewise a node's (or member's) own copy when it was killed during its own removal with the data,
// between the rows and the files: its own tombstone, with a private share's plaintext on it.
import type { CascadeNode } from '@cascade/node';
import { deleteOwnFiles, liveFiles, oneAtATime, otherOwners, renamedOnDisk } from '@cascade/node/cluster-host';
import { parseInfoDict, parseTorrent, renamedMetainfo, type Metainfo } from '@cascade/engine';
import { rm } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { HolderStore, type Tombstone } from './holder-store.ts';

const lib = { parseTorrent, parseInfoDict, renamedMetainfo };

/**
 * With the tombstone's `deleteData` the files of that info dict under its save path go (by the
 * .torrent's names and as renamed; those a torrent here owns apart), and a private share's plaintext
 * the remover kept on its own; then the tombstone and the resume record (only if still a tombstone:
 * an add through this member since made it a copy again). The torrent may be in the library (a
 * surplus copy trimmed, or the torrent added again through another member): while this member's row
 * is a tombstone it holds no other copy, so the files are still this old copy's. Returns how many
 * files it deleted (undefined: their names were not known, so they stay).
 */
export function dropTombstoned(node: Pick<CascadeNode, 'session' | 'db'>, t: Tombstone): Promise<number | undefined> {
  // Not beside a load of the same torrent (a member's start, a placement taken): the load that
  // added it after the look below kept its files while the tombstone and the resume record went.
  return oneAtATime(node.session, [t.infoHash], () => dropNow(node, t));
}

async function dropNow(node: Pick<CascadeNode, 'session' | 'db'>, t: Tombstone): Promise<number | undefined> {
  const { session, db } = node;
  const { infoHash, savePath } = t;
  if (session.get(infoHash)) return 0;
  let removed: number | undefined = 0;
  if (t.deleteData && savePath) {
    const metas = await copyMetainfos(db, infoHash, t.renamedFiles);
    const owners = metas.length > 0 ? await otherOwners(db, lib, infoHash, liveFiles(session, db)) : undefined;
    if (!owners) removed = undefined;
    else for (const meta of metas) if (!session.get(infoHash)) removed += await deleteOwnFiles(meta, savePath, owners);
    // A private share's plaintext (the remover's own tombstone), only ever below the save path.
    const plain = t.plaintextPath && resolve(t.plaintextPath);
    if (plain && plain.startsWith(resolve(savePath) + sep) && !session.get(infoHash)) await rm(plain, { recursive: true, force: true });
  }
  await db.dropTombstone(infoHash);
  return removed;
}

/** A single node's start (serve; a member's holdings sweep theirs): the copies a removal with the
 *  data left behind when the node was killed after the library's rows went and before the files
 *  did (the removal keeps its own tombstone until then). Their files go now, then the tombstones.
 *  Returns how many tombstones there were. */
export async function dropOwnTombstones(node: Pick<CascadeNode, 'session' | 'db'>): Promise<number> {
  const tombstones = await new HolderStore(node.db.store).tombstonesOf(node.db.memberId);
  for (const t of tombstones) await dropTombstoned(node, t);
  return tombstones.length;
}

/** The old copy's metainfo: from this member's resume record, else (a copy trimmed before its first
 *  resume save, so no record) from the library's .torrent while the torrent is still there. Its
 *  files go by the .torrent's names and by their renamed ones: the library's while it has the
 *  torrent (a trimmed copy's renamed file stayed: cluster-holders), else those the removal kept on
 *  the tombstone (they stayed too, issue 63). Both: a holder down at the rename still has the old
 *  names on its disk. */
async function copyMetainfos(db: CascadeNode['db'], infoHash: string, removalRenames: Record<number, string[]> | null): Promise<Metainfo[]> {
  const info = (await db.resume.get(infoHash))?.infoBytes;
  const bytes = info ? undefined : await db.records.torrentBytes(infoHash);
  const meta = info ? parseInfoDict(info) : bytes ? parseTorrent(bytes) : undefined;
  if (!meta) return [];
  const inLibrary = db.getTorrent(infoHash);
  const renamed = renamedOnDisk(meta, inLibrary ? inLibrary.renamedFiles : removalRenames, lib);
  return renamed && renamed !== meta ? [meta, renamed] : [meta];
}
