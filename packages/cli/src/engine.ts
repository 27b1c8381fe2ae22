// The one place the CLI touches @cascade/engine. The module is loaded lazily: verbs such as
// `list` or `search` only read the state DB and should start instantly without pulling in the
// engine and its DHT, and the state/RPC layers stay testable without a working engine.

import type * as Engine from '@cascade/engine';

export type {
  SessionHandle,
  SessionOptions,
  SessionHealth,
  TorrentHandle,
  TorrentStats,
  TorrentState,
  PeerStats,
  TrackerStatus,
  TransferEvent,
  ResumeStore,
  ResumeData,
  AddTorrentOptions,
  TorrentSource,
  Metainfo,
  MagnetLink,
} from '@cascade/engine';

export type EngineLib = typeof Engine;

let loading: Promise<EngineLib> | undefined;

export function loadEngine(): Promise<EngineLib> {
  loading ??= import('@cascade/engine');
  return loading;
}
