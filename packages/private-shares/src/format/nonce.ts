// A chunk's nonce and the tag's size: all a chunk cipher needs of the format, with nothing else of
// it imported (the lean entry, plain-writing.ts, starts a decrypting worker thread on this).

export const TAG_BYTES = 16;
export const NONCE_BYTES = 12;

/** Chunk i's nonce: its index (u64 big-endian) and whether it is the last one (u32). */
export function chunkNonce(i: number, chunkCount: number): Uint8Array<ArrayBuffer> {
  return writeChunkNonce(new Uint8Array(NONCE_BYTES), i, chunkCount);
}

/** chunkNonce into `into` (12 bytes), for a caller that makes one per 64 KiB at transfer speed:
 *  no allocation and no BigInt. */
export function writeChunkNonce<T extends Uint8Array>(into: T, i: number, chunkCount: number): T {
  if (!Number.isInteger(i) || i < 0 || i >= chunkCount) throw new RangeError(`no chunk ${i} in this share (it has ${chunkCount})`);
  const hi = Math.floor(i / 0x1_0000_0000);
  const lo = i >>> 0;
  into[0] = hi >>> 24;
  into[1] = (hi >>> 16) & 0xff;
  into[2] = (hi >>> 8) & 0xff;
  into[3] = hi & 0xff;
  into[4] = lo >>> 24;
  into[5] = (lo >>> 16) & 0xff;
  into[6] = (lo >>> 8) & 0xff;
  into[7] = lo & 0xff;
  into[8] = 0;
  into[9] = 0;
  into[10] = 0;
  into[11] = i === chunkCount - 1 ? 1 : 0;
  return into;
}
