// The queue's reads and writes of the torrent records (state/torrent-records.ts): its rows come
// from the records in memory (the plan reads all 10,000 each time it runs), and every batch of
// writes goes to the Store as one transaction — one fsync for a thousand torrents — then to the view.

import type { TorrentRecord, TorrentStatus, TorrentRecords } from '@cascade/node-state';

export interface QueueRow {
  infoHash: string;
  status: TorrentStatus;
  position: number;
  forceStart: boolean;
  ratioLimit: number | null;
  seedingTimeLimit: number | null;
  seedingTime: number;
  totalDownloaded: number;
  totalUploaded: number;
  length: number | null;
  /** When it last finished downloading (ms), or null. */
  completedAt: number | null;
  /** Its stored resume data has every piece (a file just shared: the node hashed it making the
   *  torrent). The engine learns so only once the torrent runs; until then it is a seed waiting
   *  to start, not a download waiting for a download slot. */
  storedComplete: boolean;
}

/** The resume records' piece counts (state/resume-records.ts), where the queue reads them. */
interface StoredPieces {
  verifiedPieces(infoHash: string): number | undefined;
}

export class QueueStore {
  readonly #db: { readonly records: TorrentRecords; readonly resume?: StoredPieces };

  constructor(db: { readonly records: TorrentRecords; readonly resume?: StoredPieces }) {
    this.#db = db;
  }

  /** Every torrent in the library this node runs, lean (a cluster's member plans only what it
   *  holds, issue 42). A row without a position (older data) sorts last. */
  async rows(): Promise<QueueRow[]> {
    const records = this.#db.records;
    const rows: QueueRow[] = [];
    for (const r of records.values()) if (records.heldHere(r.infoHash)) rows.push(toRow(r, this.#db.resume));
    return rows;
  }

  /** One torrent's row, or undefined. */
  async row(infoHash: string): Promise<QueueRow | undefined> {
    const r = this.#db.records.get(infoHash);
    return r ? toRow(r, this.#db.resume) : undefined;
  }

  /** everyHolder: the user's pause or resume, for every cluster member holding the torrent. */
  setStatuses(changes: ReadonlyMap<string, TorrentStatus>, everyHolder = false): Promise<void> {
    return this.#db.records.setStatuses(changes, everyHolder);
  }

  /** The user's resume: each torrent a pause or an error stopped is queued again, on every
   *  cluster member holding it. */
  resume(infoHashes: readonly string[]): Promise<void> {
    return this.#db.records.resume(infoHashes);
  }

  setPositions(changes: ReadonlyMap<string, number>): Promise<void> {
    return this.#db.records.setPositions(changes);
  }

  setForceStart(infoHashes: readonly string[], on: boolean): Promise<void> {
    return this.#db.records.setForceStart(infoHashes, on);
  }
}

function toRow(r: TorrentRecord, resume: StoredPieces | undefined): QueueRow {
  const pieces = r.pieceCount;
  return {
    infoHash: r.infoHash,
    status: r.status,
    position: r.queuePosition ?? Number.MAX_SAFE_INTEGER,
    forceStart: r.forceStart,
    ratioLimit: r.ratioLimit,
    seedingTimeLimit: r.seedingTimeLimit,
    seedingTime: r.seedingTime,
    totalDownloaded: r.totalDownloaded,
    totalUploaded: r.totalUploaded,
    length: r.length,
    completedAt: r.completedAt,
    storedComplete: pieces != null && pieces > 0 && resume?.verifiedPieces(r.infoHash) === pieces,
  };
}
