// Reuses piece-sized buffers: a 1 GiB download would otherwise allocate and collect 1,024 1 MiB
// buffers; the garbage collector showed up as a top cost in profiles, and freeing and re-allocating
// megabyte buffers fragments malloc's heap so RSS creeps up over a long (8 GiB) download. The pool
// only ever holds as many buffers as were in flight at once, so `keep` is a ceiling, not a cost.
export class BufferPool {
  private free: Uint8Array[] = [];
  private readonly size: number;
  private readonly keep: number;

  private alloc: (n: number) => Uint8Array;

  /** `alloc` may skip zero-filling (Node's Buffer.allocUnsafeSlow): every byte is overwritten. */
  constructor(size: number, keep = 32, alloc: (n: number) => Uint8Array = (n) => new Uint8Array(n)) {
    this.size = size;
    this.keep = keep;
    this.alloc = alloc;
  }

  get(length: number): Uint8Array {
    if (length !== this.size) return this.alloc(length);
    return this.free.pop() ?? this.alloc(this.size);
  }

  release(buf: Uint8Array): void {
    if (buf.length === this.size && buf.byteOffset === 0 && this.free.length < this.keep) this.free.push(buf);
  }
}
