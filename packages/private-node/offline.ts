// @cascade/private-node/offline — what the CLI's verbs use with no node running: a link's key kept
// in the state (`cascade add LINK`) and the real names of the shares it can read (`cascade list`),
// without the running node's side (storage, writers, the worker).
export { ShareKeys, type KeyOrigin, type ShareKeysDb } from './src/share-keys.ts';
export { withPrivateNames, type NamesDb } from './src/offline-names.ts';
