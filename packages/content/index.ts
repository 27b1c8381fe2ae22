// @cascade/content: content ids (CIDv1 raw over sha2-256) of shared files, and the signed DHT
// records that map content ids, infohashes and keywords to torrents (docs/dht-records.md).
// Platform-free; the Node side (hashing files) is '@cascade/content/node'.
export * from './src/cid.ts';
export * from './src/keywords.ts';
export * from './src/record.ts';
export * from './src/store.ts';
export * from './src/reputation.ts';
export * from './src/records.ts';
