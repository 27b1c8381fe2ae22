// What the node itself does on its torrents' events: the state DB's view of each torrent, the
// queue's slots, the peer ledger and the identified peers' evidence.

import type { StateDB } from '@cascade/node-state';
import { errorMessage } from '@cascade/node-state/errors';
import type { PeerLedger } from '../peers/peer-ledger.ts';
import type { IdentifiedPeers } from '../peers/identified-peers.ts';
import type { QueueManager } from '../queue/manager.ts';
import { loadEngine, type TransferEvent } from './engine.ts';
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
  // DB writes from events are best effort and never awaited by the transfer: losing a status
  // update must not crash the node, and statuses go in batches (TorrentRecords.setStatus).
  const noted = (ih: string) => (err: unknown) => node.out.note(`state DB update failed for ${ih}: ${errorMessage(err)}`);
  node.onTorrentEvent('metadata', (t) => {
    const m = t.metainfo;
    if (!m) return;
    const ih = t.infoHashHex;
    // Kept as .torrent bytes: after a restart the torrent has its name, size and files at once,
    // paused or not, without asking peers again (issue 20, defect 3).
    loadEngine()
      .then((lib) => db.records.updateMeta(ih, { name: m.name, length: m.length, pieceCount: m.pieceCount, torrent: lib.encodeTorrent(m) }))
      .catch(noted(ih));
  });
  node.onTorrentEvent('done', (t) => {
    const ih = t.infoHashHex;
    // The engine says 'done' again each time a seed starts (every restart): only a download
    // that fetched something in this run (or a first completion) is a new completion time.
    const fresh = t.stats().downloaded > 0 || db.records.completedAt(ih) == null;
    db.records
      .setStatus(ih, 'seeding', fresh ? { completedAt: Date.now() } : {})
      // A finished download moves from the download slots to the seeding ones (the plan that may
      // follow reads the status stored).
      .then(() => queue.finished(ih), noted(ih));
  });
  node.onTorrentEvent('error', (t, err: unknown) => {
    const ih = t.infoHashHex;
    db.records.setStatus(ih, 'error', { error: errorMessage(err) }).then(() => queue.poke(), noted(ih));
  });
  node.onTorrentEvent('transfer', (_t, ev: TransferEvent) => ledger.transfer(ev));
  node.onTorrentEvent('peer-banned', (_t, ev: { address: string; reason?: string }) => ledger.banned(ev.address, ev.reason ?? ''));
  node.onTorrentEvent('verified', (t, index: number, contributors?: string[]) => identified.verified(t, index, contributors));
  node.onTorrentEvent('hash-failed', (t, _index: number, contributors?: string[]) => identified.hashFailed(t, contributors));
  node.onTorrentEvent('peer-banned', (t, ev: { address: string }) => identified.banned(t, ev.address));
}
