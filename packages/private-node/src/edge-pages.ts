// The pages a run of plaintext shares with its neighbours. A share's pieces hold 16-byte tags, so
// a piece's plaintext starts and ends off the 4 KiB grid and the page at each end is shared with
// the piece beside it. Written alone, those pieces of pages go through the page cache (two small
// buffered writes per piece, each holding the file's lock against the direct writes behind it);
// here they join the run's O_DIRECT write whole instead:
// - with the neighbour's bytes, kept in memory from its own write (which put them on disk already);
// - or, in a file this node made empty for this download, with zeros where no write has been yet
//   (the neighbour's part, unwritten: its own write brings the page whole later).
// Nothing is held back: a run's bytes are all in the file when its write resolves, so a crash never
// leaves a piece marked done without its edges. Writes of one page go in the order they were
// planned (a zero-filled page must land before the neighbour's whole one). Where neither holds (the
// neighbour is on disk from an earlier run of the node, the kept bytes were dropped, a file's last
// page) the edge goes through the page cache as before.
import { DIRECT_ALIGN } from '@cascade/engine/direct-io';

/** Pages kept with one part known, at most (4 KiB each): past it the oldest go. */
const MAX_PARTS = 2048;
/** Files told apart in a page's key (PlainFiles writes direct only for shares of up to 32 files). */
const FILES_PER_KEY = 64;

interface Part {
  bytes: Buffer;
  /** Known bytes [lo, hi) of the page. */
  lo: number;
  hi: number;
}

export interface EdgePlan {
  /** The O_DIRECT write: its file position and memory (whole pages), or undefined. */
  direct: { position: number; bytes: Buffer } | undefined;
  /** What goes through the page cache: [bytes, file position]. */
  buffered: [Uint8Array, number][];
  /** Writes of the same pages still on their way: this one goes after them. */
  after: Promise<unknown>[];
  /** Takes the write's promise: its pages are busy until it settles. */
  track(done: Promise<unknown>): void;
}

export class EdgePages {
  readonly #parts = new Map<number, Part>();
  readonly #busy = new Map<number, Promise<unknown>>();
  /** Per file, a bit per page any write touched; undefined while zero-filling is off. */
  #touched: Uint8Array[] | undefined;

  /** Zero-fill from now on: every file is empty and only this writes to them. */
  zeroFill(fileLengths: readonly number[]): void {
    if (fileLengths.length > FILES_PER_KEY) return;
    this.#touched = fileLengths.map((n) => new Uint8Array(Math.ceil(n / DIRECT_ALIGN / 8)));
  }

  /** Forgets what it kept (the files may change behind it: closed, moved). */
  clear(): void {
    this.#parts.clear();
    this.#touched = undefined;
  }

  /**
   * How to write `view` (its memory lined up with `position` within a page) at `position` of
   * file `file`. `head`/`tail`: the page-sized memory before/after `view` is free to use.
   */
  plan(file: number, fileLength: number, view: Buffer, position: number, head: boolean, tail: boolean): EdgePlan {
    const A = DIRECT_ALIGN;
    const end = position + view.length;
    const a = position % A;
    const b = end % A;
    const headPage = position - a;
    const tailPage = end - b;
    const buffered: [Uint8Array, number][] = [];
    const pages: number[] = [];
    let start = a === 0 ? position : headPage + A;
    let stop = tailPage;
    if (file >= FILES_PER_KEY || tailPage <= headPage) {
      // Inside one page: through the page cache.
      return { ...this.planPlain(file, position, view.length), direct: undefined, buffered: [[view, position]] };
    }
    if (a > 0) {
      pages.push(headPage);
      const k = key(file, headPage);
      const known = this.#parts.get(k);
      const before = () => Buffer.from(view.buffer, view.byteOffset - a, a);
      if (head && known && known.lo === 0 && known.hi >= a) {
        before().set(known.bytes.subarray(0, a));
        this.#parts.delete(k);
        start = headPage;
      } else if (head && !known && this.#untouched(file, headPage)) {
        before().fill(0);
        this.#remember(k, view.subarray(0, A - a), a);
        start = headPage;
      } else {
        buffered.push([view.subarray(0, A - a), position]);
        this.#remember(k, view.subarray(0, A - a), a);
      }
      this.#touch(file, headPage);
    }
    if (b > 0) {
      pages.push(tailPage);
      const k = key(file, tailPage);
      const known = this.#parts.get(k);
      const after = () => Buffer.from(view.buffer, view.byteOffset + view.length, A - b);
      const ours = view.subarray(tailPage - position);
      if (tailPage + A > fileLength) {
        // The file's last page: a whole page would make the file longer.
        buffered.push([ours, tailPage]);
        this.#parts.delete(k);
      } else if (tail && known && known.lo <= b && known.hi === A) {
        after().set(known.bytes.subarray(b));
        this.#parts.delete(k);
        stop = tailPage + A;
      } else if (tail && !known && this.#untouched(file, tailPage)) {
        after().fill(0);
        this.#remember(k, ours, 0);
        stop = tailPage + A;
      } else {
        buffered.push([ours, tailPage]);
        this.#remember(k, ours, 0);
      }
      this.#touch(file, tailPage);
    }
    const direct = stop > start ? { position: start, bytes: Buffer.from(view.buffer, view.byteOffset + (start - position), stop - start) } : undefined;
    return this.#plan(file, pages, direct, buffered);
  }

