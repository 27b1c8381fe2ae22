// Shared shapes that cross layer boundaries. Behaviour lives elsewhere; this file is the contract.

export interface FileEntry {
  /** Path components below the torrent's name (single-file torrents: [name]). Already sanitized. */
  path: string[];
  length: number;
  /** Byte offset of this file inside the torrent's concatenated payload. */
  offset: number;
  /** BEP 47 padding file; never written to disk. A v2-only torrent (BEP 52) gets synthetic ones, so
   *  its files start on piece boundaries exactly as in the hybrid layout and storage is shared. */
  pad?: boolean;
  /** BEP 52: SHA-256 merkle root of the file's 16 KiB blocks; absent for empty files and v1 torrents. */
  piecesRoot?: Uint8Array;
  /** BEP 47 `attr` x: created with the executable bit. */
  executable?: true;
  /** BEP 47 `attr` h: hidden (kept for what shows it; a Unix file system has no such bit). */
  hidden?: true;
  /** BEP 47 `attr` l: a symbolic link (length 0, no data) to this path below the torrent's name,
   *  always one of the torrent's own files or folders (libtorrent's rule: any other target is
   *  rewritten to the link itself, and storage creates no link for such a one). */
  symlink?: string[];
}

export interface Metainfo {
  /** 20 bytes: the torrent's id. SHA-1 of the raw `info` dict for v1 and hybrid torrents; for a
   *  v2-only torrent the first 20 bytes of its SHA-256 (what its handshakes, trackers and DHT use). */
  infoHash: Uint8Array;
  infoHashHex: string;
  /** BEP 52: 'v1' for v1 only, 'v2' for v2 only, 'hybrid' for both. Absent means v1. */
  version?: 'v1' | 'v2' | 'hybrid';
  /** BEP 52: SHA-256 of the raw `info` dict (32 bytes), for v2 and hybrid torrents. */
  infoHashV2?: Uint8Array;
  infoHashV2Hex?: string;
  /** BEP 52 piece layers, by pieces root (hex): the concatenated 32-byte hashes of each file larger
   *  than one piece. Empty for a torrent that came from a v2 magnet until peers sent them. */
  pieceLayers?: Map<string, Uint8Array>;
  /** The exact bencoded `info` dictionary (served over ut_metadata, hashed for the infohash). */
  infoBytes: Uint8Array;
  name: string;
  pieceLength: number;
  /** Concatenated 20-byte SHA-1 piece hashes (empty for a v2-only torrent). */
  pieceHashes: Uint8Array;
  pieceCount: number;
  /** Total payload length. */
  length: number;
  files: FileEntry[];
  /** True when the torrent has a `files` list (lands in `<dir>/<name>/…`). */
  multiFile: boolean;
  private: boolean;
  /** Announce tiers (BEP 12); a lone `announce` becomes one tier. */
  announce: string[][];
  urlList: string[];
  comment?: string;
  createdBy?: string;
  creationDate?: number;
}

export interface MagnetLink {
  /** The torrent's 20-byte id: the v1 infohash, or for a v2-only magnet the truncated v2 one. */
  infoHashHex: string;
  /** BEP 52: the full SHA-256 infohash from `xt=urn:btmh:1220…` (v2-only and hybrid magnets). */
  infoHashV2Hex?: string;
  name?: string;
  trackers: string[];
  /** BEP 9 x.pe peer addresses, "host:port". */
  peers: string[];
  /** BEP 19 `ws` web seeds. */
  webSeeds: string[];
  /** BEP 53 `so`: the selected files as merged index ranges ("0,2,4-6,5" → [[0, 0], [2, 2], [4, 6]]),
   *  so a huge `so=` costs memory and time by its text, not by the indices it spans. Indices past
   *  the torrent's last file are ignored; `expandSelection(ranges, fileCount)` lists the rest. */
  selectOnly?: FileRanges;
}

/** Inclusive [first, last] index ranges, sorted, neither overlapping nor touching. */
export type FileRanges = [number, number][];

export interface PeerAddress {
  host: string;
  port: number;
}

export function addressKey(a: PeerAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** Loopback, RFC 1918, link-local, and IPv6 loopback, unique-local and link-local addresses. */
export function isLocalAddress(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase().replace(/^::ffff:/, '');
  return /^(127\.|10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|169\.254\.)/.test(h) || h === '::1' || /^f[cd][0-9a-f]{0,2}:|^fe[89ab][0-9a-f]?:/.test(h);
}

export function parseAddress(s: string): PeerAddress {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port > 0 && port < 65536)) throw new Error(`invalid peer address "${s}" (want host:port)`);
  return { host: m[1]!, port };
}
