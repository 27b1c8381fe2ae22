// What the compatible APIs may do to the node: one small interface the server implements over its
// own model (packages/http/src/compat/compat-ops.ts). Transmission RPC and qBittorrent's Web API only
// translate names and shapes to these calls and back, so a torrent added through any door is the
// same torrent in all of them, in Cascade's API and in the UI.

/** A torrent as Cascade's list shows it (the server's ListEntry, structurally). */
export interface TorrentRow {
  /** The torrent's id: its v1 infohash, or a v2-only torrent's truncated v2 infohash (BEP 52). */
  infoHash: string;
  /** BEP 52: the 64-hex v2 infohash of a v2 or hybrid torrent; null for v1. Optional: a node from
   *  before BEP 52 does not send it. */
  infoHashV2?: string | null;
  name: string | null;
  /** "checking" | "downloading" | "seeding" | "paused" | "queued" | "error" | "metadata" | "stopped" … */
  state: string;
  /** 0..1; null while a magnet has no metadata yet. */
  progress: number | null;
  verifiedPieces: number;
  pieceCount: number | null;
  /** Bytes of the whole torrent; null without metadata. */
  length: number | null;
  /** Bytes/s. */
  downloadSpeed: number;
  uploadSpeed: number;
  /** Seconds; null when unknown or not downloading. */
  eta: number | null;
  peers: number;
  seeds: number;
  /** Bytes moved since the node started. */
  downloaded: number;
  uploaded: number;
  savePath: string | null;
  error: string | null;
  category: string | null;
  tags: string[];
  /** 1-based among torrents not complete; null for complete ones. */
  queuePosition: number | null;
  /** Its own limits in bytes/s, 0 = none. */
  downloadLimit: number;
  uploadLimit: number;
  /** null = the global setting, -1 = none for this torrent. */
  ratioLimit: number | null;
  /** Seconds; null = the global setting, -1 = none. */
  seedingTimeLimit: number | null;
  forceStart: boolean;
  ratio: number;
  /** Seconds spent seeding over every run. */
  seedingTime: number;
  /** Bytes over every run. */
  totalDownloaded: number;
  totalUploaded: number;
  /** ms since the epoch. */
  addedAt: number | null;
  completedAt: number | null;
  /** Host of its first tracker. */
  tracker: string | null;
}

export interface FileRow {
  /** The metainfo's file index (selection uses it). */
  index: number;
  /** Path inside the torrent, "/"-joined. */
  path: string;
  length: number;
  /** 0..1 of the file's bytes in verified pieces. */
  progress: number;
  selected: boolean;
}

export interface TrackerRow {
  url: string;
  tier: number;
  status: 'idle' | 'working' | 'ok' | 'error';
  message?: string;
  /** Peers it gave in its last answer. */
  peers: number;
  /** ms since the epoch. */
  lastAnnounce?: number;
  lastReplyAt?: number;
  lastError?: string;
  lastErrorAt?: number;
}

export interface PeerRow {
  address: string;
  client: string | undefined;
  transport: 'tcp' | 'webrtc' | 'webseed';
  downloaded: number;
  uploaded: number;
  downloadSpeed: number;
  uploadSpeed: number;
  progress: number;
  choked: boolean;
  interested: boolean;
  source: string;
}

export interface TorrentInfo extends TorrentRow {
  magnet: string;
  pieceLength: number | null;
  /** null until the metadata is known. */
  files: FileRow[] | null;
  trackers: TrackerRow[];
  peerList: PeerRow[];
  /** From the metainfo, when known. */
  comment: string | null;
  createdBy: string | null;
  /** ms since the epoch. */
  creationDate: number | null;
  isPrivate: boolean;
}

export interface AddRequest {
  /** A magnet link, a 40-hex or 32-base32 infohash, or an http(s) URL of a .torrent. */
  uri?: string;
  /** The bytes of a .torrent file. */
  torrent?: Uint8Array;
  savePath?: string;
  /** An existing category (create it first with addCategory: qBittorrent creates unknown ones). */
  category?: string;
  tags?: string[];
  paused?: boolean;
}

export interface AddResult {
  infoHash: string;
  name: string | null;
  /** The node had it already (nothing changed). */
  existing: boolean;
}

/** Cascade's per-torrent patch (PATCH /api/torrents/:infoHash). */
export interface TorrentPatch {
  downloadLimit?: number;
  uploadLimit?: number;
  category?: string | null;
  tags?: string[];
  ratioLimit?: number | null;
  seedingTimeLimit?: number | null;
  forceStart?: boolean;
  /** Moves the data. */
  savePath?: string;
}

