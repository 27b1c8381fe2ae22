// Cascade's torrent rows as qBittorrent 4.6 describes torrents (serialize_torrent.cpp): the object of
// torrents/info and sync/maindata, its `state` strings, the list filters, and the unit changes
// (Cascade: ms and seconds, null = "the global setting"; qBittorrent: Unix seconds, minutes for
// seeding times, -2 = global, -1 = none, 8640000 = no ETA).
import { isV2Only, type NodeSettings, type PieceOrder, type PieceStates, type TorrentRow } from '../ops.ts';
import { distributedCopies } from '../shared-views/distributed-copies.ts';

/** qBittorrent's MAX_ETA: "infinity" (100 days). */
export const MAX_ETA = 8_640_000;
/** qBittorrent caps shown ratios: above it the ratio is -1. */
const MAX_RATIO = 9999;

export interface MapContext {
  settings: NodeSettings;
  /** ms since the epoch (one value per answer, so a list is consistent). */
  now: number;
  /** The torrent's piece order (sequential, first/last pieces); absent = none. */
  pieceOrder?: (infoHash: string) => PieceOrder;
  /** Piece states and availability (throws before the metadata is known): distributed copies. */
  pieces?: (infoHash: string) => PieceStates;
}

/** qBittorrent's availability: libtorrent's distributed copies while downloading, -1 otherwise (a
 *  seed's libtorrent has no piece picker to count with), and -1 while the pieces are not known. */
function availabilityOf(r: TorrentRow, m: MapContext, downloading: boolean): number {
  if (!downloading || !m.pieces) return -1;
  try {
    const p = m.pieces(r.infoHash);
    return distributedCopies(p.states, p.availability) ?? -1;
  } catch {
    return -1;
  }
}

export function isComplete(r: TorrentRow): boolean {
  return r.progress === 1;
}

/**
 * qBittorrent's state strings. Paused torrents are pausedDL/pausedUP: the API version declared
 * (2.9.3, qBittorrent 4.6) predates 5.0's stoppedDL/stoppedUP, and every Sonarr/Radarr release
 * knows these. Downloading without data flowing is stalledDL, seeding without uploads stalledUP,
 * as qBittorrent reports them.
 */
export function qbState(r: TorrentRow): string {
  const done = isComplete(r);
  // Files gone while it was not running (a drive not mounted): qBittorrent's state for it, which
  // Sonarr and Radarr report as an error rather than wait on a paused download.
  if (r.missingFiles?.length && (r.state === 'paused' || r.state === 'queued' || r.state === 'stopped')) return 'missingFiles';
  // Stopped at its start because every file it had data in was gone (the engine's "No data found",
  // SessionOptions.stopWhenDataGone): the same state, as qBittorrent gives a torrent whose
  // resume data libtorrent rejected for missing files.
  if (r.state === 'error' && r.error?.startsWith('No data found')) return 'missingFiles';
  switch (r.state) {
    case 'error':
      return 'error';
    case 'paused':
    case 'stopped':
      return done ? 'pausedUP' : 'pausedDL';
    case 'queued':
      return done ? 'queuedUP' : 'queuedDL';
    case 'checking':
      return done ? 'checkingUP' : 'checkingDL';
    case 'metadata':
      return r.forceStart ? 'forcedMetaDL' : 'metaDL';
    case 'downloading':
      if (done) return r.forceStart ? 'forcedUP' : r.uploadSpeed > 0 ? 'uploading' : 'stalledUP';
      return r.forceStart ? 'forcedDL' : r.downloadSpeed > 0 ? 'downloading' : 'stalledDL';
    case 'seeding':
      return r.forceStart ? 'forcedUP' : r.uploadSpeed > 0 ? 'uploading' : 'stalledUP';
    default:
      return 'unknown';
  }
}

const DOWNLOADING = new Set(['downloading', 'metaDL', 'forcedMetaDL', 'stalledDL', 'checkingDL', 'pausedDL', 'queuedDL', 'forcedDL']);
const UPLOADING = new Set(['uploading', 'stalledUP', 'checkingUP', 'queuedUP', 'forcedUP']);
const COMPLETED = new Set([...UPLOADING, 'pausedUP']);
const ACTIVE = new Set(['metaDL', 'forcedMetaDL', 'downloading', 'forcedDL', 'uploading', 'forcedUP', 'moving']);

/** The `filter` values of torrents/info (TorrentFilter), with 5.x's stopped/running as synonyms. */
export const FILTERS = [
  'all', 'downloading', 'seeding', 'completed', 'paused', 'stopped', 'resumed', 'running', 'active', 'inactive',
  'stalled', 'stalled_uploading', 'stalled_downloading', 'checking', 'moving', 'errored',
] as const;

