// Loading the library at startup: every torrent in the state DB is re-added to the session (resume
// data means no re-check). Moved here from `cascade serve` so the server starts the same way.

import type { CascadeNode, NodeLog } from './node.ts';
import { errorMessage } from './errors.ts';
import type { TorrentRecord } from './state.ts';
import { loadEngine, type TorrentSource } from './engine.ts';
import { storedPeers } from './manual-peers.ts';

const LOAD_CONCURRENCY = 4;

/**
 * A magnet whose metadata was fetched before (its info dict is kept with the resume data) loads as a
 * .torrent made of it, with the magnet's trackers: a paused one has its name, size and files too
 * (issue 20, defect 3; state DBs from before the node kept the .torrent bytes itself).
 */
async function metadataOf(rec: TorrentRecord, node: CascadeNode): Promise<TorrentSource | null> {
  const info = node.db.loadResume(rec.infoHash)?.infoBytes;
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

/** Re-adds every stored torrent; returns how many loaded. One broken entry never stops the rest. */
export async function loadLibrary(node: CascadeNode, log: NodeLog): Promise<number> {
  let loaded = 0;
  const load = async (rec: TorrentRecord) => {
    const source = rec.sourceKind === 'torrent' ? rec.torrent : await metadataOf(rec, node);
    if (!source) return;
    const peers = storedPeers(node.db, rec.infoHash);
    const opts = {
      savePath: rec.savePath,
      paused: rec.status === 'paused',
      ...(rec.selectedFiles ? { selectedFiles: rec.selectedFiles } : {}),
      ...(peers.length > 0 ? { peers } : {}),
    };
    try {
      // Not recorded again, but queued: the engine gets it paused and the queue starts it.
      await node.add(source, opts, false, true);
      // Loaded after all: back in the queue, which decides whether it runs (as for every other one).
      if (rec.status === 'error') node.db.setStatus(rec.infoHash, 'queued');
      loaded++;
    } catch (err) {
      node.db.setStatus(rec.infoHash, 'error', { error: errorMessage(err) });
      log.event('error', { infoHash: rec.infoHash, message: errorMessage(err) });
      log.note(`cannot load ${rec.name ?? rec.infoHash}: ${errorMessage(err)}`);
    }
  };
  // A few at a time: each add waits for its data check, and one slow check should not hold up
  // the rest, but hundreds of parallel checks would thrash the disk.
  // In queue order: the torrents that will run are loaded first.
  const order = new Map(node.model.queueOrder().map((ih, i) => [ih, i]));
  const queue = node.db.listTorrents().sort((a, b) => (order.get(a.infoHash) ?? 0) - (order.get(b.infoHash) ?? 0));
  await Promise.all(
    Array.from({ length: Math.min(LOAD_CONCURRENCY, queue.length) }, async () => {
      for (let rec = queue.shift(); rec; rec = queue.shift()) await load(rec);
    }),
  );
  return loaded;
}