/** Cascade's settings (GET/PATCH /api/settings); patch takes any subset. */
export interface NodeSettings {
  downloadLimit: number;
  uploadLimit: number;
  altDownloadLimit: number;
  altUploadLimit: number;
  altSpeedEnabled: boolean;
  maxActiveDownloads: number;
  maxActiveUploads: number;
  maxActiveTorrents: number;
  stalledTimeout: number;
  ratioLimit: number | null;
  seedingTimeLimit: number | null;
  seedingLimitAction: string;
  downloadDir: string;
  startPaused: boolean;
  /** Port mapping on the gateway (`serve`): 'auto' | 'upnp' | 'natpmp' | 'off'; absent on older nodes. */
  portMapping?: string;
  [other: string]: unknown;
}

export interface Category {
  name: string;
  /** Absolute; null = the node's download dir. */
  savePath: string | null;
}

export interface TransferInfo {
  /** Bytes/s, summed over torrents. */
  downloadSpeed: number;
  uploadSpeed: number;
  /** Since the node started. */
  sessionDownloaded: number;
  sessionUploaded: number;
  /** Over every run. */
  totalDownloaded: number;
  totalUploaded: number;
  dhtEnabled: boolean;
  dhtNodes: number;
  /** Connected peers over all torrents. */
  peers: number;
  /** Someone connected in: "reachable"; bound to loopback: "local-only"; else "unknown". */
  reachability: 'reachable' | 'local-only' | 'unknown';
  bittorrentPort: number;
  /** Seconds since the node started. */
  uptimeSeconds: number;
}

export type QueueMove = 'up' | 'down' | 'top' | 'bottom';

/**
 * Errors the operations throw carry the HTTP status Cascade's own API would answer (statusOf):
 * 400 bad input, 404 no such torrent, 409 conflicts; their messages are fit to show a user.
 */
export interface CompatOps {
  /** Cascade's version, e.g. "0.1.0". */
  readonly version: string;
  /** Whether `password` is a credential of this node (the API token). Constant time. */
  checkPassword(password: string): boolean;
  /** Every torrent in the library, in queue/added order. */
  list(): TorrentRow[];
  /** One torrent with files, trackers and peers; throws (404) for an unknown infohash. */
  info(infoHash: string): TorrentInfo;
  /** Its files alone (what a list poll needs of each torrent: far cheaper than info); null before
   *  the metadata is known or for a torrent stored but not loaded; throws (404) for an unknown one. */
  files(infoHash: string): FileRow[] | null;
  /** True when every file of a loaded torrent is wanted (sizes then come from the row, no file walk). */
  wantsAllFiles(infoHash: string): boolean;
  add(req: AddRequest): Promise<AddResult>;
  remove(infoHash: string, deleteData: boolean): Promise<void>;
  pause(infoHash: string): Promise<void>;
  resume(infoHash: string): Promise<void>;
  recheck(infoHash: string): void;
  /** Announces to its trackers (and the DHT) now. */
  reannounce(infoHash: string): void;
  setTorrent(infoHash: string, patch: TorrentPatch): Promise<void>;
  addTags(infoHash: string, tags: string[]): void;
  removeTags(infoHash: string, tags: string[]): void;
  /** File indexes to download; null = all. Throws (409) before the metadata is known. */
  selectFiles(infoHash: string, selected: number[] | null): void;
  /** Moves them together (their order kept); complete torrents, which have no place, are skipped. */
  moveInQueue(infoHashes: string[], move: QueueMove): Promise<void>;
  settings(): NodeSettings;
  setSettings(patch: Partial<NodeSettings>): Promise<NodeSettings>;
  categories(): Category[];
  addCategory(c: Category): Promise<Category>;
  updateCategory(c: Category): Promise<Category>;
  removeCategory(name: string): void;
  /** Every tag in use or created. */
  tags(): string[];
  transfer(): TransferInfo;
  /** Free bytes (and the total) of the file system holding `path`; throws (400) for a bad path. */
  freeSpace(path: string): Promise<{ path: string; free: number; total: number }>;
  /** The HTTP status an error from these operations deserves (400, 404, 409, 500…). */
  statusOf(err: unknown): number;
  /** Tell live views (the web UI's feed) that something changed. */
  changed(): void;
}

/** A v2-only torrent (BEP 52): its id is the truncated v2 infohash and it has no v1 infohash. */
export function isV2Only(r: Pick<TorrentRow, 'infoHash' | 'infoHashV2'>): boolean {
  return !!r.infoHashV2 && r.infoHashV2.startsWith(r.infoHash);
}
