// What the queue counts: whether a torrent is a download or a seed for the limits, and the running
// torrents counted against them — kept between full plans so that a torrent added (or loaded at
// start) is decided against the counts instead of planning the whole library again.

import type { TorrentStats } from '../core/engine.ts';
import { MAX_REPLICA_COPIES, within, type QueueKind, type QueueLimits } from './plan.ts';
import type { QueueRow } from './store.ts';

/**
 * Whether a torrent is complete. A paused torrent the engine has not checked yet (it checks when it
 * first starts) shows no verified piece: then the library's word counts (it finished before).
 */
export function isComplete(s: TorrentStats | undefined, row: Pick<QueueRow, 'status' | 'completedAt'> & Partial<Pick<QueueRow, 'storedComplete'>>): boolean {
  if (!s) return row.status === 'seeding';
  if (s.state === 'seeding') return true;
  if (s.pieceCount !== undefined && s.progress >= 1) return true;
  return s.state === 'paused' && s.verifiedPieces === 0 && (row.completedAt !== null || row.storedComplete === true);
}

export function kindOf(s: TorrentStats | undefined, row: QueueRow): QueueKind {
  if (!s) return 'other';
  switch (s.state) {
    case 'seeding':
      return 'seed';
    case 'downloading':
    case 'metadata':
      return 'download';
    case 'paused':
      return isComplete(s, row) ? 'seed' : 'download';
    case 'checking':
      // Counted where it will land (it holds its slot while it checks), by what the library knows.
      return row.completedAt !== null || row.storedComplete ? 'seed' : 'download';
    default:
      return 'other'; // error: the user's (or a recheck's) to start again
  }
}

/** Running torrents counted against the limits (forced ones and stalled downloads are not), the
 *  cluster's copies running (against MAX_REPLICA_COPIES), and how many the last plan left waiting. */
export class SlotCounts {
  #kinds = new Map<string, 'download' | 'seed'>();
  #downloads = 0;
  #seeds = 0;
  readonly #replicas = new Set<string>();
  waiting = 0;

  /** Counts a cluster's copy as running; false when MAX_REPLICA_COPIES already run. */
  takeReplica(infoHash: string): boolean {
    if (this.#replicas.has(infoHash)) return true;
    if (this.#replicas.size >= MAX_REPLICA_COPIES) return false;
    this.#replicas.add(infoHash);
    return true;
  }

  has(infoHash: string): boolean {
    return this.#kinds.has(infoHash);
  }

  /** Counts a torrent as a download or a seed (again: it moves), or no more (undefined). */
  count(infoHash: string, kind: 'download' | 'seed' | undefined): void {
    const was = this.#kinds.get(infoHash);
    if (was === 'download') this.#downloads--;
    if (was === 'seed') this.#seeds--;
    if (kind === undefined) {
      this.#kinds.delete(infoHash);
      this.#replicas.delete(infoHash);
    }
    else {
      this.#kinds.set(infoHash, kind);
      if (kind === 'download') this.#downloads++;
      else this.#seeds++;
    }
  }

  /** Whether one more of this kind runs within the limits. */
  fits(kind: 'download' | 'seed', limits: QueueLimits): boolean {
    const used = kind === 'download' ? this.#downloads : this.#seeds;
    const limit = kind === 'download' ? limits.maxActiveDownloads : limits.maxActiveUploads;
    return within(used, limit) && within(this.#downloads + this.#seeds, limits.maxActiveTorrents);
  }

  clear(): void {
    this.#kinds.clear();
    this.#replicas.clear();
    this.#downloads = this.#seeds = this.waiting = 0;
  }
}
