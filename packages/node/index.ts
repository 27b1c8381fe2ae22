// @cascade/node — a Cascade node without its HTTP face: the engine session, the state DB, the
// model, the queue, listing,
// peers, the control endpoint and its client. It knows nothing of HTTP: the CLI's
// verbs use it directly, and @cascade/http serves it. How it is reached and finds peers is
// @cascade/node-network, handed to startNode as its `network` (./network-host: the seam).

export { stateOpenOptions, resolveMemberId } from './src/core/member-id.ts';
export { StateDB, StateError, SCHEMA_VERSION, DB_FILE, PEER_ID_PREFIX, countBits, peerScore, MEMBER_TABLES, renameMember } from '@cascade/node-state';
export type { TorrentStatus, TorrentRecord, NewTorrent, PeerRecord, PeerDelta, Identity } from '@cascade/node-state';
export { PeerLedger } from './src/peers/peer-ledger.ts';
export { rememberPeers, storedPeers, MAX_MANUAL_PEERS } from './src/peers/manual-peers.ts';
export { storedMetainfo, filesOf, otherOwners, refuseOwnedFiles, deleteOwnFiles } from './src/files/own-files.ts';
export { nodeIdentity, replaceNodeKey } from './src/core/node-identity.ts';
// Private shares and content ids are @cascade/private-node and @cascade/content-node, above the node:
// loaded when it needs them (startNode's `plugins`: node-private.ts, content-ids.ts).
export type { NodePrivateShares, LoadPrivateShares, PrivateView } from './src/core/node-private.ts';
export type { NodeContentIds, LoadContentIds, ContentIdMode } from './src/core/content-ids.ts';
export type { NodePlugins } from './src/core/node.ts';
export { IdlePacer, sessionBytesMoved } from './src/core/idle-pacer.ts';
export type { SearchRow } from '@cascade/content';
export { AuthStore, memberId, MEMBER_ROLES, ROLE_RANK } from './src/auth/member-store.ts';
export type { Member, Role } from './src/auth/member-store.ts';
export { loadOrCreateApiToken, apiTokenPath, ApiToken, rotateApiToken, sharedApiToken } from '@cascade/node-state';
export { claimCodePath, readClaimCode, ensureClaimCode, newClaimCode, claimCodeMatches, removeClaimCode, resetClaimCode, ownerResetOf, type OwnerReset } from './src/auth/claim-code.ts';
export { CascadeNode, statusOf, dhtPortOf, silentLog } from './src/core/node.ts';
export { startNode, sessionOptions } from './src/core/node-start.ts';
export type { StoragePlugin } from './src/core/storage-plugin.ts';
export type { ConnectionLimits, NodeOptions, NodeLog } from './src/core/node.ts';
export {
  ControlServer,
  ControlClient,
  connectControl,
  readControlInfo,
  controlPath,
  CONTROL_FILE,
} from './src/core/control.ts';
export type { ControlInfo, RpcHandler, RpcHandlers, RpcParams } from './src/core/control.ts';
export { createNodeApi } from './src/core/node-api.ts';
export { liveEntry, offlineEntry, listEntries } from './src/listing/listing.ts';
export type { ListEntry } from './src/listing/listing.ts';
export { queryEntries } from './src/listing/list-query.ts';
export type { ListQuery } from './src/listing/list-query.ts';
// The node model: the CLI runs it on the state DB when no node is running (cascade settings, category…).
export { NodeModel, SETTINGS_KEYS, loadModelState, type ModelState } from './src/model/index.ts';
export { parseIceServerUrl, type IceServer } from './src/model/ice-servers.ts';
export type { SessionHandle } from './src/core/engine.ts';
export { resolveInfoHash, base32ToHex } from './src/core/infohash.ts';
export { NodeError, InvalidInput, errorMessage, type NodeErrorKind } from '@cascade/node-state/errors';
export { loadEngine, type EngineLib } from './src/core/engine.ts';
// A cluster (issue 42) is @cascade/cluster, above the node: a member is started with its plugin
// (startNode's `cluster`); the node keeps it as node.cluster and answers GET /api/cluster and a
// torrent's holders through it, or for itself alone when it is in none.
export { nodeClusterView, nodeTorrentHolders, statsOf, type ClusterFigures, type ClusterNode, type MemberState, type NodeCluster } from './src/core/node-cluster.ts';
export type { MemberStats } from './src/core/member-stats.ts';
export type { ClusterPlugin, JoinedCluster } from './src/core/node-start.ts';
