// Every swarm's address-reachable peers (HTTP/UDP), packed: no JavaScript object per peer, nor
// per swarm. A tracker holding a million peers in 100,000 swarms must not pay object headers,
// hidden classes and Map entries for each, nor let those objects inflate the garbage
// collector's young generation while it loads them (an object per swarm cost ~70 MB of RSS).
//
// A swarm is a number. Its infohash sits in an InfohashIndex (an open-addressing table),
// its counters in typed arrays indexed by that number, and its peers in one segment of a slab of
// 1 MB chunks: `cap` records of REC bytes, then an open-addressing index (peer id → slot + 1,
// 32-bit entries), then each IPv4 peer's BEP 23 bytes again, packed (what replies are made of). Records [0, nl) are leechers and [nl, n) seeds, so "leechers only" (what a
// seed wants) is one range and a sample costs O(numwant). Removing a peer moves the last record
// of its range into its slot (swap-remove), so records stay dense. Records are laid out as
// packed-peer-index.ts describes.

import { CPT, O_ID, REC, compactOffset, indexFind, indexInsert, indexPos, indexRemove, indexSet, segmentBytes } from './packed-peer-index.ts';
import { InfohashIndex, grow, grownCap, pickedRuns, pickedSlots, rd32, release, stratifiedPick, windowPick, wr32 } from './packed-util.ts';

export { REC, pickedSlots, stratifiedPick };

const O_PORT = 16;
const O_FLAGS = 38;
const O_SEEN = 40;
const F_V6 = 1;
const CHUNK = 1 << 20;
/** Segments bigger than this (swarms of thousands) get a buffer of their own. */
const OWN = CHUNK / 4;
const EMPTY = new Uint8Array(0);
const EMPTY_VIEW = new DataView(EMPTY.buffer);
// The DataView of the last buffer replies were written into (the UDP front end's, always the same).
let outBuf: Uint8Array = EMPTY;
let outView: DataView<ArrayBufferLike> = EMPTY_VIEW;

const tmp = new Uint8Array(REC);

/** Slots in a pickedRuns() list. */
function runsLength(runs: Int32Array): number {
  let n = 0;
  for (let r = 0; r < runs[0]!; r++) n += runs[2 + 2 * r]! - runs[1 + 2 * r]!;
  return n;
}

export class PackedSwarms {
  // --- swarms: infohash index and per-swarm fields, indexed by swarm number ---
  private readonly index = new InfohashIndex();
  private ids = 16;
  /** Numbers of deleted swarms, reused first. */
  private readonly freeIds: number[] = [];
  private nextId = 0;
  /** Live swarms. */
  count = 0;
  /** 1 for a live swarm number. */
  private live = new Uint8Array(16);
  /** Where each swarm's segment is: chunk number (-1: a buffer of its own, in `own`) and offset. */
  private chunkOf = new Int32Array(16);
  private base = new Int32Array(16);
  private cap = new Int32Array(16);
  /** Where each segment's compact area starts, from its base (compactOffset of its capacity). */
  private cpt = new Int32Array(16);
  /** Peers, leechers among them, IPv6 peers among them. */
  private nArr = new Int32Array(16);
  private nlArr = new Int32Array(16);
  private n6Arr = new Int32Array(16);
  /** No record announced before this, in ms (a lower bound): expiry scans only when it could find something. */
  private oldest = new Float64Array(16);
  /** Completed events seen, and the last announce or scrape, per swarm (for the store). */
  downloaded = new Float64Array(16);
  touchedAt = new Float64Array(16);
  private readonly own = new Map<number, Uint8Array>();
  /** Private mode: per swarm, each slot's last reported uploaded and downloaded totals. */
  private readonly creditMap = new Map<number, Float64Array>();
  /** Seeds among the peers the last expire() removed. */
  expiredSeeds = 0;

  // --- the slab ---
  private chunks: Uint8Array[] = [];
  /** A DataView of each chunk, and of each own buffer: replies are copied four bytes at a time. */
  private views: DataView[] = [];
  private readonly ownViews = new Map<number, DataView>();
  private top = CHUNK;
  /** Free segments per capacity, as chunk * CHUNK + offset. */
  private readonly free = new Map<number, number[]>();
  private inChunks = 0;
  private ownBytes = 0;

