// @cascade/private-node — the node's private shares (issue 24): which of its torrents are private
// shares, whether it can read each (a key from its identity's envelope, a link, or its own sharing)
// and, for those it can, the plaintext under the real names: kept as plaintext only (PlainStorage)
// or written beside the ciphertext (PlainWriter), moved with the torrent, streamed by range.
// Above the node (issue 64): the layer that starts a node hands startNode `privateShares: () =>
// import('@cascade/private-node').then((m) => m.openPrivateShares)`, and the node loads it the first
// time it meets a share (core/node-private.ts); the node imports nothing of it.
export { openPrivateShares, PrivateShares, type PrivateView } from './src/shares.ts';
export { ShareKeys, type KeyOrigin, type ShareKeysDb } from './src/share-keys.ts';
export { plainRange, storedPlainRange, type PlainRange } from './src/plain-stream.ts';
