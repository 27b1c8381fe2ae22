// @cascade/content-node/offline — `cascade search` with no node running: the library in the state
// DB first, then the DHT's signed records, the DHT joined for the look-up alone (src/dht-search.ts).
export { searchWithoutNode, dhtSearchable, type DhtJoin, type DhtSearch } from './src/dht-search.ts';
export { FileCids, offlineSearchRows } from './src/file-cids.ts';