  // ---------------------------------------------------------------- swarms

  /** The swarm with this infohash (20 bytes at `off`), or -1. */
  find(ih: Uint8Array, off: number): number {
    return this.index.find(ih, off);
  }

  create(ih: Uint8Array, off: number): number {
    const s = this.freeIds.length > 0 ? this.freeIds.pop()! : this.nextId++;
    if (s >= this.ids) this.growIds();
    this.live[s] = 1;
    this.chunkOf[s] = -1;
    this.base[s] = this.cap[s] = this.cpt[s] = this.nArr[s] = this.nlArr[s] = this.n6Arr[s] = 0;
    this.oldest[s] = Infinity;
    this.downloaded[s] = this.touchedAt[s] = 0;
    this.count++;
    this.index.add(s, ih, off);
    return s;
  }

  /** Forgets a swarm and whatever peers it still has. */
  delete(s: number): void {
    this.nArr[s] = this.nlArr[s] = this.n6Arr[s] = 0;
    this.resize(s, 0);
    this.creditMap.delete(s);
    this.index.remove(s);
    this.live[s] = 0;
    this.freeIds.push(s);
    this.count--;
  }

  /** Live swarm numbers. */
  *all(): Generator<number> {
    for (let s = 0; s < this.nextId; s++) if (this.live[s] === 1) yield s;
  }

  infoHashHex(s: number): string {
    return this.index.hex(s);
  }

  n(s: number): number {
    return this.nArr[s]!;
  }
  leechers(s: number): number {
    return this.nlArr[s]!;
  }
  seeds(s: number): number {
    return this.nArr[s]! - this.nlArr[s]!;
  }
  ipv6Peers(s: number): number {
    return this.n6Arr[s]!;
  }

  // ---------------------------------------------------------------- peers

  /** The slot of the peer with this id (20 bytes at `off`) in swarm s, or -1. */
  findPeer(s: number, id: Uint8Array, off: number): number {
    if (this.nArr[s] === 0) return -1;
    return indexFind(this.bufOf(s), this.base[s]!, this.cap[s]!, id, off);
  }

  isSeed(s: number, slot: number): boolean {
    return slot >= this.nlArr[s]!;
  }

  /** Adds a peer (id: 20 bytes at idOff; address: 16 bytes at ipOff, IPv4 mapped). Returns its slot. */
  add(s: number, id: Uint8Array, idOff: number, ip: Uint8Array, ipOff: number, v6: boolean, port: number, seed: boolean, now: number): number {
    if (this.nArr[s] === this.cap[s]) this.resize(s, grownCap(this.cap[s]!));
    let slot = this.nArr[s]!;
    if (!seed) {
      // The first seed steps aside to the end, making room at the leechers' end.
      if (this.nlArr[s]! < slot) this.move(s, this.nlArr[s]!, slot);
      slot = this.nlArr[s]!++;
    }
    this.nArr[s]!++;
    const buf = this.bufOf(s);
    const o = this.base[s]! + slot * REC;
    for (let i = 0; i < 20; i++) buf[o + O_ID + i] = id[idOff + i]!;
    buf[o + O_FLAGS] = 0;
    this.write(s, slot, ip, ipOff, v6, port, now);
    const c = this.creditMap.get(s);
    if (c) c[2 * slot] = c[2 * slot + 1] = 0;
    this.indexInsert(s, slot);
    return slot;
  }

