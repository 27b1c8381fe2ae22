// @cascade/node/content-host — what @cascade/content-node (the node's content ids, its DHT records
// and search, a package above the node) takes of the node beyond ./basics: its identity (the
// records' signer), the idle pacing of a file's read-back, the Store's and a torrent's per-file
// progress types, and the seam it plugs into (core/content-ids.ts, startNode's `contentIds`). As
// light as ./verbs: `cascade search` with no node running loads it.
export { nodeIdentity } from './src/core/node-identity.ts';
export { IdlePacer, sessionBytesMoved } from './src/core/idle-pacer.ts';
export type { Store } from '@cascade/node-state/store';
export type { StateDB } from '@cascade/node-state';
export type { TorrentExtras } from './src/listing/torrent-view.ts';
export type { CidsView, ContentIdMode, ContentIds, ContentIdsHost, FoundContent, LoadContentIds, OnPublished } from './src/core/content-ids.ts';
