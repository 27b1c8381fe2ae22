// The node layer's door to @cascade/engine. The module is loaded lazily: CLI verbs such as `list`
// import the state DB and control client from here (via `@cascade/node`) and should start
// instantly without pulling in the engine and its DHT; the state/RPC layers stay testable without it.

import type * as Engine from '@cascade/engine';

export type {
  SessionHandle,
  TorrentChangeFeed,
  SessionOptions,
  SessionHealth,
  TorrentHandle,
  TorrentStats,
  TorrentState,
  PeerStats,
  SourceBytes,
  TrackerStatus,
  TransferEvent,
  ResumeStore,
  ResumeData,
  AddTorrentOptions,
  TorrentSource,
  WireExtension,
  Metainfo,
  MagnetLink,
  RateLimits,
  DiscoveryReport,
  PeerAttempt,
  Storage,
  FileStat,
  PrivateDiscovery,
  UrlGuard,
} from '@cascade/engine';

export type EngineLib = typeof Engine;

let loading: Promise<EngineLib> | undefined;

export function loadEngine(): Promise<EngineLib> {
  loading ??= import('@cascade/engine');
  return loading;
}
