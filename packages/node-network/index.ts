// @cascade/node-network — how a node is reached and finds peers, above the node: `networkPlugin` is
// what startNode takes as its `network` (the probe and the ICE servers found on the trackers, LSD,
// port mapping, private discovery); the reachability rule the doors share. The onion client, the
// node's relay and relay gossip are `./onion`, loaded only when used.
export { networkPlugin, type NetworkOptions, type NodeNetworking } from './src/plugin.ts';
export { NodeNetwork, startNodeNetwork, type NodeNetworkDeps, type NetworkStatus, type PortMappingStatus } from './src/node-network.ts';
export { effectiveLsd, followLsd, LSD_ENV, LSD_INTERVAL_ENV, type LsdMode } from './src/lsd.ts';
export { incomingPeers, reachabilityOf, type Reachability } from './src/reachability.ts';
export type { NodeOnion, OnionOptions } from './src/onion.ts';
