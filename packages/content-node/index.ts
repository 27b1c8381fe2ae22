// @cascade/content-node — the node's content ids (issue 15): each complete file's content id,
// computed at idle time and kept in the node's state (file_cids), the node's signed DHT records for
// its complete public torrents, republished while it runs, and search: its library, then the DHT.
// Above the node (issue 64): the layer that starts a node hands startNode `contentIds: () =>
// import('@cascade/content-node').then((m) => m.openContentIds)`, loaded at the start of a node that
// computes them as torrents complete and when first asked by one that does not (core/content-ids.ts);
// the node imports nothing of it.
export { openContentIds, NodeContent, type ContentNode, type ContentIdMode } from './src/node-content.ts';
export { FileCids, offlineSearchRows, type FileCid } from './src/file-cids.ts';
export { IpfsBlocks, MalformedCid, RangeOutside, type DagScope, type EntityBytes, type HeldFile } from './src/ipfs-blocks.ts';
