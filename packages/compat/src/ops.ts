// What the compatible APIs may do to the node: one small interface the server implements over its
// own model (packages/http/src/compat/compat-ops.ts). Transmission RPC and qBittorrent's Web API only
// translate names and shapes to these calls and back, so a torrent added through any door is the
// same torrent in all of them, in Cascade's API and in the UI.

import type {
  Category, FileView, ListEntry, PeerStats, QueueMove, RssFeed, RssItemRecord, RssPreviewItem, RssRule, RssRuleFields, SearchRow, Settings,
  TorrentPatch, TrackerStatus, AddResult as NodeAddResult,
} from '@cascade/shapes';

// Cascade's per-torrent patch (PATCH /api/torrents/:infoHash), its categories and queue moves.
export type { Category, QueueMove, TorrentPatch };
// Cascade's RSS feeds, items, rules and rule previews, and its search rows.
export type { RssFeed, RssItemRecord, RssPreviewItem, RssRule, RssRuleFields, SearchRow };

/** A torrent as Cascade's list shows it: the node's ListEntry without what these APIs do not read
 *  (live, seedingTimeOrigin, encrypted, decryptable). */
export type TorrentRow = Omit<ListEntry, 'infoHashV2' | 'live' | 'seedingTimeOrigin' | 'encrypted' | 'decryptable'> & {
  /** BEP 52: the 64-hex v2 infohash of a v2 or hybrid torrent; null for v1. Optional: a node from
   *  before BEP 52 does not send it. */
  infoHashV2?: string | null;
};

/** A file of a torrent (the list of files, their progress and selection). */
export type FileRow = FileView;

/** A tracker of a torrent, as the engine reports it. */
export type TrackerRow = TrackerStatus;

/** A connected peer, as the engine reports it (whether it is relayed is not asked). */
export type PeerRow = Omit<PeerStats, 'relayed'>;

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
  /** The folder a multi-file torrent's files are in on disk (file paths are below it); null for a
   *  single-file torrent or before the metadata is known. Not the shown name, which a user may change. */
  folder?: string | null;
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

/** What adding answers, as these APIs read it. */
export type AddResult = Pick<NodeAddResult, 'infoHash' | 'name' | 'existing'>;

/** Cascade's settings (GET/PATCH /api/settings) as these APIs read them; patch takes any subset. Looser
 *  than the node's Settings: its action a plain string, portMapping absent on older nodes, and any
 *  other key passed through. */
export type NodeSettings = Pick<
  Settings,
  | 'downloadLimit'
  | 'uploadLimit'
  | 'altDownloadLimit'
  | 'altUploadLimit'
  | 'altSpeedEnabled'
  | 'maxActiveDownloads'
  | 'maxActiveUploads'
  | 'maxActiveTorrents'
  | 'maxActiveChecks'
  | 'stalledTimeout'
  | 'ratioLimit'
  | 'seedingTimeLimit'
  | 'downloadDir'
  | 'startPaused'
> & {
  seedingLimitAction: string;
  /** Port mapping on the gateway (`serve`): 'auto' | 'upnp' | 'natpmp' | 'off'; absent on older nodes. */
  portMapping?: string;
  [other: string]: unknown;
};

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

/** Per piece: 0 missing, 1 being downloaded, 2 verified; how many connected peers have each. */
export interface PieceStates {
  states: Uint8Array;
  availability: Uint16Array;
}

export type FilePriority = 'low' | 'normal' | 'high';

/** The order pieces come in, as remotes set it (kept while the node runs). */
export interface PieceOrder {
  sequential: boolean;
  firstLast: boolean;
  /** Files of other than normal priority, by index. */
  priorities: ReadonlyMap<number, FilePriority>;
}

/** What remotes change on one torrent beyond Cascade's patch (issue 45): names, trackers, peers,
 *  pieces. Each is the node's one operation (@cascade/node's torrent edits); paths are below the
 *  torrent's folder ('sub/a.bin'), as `files` names them. */
