// @cascade/node/rewards-host — what @cascade/rewards (the node's side of the chain: the chain
// service, seeding receipts, rewards and the chain verbs, a package above the node) takes of the
// node beyond ./basics and ./verbs: the node's identity, the state's error (the receipts' old file), a piece's size, a
// torrent's magnet, and the small interfaces of the parts it is handed (node-parts.ts). As light
// as ./verbs: `cascade register`, `verify` and `rewards` load it with no node running.
export { nodeIdentity } from './src/core/node-identity.ts';
export { StateError } from '@cascade/node-state';
export { pieceBytes, type IdentifiedPeer } from './src/peers/identified-peers.ts';
export { magnetOf } from './src/listing/torrent-view.ts';
export type { NodeCore, InfoHashResolver, TorrentEvents, NodeLog } from './src/core/node-parts.ts';
export type { Store } from '@cascade/node-state/store';
export type { RpcHandlers, RpcParams } from './src/core/control.ts';
export type { Metainfo, TorrentHandle, TransferEvent } from './src/core/engine.ts';
