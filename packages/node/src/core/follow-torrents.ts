// What the node itself does on its torrents' events: the state DB's view of each torrent, the
// queue's slots, the peer ledger and the identified peers' evidence.

import type { StateDB } from '../state/state-db.ts';
import type { PeerLedger } from '../peers/peer-ledger.ts';
import type { IdentifiedPeers } from '../peers/identified-peers.ts';
import type { QueueManager } from '../queue/manager.ts';
import { loadEngine, type TransferEvent } from './engine.ts';
import { errorMessage } from './errors.ts';
import type { NodeLog } from './node-log.ts';
import type { TorrentTap } from './node-parts.ts';

export interface FollowedBy {
  onTorrentEvent(event: string, fn: TorrentTap): () => void;
  readonly db: StateDB;
  readonly queue: QueueManager;
  readonly ledger: PeerLedger;
  readonly identified: IdentifiedPeers;
  readonly out: NodeLog;
}

export function followTorrents(node: FollowedBy): void {
  const { db, queue, ledger, identified } = node;
  // DB writes from events are best effort: losing a status update must not crash the node.
  const dbWrite = (ih: string, fn: () => void): void => {
    try {
      fn();
    } catch (err) {
      node.out.note(`state DB update failed for ${ih}: ${errorMessage(err)}`);
    }
  };
  node.onTorrentEvent('metadata', (t) => {
    const m = t.metainfo;
    if (!m) return;
    const ih = t.infoHashHex;
    // Kept as .torrent bytes: after a restart the torrent has its name, size and files at once,
    // paused or not, without asking peers again (issue 20, defect 3).
    void loadEngine().then((lib) => dbWrite(ih, () => db.updateMeta(ih, { name: m.name, length: m.length, pieceCount: m.pieceCount, torrent: lib.encodeTorrent(m) })));
  });
  node.onTorrentEvent('done', (t) => {
    const ih = t.infoHashHex;
    dbWrite(ih, () => {
      // The engine says 'done' again each time a seed starts (every restart): only a download
      // that fetched something in this run (or a first completion) is a new completion time.
      const fresh = t.stats().downloaded > 0 || db.completedAt(ih) == null;
      db.setStatus(ih, 'seeding', fresh ? { completedAt: Date.now() } : {});
      // A finished download moves from the download slots to the seeding ones.
      queue.finished(ih);
    });
  });
  node.onTorrentEvent('error', (t, err: unknown) => {
    const ih = t.infoHashHex;
    dbWrite(ih, () => {
      db.setStatus(ih, 'error', { error: errorMessage(err) });
      queue.poke();
    });
  });
  node.onTorrentEvent('transfer', (_t, ev: TransferEvent) => ledger.transfer(ev));
  node.onTorrentEvent('peer-banned', (_t, ev: { address: string; reason?: string }) => ledger.banned(ev.address, ev.reason ?? ''));
  node.onTorrentEvent('verified', (t, index: number, contributors?: string[]) => identified.verified(t, index, contributors));
  node.onTorrentEvent('hash-failed', (t, _index: number, contributors?: string[]) => identified.hashFailed(t, contributors));
  node.onTorrentEvent('peer-banned', (t, ev: { address: string }) => identified.banned(t, ev.address));
}
