// One row shape for `list` and `search`, whether it comes from a running node (live stats) or
// straight from the state DB (last known status + resume bitfield).

import type { StateDB, TorrentRecord } from './state.ts';
import type { TorrentStats } from './engine.ts';
import { formatBytes, formatPercent, formatSpeed, formatDuration } from './format.ts';

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
    savePath: rec?.savePath ?? null,
    live: true,
    error: s.error ?? null,
  };
}

export function renderEntries(entries: ListEntry[]): string {
  if (entries.length === 0) return 'no torrents';
  return entries
    .map((e) => {
      const pct = e.progress === null ? '   ?  ' : formatPercent(e.progress).padStart(6);
      const size = e.length === null ? '?' : formatBytes(e.length);
      let line = `${e.infoHash.slice(0, 8)}  ${e.state.padEnd(11)} ${pct}  ${size.padStart(9)}  ${e.name ?? '(no metadata yet)'}`;
      if (e.live && (e.downloadSpeed > 0 || e.uploadSpeed > 0 || e.peers > 0)) {
        line += `  [↓ ${formatSpeed(e.downloadSpeed)} ↑ ${formatSpeed(e.uploadSpeed)}, ${e.peers} peers`;
        line += e.eta !== null && e.progress !== 1 ? `, ETA ${formatDuration(e.eta)}]` : ']';
      }
      if (e.error) line += `  error: ${e.error}`;
      return line;
    })
    .join('\n');
}
