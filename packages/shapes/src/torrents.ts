// Torrents as the doors show them: the list entry (API, feed, CLI), the detail view with its files,
// peers and sources, a DHT search result, per-torrent patches, queue moves and bulk actions.

import type { TorrentHolder } from './cluster.ts';
import type { DiscoveryReport, TrackerStatus } from './tracker.ts';

/** One row for `list`, `search` and the HTTP API's torrent list, whether it comes from a running
 *  node (live stats) or straight from the state DB (last known status + resume bitfield). */
export interface ListEntry {
  /** The torrent's id: its v1 infohash, or a v2-only torrent's truncated v2 infohash (BEP 52). */
  infoHash: string;
  /** BEP 52: the v2 infohash (64 hex) of a v2 or hybrid torrent; null for v1 or before the metadata. */
  infoHashV2: string | null;
  name: string | null;
  /** Live engine state ("queued" for one the queue holds back), or the DB status when no node runs. */
  state: string;
  /** 0..1, null when the piece count is not known yet (magnet without metadata). */
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
  /** Bytes moved since the node started (the totals over every run are totalDownloaded/totalUploaded). */
  downloaded: number;
  uploaded: number;
  savePath: string | null;
  live: boolean;
  error: string | null;
  category: string | null;
  tags: string[];
  /** 1-based among the torrents not complete, in queue order; null for complete ones. */
  queuePosition: number | null;
  /** Its own limits, bytes/s (0 = none; the node-wide ones apply too). */
  downloadLimit: number;
  uploadLimit: number;
  /** Its own seeding goals: null = the global setting, -1 = none for this torrent. */
  ratioLimit: number | null;
  /** Seconds; null = the global setting, -1 = none. */
  seedingTimeLimit: number | null;
  forceStart: boolean;
  /** Super-seeding (BEP 16) while it holds every piece: peers shown a rare piece or two at a time. */
  superSeeding: boolean;
  /** Uploaded over every run / max(downloaded over every run, bytes verified). */
  ratio: number;
  /** Seconds spent seeding, over every run, when this row was made. */
  seedingTime: number;
  /**
   * While it seeds: the moment (ms since the epoch) its seeding time counts from, so that seeding
   * time now = (now − seedingTimeOrigin) / 1000 without a new row every second (the live feed sends
   * a row only when something else changed). null when it is not seeding: seedingTime stands still.
   */
  seedingTimeOrigin: number | null;
  /** Bytes over every run. */
  totalDownloaded: number;
  totalUploaded: number;
  /** A private share (issue 24): its content is encrypted for its recipients or its link. */
  encrypted: boolean;
  /** This node can read it (true when not encrypted); when false, `error` says why. */
  decryptable: boolean;
  /** ms since the epoch. */
  addedAt: number | null;
  completedAt: number | null;
  /** The host of its first tracker, or null. */
  tracker: string | null;
  /** Paused (or queued) and not checked since the node started, with files gone that its resume
   *  record saw data in (a drive not mounted, files deleted or moved by hand): their paths, and
   *  `error` says so. Absent otherwise. qBittorrent's API shows it as `missingFiles`, Transmission's
   *  as a local error. Cleared by its start or a recheck, which check the data. */
  missingFiles?: string[];
  /** `checking` and waiting its turn to hash its data (the node checks `maxActiveChecks` torrents at
   *  once, default 1): Transmission's "queued for verification". Absent otherwise. */
  checkWaiting?: true;
}

/** One file of a torrent. */
export interface FileView {
  /** The metainfo's file index (selection uses it). */
  index: number;
  /** Path inside the torrent, "/"-joined (single-file torrents: the name). */
  path: string;
  length: number;
  /** 0..1 of the file's bytes in verified pieces. */
  progress: number;
  selected: boolean;
  /** Content id (CIDv1 raw sha2-256) of the file's bytes, once the node holds it complete. */
  cid?: string | null;
  /** The file's UnixFS CID as @helia/unixfs gives its bytes by default (CIDv1, raw leaves, 1 MiB
   *  chunks, balanced, 1,024 links a node): what IPFS fetches it by (docs/storage/ipfs.md). A file
   *  of one chunk: the same as `cid`. */
  unixfsCid?: string | null;
}

/** Counts per transport: TCP peers, uTP peers (BEP 29), WebRTC peers, HTTP web seeds (BEP 19). */
export interface TransportCounts {
  tcp: number;
  utp: number;
  webrtc: number;
  webseed: number;
}

