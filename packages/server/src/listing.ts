// One row shape for `list`, `search` and the HTTP API's torrent list, whether it comes from a
// running node (live stats) or straight from the state DB (last known status + resume bitfield).

import type { StateDB, TorrentRecord } from './state.ts';
import type { TorrentStats } from './engine.ts';
import type { CascadeNode } from './node.ts';

export interface ListEntry {
  infoHash: string;
  name: string | null;
  /** Live engine state, or the DB status when no node runs. */
  state: string;
  /** 0..1, null when the piece count is not known yet (magnet without metadata). */
  progress: number | null;
  verifiedPieces: number;
  pieceCount: number | null;
  length: number | null;
  downloadSpeed: number;
  uploadSpeed: number;
  eta: number | null;
  peers: number;
  seeds: number;
  /** Bytes moved since the node started (ratio = uploaded / downloaded). */
  downloaded: number;
  uploaded: number;
  savePath: string | null;
  live: boolean;
  error: string | null;
}

export function offlineEntry(rec: TorrentRecord, db: StateDB): ListEntry {
  const verified = db.verifiedPieces(rec.infoHash) ?? 0;
  return {
    infoHash: rec.infoHash,
    name: rec.name,
    state: rec.status,
    progress: rec.pieceCount ? Math.min(1, verified / rec.pieceCount) : null,
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
    savePath: rec.savePath,
    live: false,
    error: rec.error,
  };
}

export function liveEntry(s: TorrentStats, rec: TorrentRecord | undefined): ListEntry {
  return {
    infoHash: s.infoHashHex,
    name: s.name ?? rec?.name ?? null,
    state: s.state,
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
    savePath: rec?.savePath ?? null,
    live: true,
    error: s.error ?? null,
  };
}

/** Every torrent the node knows: live ones with stats, then stored ones it has not loaded. */
export function listEntries(node: Pick<CascadeNode, 'session' | 'db'>): ListEntry[] {
  const live = node.session.list();
  const liveSet = new Set(live.map((t) => t.infoHashHex));
  return [
    ...live.map((t) => liveEntry(t.stats(), node.db.getTorrent(t.infoHashHex))),
    ...node.db
      .listTorrents()
      .filter((r) => !liveSet.has(r.infoHash))
      .map((r) => offlineEntry(r, node.db)),
  ];
}
