// How a node is reached and finds peers privately, as GET /api/network and GET /api/health say it:
// the NAT, the gateway's port mapping, the ICE servers in force, and private discovery (onion).

import type { IceServerSetting } from './settings.ts';

/** What STUN servers' answers make of the NAT the node sits behind. */
export type NatKind = 'open' | 'cone' | 'symmetric' | 'unknown';

export interface PortMappingStatus {
  method: 'upnp' | 'natpmp' | 'pcp' | null;
  externalPort: number | null;
  externalAddress?: string | null;
  error: string | null;
}

/** GET /api/network: how the node is reached, found out rather than guessed. */
export interface NetworkStatus {
  nat: NatKind;
  externalAddress: string | null;
  /** The address the default route uses: what the node maps and announces. */
  localAddress: string | null;
  portMapping: PortMappingStatus;
  /** In force for the node's WebRTC now (TURN credentials included: members only see this). */
  iceServers: IceServerSetting[];
  /** True when the node's WebRTC uses TURN relay candidates only (symmetric NAT, TURN known). */
  relayOnly: boolean;
  /** Where those came from: the iceServers setting, or the trackers the node announces to. */
  iceSource: 'setting' | 'trackers' | 'none';
  /** STUN server → what it answered (`address:port` or the error). */
  stun: Record<string, string>;
  /** Why nat is "unknown", when it is. */
  reason: string | null;
  probedAt: number | null;
}

/** What `cascade health` and GET /api/health say of private discovery (its `onion`). */
export interface OnionStatus {
  directories: string[];
  privateByDefault: boolean;
  /** Relays usable now: from the directories, and learned from peers. */
  relays: { listed: number; learned: number };
  circuits: { built: number; failed: number; closed: number; requests: number };
  lastError: string | null;
  /** The node's own relay; `tabs`: browser tabs relaying for others that signal through it. */
  relay: { tcp: string | null; ws: string | null; exit: boolean; circuits: number; tabs: number } | null;
}