  /** Refreshes a peer's address, port and announce time. */
  write(s: number, slot: number, ip: Uint8Array, ipOff: number, v6: boolean, port: number, now: number): void {
    const buf = this.bufOf(s);
    const o = this.base[s]! + slot * REC;
    for (let i = 0; i < 16; i++) buf[o + i] = ip[ipOff + i]!;
    buf[o + O_PORT] = port >>> 8;
    buf[o + O_PORT + 1] = port;
    const c = this.base[s]! + this.cpt[s]! + slot * CPT;
    for (let i = 0; i < 4; i++) buf[c + i] = v6 ? 0 : ip[ipOff + 12 + i]!;
    buf[c + 4] = v6 ? 0 : port >>> 8;
    buf[c + 5] = v6 ? 0 : port;
    if (((buf[o + O_FLAGS]! & F_V6) !== 0) !== v6) this.n6Arr[s]! += v6 ? 1 : -1;
    buf[o + O_FLAGS] = v6 ? F_V6 : 0;
    const hi = Math.floor(now / 0x1_0000_0000);
    wr32(buf, o + O_SEEN, now - hi * 0x1_0000_0000);
    buf[o + O_SEEN + 4] = hi;
    buf[o + O_SEEN + 5] = hi >>> 8;
    if (now < this.oldest[s]!) this.oldest[s] = now;
  }

  /** Moves a peer between the leechers and the seeds; returns its new slot. */
  setSeed(s: number, slot: number, seed: boolean): number {
    const nl = this.nlArr[s]!;
    if (seed === slot >= nl) return slot;
    if (seed) {
      this.swap(s, slot, nl - 1);
      return --this.nlArr[s]!;
    }
    this.swap(s, slot, nl);
    return this.nlArr[s]!++;
  }

  remove(s: number, slot: number): void {
    if (this.isV6(s, slot)) this.n6Arr[s]!--;
    this.indexRemove(s, slot);
    const last = this.nArr[s]! - 1;
    const nl = this.nlArr[s]!;
    if (slot < nl) {
      // Last leecher into the hole, then the last seed into the last leecher's slot.
      if (slot !== nl - 1) this.move(s, nl - 1, slot);
      if (nl - 1 !== last) this.move(s, last, nl - 1);
      this.nlArr[s]!--;
    } else if (slot !== last) {
      this.move(s, last, slot);
    }
    const n = --this.nArr[s]!;
    // Give memory back after a swarm shrank a lot (a burst of peers left, or all of them).
    if (n === 0) this.resize(s, 0);
    else if (this.cap[s]! > 8 && n * 4 < this.cap[s]!) this.resize(s, grownCap(n));
  }

  /** No peer of swarm s was last seen before this (a lower bound; Infinity when it has none). */
  oldestSeen(s: number): number {
    return this.oldest[s]!;
  }

  /** Drops swarm s's peers last seen before `cutoff`; returns how many (seeds among them in expiredSeeds). */
  expire(s: number, cutoff: number): number {
    this.expiredSeeds = 0;
    if (this.oldest[s]! >= cutoff) return 0;
    let removed = 0;
    let oldest = Infinity;
    // Downwards: a removal only moves records from above the hole, already read, so every
    // survivor is read exactly once.
    for (let slot = this.nArr[s]! - 1; slot >= 0; slot--) {
      const seen = this.seenAt(s, slot);
      if (seen < cutoff) {
        if (slot >= this.nlArr[s]!) this.expiredSeeds++;
        this.remove(s, slot);
        removed++;
      } else if (seen < oldest) oldest = seen;
    }
    this.oldest[s] = oldest;
    return removed;
  }

