// Page-aligned buffers for runs of plaintext, so that a run's page-aligned middle can go to disk with
// O_DIRECT as the engine's piece writes do (engine src/node/direct-io.ts: on this kind of VM every
// fresh page-cache page also faults on the host, 3–5× the CPU of a direct write). A run is copied in
// at the offset its file position has within a page, which lines the two up.
import { DIRECT_ALIGN, alignedSlab } from '@cascade/engine/direct-io';

/** Aligned memory for runs, at most (as the engine's piece buffers of one torrent). */
const MAX_BYTES = 64 * 1024 * 1024;

export class AlignedSlots {
  /** Bytes of plaintext one slot holds, wherever in a page it starts. */
  readonly runBytes: number;
  readonly #free: Buffer[] = [];
  readonly #slotBytes: number;
  readonly #step: number;
  #left: number;

  /**
   * `count` slots for runs of up to `runBytes` at first, `count` more whenever every one is out,
   * up to MAX_BYTES (at least `count`); none where O_DIRECT is not available. With fewer, a write
   * that found none went through the page cache, and while pieces verified faster than the disk
   * took them that was half of a private download's writes (488 of 1024 in bench:private), each
   * holding the file's lock against the direct writes behind it.
   */
  constructor(runBytes: number, count: number, maxBytes = MAX_BYTES) {
    // A page more than a run can straddle: room for the neighbours' parts of its edge pages
    // (edge-pages.ts), before its first byte and after its last.
    this.#slotBytes = Math.ceil((runBytes + 2 * DIRECT_ALIGN) / DIRECT_ALIGN) * DIRECT_ALIGN;
    this.runBytes = runBytes;
    this.#step = count;
    this.#left = Math.max(count, Math.floor(maxBytes / this.#slotBytes));
    this.#grow();
  }

  /** Another `count` slots, while the budget lasts; false when none could be had. */
  #grow(): boolean {
    const n = Math.min(this.#step, this.#left);
    if (n <= 0) return false;
    // Plain memory: V8 copies into shared memory word by word with relaxed atomics (engine
    // direct-io.ts copyIntoSlab), and nothing but this thread and the disk reads these slots.
    const slab = alignedSlab(this.#slotBytes, this.#slotBytes * n, false);
    if (!slab) {
      this.#left = 0;
      return false;
    }
    this.#left -= n;
    for (let at = 0; at + this.#slotBytes <= slab.length; at += this.#slotBytes) this.#free.push(Buffer.from(slab.buffer, slab.byteOffset + at, this.#slotBytes));
    return true;
  }

  /**
   * The parts laid end to end in a free slot, starting at `position`'s offset within a page; the
   * slot goes back with `release`. undefined when none can be had or they do not fit.
   */
  take(parts: readonly Uint8Array[], position: number): AlignedRun | undefined {
    let total = 0;
    for (const p of parts) total += p.length;
    const run = this.reserve(total, position);
    if (!run) return undefined;
    let at = 0;
    for (const p of parts) {
      run.bytes.set(p, at);
      at += p.length;
    }
    return run;
  }

  /**
   * A free slot's `length` bytes lined up with `position` within a page, for the caller to fill
   * (a piece's chunks decrypted into it one by one, each copied while it is still in the cache);
   * undefined when none can be had or they do not fit.
   */
  reserve(length: number, position: number): AlignedRun | undefined {
    if (length > this.runBytes) return undefined;
    if (this.#free.length === 0 && !this.#grow()) return undefined;
    const slot = this.#free.pop()!;
    const start = position % DIRECT_ALIGN;
    return { bytes: slot.subarray(start, start + length), release: () => void this.#free.push(slot) };
  }
}

/** A run's bytes in aligned memory, and how to give the memory back. */
export interface AlignedRun {
  bytes: Buffer;
  release: () => void;
}
