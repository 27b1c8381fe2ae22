// @cascade/server/core — the node layer without the web stack: state DB, peer ledger, the node
// (session + DB + control endpoint) and the control client. The CLI's quick verbs (`list`,
// `pause`, …) import this entry so they do not pay for loading Fastify and socket.io.

export { StateDB, StateError, SCHEMA_VERSION, DB_FILE, PEER_ID_PREFIX, countBits, peerScore } from './src/state.ts';
export type { TorrentStatus, TorrentRecord, NewTorrent, PeerRecord, PeerDelta, Identity } from './src/state.ts';
export { PeerLedger } from './src/peer-ledger.ts';
export { rememberPeers, storedPeers, MAX_MANUAL_PEERS } from './src/manual-peers.ts';
export { storedMetainfo, filesOf, otherOwners, refuseOwnedFiles, deleteOwnFiles } from './src/own-files.ts';
export { nodeIdentity, replaceNodeKey } from './src/node-identity.ts';
export { ShareKeys } from './src/private/share-keys.ts';
export { FileCids, offlineSearchRows } from './src/content/file-cids.ts';
export { IdlePacer, sessionBytesMoved } from './src/content/idle-pacer.ts';
export type { SearchRow } from '@cascade/content';
export { AuthStore, memberId } from './src/auth/store.ts';
export type { Member, Role } from './src/auth/store.ts';
export { loadOrCreateApiToken, apiTokenPath } from './src/auth/api-token.ts';
export { CascadeNode, statusOf, dhtPortOf, silentLog } from './src/node.ts';
export { startNode, sessionOptions } from './src/node-start.ts';
export type { NodeOptions, NodeLog } from './src/node.ts';
export {
  ControlServer,
  ControlClient,
  connectControl,
  readControlInfo,
  controlPath,
  CONTROL_FILE,
} from './src/control.ts';
export type { ControlInfo, RpcHandler, RpcHandlers, RpcParams } from './src/control.ts';
export { createNodeApi } from './src/node-api.ts';
export { liveEntry, offlineEntry, listEntries } from './src/listing.ts';
export type { ListEntry } from './src/listing.ts';
export { queryEntries } from './src/list-query.ts';
export type { ListQuery } from './src/list-query.ts';
// The node model: the CLI runs it on the state DB when no node is running (cascade settings, category…).
export { NodeModel, SETTINGS_KEYS } from './src/model/index.ts';
export { parseIceServerUrl, type IceServer } from './src/model/ice-servers.ts';
export type { SessionHandle } from './src/engine.ts';
export { resolveInfoHash, base32ToHex } from './src/infohash.ts';
export { NodeError, InvalidInput, errorMessage, type NodeErrorKind } from './src/errors.ts';
export { loadEngine } from './src/engine.ts';
// The shapes of the rss.* RPCs (the CLI's `cascade rss` reads them).
export type { RuleRecord, MatchRecord } from './src/rss/store.ts';
export type { FeedView, ItemView, PreviewItem } from './src/rss/service.ts';
export type { ChainHealth } from './src/chain-service.ts';
export type { Rewards, RewardClaim, ReceiptTerms } from './src/receipts/exchange.ts';
export { attachRewards, type NodeRewards } from './src/receipts/node-rewards.ts';
export type { ChainConfig } from './src/chain-service.ts';