  seenAt(s: number, slot: number): number {
    const buf = this.bufOf(s);
    const o = this.base[s]! + slot * REC + O_SEEN;
    return (buf[o + 4]! | (buf[o + 5]! << 8)) * 0x1_0000_0000 + rd32(buf, o);
  }
  port(s: number, slot: number): number {
    const buf = this.bufOf(s);
    const o = this.base[s]! + slot * REC + O_PORT;
    return (buf[o]! << 8) | buf[o + 1]!;
  }
  isV6(s: number, slot: number): boolean {
    return (this.bufOf(s)[this.base[s]! + slot * REC + O_FLAGS]! & F_V6) !== 0;
  }
  peerIdHex(s: number, slot: number): string {
    const buf = this.bufOf(s);
    return Buffer.from(buf.buffer, buf.byteOffset + this.base[s]! + slot * REC + O_ID, 20).toString('hex');
  }
  /** The address bytes (16, IPv4 mapped) of a peer, for formatting. */
  address(s: number, slot: number): Uint8Array {
    const buf = this.bufOf(s);
    const o = this.base[s]! + slot * REC;
    return buf.subarray(o, o + 16);
  }
  /**
   * Writes the peers of one family among the picked slots (pickedSlots()[0..k)) at `off`: IPv4
   * peers in BEP 23 form (6 bytes each), IPv6 peers in BEP 7 form (18). Returns the bytes written.
   */
  writePicked(s: number, k: number, family: 4 | 6, out: Uint8Array, off: number): number {
    const buf = this.bufOf(s);
    const b = this.base[s]!;
    const start = off;
    const runs = pickedRuns();
    // (A caller that did not just pick k peers goes slot by slot, below.)
    if (family === 4 && this.n6Arr[s] === 0 && runsLength(runs) === k) {
      // All IPv4, the usual case: the window's runs straight from the compact area (a few
      // contiguous cache lines, where the records were one or two lines per peer), no flag test,
      // four bytes at a time through DataViews (a byte loop cost 1 ns a byte; a native copy call,
      // or a subarray to hand one, costs more than these few hundred bytes).
      const c = b + this.cpt[s]!;
      const src = this.viewOf(s);
      if (out !== outBuf) {
        outBuf = out;
        outView = new DataView(out.buffer, out.byteOffset, out.byteLength);
      }
      const dst = outView;
      for (let r = 0; r < runs[0]!; r++) {
        let o = c + runs[1 + 2 * r]! * CPT;
        const e = c + runs[2 + 2 * r]! * CPT;
        for (; o + 4 <= e; o += 4, off += 4) dst.setInt32(off, src.getInt32(o, true), true);
        for (; o < e; o++) out[off++] = buf[o]!;
      }
      return off - start;
    }
    const picks = pickedSlots();
    for (let i = 0; i < k; i++) {
      const o = b + picks[i]! * REC;
      const v6 = (buf[o + O_FLAGS]! & F_V6) !== 0;
      if (v6 !== (family === 6)) continue;
      const from = v6 ? o : o + 12;
      const len = v6 ? 18 : 6;
      for (let j = 0; j < len; j++) out[off + j] = buf[from + j]!;
      off += len;
    }
    return off - start;
  }

  /**
   * Chooses up to numwant peers for the announcer at `self`, never itself, and only leechers when
   * it is a seed (a seed has no use for other seeds). See windowPick: O(numwant) whatever the
   * swarm's size, every candidate equally likely, no slot twice. Returns the count; the slots are
   * pickedSlots()[0..count) (and pickedRuns(), which writePicked reads).
   */
  pick(s: number, self: number, numwant: number): number {
    const nl = this.nlArr[s]!;
    return windowPick(self >= nl ? nl : this.nArr[s]!, self, numwant);
  }

  credits(s: number): Float64Array | undefined {
    return this.creditMap.get(s);
  }
  ensureCredits(s: number): Float64Array {
    let c = this.creditMap.get(s);
    if (!c) this.creditMap.set(s, (c = new Float64Array(Math.max(1, this.cap[s]!) * 2)));
    return c;
  }

  // ---------------------------------------------------------------- memory

  /** Bytes of live segments (records and peer indexes) and of private-mode credits. */
  get segmentBytes(): number {
    let credits = 0;
    for (const c of this.creditMap.values()) credits += c.byteLength;
    return this.inChunks + this.ownBytes + credits;
  }
  /** Bytes of the per-swarm arrays and the infohash index. */
  get tableBytes(): number {
    return this.ids * (1 + 7 * 4 + 3 * 8) + this.index.byteLength;
  }
  /** Bytes reserved in chunks, live or not. */
  get chunkBytes(): number {
    return this.chunks.length * CHUNK;
  }
  /** Bytes of chunks in free segments. */
  get wasteBytes(): number {
    return this.chunks.length * CHUNK - (CHUNK - this.top) - this.inChunks;
  }

