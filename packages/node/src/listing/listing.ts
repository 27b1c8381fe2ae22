// One row shape for `list`, `search` and the HTTP API's torrent list (@cascade/shapes' ListEntry),
// whether it comes from a running node (live stats) or straight from the state DB (last known
// status + resume bitfield).
// Filtering and sorting of those rows (GET /api/torrents?…) is in list-query.ts.

import type { StateDB, TorrentRecord } from '@cascade/node-state';
import type { TorrentHandle, TorrentStats } from '../core/engine.ts';
import type { NodeCore } from '../core/node-parts.ts';
import type { PrivateView } from '../core/node-private.ts';
import type { ListEntry } from '@cascade/shapes';

export type { ListEntry };

// The fields from the torrent's stored options (category … completedAt; defaults for a torrent not
// stored yet) are written out in each row's object literal (not spread from a helper's
// object): a spread in the middle of the literal leaves V8 adding the later fields one by one into an
// out-of-object property array, ~200 bytes more per cached row (10,000 of them) and a temporary.

/** Save paths as shared strings: each record read from SQLite brings its own copy, and thousands of
 *  cached rows name the same few folders. */
const savePaths = new Map<string, string>();

function sharedSavePath(p: string | null | undefined): string | null {
  if (p == null) return null;
  const known = savePaths.get(p);
  if (known !== undefined) return known;
  if (savePaths.size >= 1000) savePaths.clear(); // a library with a folder per torrent: no sharing to gain
  savePaths.set(p, p);
  return p;
}

export function ratioOf(uploaded: number, downloaded: number, verifiedBytes: number): number {
  const base = Math.max(downloaded, verifiedBytes);
  return base > 0 ? uploaded / base : 0;
}

/** Hosts of tracker URLs seen lately: thousands of torrents share a handful of trackers. */
const trackerHosts = new Map<string, string | null>();

export function trackerHost(url: string | undefined): string | null {
  if (!url) return null;
  let host = trackerHosts.get(url);
  if (host !== undefined) return host;
  try {
    host = new URL(url).hostname.replace(/^\[|\]$/g, '') || null;
  } catch {
    host = null;
  }
  if (trackerHosts.size >= 1000) trackerHosts.clear();
  trackerHosts.set(url, host);
  return host;
}

export function offlineEntry(rec: TorrentRecord, db: StateDB): ListEntry {
  const verified = db.verifiedPieces(rec.infoHash) ?? 0;
  const progress = rec.pieceCount ? Math.min(1, verified / rec.pieceCount) : null;
  return {
    infoHash: rec.infoHash,
    infoHashV2: null,
    name: rec.displayName ?? rec.name,
    state: rec.status,
    progress,
    verifiedPieces: verified,
    pieceCount: rec.pieceCount,
    length: rec.length,
    downloadSpeed: 0,
    uploadSpeed: 0,
    eta: null,
    peers: 0,
    seeds: 0,
    downloaded: 0,
    uploaded: 0,
    savePath: sharedSavePath(rec.savePath),
    live: false,
    error: rec.error,
    category: rec.category ?? null,
    tags: rec.tags ?? [],
    downloadLimit: rec.downloadLimit ?? 0,
    uploadLimit: rec.uploadLimit ?? 0,
    ratioLimit: rec.ratioLimit ?? null,
    seedingTimeLimit: rec.seedingTimeLimit ?? null,
    forceStart: rec.forceStart ?? false,
    superSeeding: rec.superSeeding ?? false,
    addedAt: rec.addedAt ?? null,
    completedAt: rec.completedAt ?? null,
    queuePosition: null,
    encrypted: false,
    decryptable: true,
    ratio: ratioOf(rec.totalUploaded, rec.totalDownloaded, (progress ?? 0) * (rec.length ?? 0)),
    seedingTime: rec.seedingTime,
    seedingTimeOrigin: null,
    totalDownloaded: rec.totalDownloaded,
    totalUploaded: rec.totalUploaded,
    tracker: null,
  };
}

/** Traffic and seeding time not yet added to the stored totals (the model's accounting). */
export interface PendingTotals {
  downloaded: number;
  uploaded: number;
  seedingSeconds: number;
}

