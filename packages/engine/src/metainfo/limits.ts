// What a .torrent (or an info dictionary fetched from peers) may ask of this process. Past a limit
// it is refused with an error naming the limit, before anything large is built. The defaults follow
// libtorrent's load_torrent_limits where it has one; a node may set others (setTorrentLimits, the
// server's `torrentLimits` option) for every parse in the process.

import { MAX_DECODE_DEPTH, MAX_DECODE_TOKENS } from '../encoding/bencode.ts';
import { MAX_METADATA_SIZE } from '../wire/extended.ts';

export interface TorrentLimits {
  /** Bytes of a .torrent (or of an info dictionary). */
  maxTorrentBytes: number;
  /** Entries in `files`. */
  maxFiles: number;
  /** Pieces (20-byte hashes in `pieces`). */
  maxPieces: number;
  /** Nesting of lists and dictionaries. */
  maxDecodeDepth: number;
  /** Bencoded values of any kind in the whole input. */
  maxDecodeTokens: number;
}

export const DEFAULT_TORRENT_LIMITS: Readonly<TorrentLimits> = Object.freeze({
  // The largest info dictionary BEP 9 takes from peers: a magnet and a file get the same ceiling.
  maxTorrentBytes: MAX_METADATA_SIZE,
  // Measured: about 27 MB of live heap per 100,000 files added (test/attack/huge-torrents).
  maxFiles: 100_000,
  // libtorrent's max_pieces (0x200000): 2 TiB at 1 MiB pieces; 40 MB of hashes alone.
  maxPieces: 0x200000,
  maxDecodeDepth: MAX_DECODE_DEPTH,
  // libtorrent's max_decode_tokens was 2,000,000 until 2.0 (now 3,000,000).
  maxDecodeTokens: MAX_DECODE_TOKENS,
});

let current: Readonly<TorrentLimits> = DEFAULT_TORRENT_LIMITS;

/** The limits every parse in this process applies unless it is given its own. */
export function torrentLimits(): Readonly<TorrentLimits> {
  return current;
}

/** Sets the process-wide limits (unset fields keep their defaults); returns them. */
export function setTorrentLimits(limits: Partial<TorrentLimits>): Readonly<TorrentLimits> {
  const next: TorrentLimits = { ...DEFAULT_TORRENT_LIMITS };
  for (const [k, v] of Object.entries(limits) as [keyof TorrentLimits, number | undefined][]) {
    if (v === undefined) continue;
    if (!(Number.isSafeInteger(v) && v > 0)) throw new RangeError(`torrent limit ${k} must be a positive integer, not ${v}`);
    next[k] = v;
  }
  current = Object.freeze(next);
  return current;
}