export function matchesFilter(filter: string, state: string, r: TorrentRow): boolean {
  // A torrent with files missing is stopped too (qBittorrent: isPaused()), and errored.
  const paused = state === 'pausedDL' || state === 'pausedUP' || state === 'missingFiles';
  // qBittorrent counts a stalled download that uploads as active.
  const active = ACTIVE.has(state) || (state === 'stalledDL' && r.uploadSpeed > 0);
  switch (filter) {
    case 'downloading':
      return DOWNLOADING.has(state);
    case 'seeding':
      return UPLOADING.has(state);
    case 'completed':
      return COMPLETED.has(state);
    case 'paused':
    case 'stopped':
      return paused;
    case 'resumed':
    case 'running':
      return !paused;
    case 'active':
      return active;
    case 'inactive':
      return !active;
    case 'stalled':
      return state === 'stalledUP' || state === 'stalledDL';
    case 'stalled_uploading':
      return state === 'stalledUP';
    case 'stalled_downloading':
      return state === 'stalledDL';
    case 'checking':
      return state === 'checkingUP' || state === 'checkingDL' || state === 'checkingResumeData';
    case 'moving':
      return state === 'moving';
    case 'errored':
      return state === 'error' || state === 'missingFiles';
    default:
      return true;
  }
}

export const secs = (ms: number | null | undefined): number => (ms == null ? -1 : Math.floor(ms / 1000));

/** Cascade's own ratio goal (null = global, -1 = none) as qBittorrent's (-2 = global, -1 = none). */
export function qbRatioLimit(v: number | null): number {
  return v === null ? -2 : v;
}

/** Cascade's seconds (null = global, -1 = none) as qBittorrent's minutes (-2, -1). */
export function qbSeedingTimeLimit(v: number | null): number {
  return v === null ? -2 : v < 0 ? -1 : Math.round(v / 60);
}

/** The goal in force: the torrent's own or the node's (-1 = none). */
function effectiveRatio(r: TorrentRow, s: NodeSettings): number {
  const v = r.ratioLimit ?? s.ratioLimit;
  return v === null || v < 0 ? -1 : v;
}

function effectiveSeedingMinutes(r: TorrentRow, s: NodeSettings): number {
  const v = r.seedingTimeLimit ?? s.seedingTimeLimit;
  return v === null || v < 0 ? -1 : Math.round(v / 60);
}

export function savePathOf(r: TorrentRow, s: NodeSettings): string {
  return r.savePath ?? s.downloadDir;
}

/** Where the content is: the file of a single-file torrent, the folder of a multi-file one. */
export function contentPathOf(r: TorrentRow, s: NodeSettings): string {
  const base = savePathOf(r, s);
  if (!r.name) return base;
  return `${base.replace(/\/+$/, '')}/${r.name}`;
}

export function magnetOf(r: TorrentRow): string {
  // BEP 52: a hybrid carries both infohashes, a v2-only torrent only its v2 (urn:btmh, sha2-256).
  const xts = [...(isV2Only(r) ? [] : [`urn:btih:${r.infoHash}`]), ...(r.infoHashV2 ? [`urn:btmh:1220${r.infoHashV2}`] : [])];
  return `magnet:?${xts.map((x) => `xt=${x}`).join('&')}${r.name ? `&dn=${encodeURIComponent(r.name)}` : ''}`;
}

/** torrents/info's object for one torrent (qBittorrent 4.6's serialize(), minus trackers_count). */
export function qbTorrent(r: TorrentRow, m: MapContext): Record<string, string | number | boolean> {
  const s = m.settings;
  const order = m.pieceOrder?.(r.infoHash);
  const state = qbState(r);
  const done = isComplete(r);
  const size = r.length ?? 0;
  const progress = r.progress ?? 0;
  const completed = Math.round(size * progress);
  const leechers = Math.max(0, r.peers - r.seeds);
  const downloadingNow = state === 'downloading' || state === 'forcedDL' || state === 'stalledDL';
  const eta = done || !downloadingNow || r.eta === null ? MAX_ETA : Math.min(MAX_ETA, Math.max(0, Math.round(r.eta)));
  const addedOn = r.addedAt === null ? 0 : secs(r.addedAt);
  const active = r.downloadSpeed > 0 || r.uploadSpeed > 0;
  // Time it ran: from add to completion (or now), then seeding time. Cascade keeps no separate
  // "active time", so paused spans while downloading count too.
  const downloadTime = r.addedAt !== null ? Math.max(0, ((r.completedAt ?? m.now) - r.addedAt) / 1000) : 0;
  return {
    hash: r.infoHash,
    // qBittorrent's: a v2-only torrent has no v1 infohash; `hash` stays its id (the truncated v2).
    infohash_v1: isV2Only(r) ? '' : r.infoHash,
    infohash_v2: r.infoHashV2 ?? '',
    name: r.name ?? r.infoHash,
    magnet_uri: magnetOf(r),
    size,
    progress,
    dlspeed: r.downloadSpeed,
    upspeed: r.uploadSpeed,
    priority: r.queuePosition ?? 0,
    num_seeds: r.seeds,
    num_complete: r.seeds,
    num_leechs: leechers,
    num_incomplete: leechers,
    state,
    eta,
    seq_dl: order?.sequential ?? false,
    f_l_piece_prio: order?.firstLast ?? false,
    category: r.category ?? '',
    // qBittorrent's TagSet is sorted case-insensitively.
    tags: [...r.tags].sort((a, b) => a.localeCompare(b, 'en', { sensitivity: 'base' })).join(', '),
    super_seeding: r.superSeeding ?? false,
    force_start: r.forceStart,
    save_path: savePathOf(r, s),
    download_path: '',
    content_path: contentPathOf(r, s),
    added_on: addedOn,
    completion_on: done ? secs(r.completedAt) : -1,
    tracker: '',
    dl_limit: r.downloadLimit,
    up_limit: r.uploadLimit,
    downloaded: r.totalDownloaded,
    uploaded: r.totalUploaded,
    downloaded_session: r.downloaded,
    uploaded_session: r.uploaded,
    amount_left: Math.max(0, size - completed),
    completed,
    max_ratio: effectiveRatio(r, s),
    max_seeding_time: effectiveSeedingMinutes(r, s),
    max_inactive_seeding_time: -1,
    ratio: r.ratio > MAX_RATIO ? -1 : r.ratio,
    ratio_limit: qbRatioLimit(r.ratioLimit),
    seeding_time_limit: qbSeedingTimeLimit(r.seedingTimeLimit),
    inactive_seeding_time_limit: -2,
    seen_complete: done || r.seeds > 0 ? secs(m.now) : -1,
    auto_tmm: false,
    time_active: Math.round(downloadTime + r.seedingTime),
    seeding_time: Math.round(r.seedingTime),
    last_activity: active ? secs(m.now) : done && r.completedAt !== null ? secs(r.completedAt) : addedOn,
    availability: availabilityOf(r, m, downloadingNow),
    total_size: size,
  };
}