export function liveEntry(
  s: TorrentStats,
  rec: TorrentRecord | undefined,
  extra: { tracker?: string | null; pending?: PendingTotals | undefined; queuePosition?: number | null; now?: number; infoHashV2?: string | undefined } = {},
): ListEntry {
  const pending = extra.pending ?? { downloaded: 0, uploaded: 0, seedingSeconds: 0 };
  const totalDownloaded = (rec?.totalDownloaded ?? 0) + pending.downloaded;
  const totalUploaded = (rec?.totalUploaded ?? 0) + pending.uploaded;
  // The queue holds a torrent back by pausing it in the engine with the stored status 'queued'.
  // (Any stored status but the user's 'paused' on a paused torrent: it waits for the queue to start it.)
  const state = s.state === 'paused' && rec !== undefined && rec.status !== 'paused' ? 'queued' : s.state;
  const seedingSeconds = (rec?.seedingTime ?? 0) + pending.seedingSeconds;
  return {
    infoHash: s.infoHashHex,
    infoHashV2: extra.infoHashV2 ?? null,
    name: rec?.displayName ?? s.name ?? rec?.name ?? null,
    state,
    progress: s.pieceCount === undefined ? null : s.progress,
    verifiedPieces: s.verifiedPieces,
    pieceCount: s.pieceCount ?? null,
    length: s.length ?? null,
    downloadSpeed: s.downloadSpeed,
    uploadSpeed: s.uploadSpeed,
    eta: Number.isFinite(s.eta) ? s.eta : null,
    peers: s.peers,
    seeds: s.seeds,
    downloaded: s.downloaded,
    uploaded: s.uploaded,
    savePath: sharedSavePath(rec?.savePath),
    live: true,
    error: s.error ?? null,
    category: rec?.category ?? null,
    tags: rec?.tags ?? [],
    downloadLimit: rec?.downloadLimit ?? 0,
    uploadLimit: rec?.uploadLimit ?? 0,
    ratioLimit: rec?.ratioLimit ?? null,
    seedingTimeLimit: rec?.seedingTimeLimit ?? null,
    forceStart: rec?.forceStart ?? false,
    superSeeding: rec?.superSeeding ?? false,
    addedAt: rec?.addedAt ?? null,
    // The engine seeds as soon as the last piece is verified but says 'done' (which stores the
    // completion time) once its resume data is flushed: meanwhile a finished torrent shows now,
    // never "complete, completed at 0" (qBittorrent's completion_on, Transmission's doneDate).
    completedAt: rec?.completedAt ?? (s.state === 'seeding' ? (extra.now ?? Date.now()) : null),
    queuePosition: extra.queuePosition ?? null,
    encrypted: false,
    decryptable: true,
    ratio: ratioOf(totalUploaded, totalDownloaded, s.progress * (s.length ?? 0)),
    seedingTime: Math.round(seedingSeconds),
    seedingTimeOrigin: s.state === 'seeding' ? Math.round((extra.now ?? Date.now()) - seedingSeconds * 1000) : null,
    totalDownloaded,
    totalUploaded,
    tracker: extra.tracker ?? null,
  };
}

/** Seeding time at `now`: a seeding row's clock runs on from its origin (see ListEntry.seedingTimeOrigin). */
export function seedingTimeAt(e: Pick<ListEntry, 'seedingTime' | 'seedingTimeOrigin'>, now: number): number {
  return e.seedingTimeOrigin === null ? e.seedingTime : Math.max(e.seedingTime, Math.round((now - e.seedingTimeOrigin) / 1000));
}

/** The first tracker a live torrent announces to. */
export function firstTracker(t: TorrentHandle): string | undefined {
  return t.metainfo?.announce[0]?.[0] ?? (t.firstTrackerUrl ? t.firstTrackerUrl() : t.trackers()[0]?.url);
}

/** Whether an entry counts as complete for the queue (complete ones have no queue position). */
export function complete(s: { progress: number | null; pieceCount: number | null; state: string }): boolean {
  return s.state === 'seeding' || (s.pieceCount !== null && s.progress !== null && s.progress >= 1);
}

/** Queue positions 1..n of the torrents not complete, in the stored queue order. */
export function queuePositions(node: Pick<NodeCore, 'session' | 'db'>, order: readonly string[]): Map<string, number> {
  const positions = new Map<string, number>();
  for (const ih of order) {
    const t = node.session.get(ih);
    let done: boolean;
    if (t) {
      const s = t.stats();
      done = complete({ progress: s.progress, pieceCount: s.pieceCount ?? null, state: s.state });
    } else done = node.db.records.get(ih)?.status === 'seeding';
    if (!done) positions.set(ih, positions.size + 1);
  }
  return positions;
}

