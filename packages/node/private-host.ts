// @cascade/node/private-host — what @cascade/private-node (the node's private shares: the plaintext
// of the sealed torrents it can read, a package above the node) takes of the node: whether a
// torrent has a piece, a file's range streamed as its pieces verify, a storage that waits for its
// choice, the Store's type, and the seam it plugs into (core/node-private.ts, startNode's
// `privateShares`). A node loads it with the private shares, the first time it meets one.
export { havePiece } from './src/listing/torrent-view.ts';
export { FileRangeStream } from '@cascade/engine/file-range-stream';
export { DeferredStorage } from './src/core/deferred-storage.ts';
export { PRIVATE_INFO_KEY, hasPrivateInfo } from './src/core/node-private.ts';
export type { Store } from '@cascade/node-state/store';
export type { NodeLog, TorrentEvents } from './src/core/node-parts.ts';
export type {
  KeyOrigin, LoadPrivateShares, NodeSecrets, PrivateShares, PrivateSharesHost, PrivateView, ShareKeyStore, ShareReader,
} from './src/core/node-private.ts';
