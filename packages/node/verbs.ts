// The part of the node the CLI's verbs (and `cascade token`, `claim-code` and `users`) use: the control client of a running node, and, with none
// running, the state DB and the model over it. Without the node itself (the engine and the
// HTTP-less node load on demand through loadEngine; the chain through @cascade/rewards/chain-verbs): each `cascade list`,
// `cascade add` or `cascade limits` is a process of its own, and the package's root cost 1.9 s of
// start-up in every one of them. The heavier parts a few verbs need are subpaths of their own:
// `./rewards-host` (@cascade/rewards' chain verbs), `./content-host` (@cascade/content-node's offline `search`);
// a share's key and real names offline are @cascade/private-node/offline's.
export * from './basics.ts';
export { StateDB, DB_FILE } from '@cascade/node-state';
export { copyStateToPostgres, type CopyReport } from './src/core/copy-state.ts';
export { MEMBER_TABLES, renameMember, torrentHolders, type TorrentHolder } from '@cascade/node-state';
export { stateOpenOptions } from './src/core/member-id.ts';
export { rememberPeers } from './src/peers/manual-peers.ts';
export { storedFiles, storedMetainfo, otherOwners, refuseOwnedFiles, deleteOwnFiles } from './src/files/own-files.ts';
export { offlineEntry } from './src/listing/listing.ts';
export { queryEntries, type ListQuery } from './src/listing/list-query.ts';
export { NodeModel, loadModelState, type ModelState } from './src/model/index.ts';
export { silentLog } from './src/core/node-log.ts';
export { loadEngine, type EngineLib, type SessionHandle } from './src/core/engine.ts';
export { ControlClient, connectControl, type RpcParams } from './src/core/control.ts';
export { resolveInfoHash } from './src/core/infohash.ts';
export { AuthStore, memberId, MEMBER_ROLES, type Member, type Role } from './src/auth/member-store.ts';
export { loadOrCreateApiToken, rotateApiToken, sharedApiToken } from '@cascade/node-state';
export { ensureClaimCode, newClaimCode, resetClaimCode } from './src/auth/claim-code.ts';
