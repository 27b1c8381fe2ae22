// What a node needs to start (startNode): the CLI's parsed options satisfy it as they are. Private
// discovery, LSD and port mapping are the network plug-in's (startNode's `network`: @cascade/node-network).

import type { IceServer } from '../model/ice-servers.ts';
import type { PrivateAllowance } from '@cascade/sources/guarded';
import type { QueueOptions } from '../queue/manager.ts';
import type { SessionOptions } from './engine.ts';

/** What a node needs to start; the CLI's parsed options satisfy it as they are. */
export interface NodeOptions {
  /** Absolute path of the state directory (DB, control file). */
  stateDir: string;
  /** A postgres:// URL: the state in that PostgreSQL database, not <stateDir>/cascade.db (serve
   *  --database, issue 42). The state dir keeps the node's files (downloads, control file, chain). */
  database?: string | undefined;
  /** A cluster member's id given outright (StateDB.open's memberId); omitted = its state dir's
   *  (state/member-id.ts), '' for a single node. A member is started with startNode's `cluster`. */
  memberId?: string | undefined;
  /** BitTorrent TCP listen port; 0 = any free port. */
  port: number;
  host?: string | undefined;
  dht: boolean;
  /** DHT bootstrap nodes "host:port"; empty = the public routers. */
  dhtBootstrap: string[];
  /** Extra tracker URLs added to every torrent. */
  trackers: string[];
  /** uTP (BEP 29) beside TCP; omitted = on, false = TCP only (`--no-utp`). */
  utp?: boolean | undefined;
  /** STUN/TURN servers for WebRTC peers, fixed for this run (seed/download --ice-server; tests: []
   *  = host candidates only); omitted = the iceServers setting, else the engine's default. */
  iceServers?: IceServer[] | undefined;
  /** The default save path until the settings name one; omitted = <stateDir>/downloads. */
  downloadDir?: string | undefined;
  /** The queue's clock and timer (tests drive the alt-speed schedule with their own clock). */
  queue?: QueueOptions | undefined;
  /** Where URLs inside torrents and magnets (web seeds, trackers) may lead: omitted or true =
   *  anywhere (seed, download); otherwise public addresses only, less what the allowance exempts
   *  (@cascade/sources/guarded). The node's own and --tracker URLs are never checked. */
  privateTorrentUrls?: PrivateAllowance | undefined;
  /** The engine's connection limits (docs/security.md, "Hostile peers"); omitted ones keep their defaults. */
  connectionLimits?: ConnectionLimits | undefined;
}

/** SessionOptions' connection limits, each with its default in the engine (CONNECTION_DEFAULTS). */
export type ConnectionLimits = Partial<Pick<SessionOptions, 'maxConnections' | 'maxConnectionsPerTorrent' | 'maxConnectionsPerAddress' | 'maxOutgoingPerAddress' | 'handshakeTimeoutMs'>>;
