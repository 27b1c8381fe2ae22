// Piece writes that skip the page cache (O_DIRECT). A buffered write copies every byte into the
// page cache, and on this kind of VM each fresh page-cache page also faults on the host: measured
// 0.7–1.0 CPU-s per GiB in the write threads, against ~0.2 with O_DIRECT (bench/swarm). O_DIRECT
// needs 4096-aligned memory, file offsets and lengths; Node has no aligned allocator, but a
// WebAssembly.Memory's buffer starts on a page boundary, so piece buffers are carved from one.
import fs from 'node:fs';

export const DIRECT_ALIGN = 4096;
/** Upper bound on the aligned piece buffers of one downloading torrent. */
const SLAB_BYTES = 64 * 1024 * 1024;
/** Slabs handed out one at a time (alignedSlabs): a 64 MiB one counts against V8's external memory
 *  limit (64 MB) at once, and V8 answers with a full collection (measured: every download, one-piece
 *  ones too, began with one). Slabs of 8 MiB, only as many as are in use at once, mostly stay under it. */
const SLAB_STEP = 8 * 1024 * 1024;
const WASM_PAGE = 65536;

const slabs = new WeakSet<ArrayBufferLike>();

/** O_DIRECT where the OS has it (Linux); undefined elsewhere. */
export const O_DIRECT: number | undefined = (fs.constants as Record<string, number>).O_DIRECT;

/**
 * Page-aligned memory for piece buffers: as many pieces as fit in `maxBytes` (64 MiB; at least one), or
 * undefined when the piece length is not a multiple of 4096 or the memory cannot be had (V8 caps
 * the address space WebAssembly memories reserve). Untouched pages cost no RSS.
 */
export function alignedSlab(pieceLength: number, maxBytes = SLAB_BYTES, shared = true): Uint8Array | undefined {
  if (O_DIRECT === undefined || pieceLength % DIRECT_ALIGN !== 0) return undefined;
  const bytes = Math.max(1, Math.floor(maxBytes / pieceLength)) * pieceLength;
  const pages = Math.ceil(bytes / WASM_PAGE);
  try {
    // Shared, so the hash worker (hasher.ts) reads whole pieces in place, with no copy.
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared });
    slabs.add(memory.buffer);
    return Buffer.from(memory.buffer, 0, bytes);
  } catch {
    return undefined;
  }
}

/**
 * Page-aligned memory for piece buffers in steps (a BufferPool's SlabSource): each call gives
 * another slab of SLAB_STEP (at least one piece), until `maxBytes` in all; undefined when no slab
 * can be had (see alignedSlab).
 */
export function alignedSlabs(pieceLength: number, maxBytes = SLAB_BYTES, shared = true): (() => Uint8Array | undefined) | undefined {
  if (O_DIRECT === undefined || pieceLength % DIRECT_ALIGN !== 0) return undefined;
  const perSlab = Math.max(1, Math.floor(SLAB_STEP / pieceLength));
  let left = Math.max(1, Math.floor(maxBytes / pieceLength));
  return () => {
    const n = Math.min(perSlab, left);
    const slab = n > 0 ? alignedSlab(pieceLength, n * pieceLength, shared) : undefined;
    left = slab ? left - n : 0;
    return slab;
  };
}

/** True when `view` starts on a page boundary of a slab (so O_DIRECT accepts it as a source). */
export function isDirectAligned(view: Uint8Array): boolean {
  return slabs.has(view.buffer) && view.byteOffset % DIRECT_ALIGN === 0;
}

/**
 * Copies a block into a piece buffer. Into a slab (shared memory) V8's `set` copies word by word
 * with relaxed atomics, and byte by byte when the source is not word-aligned, as a block's place in
 * a socket read rarely is: 542 ms per 512 MiB where plain memory takes 30. Buffer's `fill` with a
 * buffer as its value is one native memcpy when the range is the value's length: about as fast as
 * plain memory.
 */
export function copyIntoSlab(piece: Uint8Array, block: Uint8Array, at: number): void {
  if (!(piece.buffer instanceof SharedArrayBuffer) || block.length === 0) return piece.set(block, at);
  Buffer.prototype.fill.call(piece, block, at, at + block.length);
}
