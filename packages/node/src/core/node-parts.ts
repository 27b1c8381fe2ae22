// The parts of a running node that its features ask for, each a small interface. CascadeNode
// (node.ts) has them all and hands itself to the features it composes; a feature names only the
// parts it uses, so it does not import node.ts, and no import circle runs through the node.
// This file imports only leaves (the engine's types, the state DB, the log).

import type { StateDB } from '@cascade/node-state';
import type { SessionHandle, TorrentHandle, TorrentSource } from './engine.ts';

export type { NodeLog } from './node-log.ts';

/** The engine session and the state DB: what nearly every feature reads. */
export interface NodeCore {
  readonly session: SessionHandle;
  readonly db: StateDB;
}

/** A listener of every tracked torrent's events. */
// any: each event has arguments of its own (a peer-banned event its address, …).
export type TorrentTap = (t: TorrentHandle, ...args: any[]) => void;

/** The engine events of every torrent the node tracks ('done', 'tracked', 'untracked', …). */
export interface TorrentEvents {
  onTorrentEvent(event: string, fn: TorrentTap): () => void;
  isTracked(infoHash: string): boolean;
}

/** A user's name for a torrent (infohash, prefix, base32) → its hex infohash; throws not-found. */
export interface InfoHashResolver {
  resolve(arg: string): string;
}

/** Add options as a door gives them (all optional); the model resolves them (model/model.ts). */
export interface AddInput {
  savePath?: unknown;
  category?: unknown;
  tags?: unknown;
  paused?: unknown;
}

/** The options an add stores with the torrent's row, in the same transaction (its category, made
 *  if new, and its tags: the model's plan of the add). */
export interface AddOptions {
  category: string | null;
  tags: readonly string[];
}

/** What an add may carry besides the user's options. */
export interface AddExtra {
  peers?: string[];
  selectedFiles?: number[];
  privateDiscovery?: boolean;
  mirrors?: string[];
  storage?: string; // 's3://bucket/prefix' or 'disk' (issue 61); omitted: the node's default
}

/** Adding torrents the way every door does: resolved by the model, stored, queued. */
export interface TorrentAdder {
  addWith(source: TorrentSource, input: AddInput, extra?: AddExtra): Promise<TorrentHandle>;
  /** Peers given by hand for a torrent already loaded: tried now and after a restart. */
  addPeers(t: TorrentHandle, peers: readonly string[]): Promise<void>;
}

/** The user's verbs on torrents. */
export interface TorrentVerbs {
  stateOf(infoHash: string): string;
  pause(infoHash: string): Promise<void>;
  resume(infoHash: string): Promise<void>;
  recheck(infoHash: string): string;
  remove(infoHash: string, deleteData: boolean): Promise<void>;
  removeMany(infoHashes: readonly string[], deleteData: boolean): Promise<Map<string, unknown>>;
}
