// The record shapes of the state DB (state.ts) and the row → record mapping of torrents.

import type { KeyObject } from 'node:crypto';
import type { Row } from './store.ts';

export type { Row };

export type TorrentStatus = 'queued' | 'downloading' | 'seeding' | 'paused' | 'error';

export interface TorrentRecord {
  infoHash: string;
  name: string | null;
  sourceKind: 'torrent' | 'magnet';
  torrent: Uint8Array | null;
  magnet: string | null;
  savePath: string;
  status: TorrentStatus;
  error: string | null;
  selectedFiles: number[] | null;
  length: number | null;
  pieceCount: number | null;
  addedAt: number;
  completedAt: number | null;
  /** The torrent's own options and running totals (schema 5; the node model in src/model/ owns them). */
  category: string | null;
  tags: string[];
  /** Stored order in the queue (lower goes first); null only for a row no one ordered yet. */
  queuePosition: number | null;
  forceStart: boolean;
  /** BEP 16 super-seeding while complete (schema 26). */
  superSeeding: boolean;
  /** Bytes/s, 0 = no limit of its own. */
  downloadLimit: number;
  uploadLimit: number;
  /** null = the global setting; -1 = no limit for this torrent. */
  ratioLimit: number | null;
  /** Seconds; null = the global setting; -1 = no limit for this torrent. */
  seedingTimeLimit: number | null;
  /** Seconds spent seeding, over every run. */
  seedingTime: number;
  /** Bytes received and sent over every run (ratio). */
  totalDownloaded: number;
  totalUploaded: number;
  /** Announces and DHT look-ups through onion circuits only (schema 9). */
  privateDiscovery: boolean;
  /** http(s)/ftp mirrors of its content, drawn from beside the swarm (schema 11). */
  mirrors: string[];
  /** What remotes edited (schema 12): the name the user gave it, its tracker tiers, renamed files. */
  displayName: string | null;
  trackerTiers: string[][] | null;
  renamedFiles: Record<number, string[]> | null;
  /** The order its pieces come in (schema 15); null = the normal order. */
  pieceOrder: StoredPieceOrder | null;
}

/** Sequential download, first and last pieces first, files of other than normal priority. */
export interface StoredPieceOrder {
  sequential: boolean;
  firstLast: boolean;
  /** [file index, 'low' | 'high'] */
  priorities: [number, 'low' | 'high'][];
}

export interface NewTorrent {
  infoHash: string;
  name?: string | null;
  /** .torrent bytes, or a magnet URI / bare infohash. */
  source: Uint8Array | string;
  savePath: string;
  status: TorrentStatus;
  selectedFiles?: number[] | null;
  length?: number | null;
  pieceCount?: number | null;
  privateDiscovery?: boolean;
  /** Mirrors given with this add; joined to those already stored. */
  mirrors?: string[];
}

export interface PeerRecord {
  address: string;
  peerId: string | null;
  score: number;
  bytesUp: number;
  bytesDown: number;
  banned: boolean;
  banReason: string | null;
  lastSeen: number;
}

/** Accumulated traffic for one peer, written in batches by PeerLedger. */
export interface PeerDelta {
  address: string;
  peerId?: string | undefined;
  up: number;
  down: number;
  banned?: string | undefined;
  lastSeen: number;
}

export interface Identity {
  peerId: Uint8Array;
  peerIdHex: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** Raw 32-byte Ed25519 public key, hex: the node's long-term id. */
  publicKeyHex: string;
}

export interface IdentityDelta {
  did: string;
  account?: string;
  verifiedBytes: number;
  hashFailures: number;
  bans: number;
  lastSeen: number;
}

export interface IdentityRecord {
  did: string;
  account: string | null;
  verifiedBytes: number;
  hashFailures: number;
  bans: number;
  firstSeen: number;
  lastSeen: number;
}



/** Values many rows repeat (a save path, a status), one string each: every row read from the
 *  database brings its own copy, 10,000 copies of the same few words and folders at 10,000 torrents. */
