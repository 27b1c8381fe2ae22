// @cascade/node/network-host — what @cascade/node-network (how the node is reached and finds peers:
// the network's probe and ICE servers, LSD, port mapping, private discovery and the relay, a package
// above the node) takes of the node beyond its main entry: the seam it plugs into (startNode's
// NetworkPlugin and the parts the node keeps, core/node-network.ts), the port mapping modes and the
// private-address rule. As light as the main entry: a `cascade download` loads it.
export { isPrivateAddress } from '@cascade/sources/guarded';
export { PORT_MAPPING_SETTINGS, type PortMappingSetting } from './src/model/settings.ts';
export type { NetworkPlugin } from './src/core/node-start.ts';
export type { NodeNetworkProbe, NodePortMapping, NodePrivateDiscovery } from './src/core/node-network.ts';
export type { IdentifiedPeers } from './src/peers/identified-peers.ts';
export type { NodeLog } from './src/core/node-parts.ts';
