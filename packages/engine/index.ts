// @cascade/engine — the BitTorrent engine. Node entry: Session with TCP, files, DHT and worker hashing.
export type * from './src/api.ts';
export type { Metainfo, MagnetLink, FileRanges, FileEntry, PeerAddress } from './src/types.ts';
export type { Storage, FileStat } from './src/platform.ts';
export { addressKey, parseAddress } from './src/types.ts';
export { Session, makePeerId, CLIENT_NAME } from './src/node/session.ts';
export { Torrent } from './src/torrent/torrent.ts';
export { fileProgress } from './src/torrent/torrent-report.ts';
export { renamedMetainfo, type FileRenames } from './src/torrent/torrent-edits.ts';
export { Bitfield } from './src/pieces/bitfield.ts';
export { parseTorrent, parseInfoDict, encodeTorrent, MetainfoError } from './src/metainfo/metainfo.ts';
export { parseMagnet, parseTorrentId, toMagnet, expandSelection } from './src/metainfo/magnet.ts';
export { createTorrent, defaultPieceLength, type CreateTorrentOptions } from './src/node/create-torrent.ts';
export { toHex, fromHex } from './src/encoding/hex.ts';
export { BencodeError, decode as bdecode, encode as bencode } from './src/encoding/bencode.ts';
export { DEFAULT_TORRENT_LIMITS, setTorrentLimits, torrentLimits, type TorrentLimits } from './src/metainfo/limits.ts';
export type { DhtQueries, DhtContact, DhtQueryHandler, DhtQueryReply, DhtQueryError } from './src/discovery/dht-types.ts';
export { httpRangeRead } from './src/swarm/webseed.ts';
export type { RangeRead } from './src/swarm/range-read.ts';