const shared = new Map<string, string>();
const MAX_SHARED = 1024;

function sharedString<T extends string | null>(v: T): T {
  if (typeof v !== 'string') return v;
  const s = shared.get(v);
  if (s !== undefined) return s as T;
  if (shared.size >= MAX_SHARED) shared.clear();
  shared.set(v, v);
  return v;
}

export function toRecord(r: Row): TorrentRecord {
  return {
    infoHash: r.info_hash as string,
    name: (r.name as string | null) ?? null,
    sourceKind: sharedString(r.source_kind as 'torrent' | 'magnet'),
    torrent: (r.torrent as Uint8Array | null) ?? null,
    magnet: (r.magnet as string | null) ?? null,
    savePath: sharedString(r.save_path as string),
    status: sharedString(r.status as TorrentStatus),
    error: (r.error as string | null) ?? null,
    selectedFiles: r.selected_files ? (JSON.parse(r.selected_files as string) as number[]) : null,
    length: (r.length as number | null) ?? null,
    pieceCount: (r.piece_count as number | null) ?? null,
    addedAt: r.added_at as number,
    completedAt: (r.completed_at as number | null) ?? null,
    category: sharedString((r.category as string | null) ?? null),
    tags: parseStringList(r.tags),
    queuePosition: (r.queue_position as number | null) ?? null,
    forceStart: r.force_start === 1,
    superSeeding: r.super_seeding === 1,
    downloadLimit: Number(r.download_limit ?? 0),
    uploadLimit: Number(r.upload_limit ?? 0),
    ratioLimit: (r.ratio_limit as number | null) ?? null,
    seedingTimeLimit: (r.seeding_time_limit as number | null) ?? null,
    seedingTime: Number(r.seeding_time ?? 0),
    totalDownloaded: Number(r.total_downloaded ?? 0),
    totalUploaded: Number(r.total_uploaded ?? 0),
    privateDiscovery: r.private_discovery === 1,
    mirrors: parseStringList(r.mirrors),
    displayName: (r.display_name as string | null) ?? null,
    trackerTiers: parseJson(r.tracker_tiers, (v): v is string[][] => Array.isArray(v) && v.every((t) => Array.isArray(t) && t.every((u) => typeof u === 'string'))),
    renamedFiles: parseRenamedFiles(r.renamed_files),
    pieceOrder: toRecordPieceOrder(r),
  };
}

/** A renamed_files column (the torrents' row, a removal's tombstone): file index → path, or null. */
export function parseRenamedFiles(v: unknown): Record<number, string[]> | null {
  return parseJson(v, (x): x is Record<number, string[]> => !!x && typeof x === 'object' && !Array.isArray(x));
}

export function toRecordPieceOrder(r: Row): StoredPieceOrder | null {
  return parseJson(r.piece_order, (v): v is StoredPieceOrder => !!v && typeof v === 'object' && Array.isArray((v as StoredPieceOrder).priorities));
}

/** A JSON column of the expected shape, else null (absent or unreadable). */
function parseJson<T>(v: unknown, ok: (v: unknown) => v is T): T | null {
  if (typeof v !== 'string') return null;
  try {
    const parsed: unknown = JSON.parse(v);
    return ok(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

/** A column holding a JSON list of strings (tags, mirrors): [] when empty or unreadable. */
/** The empty list every record without tags or mirrors shares (frozen: a record's lists are
 *  replaced, never changed in place): two arrays a record cost 0.64 MB at 10,000. */
const NO_STRINGS = Object.freeze([]) as unknown as string[];

function parseStringList(v: unknown): string[] {
  if (typeof v !== 'string') return NO_STRINGS;
  try {
    const list: unknown = JSON.parse(v);
    const strings = Array.isArray(list) ? list.filter((t): t is string => typeof t === 'string') : [];
    return strings.length > 0 ? strings : NO_STRINGS;
  } catch {
    return NO_STRINGS;
  }
}