/** One connected peer. */
export interface PeerStats {
  address: string;
  client: string | undefined;
  transport: 'tcp' | 'utp' | 'webrtc' | 'webseed';
  /** True when the WebRTC connection passes through a TURN relay (either side's selected candidate). */
  relayed: boolean;
  downloaded: number;
  uploaded: number;
  downloadSpeed: number;
  uploadSpeed: number;
  progress: number;
  /** The peer chokes us: we may not request from it. */
  choked: boolean;
  /** The peer wants pieces we have. */
  interested: boolean;
  /** We choke the peer: it may not request from us. */
  amChoking: boolean;
  /** We want pieces the peer has. */
  amInterested: boolean;
  /** It holds our optimistic unchoke (the slot rotated among choked peers so newcomers can prove themselves). */
  optimistic: boolean;
  source: string;
  /** It dialled us (qBittorrent's I, Transmission's isIncoming). Absent from older nodes. */
  incoming?: boolean;
  /** Message Stream Encryption on the connection: 'rc4' the whole stream (qBittorrent's E,
   *  Transmission's isEncrypted), 'handshake' the handshake only (qBittorrent's e); absent: plaintext. */
  encryption?: 'rc4' | 'handshake';
  /** It unchokes us yet left a request of ours unanswered for long, sending nothing (libtorrent's
   *  snubbed, qBittorrent's S). */
  snubbed?: boolean;
  /** Of the pieces we lack, the share it has (qBittorrent's relevance); 0 when we lack none. */
  relevance?: number;
  /** Metainfo indices of the files of the piece we are downloading from it now (qBittorrent's files). */
  downloadingFiles?: number[];
  /** Its peer id, hex (qBittorrent's peer_id_client is its first 8 bytes). */
  peerId?: string;
}

/** A connected peer as the detail view sends it: a peer that proved a Cascade identity over the
 *  wire extension also has its did, its Ethereum account, its own claim of its reputation and this
 *  node's view of it (0..1). */
export type PeerView = PeerStats & { did?: string; account?: string; claimedReputation?: number; reputation?: number };

/** What one source gave a download: a peer (by address) or a web seed / mirror (by URL). */
export interface SourceBytes {
  address: string;
  kind: 'peer' | 'webseed';
  /** Bytes of blocks received from it (duplicates in endgame not counted). */
  downloaded: number;
  /** Banned for data that failed its hash check. */
  banned: boolean;
}

/** A torrent's data in an S3-compatible bucket (TorrentDetail.storage). */
export interface StorageLocation {
  kind: 's3';
  /** s3://bucket/prefix */
  url: string;
  bucket: string;
  prefix: string;
  /** The store's host[:port], or 'AWS S3' / s3.<region>.amazonaws.com. */
  endpoint: string;
}

/** The detail view of one torrent (GET /api/torrents/:infoHash, the feed's `torrent:<hash>`): its
 *  list row, peers by transport, trackers, files with progress. */
export interface TorrentDetail extends ListEntry {
  magnet: string;
  version: 'v1' | 'v2' | 'hybrid' | null;
  pieceLength: number | null;
  peersByTransport: TransportCounts;
  /** Distributed copies among the connected peers (libtorrent's and qBittorrent's "availability"):
   *  whole copies every piece has, plus the share of pieces held by one more; null without metadata. */
  distributedCopies: number | null;
  peerList: PeerView[];
  /** Bytes by source over this run (peers, web seeds, mirrors). */
  sources: SourceBytes[];
  trackers: TrackerStatus[];
  /** null until metadata is known (a magnet still fetching it). */
  files: FileView[] | null;
  /** A multi-file torrent's folder as a UnixFS directory (issue 61, docs/storage/ipfs.md), once every
   *  file has its UnixFS CID: /ipfs/<it>/<path> reaches each file. null: single-file, or not yet. */
  unixfsCid?: string | null;
  /** Where its data lives when not on the node's disk (issue 61): an S3 bucket, its prefix and the
   *  store's host; never credentials. null or absent: the disk. */
  storage?: StorageLocation | null;
  /** Why its magnet cannot lead anyone else here (defect 8), or null. */
  shareWarning: string | null;
  /** What it did to find peers and what answered (the engine's report). */
  discovery: DiscoveryReport | null;
  /** After ~30 s waiting for metadata: a sentence of what was tried and what answered (defect 9). */
  stalledReason: string | null;
  /** Announces and DHT look-ups go through onion circuits only (issue 14). */
  privateDiscovery: boolean;
  /** Whether this node can do private discovery at all (it was given --directory). */
  privateDiscoveryAvailable: boolean;
  /** Pieces in order, each wanted file from its start (for playing while it downloads). */
  sequential: boolean;
  /** Each wanted file's first and last pieces before the rest (a player reads both first). */
  firstLastPiece: boolean;
  /** The members holding a copy (issue 42), read from the state: in GET /api/torrents/:infoHash,
   *  not in the feed's `torrent:<hash>` events. */
  holders?: TorrentHolder[];
}

