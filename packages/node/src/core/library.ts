// Loading the library at startup: every torrent in the state DB is re-added to the session (resume
// data means no re-check). Moved here from `cascade serve` so the server starts the same way.

import type { NodeLog } from './node-log.ts';
import type { NodeCore } from './node-parts.ts';
import type { TorrentRecord } from '@cascade/node-state';
import { errorMessage } from '@cascade/node-state/errors';
import { loadEngine, type AddTorrentOptions, type TorrentHandle, type TorrentSource } from './engine.ts';
import { storedPeers } from '../peers/manual-peers.ts';
import { oneAtATime } from './torrent-locks.ts';
import { holdClaimsSoon } from './unchecked-claims.ts';

/** What loading the library touches: the state DB, the session (through add) and the model's order. */
export interface LibraryNode extends NodeCore {
  readonly model: { queueOrder(): string[] };
  add(source: TorrentSource, opts: AddTorrentOptions, record?: boolean, queued?: boolean): Promise<TorrentHandle>;
  removeMany(infoHashes: readonly string[], deleteData: boolean, ownCopy: boolean): Promise<Map<string, unknown>>;
}

/** Torrents handed to the engine at once. A library torrent goes in paused (the queue starts it, a
 *  few at a time, and only a start may check data), so an add only parses and reads its resume
 *  record: many may overlap. */
const LOAD_CONCURRENCY = 16;

/**
 * A magnet whose metadata was fetched before (its info dict is kept with the resume data) loads as a
 * .torrent made of it, with the magnet's trackers: a paused one has its name, size and files too
 * (issue 20, defect 3; state DBs from before the node kept the .torrent bytes itself).
 */
async function metadataOf(rec: TorrentRecord, node: LibraryNode): Promise<TorrentSource | null> {
  const info = (await node.db.resume.get(rec.infoHash))?.infoBytes;
  if (!info || !rec.magnet) return rec.magnet;
  try {
    const lib = await loadEngine();
    const magnet = /^magnet:/i.test(rec.magnet) ? lib.parseMagnet(rec.magnet) : undefined;
    const meta = lib.parseInfoDict(info, { announce: (magnet?.trackers ?? []).map((url) => [url]) });
    return meta.infoHashHex === rec.infoHash ? lib.encodeTorrent(meta) : rec.magnet;
  } catch {
    return rec.magnet;
  }
}

/** Loads one stored torrent into the session (paused; the queue starts it), or puts it in error
 *  when it cannot load; true when it loaded. `paths` shares save path strings between loads. */
export async function loadStored(node: LibraryNode, infoHash: string, log: NodeLog, paths = new Map<string, string>()): Promise<boolean> {
  // Not beside a removal of the same torrent: one begun first has removed its rows (not loaded, then);
  // one that comes meanwhile waits and then finds it in the engine.
  const loaded = await oneAtATime(node.session, [infoHash], () => loadNow(node, infoHash, log, paths));
  // Removed meanwhile through another member: the notice found nothing running here to stop, and
  // the load then ran it, listed here for good (bench:crash --cluster). It goes now, with its files
  // when the remover asked (this member's tombstone says so).
  if (loaded && node.session.get(infoHash) && !node.db.records.has(infoHash)) {
    await node.removeMany([infoHash], (await node.db.records.removal(infoHash)) === 'data', true);
    return false;
  }
  return loaded;
}

async function loadNow(node: LibraryNode, infoHash: string, log: NodeLog, paths: Map<string, string>): Promise<boolean> {
  // A trimmed copy loaded at a member's start raced the tombstone sweep: the sweep found nothing
  // running, the load then added it, the files stayed and the tombstone went (bench:crash --cluster).
  if (node.db.records.removedHere(infoHash)) return false;
  // One row at a time: 10,000 records with their .torrent bytes are not held at once.
  const rec = await node.db.loadTorrent(infoHash);
  if (!rec) return false; // removed meanwhile
  if (!paths.has(rec.savePath)) paths.set(rec.savePath, rec.savePath);
  rec.savePath = paths.get(rec.savePath)!;
  const source = rec.sourceKind === 'torrent' ? rec.torrent : await metadataOf(rec, node);
  if (!source) return false;
  const peers = await storedPeers(node.db.store, rec.infoHash);
  const opts = {
    savePath: rec.savePath,
    paused: rec.status === 'paused',
    ...(rec.selectedFiles ? { selectedFiles: rec.selectedFiles } : {}),
    ...(peers.length > 0 ? { peers } : {}),
    ...(rec.privateDiscovery ? { privateDiscovery: true } : {}),
    ...(rec.mirrors.length > 0 ? { mirrors: rec.mirrors } : {}),
    ...(rec.trackerTiers ? { trackerTiers: rec.trackerTiers } : {}),
    ...(rec.renamedFiles ? { renamedFiles: rec.renamedFiles } : {}),
  };
  try {
    // Back in the queue, which decides whether it runs (as for every other one) as soon as it is
    // loaded; a load that fails again puts it back in error.
    if (rec.status === 'error') await node.db.records.setStatus(rec.infoHash, 'queued');
    // Not recorded again, but queued: the engine gets it paused and the queue starts it.
    await node.add(source, opts, false, true);
    // Listed by its record's claims until it checks its data (when it starts): held against its files.
    holdClaimsSoon(node, log, rec.infoHash);
    return true;
  } catch (err) {
    await node.db.records.setStatus(rec.infoHash, 'error', { error: errorMessage(err) }).catch((e: unknown) => log.note(`state DB update failed for ${rec.infoHash}: ${errorMessage(e)}`));
    log.event('error', { infoHash: rec.infoHash, message: errorMessage(err) });
    log.note(`cannot load ${rec.name ?? rec.infoHash}: ${errorMessage(err)}`);
    return false;
  }
}

/** Re-adds every stored torrent this node holds; returns how many loaded. One broken entry never stops the rest. */
export async function loadLibrary(node: LibraryNode, log: NodeLog): Promise<number> {
  let loaded = 0;
  // Each row read gives its own copy of the save path, which the engine keeps for the torrent's
  // life: one string per distinct path instead of one per torrent.
  const paths = new Map<string, string>();
  const load = async (infoHash: string) => {
    if (await loadStored(node, infoHash, log, paths)) loaded++;
  };
  // In queue order: the torrents that will run are loaded (and started) first, and the queue admits
  // each as it comes without planning the whole library again.
  // A cluster's member loads what it holds; the rest of the library is listed, run by its holders.
  // A torrent placed here and not taken yet is the member's holdings' to take (its own save path);
  // a copy whose row is a tombstone (trimmed, or removed through another member) is not loaded: its
  // files are the tombstone sweep's to delete.
  const records = node.db.records;
  const queue = node.model.queueOrder().filter((ih) => records.heldHere(ih) && !records.untaken(ih) && !records.removedHere(ih));
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(LOAD_CONCURRENCY, queue.length) }, async () => {
      for (let ih = queue[next++]; ih; ih = queue[next++]) await load(ih);
    }),
  );
  return loaded;
}
