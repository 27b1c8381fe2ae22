// Reuses piece-sized buffers: a 1 GiB download would otherwise allocate and collect 1,024 1 MiB
// buffers; the garbage collector showed up as a top cost in profiles, and freeing and re-allocating
// megabyte buffers fragments malloc's heap so RSS creeps up over a long (8 GiB) download. The pool
// only ever holds as many buffers as were in flight at once, so `keep` is a ceiling, not a cost.
// A platform may hand in a slab (e.g. page-aligned memory for direct I/O), or a source of slabs
// asked for another only once every slot so far is in use: slots are used first and always come
// back, whatever `keep` says.

/** One slab, or a function that gives another each call (undefined once there are no more). */
export type SlabSource = Uint8Array | (() => Uint8Array | undefined);

export class BufferPool {
  private free: Uint8Array[] = [];
  private readonly size: number;
  private readonly keep: number;
  private readonly alloc: (n: number) => Uint8Array;
  /** Everything get() handed out: only those come back (never a view or a stranger's buffer). */
  private readonly issued = new WeakSet<Uint8Array>();
  private readonly slots = new WeakSet<Uint8Array>();
  private more: (() => Uint8Array | undefined) | undefined;

  /** `alloc` may skip zero-filling (Node's Buffer.allocUnsafeSlow): every byte is overwritten. */
  constructor(size: number, keep = 32, alloc: (n: number) => Uint8Array = (n) => new Uint8Array(n), slab?: SlabSource) {
    this.size = size;
    this.keep = keep;
    this.alloc = alloc;
    if (typeof slab === 'function') this.more = slab;
    else if (slab) this.addSlab(slab);
  }

  private addSlab(slab: Uint8Array): void {
    // Reversed, so the first slot is handed out first and a small download touches few pages.
    for (let off = Math.floor(slab.length / this.size) * this.size - this.size; off >= 0; off -= this.size) {
      const slot = slab.subarray(off, off + this.size);
      this.slots.add(slot);
      this.free.push(slot);
    }
  }

  /** A slot of the source's next slab, when every slot so far is out. */
  private nextSlot(): Uint8Array | undefined {
    const slab = this.more?.();
    if (!slab || slab.length < this.size) {
      this.more = undefined;
      return undefined;
    }
    this.addSlab(slab);
    return this.free.pop();
  }

  get(length: number): Uint8Array {
    if (length !== this.size) return this.alloc(length);
    const buf = this.free.pop() ?? this.nextSlot() ?? this.alloc(this.size);
    this.issued.add(buf);
    return buf;
  }

  release(buf: Uint8Array): void {
    if (!this.issued.has(buf)) return;
    this.issued.delete(buf);
    if (this.slots.has(buf) || this.free.length < this.keep) this.free.push(buf);
  }
}