interface Mapped {
  row: TorrentRow;
  order: PieceOrder | undefined;
  settingsKey: string;
  obj: Record<string, string | number | boolean>;
}

/** Each node's rows as mapped last time: the node's list keeps a row's object while nothing it
 *  shows changed, so an unchanged row (and piece order and settings) reuses its mapped object.
 *  sync/maindata then sees the same object and sends nothing for it, and torrents/info of 10,000
 *  idle torrents maps none. Time-based fields (time_active, seen_complete) move when the row does. */
const mappedByNode = new WeakMap<object, Map<string, Mapped>>();

/** Fields computed from the clock, not from the row. */
const CLOCK_FIELDS = ['seen_complete', 'last_activity'] as const;

/** The settings a mapped row depends on: when these change, every row maps anew. */
export function settingsKeyOf(s: NodeSettings): string {
  return `${s.downloadDir}\0${s.ratioLimit}\0${s.seedingTimeLimit}`;
}

/** `rows` the whole list (default) or a part of it (a filter, the rows changed since a poll): only
 *  a whole list tells which cached rows are gone. */
export function qbTorrents(node: object, rows: readonly TorrentRow[], m: MapContext, whole = true): Record<string, string | number | boolean>[] {
  let cache = mappedByNode.get(node);
  if (!cache) mappedByNode.set(node, (cache = new Map()));
  const settingsKey = settingsKeyOf(m.settings);
  const out = new Array<Record<string, string | number | boolean>>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const order = m.pieceOrder?.(r.infoHash);
    const hit = cache.get(r.infoHash);
    if (hit && hit.row === r && hit.order === order && hit.settingsKey === settingsKey) out[i] = hit.obj;
    else {
      const obj = qbTorrent(r, m);
      // The same row mapped again for its piece order or the settings: the clock-based fields stay
      // as they were, or a toggle would also send seen_complete whenever a second had passed.
      if (hit && hit.row === r) for (const k of CLOCK_FIELDS) if (k in hit.obj) obj[k] = hit.obj[k]!;
      cache.set(r.infoHash, { row: r, order, settingsKey, obj });
      out[i] = obj;
    }
  }
  // Rows gone: forget them once the cache holds many more than the list.
  if (whole && cache.size > rows.length * 2 + 100) {
    const live = new Set(rows.map((r) => r.infoHash));
    for (const k of cache.keys()) if (!live.has(k)) cache.delete(k);
  }
  return out;
}

/** Each mapped object's JSON and its UTF-8 length, made once: a mapped object is never changed,
 *  only replaced. */
const jsonOf = new WeakMap<object, { text: string; bytes: number }>();

/**
 * A list of mapped torrents as a JSON array, each element serialized once while it lives, and the
 * answer's length in bytes: a torrents/info of 10,000 idle torrents joins kept strings, and the
 * answer of megabytes is not measured again on the way out.
 */
export function jsonArray(list: readonly Record<string, string | number | boolean>[]): { text: string; bytes: number } {
  const parts = new Array<string>(list.length);
  let bytes = 2 + Math.max(0, list.length - 1);
  for (let i = 0; i < list.length; i++) {
    const o = list[i]!;
    let json = jsonOf.get(o);
    if (json === undefined) {
      const text = JSON.stringify(o);
      jsonOf.set(o, (json = { text, bytes: Buffer.byteLength(text) }));
    }
    parts[i] = json.text;
    bytes += json.bytes;
  }
  return { text: `[${parts.join(',')}]`, bytes };
}