  /**
   * Slides every segment down over the free ones, in address order: growing swarms leave
   * segments of the sizes they outgrew, which only swarms of those sizes can reuse. A segment
   * only ever moves to a lower address, so nothing live is overwritten and no second slab is
   * needed; chunks left empty go to the GC. O(swarms log swarms).
   */
  compact(): void {
    const list: number[] = [];
    for (let s = 0; s < this.nextId; s++) if (this.live[s] === 1 && this.chunkOf[s]! >= 0 && this.cap[s]! > 0) list.push(s);
    const addr = (s: number) => this.chunkOf[s]! * CHUNK + this.base[s]!;
    list.sort((a, b) => addr(a) - addr(b));
    let ci = 0;
    let top = 0;
    for (const s of list) {
      const bytes = segmentBytes(this.cap[s]!);
      if (top + bytes > CHUNK) {
        ci++;
        top = 0;
      }
      const from = this.chunks[this.chunkOf[s]!]!;
      const o = this.base[s]!;
      if (ci === this.chunkOf[s]) from.copyWithin(top, o, o + bytes);
      else this.chunks[ci]!.set(from.subarray(o, o + bytes), top);
      this.chunkOf[s] = ci;
      this.base[s] = top;
      top += bytes;
    }
    const keep = list.length === 0 ? 0 : ci + 1;
    for (let i = keep; i < this.chunks.length; i++) release(this.chunks[i]!);
    this.chunks.length = keep;
    this.views.length = keep;
    this.top = list.length === 0 ? CHUNK : top;
    this.free.clear();
  }

  // ---------------------------------------------------------------- inside

  private bufOf(s: number): Uint8Array {
    const c = this.chunkOf[s]!;
    return c >= 0 ? this.chunks[c]! : (this.own.get(s) ?? EMPTY);
  }

  private viewOf(s: number): DataView {
    const c = this.chunkOf[s]!;
    return c >= 0 ? this.views[c]! : (this.ownViews.get(s) ?? EMPTY_VIEW);
  }

  private growIds(): void {
    const size = this.ids * 2;
    this.live = grow(this.live, size);
    this.chunkOf = grow(this.chunkOf, size);
    this.base = grow(this.base, size);
    this.cap = grow(this.cap, size);
    this.cpt = grow(this.cpt, size);
    this.nArr = grow(this.nArr, size);
    this.nlArr = grow(this.nlArr, size);
    this.n6Arr = grow(this.n6Arr, size);
    this.oldest = grow(this.oldest, size);
    this.downloaded = grow(this.downloaded, size);
    this.touchedAt = grow(this.touchedAt, size);
    this.ids = size;
  }

  /** Gives swarm s a segment of `cap` slots (0: none), keeping its records and rebuilding its index. */
  private resize(s: number, cap: number): void {
    const oldCap = this.cap[s]!;
    const oldBuf = this.bufOf(s);
    const oldBase = this.base[s]!;
    const oldCpt = oldBase + this.cpt[s]!;
    const n = this.nArr[s]!;
    const cpt = compactOffset(cap);
    if (cap > 0) {
      const bytes = segmentBytes(cap);
      if (bytes > OWN) {
        this.ownBytes += bytes;
        const own = new Uint8Array(bytes);
        own.set(oldBuf.subarray(oldBase, oldBase + n * REC));
        own.set(oldBuf.subarray(oldCpt, oldCpt + n * CPT), cpt);
        this.releaseSegment(s, oldCap);
        this.own.set(s, own);
        this.ownViews.set(s, new DataView(own.buffer));
        this.chunkOf[s] = -1;
        this.base[s] = 0;
      } else {
        this.inChunks += bytes;
        let addr = this.free.get(cap)?.pop();
        if (addr === undefined) {
          if (this.top + bytes > CHUNK) {
            const chunk = new Uint8Array(CHUNK);
            this.chunks.push(chunk);
            this.views.push(new DataView(chunk.buffer));
            this.top = 0;
          }
          addr = (this.chunks.length - 1) * CHUNK + this.top;
          this.top += bytes;
        }
        const chunk = this.chunks[Math.floor(addr / CHUNK)]!;
        const base = addr % CHUNK;
        chunk.set(oldBuf.subarray(oldBase, oldBase + n * REC), base);
        chunk.fill(0, base + cap * REC, base + bytes);
        chunk.set(oldBuf.subarray(oldCpt, oldCpt + n * CPT), base + cpt);
        this.releaseSegment(s, oldCap);
        this.chunkOf[s] = Math.floor(addr / CHUNK);
        this.base[s] = base;
      }
    } else {
      this.releaseSegment(s, oldCap);
      this.chunkOf[s] = -1;
      this.base[s] = 0;
    }
    this.cap[s] = cap;
    this.cpt[s] = cap > 0 ? cpt : 0;
    const c = this.creditMap.get(s);
    if (c) {
      const grown = new Float64Array(Math.max(1, cap) * 2);
      grown.set(c.subarray(0, Math.min(c.length, n * 2)));
      this.creditMap.set(s, grown);
    }
    for (let slot = 0; slot < n; slot++) this.indexInsert(s, slot);
  }

