// A node's seam to its network (issue 64: the network is @cascade/node-network, above the node).
// The node holds no network code: how it is reached (the NAT probe and the ICE servers found on its
// trackers), BEP 14 local service discovery, port mapping on the gateway and private discovery come
// from a NetworkPlugin (startNode's `network`, node-start.ts) that the layer starting it makes
// (@cascade/http's startServer, the CLI's seed and download). A node started without one has none of
// them: its WebRTC uses the ICE servers it is given or the iceServers setting. What the node keeps of
// each, and what it and its doors ask of it, is below.

import type { NetworkStatus, OnionStatus, PortMappingStatus } from '@cascade/shapes';
import type { PrivateDiscovery } from './engine.ts';

/** Private discovery through onion circuits (issue 14), when the node was given directories (node.onion). */
export interface NodePrivateDiscovery {
  /** The engine's side of it (SessionOptions.privateDiscovery). */
  readonly discovery: PrivateDiscovery;
  /** Every torrent added without saying otherwise uses private discovery. */
  readonly byDefault: boolean;
  /** What `cascade health` and GET /api/health say of it. */
  status(): OnionStatus;
  /** After the session closed: its circuits close. */
  close(): void;
}

/** How the node is reached (node.network): NAT, external address, the ICE servers found. */
export interface NodeNetworkProbe {
  status(): NetworkStatus;
  /** Probes again now. */
  refresh(): Promise<void>;
  /** A torrent was tracked: its trackers may be new STUN servers. */
  soon(): void;
  stop(): void;
}

/** The gateway's port mapping following the portMapping setting (node.portMapping). */
export interface NodePortMapping {
  status(): PortMappingStatus;
  /** Before the session closes: the gateway forgets the mappings while the port still listens. */
  stop(): Promise<void>;
}