  /** A write of [position, position + length) that goes through the page cache as it is: its edge
   *  pages are no longer known (never zero-filled, nothing kept), and it goes in turn with them. */
  planPlain(file: number, position: number, length: number): Pick<EdgePlan, 'after' | 'track'> {
    if (file >= FILES_PER_KEY) return { after: [], track: () => {} };
    const A = DIRECT_ALIGN;
    const pages = [...new Set([position - (position % A), position + length - ((position + length) % A)])];
    for (const page of pages) this.#forget(file, page);
    return this.#plan(file, pages, undefined, []);
  }

  #plan(file: number, pages: number[], direct: EdgePlan['direct'], buffered: EdgePlan['buffered']): EdgePlan {
    const keys = pages.map((p) => key(file, p));
    const after: Promise<unknown>[] = [];
    for (const k of keys) {
      const busy = this.#busy.get(k);
      if (busy) after.push(busy);
    }
    return {
      direct,
      buffered,
      after,
      track: (done) => {
        const settled = done.catch(() => {});
        for (const k of keys) {
          this.#busy.set(k, settled);
          void settled.then(() => this.#busy.get(k) === settled && this.#busy.delete(k));
        }
      },
    };
  }

  /** Keeps `bytes` as the page's [lo, lo + length), with what is known of it when they meet. */
  #remember(k: number, bytes: Uint8Array, lo: number): void {
    const hi = lo + bytes.length;
    let part = this.#parts.get(k);
    if (part && (part.hi < lo || part.lo > hi)) part = undefined; // apart: only ours is kept
    if (!part) {
      part = { bytes: Buffer.allocUnsafe(DIRECT_ALIGN), lo, hi };
      this.#parts.set(k, part);
      if (this.#parts.size > MAX_PARTS) this.#parts.delete(this.#parts.keys().next().value!);
    }
    part.bytes.set(bytes, lo);
    part.lo = Math.min(part.lo, lo);
    part.hi = Math.max(part.hi, hi);
    // Whole now (both parts on their way to disk): nobody writes it again.
    if (part.lo === 0 && part.hi === DIRECT_ALIGN) this.#parts.delete(k);
  }

  #forget(file: number, page: number): void {
    this.#parts.delete(key(file, page));
    this.#touch(file, page);
  }

  #untouched(file: number, page: number): boolean {
    const bits = this.#touched?.[file];
    if (!bits) return false;
    const n = page / DIRECT_ALIGN;
    return ((bits[n >> 3] ?? 0xff) & (1 << (n & 7))) === 0;
  }

  #touch(file: number, page: number): void {
    const bits = this.#touched?.[file];
    if (!bits) return;
    const n = page / DIRECT_ALIGN;
    if ((n >> 3) < bits.length) bits[n >> 3]! |= 1 << (n & 7);
  }
}

function key(file: number, page: number): number {
  return (page / DIRECT_ALIGN) * FILES_PER_KEY + file;
}
