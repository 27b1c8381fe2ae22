// @cascade/engine/browser — the engine in a web page: BrowserSession (WebRTC peers through
// WebSocket trackers, memory or IndexedDB storage, WebCrypto SHA-1). Nothing in this import graph may pull in
// node:* or Node-only packages; `vite build` of a page importing this file must succeed.
export type * from './src/api.ts';
export type { Metainfo, MagnetLink, FileRanges, FileEntry, PeerAddress } from './src/types.ts';
export { BrowserSession, BROWSER_CLIENT_NAME, type BrowserSessionOptions, type SeedResult } from './src/browser/session.ts';
export { createTorrentFromFiles, type CreateFromFilesOptions, type NamedBlob } from './src/browser/create-torrent.ts';
export { MemoryStorage } from './src/browser/storage.ts';
export { IdbStorage, IdbResumeStore, openCascadeDb } from './src/browser/idb-storage.ts';
export { Torrent } from './src/torrent/torrent.ts';
export { parseTorrent, parseInfoDict, encodeTorrent, MetainfoError } from './src/metainfo/metainfo.ts';
export { parseMagnet, parseTorrentId, toMagnet, expandSelection } from './src/metainfo/magnet.ts';
export { defaultPieceLength } from './src/metainfo/piece-length.ts';
export { toHex, fromHex } from './src/encoding/hex.ts';
export { DEFAULT_ICE_SERVERS } from './src/discovery/ws-pool.ts';
export type { CandidatePairInfo } from './src/webrtc/webrtc-connection.ts';
