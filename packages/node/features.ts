// @cascade/node/features — the rest of what a whole node serves (adding by URL or content id, bulk
// actions, details, metrics' sources…), and what the packages above the node take from it
// (@cascade/rss: the guarded fetcher, the add options' checks; @cascade/node-assistant: the listing,
// disk space and the node's small interfaces). Heavier to load than the main entry (@cascade/node),
// which the CLI's quick verbs import and which must stay light: a `cascade list` should not load them.

export type { InfoHashResolver, NodeCore, TorrentEvents } from './src/core/node-parts.ts';
export { diskSpace } from './src/files/disk-space.ts';
export { tokenEquals } from '@cascade/node-state';
export { SESSION_TTL_MS, MAX_SESSIONS } from './src/auth/member-store.ts';
export { announceNow } from './src/core/announce-now.ts';
export type { Metainfo, TorrentHandle, TorrentSource } from './src/core/engine.ts';
export { loadLibrary } from './src/core/library.ts';
export { selectFiles } from './src/files/file-selection.ts';
export { FileRangeStream } from '@cascade/engine/file-range-stream';
export {
  addTrackers, checkPeerAddress, checkTrackerUrl, editTracker, pieceOrder, pieceStates, removeTrackers, renamePath, renameTorrentFolder,
  setDisplayName, setPieceOrder, setTrackerTiers, trackerTiers,
} from './src/files/torrent-edits.ts';
export type { FilePriority, PieceOrderView } from './src/files/torrent-edits.ts';
export { liveRow, seedingTimeAt } from './src/listing/listing.ts';
export { summaryCache } from './src/listing/summary-cache.ts';
export type { CacheNode, SummaryCache } from './src/listing/summary-cache.ts';
export { countTransports, fileViews, havePiece, magnetOf, storedTorrentDetail, torrentDetail, torrentFiles } from './src/listing/torrent-view.ts';
export type { FileView, TorrentDetail } from './src/listing/torrent-view.ts';
export { publicIceServers } from './src/model/ice-servers.ts';
export { UnknownCategory, publicAnnounceUrls } from './src/model/index.ts';
export type { PortMappingSetting } from './src/model/settings.ts';
export { isLoopbackHost, shareWarning } from './src/model/share.ts';
export { stalledReason } from './src/model/stalled.ts';
export { objectOf, saveDir, shortName, tagList } from './src/model/validate.ts';
export { BULK_ACTIONS, MAX_BULK, moveOne, runBulk } from './src/queue/bulk.ts';
export type { QueueOptions } from './src/queue/manager.ts';
export { QUEUE_MOVES } from './src/queue/order.ts';
export { addResult, addSource, addTorrentBytes, addUri } from './src/sources/add-source.ts';
export type { AddOptions, AddResult } from './src/sources/add-source.ts';
export { PlainDownloads, plainOrTorrent } from './src/sources/direct-downloads.ts';
export { MAX_TORRENT_FILE, fetchCapped, fetchTorrentFile } from './src/sources/fetch-torrent.ts';
export { UrlRefused, resolveAllowed, privateTorrentUrlsFor, type PrivateAllowance } from '@cascade/sources/guarded';
