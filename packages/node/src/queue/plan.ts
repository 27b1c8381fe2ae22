// The queue's decision, as a pure function: given every torrent's kind, order and flags, which run and
// which wait. The manager (manager.ts) feeds it and carries the answer out in the engine.
//
// Semantics (qBittorrent/libtorrent's, with the choices below said out loud):
// - Downloads are served first, in queue order (lower position first); then seeds, in the same order.
// - maxActiveDownloads bounds running downloads, maxActiveUploads running seeds, maxActiveTorrents
//   both together; 0 = no limit for that one.
// - A stopped torrent (paused by the user or by a seeding goal) neither runs nor counts.
// - A force-started torrent runs whatever the limits, and does not take a slot from the others
//   ("past the queue": forcing one torrent never queues another).
// - A stalled download (running, no payload for stalledTimeout) keeps running but stops counting,
//   so the next one in the queue gets its slot — qBittorrent's "do not count slow torrents". Only a
//   running download can be stalled: a queued one has had no chance to show whether it is slow.
// - A cluster's copy (a download placed on this member whose every piece another live member holds,
//   issue 42) is replication, not the user's download: it runs past the download limits and takes
//   no slot, as a forced one does; once complete it is a seed like any other. At most
//   MAX_REPLICA_COPIES of them run at once (not counting stalled ones), the rest wait in queue order.
// - A torrent checking its data counts where it will land (the manager tells download from seed by
//   what the library knows); torrents in error or not known to the engine are left as they are.

export type QueueKind = 'download' | 'seed' | 'other';

export interface QueueItem {
  infoHash: string;
  /** Order in the queue: lower runs first (ties by infohash). */
  position: number;
  kind: QueueKind;
  /** Paused by the user (or a seeding goal): not queued, not counted. */
  stopped: boolean;
  forceStart: boolean;
  /** A running download that received no payload for stalledTimeout. */
  stalled: boolean;
  /** A download copied from inside the cluster (another live holder has it complete). */
  replica?: boolean;
}

/** Runs whatever the user's limits and takes none of their slots: forced, a stalled download, a
 *  cluster's copy (within MAX_REPLICA_COPIES). */
export const outsideSlots = (it: QueueItem): boolean => it.forceStart || (it.kind === 'download' && (it.stalled || it.replica === true));

/**
 * How many of the cluster's copies a member runs at once (issue 63). A member declared dead leaves
 * its torrents to the others at once: at 1,000 torrents on 3 members each survivor was placed ~330
 * copies and started them all together (sockets, open files, memory and disk seeks all at once; the
 * soak's take-over: +18 MB of live heap and +50-90 MB of RSS on each survivor in one sample). Repair
 * is paced as Ceph paces backfills (`osd_max_backfills`) and Elasticsearch shard recoveries
 * (`node_concurrent_recoveries`): the rest wait their turn. A stalled copy (its holder gone quiet)
 * does not count, so it does not hold the others up.
 */
export const MAX_REPLICA_COPIES = 8;

/** A cluster's copy counted against MAX_REPLICA_COPIES: neither forced nor stalled. */
export const pacedReplica = (it: QueueItem): boolean => it.kind === 'download' && it.replica === true && !it.forceStart && !it.stalled;

export interface QueueLimits {
  maxActiveDownloads: number;
  maxActiveUploads: number;
  maxActiveTorrents: number;
}

/** run: should be running; queued: should wait (paused in the engine); stopped: the user's pause;
 *  leave: not the queue's business right now (error, not loaded). */
export type QueueDecision = 'run' | 'queued' | 'stopped' | 'leave';

export function byQueueOrder(a: { position: number; infoHash: string }, b: { position: number; infoHash: string }): number {
  return a.position - b.position || (a.infoHash < b.infoHash ? -1 : a.infoHash > b.infoHash ? 1 : 0);
}

/** Whether one more fits under a limit (0 = no limit). */
export const within = (count: number, limit: number) => limit <= 0 || count < limit;

/** Every item's decision. O(n log n) for the sort, then one pass. */
export function planQueue(items: readonly QueueItem[], limits: QueueLimits): Map<string, QueueDecision> {
  const out = new Map<string, QueueDecision>();
  const ordered = [...items].sort(byQueueOrder);
  let total = 0;
  let replicas = 0;
  for (const kind of ['download', 'seed'] as const) {
    const limit = kind === 'download' ? limits.maxActiveDownloads : limits.maxActiveUploads;
    let count = 0;
    for (const it of ordered) {
      if (it.kind !== kind) continue;
      if (it.stopped) out.set(it.infoHash, 'stopped');
      else if (pacedReplica(it)) out.set(it.infoHash, replicas++ < MAX_REPLICA_COPIES ? 'run' : 'queued');
      else if (outsideSlots(it)) out.set(it.infoHash, 'run');
      else if (within(count, limit) && within(total, limits.maxActiveTorrents)) {
        out.set(it.infoHash, 'run');
        count++;
        total++;
      } else out.set(it.infoHash, 'queued');
    }
  }
  for (const it of items) if (it.kind === 'other') out.set(it.infoHash, it.stopped ? 'stopped' : 'leave');
  return out;
}
