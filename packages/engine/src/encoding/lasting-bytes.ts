// Small byte arrays that live as long as their torrent (its infohash, its own bitfield), cut from
// shared chunks. Each array of its own costs an ArrayBuffer and a backing store besides the view
// (some 300 bytes for a 1-byte bitfield or a 20-byte infohash): 10,000 small seeds held 9 MB of
// such overhead for 250 KB of bytes (issue 64). A chunk goes once none of its views is left, so a
// library that churns may keep a chunk for one survivor: CHUNK bytes at most per live array, and
// in practice far less (the views of torrents added together are freed together).
// Never for arrays whose .buffer is handed on (transferred, or read without its byteOffset).

const CHUNK = 8 * 1024;
/** Larger arrays get a buffer of their own: their overhead is small beside their bytes. */
const MAX_LASTING = 64;

let chunk: ArrayBuffer | undefined;
let used = CHUNK;

/** `n` zero bytes, from a shared chunk when small (`max`: up to how many bytes; a caller whose
 *  arrays are made once and kept, as a small torrent's info dict, may allow larger ones). */
export function lastingBytes(n: number, max = MAX_LASTING): Uint8Array {
  if (n === 0 || n > Math.min(max, CHUNK / 8)) return new Uint8Array(n);
  // 8-byte steps keep every view aligned (a Float64Array or BigUint64Array over one stays legal).
  const size = (n + 7) & ~7;
  if (used + size > CHUNK) {
    chunk = new ArrayBuffer(CHUNK);
    used = 0;
  }
  const out = new Uint8Array(chunk!, used, n);
  used += size;
  return out;
}

/** A copy of `src`, from a shared chunk when small. */
export function lastingCopy(src: Uint8Array, max = MAX_LASTING): Uint8Array {
  const out = lastingBytes(src.length, max);
  out.set(src);
  return out;
}
