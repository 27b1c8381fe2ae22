// `cascade serve`: the long-running node. Re-adds every torrent in the library (resume data means
// no re-check), answers verbs on the control endpoint and runs until SIGINT/SIGTERM.

import { startNode, statusOf } from '../node.ts';
import { waitForStopSignal } from '../signals.ts';
import { errorMessage } from '../errors.ts';
import type { Invocation } from '../args.ts';
import type { TorrentRecord } from '../state.ts';
import type { Output } from '../output.ts';

const LOAD_CONCURRENCY = 4;

export async function serveCommand(inv: Invocation, out: Output): Promise<number> {
  const stop = waitForStopSignal();
  const node = await startNode(inv.options, out, { exclusive: true });
  try {
    let loaded = 0;
    const load = async (rec: TorrentRecord) => {
      const source = rec.sourceKind === 'torrent' ? rec.torrent : rec.magnet;
      if (!source) return;
      const opts = {
        savePath: rec.savePath,
        paused: rec.status === 'paused',
        ...(rec.selectedFiles ? { selectedFiles: rec.selectedFiles } : {}),
      };
      try {
        const t = await node.add(source, opts, false);
        // 'queued' (added while offline) becomes a real status now that it runs.
        if (rec.status === 'queued' || rec.status === 'error') node.db.setStatus(rec.infoHash, statusOf(t.stats()));
        loaded++;
      } catch (err) {
        // One broken entry must not keep the rest of the library offline.
        node.db.setStatus(rec.infoHash, 'error', { error: errorMessage(err) });
        out.event('error', { infoHash: rec.infoHash, message: errorMessage(err) });
        out.note(`cannot load ${rec.name ?? rec.infoHash}: ${errorMessage(err)}`);
      }
    };
    // A few at a time: each add waits for its data check, and one slow check should not hold up
    // the rest, but hundreds of parallel checks would thrash the disk.
    const queue = node.db.listTorrents();
    await Promise.all(
      Array.from({ length: Math.min(LOAD_CONCURRENCY, queue.length) }, async () => {
        for (let rec = queue.shift(); rec; rec = queue.shift()) await load(rec);
      }),
    );
    out.event('serving', { torrents: loaded, controlPort: node.control?.port ?? null, stateDir: node.db.stateDir });
    out.say(
      `cascade node up: ${loaded} torrent${loaded === 1 ? '' : 's'}, state in ${node.db.stateDir}. ` +
        'Try `cascade add <magnet>` or `cascade list` in another shell; Ctrl-C to stop.',
    );
    await stop.promise;
    out.note('stopping…');
    return 0;
  } finally {
    await node.stop();
  }
}