  private releaseSegment(s: number, cap: number): void {
    if (cap === 0) return;
    const bytes = segmentBytes(cap);
    if (this.chunkOf[s]! < 0) {
      this.ownBytes -= bytes;
      release(this.own.get(s)!);
      this.own.delete(s);
      this.ownViews.delete(s);
      return;
    }
    this.inChunks -= bytes;
    let list = this.free.get(cap);
    if (!list) this.free.set(cap, (list = []));
    list.push(this.chunkOf[s]! * CHUNK + this.base[s]!);
  }

  /** Copies record `from` into the free slot `to`, and points the index at its new place. */
  private move(s: number, from: number, to: number): void {
    const pos = this.indexPos(s, from);
    const buf = this.bufOf(s);
    const b = this.base[s]!;
    const f = b + from * REC;
    const t = b + to * REC;
    for (let i = 0; i < REC; i++) buf[t + i] = buf[f + i]!;
    const cp = b + this.cpt[s]!;
    for (let i = 0; i < CPT; i++) buf[cp + to * CPT + i] = buf[cp + from * CPT + i]!;
    indexSet(buf, b, this.cap[s]!, pos, to);
    const c = this.creditMap.get(s);
    if (c) {
      c[2 * to] = c[2 * from]!;
      c[2 * to + 1] = c[2 * from + 1]!;
    }
  }

  private swap(s: number, a: number, b: number): void {
    if (a === b) return;
    const pa = this.indexPos(s, a);
    const pb = this.indexPos(s, b);
    const buf = this.bufOf(s);
    const base = this.base[s]!;
    const oa = base + a * REC;
    const ob = base + b * REC;
    for (let i = 0; i < REC; i++) tmp[i] = buf[oa + i]!;
    for (let i = 0; i < REC; i++) buf[oa + i] = buf[ob + i]!;
    for (let i = 0; i < REC; i++) buf[ob + i] = tmp[i]!;
    const ca = base + this.cpt[s]! + a * CPT;
    const cb = base + this.cpt[s]! + b * CPT;
    for (let i = 0; i < CPT; i++) {
      const x = buf[ca + i]!;
      buf[ca + i] = buf[cb + i]!;
      buf[cb + i] = x;
    }
    indexSet(buf, base, this.cap[s]!, pa, b);
    indexSet(buf, base, this.cap[s]!, pb, a);
    const c = this.creditMap.get(s);
    if (c) {
      const u = c[2 * a]!;
      const d = c[2 * a + 1]!;
      c[2 * a] = c[2 * b]!;
      c[2 * a + 1] = c[2 * b + 1]!;
      c[2 * b] = u;
      c[2 * b + 1] = d;
    }
  }

  private indexInsert(s: number, slot: number): void {
    indexInsert(this.bufOf(s), this.base[s]!, this.cap[s]!, slot);
  }

  private indexPos(s: number, slot: number): number {
    return indexPos(this.bufOf(s), this.base[s]!, this.cap[s]!, slot);
  }

  private indexRemove(s: number, slot: number): void {
    indexRemove(this.bufOf(s), this.base[s]!, this.cap[s]!, slot);
  }
}
