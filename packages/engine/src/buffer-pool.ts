// Reuses piece-sized buffers: a 1 GiB download would otherwise allocate and collect 1,024 1 MiB
// buffers, and the garbage collector showed up as a top cost in profiles.
export class BufferPool {
  private free: Uint8Array[] = [];
  private readonly size: number;
  private readonly keep: number;

  constructor(size: number, keep = 16) {
    this.size = size;
    this.keep = keep;
  }

  get(length: number): Uint8Array {
    if (length !== this.size) return new Uint8Array(length);
    return this.free.pop() ?? new Uint8Array(this.size);
  }

  release(buf: Uint8Array): void {
    if (buf.length === this.size && buf.byteOffset === 0 && this.free.length < this.keep) this.free.push(buf);
  }
}