/** The piece map (GET /api/torrents/:infoHash/pieces): per piece, whether this node has it and how
 *  many connected peers do. */
export interface PieceMap {
  pieceCount: number;
  pieceLength: number;
  /** One character a piece: '0' missing, '1' being downloaded, '2' verified. */
  states: string;
  /** Connected peers holding each piece. */
  availability: number[];
  /** Distributed copies among the connected peers (as in the detail). */
  distributedCopies: number | null;
}

/** One search result (GET /api/search, `cascade search`): a torrent as one publisher describes it,
 *  and where to fetch it (docs/dht-records.md). */
export interface SearchRow {
  infoHash: string | null;
  infoHashV2: string | null;
  name: string;
  length: number;
  cids: string[];
  /** UnixFS CIDs the publisher gave (its folder's, its files' roots of more than one chunk): what IPFS names them by. */
  unixfsCids?: string[];
  publisher: string;
  /** "host:port" of nodes serving it (the publisher's address as the storing nodes saw it). */
  providers: string[];
  /** Set when the record is a market listing of it (issue 62): where to buy access. */
  market?: { chainId: number; contract: string; listingId: number; link: string };
}

/** What PATCH /api/torrents/:infoHash and the `torrent.set` RPC accept (every field optional). */
export interface TorrentPatch {
  /** Its own limits, bytes/s (0 = none). */
  downloadLimit?: number;
  uploadLimit?: number;
  /** null = none. */
  category?: string | null;
  tags?: string[];
  /** null = the global setting, -1 = no limit for this torrent. */
  ratioLimit?: number | null;
  seedingTimeLimit?: number | null;
  /** Moves the data there. */
  savePath?: string;
  forceStart?: boolean;
  /** Super-seeding (BEP 16), kept across restarts. */
  superSeeding?: boolean;
  /** The order pieces come in (kept across restarts): sequential, first and last pieces first. */
  sequential?: boolean;
  firstLastPiece?: boolean;
}

/** A move in the download queue. */
export type QueueMove = 'up' | 'down' | 'top' | 'bottom';

export type BulkAction = 'pause' | 'resume' | 'remove' | 'recheck' | 'setCategory' | 'addTags' | 'removeTags' | 'queue' | 'forceStart' | 'setLimits';

/** One request that acts on many torrents (POST /api/torrents/bulk, the control RPC `bulk`). */
export interface BulkRequest {
  action: BulkAction;
  infoHashes: string[] | 'all';
  category?: string | null;
  tags?: string[];
  deleteData?: boolean;
  move?: QueueMove;
  downloadLimit?: number;
  uploadLimit?: number;
  forceStart?: boolean;
}

/** What a bulk action did to one torrent. */
export interface BulkResult {
  infoHash: string;
  ok: boolean;
  error?: string;
  /** For action "queue": the torrent's place after the move (null: complete, not queued). */
  queuePosition?: number | null;
}

/** What POST /api/torrents/bulk and the control RPC `bulk` answer: one result per torrent. */
export interface BulkResponse {
  results: BulkResult[];
}

/** What adding a torrent answers (POST /api/torrents, the control RPC `add`). */
export interface AddResult {
  infoHash: string;
  /** BEP 52: the v2 infohash (64 hex) of a v2 or hybrid torrent; null for v1 or before the metadata. */
  infoHashV2: string | null;
  magnet: string;
  name: string | null;
  /** The node had it already (nothing changed). */
  existing: boolean;
  /** A private share made by this add (issue 24). */
  encrypted?: boolean;
  /** A share by link: the magnet with the key in its fragment. Only in the answer to the sharer. */
  link?: string;
}

/** What one URL of a plain download has given. */
export interface PlainSourceView {
  url: string;
  downloaded: number;
  /** Why it was dropped (failed too often, wrong length, unreachable); undefined while in use. */
  dropped?: string;
}

/** A plain file (an http(s)/ftp URL and its mirrors) the node fetches and then shares as a torrent
 *  (GET /api/downloads/:id). */
export interface PlainDownloadView {
  id: string;
  url: string;
  mirrors: string[];
  name: string;
  savePath: string;
  state: 'downloading' | 'done' | 'error';
  length: number | null;
  downloaded: number;
  sources: PlainSourceView[];
  sha256: string | null;
  cid: string | null;
  /** The torrent it is shared as once complete. */
  infoHash: string | null;
  error: string | null;
}
