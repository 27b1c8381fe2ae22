// The assistant's contracts: help entries, what the node shows it (NodeView, handed over by the
// server: the assistant imports nothing of the node), findings, actions, and the answer.

import type { TrackerStatus } from '@cascade/shapes';

/** One knowledge-base entry: docs/help/<id>.md (front matter + Markdown body). */
export interface HelpEntry {
  /** The file name without .md; kebab-case, stable (questions and findings cite it). */
  id: string;
  title: string;
  /** Where in the web UI it talks about, as a hash route ("#/settings", "#/torrents"); null if nowhere. */
  ui: string | null;
  /** Words users use for it that the text may not contain (synonyms, symptoms, misspellings). */
  keywords: string[];
  /** The Markdown body. */
  body: string;
}

/** A step the user can take, which the UI turns into a button and the CLI prints as a command. */
export interface AssistantAction {
  /** e.g. "reannounce", "resume", "recheck", "open-settings", "remove-peer-ban"… */
  id: string;
  /** Button text: "Re-announce now". */
  label: string;
  /** An API call the button makes (the node's own API, with the caller's credentials)… */
  request?: { method: 'POST' | 'PATCH' | 'PUT' | 'DELETE'; path: string; body?: unknown };
  /** …or a place in the web UI it opens ("#/settings"). */
  href?: string;
  /** The same step on the command line ("cascade announce 1a2b3c"). */
  command?: string;
}

export type Severity = 'problem' | 'warning' | 'ok' | 'info';

/** What one check found, with the evidence that shows it. */
export interface Finding {
  /** The check's id ("tracker-unreachable", "no-dht", "port-unreachable", "hash-failures", "disk-full"…). */
  id: string;
  severity: Severity;
  /** One plain sentence: "Your only tracker does not answer, and the DHT is off". */
  title: string;
  /** The facts, with numbers and names: "udp://10.0.0.1:6969 timed out 5 times since 12:02; DHT off". */
  evidence: string;
  /** The infohash it is about, when about one torrent. */
  infoHash?: string;
  /** Help entries that explain it (ids). */
  entries: string[];
  actions: AssistantAction[];
}

export interface Source {
  id: string;
  title: string;
  /** The web UI's place for it, or null. */
  ui: string | null;
  /** Retrieval score, higher is better. */
  score: number;
}

export interface AskRequest {
  question: string;
  /** Ask about this torrent (the detail panel's "Ask about this torrent"): its checks run first. */
  infoHash?: string;
  /** Keeps context between questions of one conversation ("and now?" re-runs the last checks). */
  conversation?: string;
}

export interface AssistantAnswer {
  /** Plain text (light Markdown), citing sources as [n] in the order of `sources`. */
  answer: string;
  findings: Finding[];
  sources: Source[];
  actions: AssistantAction[];
  /** The conversation id to send with a follow-up. */
  conversation: string;
  /** "built-in" without an LLM; else the model's name. */
  answeredBy: string;
}

// ---- what the node shows the assistant (the server implements NodeView) ----

/** A tracker of a torrent: the engine's TrackerStatus (@cascade/shapes), its tier left out. */
export type TrackerView = Omit<TrackerStatus, 'tier'>;

export interface PeerView {
  address: string;
  client?: string;
  transport: string;
  source: string;
  downloadSpeed: number;
  uploadSpeed: number;
  progress: number;
}

export interface TorrentView {
  infoHash: string;
  name: string | null;
  /** Cascade's state: downloading, seeding, paused, queued, checking, metadata, error… */
  state: string;
  progress: number | null;
  length: number | null;
  downloadSpeed: number;
  uploadSpeed: number;
  peers: number;
  seeds: number;
  error: string | null;
  savePath: string | null;
  isPrivate: boolean;
  /** ms since the epoch */
  addedAt: number | null;
  /** Seconds without payload while wanting data, when known. */
  stalledSeconds?: number;
  /** The node's own words on why a magnet finds nothing (after ~30 s), or null. */
  stalledReason: string | null;
  trackers: TrackerView[];
  peerList: PeerView[];
  /** Pieces that failed their hash check, and peers banned for sending them, when the node counts them. */
  hashFailures?: number;
  bannedPeers?: string[];
  /** Bytes of the selected files still to download, when the metadata is known. */
  remainingBytes?: number;
  /** Whether it runs past the queue (force start). */
  forceStart?: boolean;
  /** Free and total bytes where its data goes (its save path's file system), when known. */
  disk?: { free: number; total: number };
  /** Its own limits in bytes/s (0 = none). */
  downloadLimit: number;
  uploadLimit: number;
  queuePosition: number | null;
}

export interface NodeHealthView {
  /** Node version. */
  version: string;
  uptimeSeconds: number;
  bittorrentPort: number;
  /** The address the BitTorrent listener is bound to ("0.0.0.0", "127.0.0.1"…). */
  bittorrentHost: string;
  dhtEnabled: boolean;
  dhtNodes: number;
  /** "reachable" (someone connected in), "local-only" (bound to loopback), "unknown". */
  reachability: 'reachable' | 'local-only' | 'unknown';
  incomingPeers: number;
  /** ms since the epoch of the last incoming connection, when known. */
  lastIncomingAt?: number;
  peers: number;
  torrents: number;
  /** Node-wide limits in bytes/s (0 = none) and whether turtle mode is on. */
  downloadLimit: number;
  uploadLimit: number;
  altSpeedEnabled: boolean;
  /** The alternative ("turtle") limits in bytes/s (0 = none), when known. */
  altDownloadLimit?: number;
  altUploadLimit?: number;
  /** How many torrents the queue holds back now, when known. */
  queuedTorrents?: number;
  maxActiveDownloads: number;
  downloadDir: string;
  /** Free and total bytes where downloads go, when known. */
  disk?: { free: number; total: number };
  /** Disk errors seen by the engine since start (EIO, ENOSPC…), when counted. */
  diskErrors?: number;
  /** Hash failures over all torrents since start, when counted. */
  hashFailures?: number;
}

/** The node as the assistant sees it; the server implements it over its real state. */
/** The node's market (issue 62), as the assistant sees it: its purchases and sales, or why it has none. */
export interface MarketView {
  /** Set when the node runs a chain without a market contract, or its chain does not answer. */
  problem?: string;
  orders: { id: string; name: string | null; role: 'buyer' | 'seller'; status: string; deadline: number; priceShown: string }[];
}

export interface NodeView {
  /** The market, when the node runs a chain (undefined: no chain, nothing to say). */
  market?(): Promise<MarketView | undefined>;
  health(): NodeHealthView | Promise<NodeHealthView>;
  /** Every torrent, light (trackers/peers may be empty lists for speed). */
  torrents(): TorrentView[] | Promise<TorrentView[]>;
  /** One torrent in full; undefined if unknown. */
  torrent(infoHash: string): TorrentView | undefined | Promise<TorrentView | undefined>;
}

/** An OpenAI-compatible endpoint the user configured (--llm-url, --llm-model, --llm-key). */
export interface RemoteLlmConfig {
  url: string;
  model: string;
  key?: string;
}

/** A GGUF model file run in this process by node-llama-cpp (--llm-gguf): nothing leaves the machine. */
export interface LocalLlmConfig {
  gguf: string;
  /** CPU threads for generation (default: the cores this machine has). */
  threads?: number;
  /** Longest answer in tokens (default 400). */
  maxTokens?: number;
}

export type LlmConfig = RemoteLlmConfig | LocalLlmConfig;
