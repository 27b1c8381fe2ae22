// @cascade/node — a Cascade node without its HTTP face: the engine session, the state DB, the
// model, the queue, listing, RSS, private shares, content ids, receipts and the chain service,
// peers and the network, the control endpoint and its client. It knows nothing of HTTP: the CLI's
// verbs use it directly, and @cascade/http serves it.

export { StateDB, StateError, SCHEMA_VERSION, DB_FILE, PEER_ID_PREFIX, countBits, peerScore } from './src/state/state-db.ts';
export type { TorrentStatus, TorrentRecord, NewTorrent, PeerRecord, PeerDelta, Identity } from './src/state/state-db.ts';
export { PeerLedger } from './src/peers/peer-ledger.ts';
export { rememberPeers, storedPeers, MAX_MANUAL_PEERS } from './src/peers/manual-peers.ts';
export { storedMetainfo, filesOf, otherOwners, refuseOwnedFiles, deleteOwnFiles } from './src/files/own-files.ts';
export { nodeIdentity, replaceNodeKey } from './src/core/node-identity.ts';
export { ShareKeys } from './src/private/share-keys.ts';
export { FileCids, offlineSearchRows } from './src/content/file-cids.ts';
export { IdlePacer, sessionBytesMoved } from './src/content/idle-pacer.ts';
export type { SearchRow } from '@cascade/content';
export { AuthStore, memberId } from './src/auth/member-store.ts';
export type { Member, Role } from './src/auth/member-store.ts';
export { loadOrCreateApiToken, apiTokenPath } from './src/auth/api-token.ts';
export { CascadeNode, statusOf, dhtPortOf, silentLog } from './src/core/node.ts';
export { startNode, sessionOptions } from './src/core/node-start.ts';
export type { NodeOptions, NodeLog } from './src/core/node.ts';
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
export { NodeModel, SETTINGS_KEYS } from './src/model/index.ts';
export { parseIceServerUrl, type IceServer } from './src/model/ice-servers.ts';
export type { SessionHandle } from './src/core/engine.ts';
export { resolveInfoHash, base32ToHex } from './src/core/infohash.ts';
export { NodeError, InvalidInput, errorMessage, type NodeErrorKind } from './src/core/errors.ts';
export { loadEngine, type EngineLib } from './src/core/engine.ts';
// The shapes of the rss.* RPCs (the CLI's `cascade rss` reads them).
export type { RuleRecord, MatchRecord } from './src/rss/store.ts';
export type { FeedView, ItemView, PreviewItem } from './src/rss/service.ts';
export type { ChainHealth } from './src/chain/chain-service.ts';
export type { Rewards, RewardClaim, ReceiptTerms } from './src/chain/receipt-exchange.ts';
export { attachRewards, type NodeRewards } from './src/chain/node-rewards.ts';
export type { ChainConfig } from './src/chain/chain-service.ts';

// What the HTTP face (@cascade/http) and the tests use besides.
export { assistantRpc, startAssistant, AssistantNodeView, diskSpace } from './src/assistant/index.ts';
export { tokenEquals } from './src/auth/api-token.ts';
export { SESSION_TTL_MS, MAX_SESSIONS } from './src/auth/member-store.ts';
export { announceNow } from './src/core/announce-now.ts';
export type { Metainfo, TorrentHandle, TorrentSource } from './src/core/engine.ts';
export { loadLibrary } from './src/core/library.ts';
export { selectFiles } from './src/files/file-selection.ts';
export { FileRangeStream } from './src/files/piece-stream.ts';
export { seedingTimeAt } from './src/listing/listing.ts';
export { summaryCache } from './src/listing/summary-cache.ts';
export type { SummaryCache } from './src/listing/summary-cache.ts';
export { countTransports, fileViews, havePiece, magnetOf, torrentDetail, torrentFiles } from './src/listing/torrent-view.ts';
export type { FileView, TorrentDetail } from './src/listing/torrent-view.ts';
export { publicIceServers } from './src/model/ice-servers.ts';
export { UnknownCategory, publicAnnounceUrls } from './src/model/index.ts';
export type { PortMappingSetting } from './src/model/settings.ts';
export { isLoopbackHost, shareWarning } from './src/model/share.ts';
export { stalledReason } from './src/model/stalled.ts';
export { objectOf } from './src/model/validate.ts';
export { NodeNetwork } from './src/network/node-network.ts';
export { RelayGossip } from './src/network/relay-gossip.ts';
export type { NetworkStatus } from './src/network/node-network.ts';
export { startNodeRelay } from './src/network/onion.ts';
export type { OnionOptions } from './src/network/onion.ts';
export { incomingPeers, reachabilityOf } from './src/network/reachability.ts';
export { plainRange, storedPlainRange } from './src/private/plain-stream.ts';
export { BULK_ACTIONS, MAX_BULK, moveOne, runBulk } from './src/queue/bulk.ts';
export type { QueueOptions } from './src/queue/manager.ts';
export { QUEUE_MOVES } from './src/queue/order.ts';
export { RssService, nodeAdd, rssRpc } from './src/rss/index.ts';
export { addResult, addSource, addTorrentBytes, addUri } from './src/sources/add-source.ts';
export type { AddOptions, AddResult } from './src/sources/add-source.ts';
export { PlainDownloads, plainOrTorrent } from './src/sources/direct-downloads.ts';
export { MAX_TORRENT_FILE } from './src/sources/fetch-torrent.ts';
export { UrlRefused, resolveAllowed } from './src/sources/url-guard.ts';
export type { PrivateAllowance } from './src/sources/url-guard.ts';
