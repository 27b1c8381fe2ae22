// Removing torrents from the node (with their own files on request), and the add-time check that a
// .torrent does not name files a stored torrent owns.

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { StateDB } from '@cascade/node-state';
import type { QueueManager } from '../queue/manager.ts';
import type { NodeModel } from '../model/index.ts';
import type { NodePrivateShares } from './node-private.ts';
import { deleteOwnFiles, otherOwners, refuseOwnedFiles, storedFiles, storedMetainfo, storedOwners } from '../files/own-files.ts';
import { loadEngine, type Metainfo, type SessionHandle } from './engine.ts';
import type { StoragePlugin } from './storage-plugin.ts';
import { oneAtATime } from './torrent-locks.ts';

export interface RemovalParts {
  readonly session: SessionHandle;
  readonly db: StateDB;
  readonly model: NodeModel;
  readonly queue: QueueManager;
  readonly privateShares: Pick<NodePrivateShares, 'plaintextRoot'>;
  readonly storage?: Pick<StoragePlugin, 'forget'> | undefined; // a bucket's (issue 61)
  /** The node stops following the torrent (its watchers and listeners). */
  untrack(infoHash: string): void;
}

/**
 * Removes torrents (and their own files with deleteData): the engine's part one by one, the library
 * rows in one transaction, then the data (each torrent paused first): a node killed in between keeps
 * the torrent and its data, or neither (files may stay). Each failure is its torrent's (the map's value).
 * `ownCopy`: a cluster member's copy only goes, the library keeps the torrents (records.dropOwn).
 */
export function removeTorrents(node: RemovalParts, infoHashes: readonly string[], deleteData: boolean, ownCopy = false): Promise<Map<string, unknown>> {
  // Not beside a load of one of them into the engine (torrent-locks.ts).
  return oneAtATime(node.session, infoHashes, () => removeNow(node, infoHashes, deleteData, ownCopy));
}

async function removeNow(node: RemovalParts, infoHashes: readonly string[], deleteData: boolean, ownCopy: boolean): Promise<Map<string, unknown>> {
  const { session, db } = node;
  const outcome = new Map<string, unknown>();
  const deletions = new Map<string, () => Promise<unknown>>(); // with deleteData: what goes once the rows are gone
  const plaintexts = new Map<string, string>(); // private shares' plaintext, kept on the tombstone until it went
  const lib = await loadEngine();
  for (const infoHash of infoHashes) {
    try {
      const plaintext = node.privateShares.plaintextRoot(infoHash);
      node.untrack(infoHash);
      const [rec, t] = [db.getTorrent(infoHash), session.get(infoHash)];
      // Not running (it failed to load), so the engine cannot delete its files: its own ones, from its metainfo.
      const meta = deleteData && !t && rec ? await storedFiles(rec, db, lib) : undefined;
      const owners = meta && (await otherOwners(db, lib, infoHash, liveFiles(session, db)));
      const remove = async () => (t ? session.remove(infoHash, { deleteData }) : meta && owners && deleteOwnFiles(meta, rec!.savePath, owners));
      // A private share's plaintext is its data too.
      if (deleteData && plaintext && rec) plaintexts.set(infoHash, join(rec.savePath, plaintext));
      const forget = async () => (plaintexts.has(infoHash) && (await rm(plaintexts.get(infoHash)!, { recursive: true, force: true })), node.storage?.forget(infoHash));
      if (deleteData) await t?.pause(), deletions.set(infoHash, async () => (await remove(), await forget()));
      else await remove().then(forget);
      outcome.set(infoHash, undefined);
    } catch (err) {
      outcome.set(infoHash, err);
    }
  }
  const gone = infoHashes.filter((ih) => outcome.get(ih) === undefined);
  // Their resume saves still on the way must not bring a record back after the removal.
  await db.resume.forget(gone);
  // A removal with the data leaves each holder, this one too, its copy's info dict (with its
  // tombstone): one that is down now, or killed before its files went, deletes them by it when back.
  const infos = new Map<string, Uint8Array>();
  const ownTombstone = deleteData && !ownCopy; // dropped once its files are gone (removeTorrentRows)
  if (ownTombstone) {
    for (const ih of gone) {
      const rec = db.getTorrent(ih);
      const info = session.get(ih)?.metainfo?.infoBytes ?? (rec && (await storedMetainfo(rec, db, lib))?.infoBytes);
      if (info) infos.set(ih, info);
    }
  }
  await (ownCopy ? db.records.dropOwn(gone) : db.records.remove(gone, deleteData, infos, plaintexts));
  for (const ih of gone) {
    node.model.forget(ih);
    node.queue.forget(ih);
    await deletions.get(ih)?.().then(() => ownTombstone && db.dropTombstone(ih)).catch((err: unknown) => outcome.set(ih, err));
  }
  return outcome;
}

/** A .torrent whose files a stored torrent owns is refused. The loaded ones are the engine's to
 *  guard (it claims a torrent's files when it is added, and refuses a conflict): only stored
 *  torrents it does not run are read here — usually none, so an add costs the same at 10,000. */
export async function refuseFilesOfStored(session: SessionHandle, db: StateDB, bytes: Uint8Array, savePath: string): Promise<void> {
  const lib = await loadEngine();
  const meta = lib.parseTorrent(bytes);
  if (session.get(meta.infoHashHex)) return;
  // As many loaded as stored: every stored one is loaded (only `cascade seed` runs a torrent it
  // does not store, and it adds none of these).
  if (db.torrentCount() <= session.list().length) return;
  // A cluster's other members' torrents are on their disks, not this one's: only this member's
  // own stored copies can own these files (reading every other member's .torrent on each add
  // made a cluster's adds slower with every torrent: bench:cluster, 1.5 adds/s at 1,800).
  const notLoaded = db.infoHashes().filter((ih) => ih !== meta.infoHashHex && !session.get(ih) && db.records.heldHere(ih));
  if (notLoaded.length === 0) return;
  refuseOwnedFiles(meta, savePath, await storedOwners(db, lib, notLoaded));
}

/** The running torrents' files, for the ownership checks of stored ones (own-files.ts). */
export function liveFiles(session: Pick<SessionHandle, 'list'>, db: StateDB): { meta: Metainfo; savePath: string }[] {
  return session.list().flatMap((t) => {
    const savePath = db.getTorrent(t.infoHashHex)?.savePath;
    return t.metainfo && savePath ? [{ meta: t.metainfo, savePath }] : [];
  });
}
