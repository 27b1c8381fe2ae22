// Page-aligned buffers for runs of plaintext, so that a run's page-aligned middle can go to disk with
// O_DIRECT as the engine's piece writes do (engine src/node/direct-io.ts: on this kind of VM every
// fresh page-cache page also faults on the host, 3–5× the CPU of a direct write). A run is copied in
// at the offset its file position has within a page, which lines the two up.
import { DIRECT_ALIGN, alignedSlab } from '@cascade/engine/direct-io';

export class AlignedSlots {
  /** Bytes of plaintext one slot holds, wherever in a page it starts. */
  readonly runBytes: number;
  readonly #free: Buffer[] = [];

  /** `count` slots for runs of up to `runBytes`; none where O_DIRECT is not available. */
  constructor(runBytes: number, count: number) {
    const slotBytes = Math.ceil((runBytes + DIRECT_ALIGN) / DIRECT_ALIGN) * DIRECT_ALIGN;
    this.runBytes = runBytes;
    const slab = alignedSlab(slotBytes, slotBytes * count);
    if (!slab) return;
    for (let at = 0; at + slotBytes <= slab.length; at += slotBytes) this.#free.push(Buffer.from(slab.buffer, slab.byteOffset + at, slotBytes));
  }

  /**
   * The parts laid end to end in a free slot, starting at `position`'s offset within a page; the
   * slot goes back with `release`. undefined when none is free or they do not fit.
   */
  take(parts: readonly Uint8Array[], position: number): { bytes: Buffer; release: () => void } | undefined {
    let total = 0;
    for (const p of parts) total += p.length;
    if (total > this.runBytes) return undefined;
    const slot = this.#free.pop();
    if (!slot) return undefined;
    const start = position % DIRECT_ALIGN;
    let at = start;
    for (const p of parts) {
      slot.set(p, at);
      at += p.length;
    }
    return { bytes: slot.subarray(start, at), release: () => void this.#free.push(slot) };
  }
}