export interface TorrentEditOps {
  /** The name shown; null = its own again. */
  setName(infoHash: string, name: string | null): Promise<void>;
  /** Renames a file or folder on disk (kind: which one the caller means). */
  renamePath(infoHash: string, from: string, to: string, kind: 'file' | 'folder' | 'either'): Promise<void>;
  /** Renames a multi-file torrent's folder (a single-file torrent's file). */
  renameFolder(infoHash: string, name: string): Promise<void>;
  /** Its tracker tiers, whether it runs or not. */
  trackerTiers(infoHash: string): string[][];
  setTrackerTiers(infoHash: string, tiers: string[][]): Promise<void>;
  addTrackers(infoHash: string, urls: string[]): Promise<void>;
  editTracker(infoHash: string, from: string, to: string): Promise<void>;
  removeTrackers(infoHash: string, urls: string[]): Promise<void>;
  /** "host:port" each; checked, dialled, remembered. */
  addPeers(infoHash: string, peers: string[]): void;
  /** Throws (409) before the metadata is known. */
  pieces(infoHash: string): PieceStates;
  /** SHA-1 of each piece, hex (v1 and hybrid torrents); throws (409) before the metadata is known. */
  pieceHashes(infoHash: string): string[];
  pieceOrder(infoHash: string): PieceOrder;
  /** Grows whenever a torrent's piece order is set (what a list poll keyed on the list's
   *  generation must also watch: the order shows in rows but is no part of them). */
  pieceOrderVersion(): number;
  setPieceOrder(infoHash: string, change: { sequential?: boolean; firstLast?: boolean; priorities?: { files: number[]; priority: FilePriority } }): Promise<void>;
}

/** Cascade's RSS reader (the node's feeds, items and download rules), as remotes drive it. Ids are
 *  Cascade's; errors carry statuses as below (400 a bad field, named; 404 an unknown id; 409 a
 *  feed already added). */
export interface RssOps {
  feeds(): Promise<RssFeed[]>;
  /** A feed's items, newest first. */
  items(feedId: number): Promise<RssItemRecord[]>;
  /** Adds a feed; its first refresh starts at once (not awaited). */
  addFeed(url: string): Promise<RssFeed>;
  setFeedUrl(feedId: number, url: string): Promise<void>;
  removeFeed(feedId: number): Promise<void>;
  /** Marks items read: those guids, or every item (null). */
  markRead(feedId: number, guids: string[] | null): Promise<void>;
  /** Refreshes a feed now, without waiting for it. */
  refresh(feedId: number): void;
  rules(): Promise<RssRule[]>;
  addRule(fields: Partial<RssRuleFields>): Promise<RssRule>;
  updateRule(ruleId: number, fields: Partial<RssRuleFields>): Promise<RssRule>;
  removeRule(ruleId: number): Promise<void>;
  /** The current items a stored rule matches. */
  preview(ruleId: number): Promise<RssPreviewItem[]>;
  /** How a remote arranges the feeds (its folders and names), kept with the node's RSS state;
   *  opaque to the node, null until first saved. */
  feedTree(): Promise<unknown>;
  setFeedTree(tree: unknown): Promise<void>;
}

/**
 * Errors the operations throw carry the HTTP status Cascade's own API would answer (statusOf):
 * 400 bad input, 404 no such torrent, 409 conflicts; their messages are fit to show a user.
 */
/**
 * Where qBittorrent's WebUI sessions live: the node's state when it gives one (shared by a cluster's members, so a
 * login on one is a session on all and a balancer needs no stickiness), else this process. Each
 * keeps qBittorrent's rules: an hour idle ends a session, and past MAX_SESSIONS the least recently
 * used goes.
 */
export interface SessionBackend {
  /** A new session's id (the SID cookie's value), opened with `credential` (CompatOps.credential). */
  start(credential: string): Promise<string>;
  /** The credential a live session was opened with, else undefined; a use restarts its idle clock. */
  use(id: string): Promise<string | undefined>;
  end(id: string): Promise<void>;
  /** Failed logins by address, where they are kept (the node's state: counted by every member of
   *  a cluster together); this process counts them when absent. */
  isBanned?(address: string): Promise<boolean>;
  loginFailed?(address: string): Promise<number>;
  loginSucceeded?(address: string): Promise<void>;
}

