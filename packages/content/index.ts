// @cascade/content: content ids (CIDv1 raw over sha2-256) of shared files, and the signed DHT
// records that map content ids, infohashes and keywords to torrents (docs/dht-records.md).
// Platform-free; the Node side (hashing files) is '@cascade/content/node'.
export * from './src/cid/cid.ts';
export * from './src/cid/unixfs.ts';
export * from './src/cid/unixfs-dir.ts';
export { buildShard, findInShard, shardSlot, SHARD_FANOUT, type ShardEntry, type ShardNode } from './src/cid/unixfs-hamt.ts';
export * from './src/cid/car.ts';
export * from './src/records/keywords.ts';
export * from './src/records/record.ts';
export * from './src/records/store.ts';
export * from './src/records/reputation.ts';
export * from './src/records/records.ts';