export type ListingNode = Pick<NodeCore, 'session' | 'db'> & {
  model?: { queueOrder(): string[]; pendingTotals(infoHash: string): PendingTotals | undefined } | undefined;
  /** A running node's queue knows the positions as of its last plan (no pass over the library per row). */
  queue?: { positions(): ReadonlyMap<string, number> } | undefined;
  /** A running node's torrents, paused and not checked since, with files gone (unchecked-claims.ts). */
  missingFiles?(infoHash: string): string[] | undefined;
  /** A running node's private shares: their real names, or why it cannot read them. */
  privateShares?: { view(infoHash: string): PrivateView | undefined } | undefined;
};

export function positionsOf(node: ListingNode): ReadonlyMap<string, number> {
  return node.queue?.positions() ?? queuePositions(node, node.model?.queueOrder() ?? node.db.listTorrents().map((r) => r.infoHash));
}

/**
 * A torrent loaded paused has not checked its data (it will when resumed): the engine counts nothing
 * verified yet, but the resume record says what was, and that is what the user had (defect 3).
 */
export function restoredStats(node: Pick<NodeCore, 'db'>, t: TorrentHandle): TorrentStats {
  const s = t.stats();
  if (s.state !== 'paused' || s.verifiedPieces > 0 || !s.pieceCount) return s;
  const verified = Math.min(s.pieceCount, node.db.verifiedPieces(t.infoHashHex) ?? 0);
  return verified > 0 ? { ...s, verifiedPieces: verified, progress: verified / s.pieceCount } : s;
}

/** What a torrent with files gone says (Transmission's words for it: "No data found!"). */
export function missingFilesError(paths: readonly string[]): string {
  const n = paths.length;
  const some = `${paths.slice(0, 3).join(', ')}${n > 3 ? `, and ${n - 3} more` : ''}`;
  return `No data found for ${n} file${n === 1 ? '' : 's'} (${some}): is its drive connected, or were they moved? Put them back (or set its location) and resume or recheck; resumed as it is, it downloads them again`;
}

/** The list row of a live torrent, with its queue position and the totals not flushed yet. */
export function liveRow(node: ListingNode, t: TorrentHandle, positions?: ReadonlyMap<string, number>, rec?: TorrentRecord): ListEntry {
  const pos = positions ?? positionsOf(node);
  const s = restoredStats(node, t);
  // A complete torrent has no queue position, whatever the queue's last plan (made before it
  // completed) still says: otherwise its row would change again when the queue next plans.
  const done = complete({ progress: s.progress, pieceCount: s.pieceCount ?? null, state: s.state });
  let row = liveEntry(s, rec ?? node.db.records.get(t.infoHashHex), {
    tracker: trackerHost(firstTracker(t)),
    infoHashV2: t.metainfo?.infoHashV2Hex,
    pending: node.model?.pendingTotals(t.infoHashHex),
    queuePosition: done ? null : (pos.get(t.infoHashHex) ?? null),
  });
  const missing = node.missingFiles?.(t.infoHashHex);
  if (missing) row = { ...row, error: missingFilesError(missing), missingFiles: missing };
  if (t.checkWaiting) row = { ...row, checkWaiting: true };
  const shared = node.privateShares?.view(t.infoHashHex);
  if (!shared) return row;
  return {
    ...row,
    encrypted: true,
    decryptable: shared.decryptable,
    name: shared.manifest?.name ?? row.name,
    error: shared.error ?? row.error,
  };
}

/** Every torrent the node knows: live ones with stats, then stored ones it has not loaded. */
export function listEntries(node: ListingNode): ListEntry[] {
  const live = node.session.list();
  const liveSet = new Set(live.map((t) => t.infoHashHex));
  const positions = positionsOf(node);
  return [
    ...live.map((t) => liveRow(node, t, positions)),
    ...node.db
      .listTorrents()
      .filter((r) => !liveSet.has(r.infoHash))
      .map((r) => ({ ...offlineEntry(r, node.db), queuePosition: positions.get(r.infoHash) ?? null })),
  ];
}