/**
 * What the compatible APIs remember beside the node's settings (Transmission's values shown for
 * limits that are off, qBittorrent's searches and search plugin), as JSON records by name: the
 * node's state when it gives one, so every member of a cluster answers the same; else this process.
 */
export interface CompatMemory {
  get(api: string, name: string): Promise<unknown>;
  /** Records whose name starts with `prefix`, by name. */
  list(api: string, prefix: string): Promise<[string, unknown][]>;
  set(api: string, name: string, value: unknown): Promise<void>;
  delete(api: string, name: string): Promise<void>;
}

export interface CompatOps extends TorrentEditOps {
  /** Cascade's version, e.g. "0.1.0". */
  readonly version: string;
  /** Whether `password` is a credential of this node (the API token). Constant time. */
  checkPassword(password: string): boolean;
  /** Which credential checkPassword accepts now (the API token's generation, never the token
   *  itself): a session records it at login and is refused once it is no longer the current one
   *  (the token rotated). Absent: one credential for the process's lifetime. */
  credential?(): string;
  /** Where qBittorrent's sessions are kept; this process's memory when absent. */
  readonly qbSessions?: SessionBackend;
  /** Where the adapters keep what they remember; this process's memory when absent. */
  readonly memory?: CompatMemory;
  /** Transmission's small torrent ids, given once for good and the same on every member of a
   *  cluster (kept in the node's state); this process gives them when absent. */
  readonly transmissionIds?: (infoHashes: readonly string[]) => Promise<Map<string, number>>;
  /** Transmission's X-Transmission-Session-Id: the same on every member of a cluster (derived from
   *  the API token, so it changes when the token does); a random id per process when absent. */
  readonly transmissionSessionId?: () => string;
  /** Every torrent in the library, in queue/added order. */
  list(): TorrentRow[];
  /** The list brought up to date: its generation (grows whenever a row changes, appears or goes)
   *  and how many rows it has. Reads no row, so an idle poll can stop here. */
  listState(): { generation: number; size: number };
  /** Rows changed or added after generation `since` (a listState's); removals show in the size. */
  listChangedSince(since: number): TorrentRow[];
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
  addTags(infoHash: string, tags: string[]): Promise<void>;
  removeTags(infoHash: string, tags: string[]): Promise<void>;
  /** File indexes to download; null = all. Throws (409) before the metadata is known. */
  selectFiles(infoHash: string, selected: number[] | null): Promise<void>;
  /** Moves them together (their order kept); complete torrents, which have no place, are skipped. */
  moveInQueue(infoHashes: string[], move: QueueMove): Promise<void>;
  settings(): NodeSettings;
  setSettings(patch: Partial<NodeSettings>): Promise<NodeSettings>;
  categories(): Category[];
  addCategory(c: Category): Promise<Category>;
  updateCategory(c: Category): Promise<Category>;
  removeCategory(name: string): Promise<void>;
  /** Every tag in use or created. */
  tags(): string[];
  /** Creates tags ahead of any torrent (qBittorrent's createTags). */
  createTags(tags: string[]): Promise<void>;
  /** Deletes tags from every torrent and from those created ahead. */
  deleteTags(tags: string[]): Promise<void>;
  /** `maxAgeMs`: how old the session's peer and DHT counts may be (they walk every torrent; a
   *  poller takes them a second old). Rates and totals are always current. */
  transfer(maxAgeMs?: number): TransferInfo;
  /** The node's RSS reader. */
  readonly rss: RssOps;
  /** Searches the node's library, then the DHT's signed records (words, a content id or an
   *  infohash); throws (400) for a query with nothing to search for. An aborted `signal` ends the
   *  DHT look-ups with what they found so far. */
  search(query: string, signal?: AbortSignal): Promise<SearchRow[]>;
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
