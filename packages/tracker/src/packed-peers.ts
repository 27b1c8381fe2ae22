// The address-reachable peers (HTTP/UDP) of one swarm, packed as fixed-size records in a
// segment of a shared slab instead of an object per peer: a tracker holding a million peers must
// not pay a hundred bytes of object headers, hidden classes and Map entries for each, nor an
// ArrayBuffer per swarm.
//
// A segment holds `cap` records of REC bytes, then an open-addressing index (peer id → slot + 1,
// 32-bit entries). Records [0, nl) are leechers and [nl, n) seeds, so "leechers only" (what a
// seed wants) is one range and a random sample costs O(numwant). Removing a peer moves the last
// record of its range into its slot (swap-remove), so records stay dense.
//
// A record (48 bytes):
//   0..16   address as IPv6; IPv4 as ::ffff:a.b.c.d, so bytes 12..18 are its BEP 23 form
//   16..18  port, big-endian (bytes 0..18 are the BEP 7 form of an IPv6 peer)
//   18..38  peer id
//   38      flags (F_V6)
//   40..46  last announce, ms since the epoch: 32 low bits at 40, 16 high bits at 44

export const REC = 48;
const O_PORT = 16;
const O_ID = 18;
const O_FLAGS = 38;
const O_SEEN = 40;
export const F_V6 = 1;

// Picked slots of the last pick() call; shared, since one pick is consumed before the next.
let picks = new Int32Array(256);
// Scratch for swapping two records.
const tmp = Buffer.alloc(REC);

function rd32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}
function wr32(b: Uint8Array, o: number, v: number): void {
  b[o] = v;
  b[o + 1] = v >>> 8;
  b[o + 2] = v >>> 16;
  b[o + 3] = v >>> 24;
}

/** Copies within a chunk (overlapping, downwards) or from a later chunk to an earlier one. */
function moveBytes(src: Uint8Array, from: number, dest: Uint8Array, to: number, bytes: number): void {
  if (src === dest) dest.copyWithin(to, from, from + bytes);
  else dest.set(src.subarray(from, from + bytes), to);
}

/** Peer ids are often structured (client prefix, counters): mix all 20 bytes. */
function idHash(b: Uint8Array, o: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < 20; i += 4) h = Math.imul(h ^ rd32(b, o + i), 0x9e3779b1);
  return (h ^ (h >>> 15)) >>> 0;
}

function same20(a: Uint8Array, ao: number, b: Uint8Array, bo: number): boolean {
  for (let i = 0; i < 20; i++) if (a[ao + i] !== b[bo + i]) return false;
  return true;
}

/** Capacities grow by about 1.5× (not 2×): a swarm of 10 peers should not hold 16 slots. */
function grownCap(cap: number): number {
  return cap < 4 ? 4 : Math.ceil((cap * 1.5) / 2) * 2;
}
/** Index entries: a power of two, at most 3/4 full. */
function tableSize(cap: number): number {
  let t = 8;
  while (t * 3 < cap * 4) t *= 2;
  return t;
}
function segmentBytes(cap: number): number {
  return cap * REC + 4 * tableSize(cap);
}

const CHUNK = 1 << 20;
export const CHUNK_BYTES = CHUNK;
const EMPTY = new Uint8Array(0);

/**
 * Where segments live: 1 MB chunks carved into segments, with a free list per capacity, so a
 * swarm costs its bytes and no allocation of its own. A freed segment is reused by the next swarm
 * of that capacity; when swarms have grown past capacities nobody needs any more, wasteful() says
 * so and compact() slides every segment down over the holes, in place, and lets the chunks left
 * empty go. Segments over a quarter chunk (swarms of thousands) get a buffer of their own, freed
 * by the GC.
 */
export class Slab {
  private readonly chunks: Uint8Array[] = [];
  private readonly chunkIndex = new Map<Uint8Array, number>();
  private top = CHUNK;
  /** Free segments per capacity, as chunk index * CHUNK + offset (numbers, not objects). */
  private readonly free = new Map<number, number[]>();
  /** Bytes of live segments inside chunks, and in buffers of their own. */
  private inChunks = 0;
  private ownBytes = 0;

  get chunkBytes(): number {
    return this.chunks.length * CHUNK;
  }
  /** Bytes of live segments. */
  get liveBytes(): number {
    return this.inChunks + this.ownBytes;
  }
  /** Bytes of chunks in free segments. */
  get wasteBytes(): number {
    return this.chunks.length * CHUNK - (CHUNK - this.top) - this.inChunks;
  }
  /** More than a third of the chunks' bytes lie in free segments (and at least two chunks' worth). */
  wasteful(): boolean {
    const waste = this.wasteBytes;
    return waste > 2 * CHUNK && waste * 2 > this.inChunks;
  }

  /**
   * Moves the segments of `owners` (every swarm using this slab) down over the free ones, in
   * address order, so a segment only ever moves to a lower address and nothing live is
   * overwritten; no second slab is needed, so memory never peaks above what it was. O(swarms log swarms).
   */
  compact(owners: Iterable<PackedPeers>): void {
    const index = this.chunkIndex;
    const live: PackedPeers[] = [];
    for (const p of owners) if (p.cap > 0 && index.has(p.buf)) live.push(p);
    const addr = (p: PackedPeers) => index.get(p.buf)! * CHUNK + p.base;
    live.sort((a, b) => addr(a) - addr(b));
    let ci = 0;
    let top = 0;
    for (const p of live) {
      const bytes = segmentBytes(p.cap);
      if (top + bytes > CHUNK) {
        ci++;
        top = 0;
      }
      const dest = this.chunks[ci]!;
      if (dest !== p.buf || top !== p.base) moveBytes(p.buf, p.base, dest, top, bytes);
      p.buf = dest;
      p.base = top;
      top += bytes;
    }
    // Chunks past the last one in use go to the GC.
    for (const c of this.chunks.splice(live.length === 0 ? 0 : ci + 1)) index.delete(c);
    this.top = this.chunks.length === 0 ? CHUNK : top;
    this.free.clear();
  }

  take(cap: number): { chunk: Uint8Array; base: number } {
    const bytes = segmentBytes(cap);
    if (bytes > CHUNK / 4) {
      this.ownBytes += bytes;
      return { chunk: new Uint8Array(bytes), base: 0 };
    }
    this.inChunks += bytes;
    const addr = this.free.get(cap)?.pop();
    if (addr !== undefined) return { chunk: this.chunks[Math.floor(addr / CHUNK)]!, base: addr % CHUNK };
    if (this.top + bytes > CHUNK) {
      const chunk = new Uint8Array(CHUNK);
      this.chunkIndex.set(chunk, this.chunks.length);
      this.chunks.push(chunk);
      this.top = 0;
    }
    const base = this.top;
    this.top += bytes;
    return { chunk: this.chunks[this.chunks.length - 1]!, base };
  }

  give(cap: number, chunk: Uint8Array, base: number): void {
    if (cap === 0) return;
    const bytes = segmentBytes(cap);
    if (bytes > CHUNK / 4) {
      this.ownBytes -= bytes;
      return;
    }
    this.inChunks -= bytes;
    // A segment from another slab (before a compaction) is simply dropped with it.
    const i = this.chunkIndex.get(chunk);
    if (i === undefined) return;
    let list = this.free.get(cap);
    if (!list) this.free.set(cap, (list = []));
    list.push(i * CHUNK + base);
  }
}

export class PackedPeers {
  private readonly slab: Slab;
  /** The chunk holding this swarm's segment, and where in it the segment starts (Slab.compact moves it). */
  buf: Uint8Array = EMPTY;
  base = 0;
  cap = 0;
  /** Index entries - 1 (a power of two minus one); the index starts at base + cap * REC. */
  private mask = 0;
  /** Peers, leechers among them, IPv6 peers among them. */
  n = 0;
  nl = 0;
  n6 = 0;
  /** No record announced before this, in ms (a lower bound): expiry scans only when it could find something. */
  private oldest = Infinity;
  /** Private mode: each slot's last reported uploaded and downloaded totals, allocated on first use. */
  credits: Float64Array | undefined;
  /** Seeds among the peers the last expire() removed. */
  expiredSeeds = 0;

  constructor(slab: Slab) {
    this.slab = slab;
  }

  /** Bytes of this swarm's segment and credits. */
  get byteLength(): number {
    return (this.cap === 0 ? 0 : segmentBytes(this.cap)) + (this.credits ? this.credits.byteLength : 0);
  }

  get seeds(): number {
    return this.n - this.nl;
  }

  /** The slot of the peer with this id (20 bytes at `off`), or -1. */
  find(id: Uint8Array, off: number): number {
    if (this.n === 0) return -1;
    const buf = this.buf;
    const tbl = this.base + this.cap * REC;
    let i = idHash(id, off) & this.mask;
    for (;;) {
      const e = rd32(buf, tbl + 4 * i);
      if (e === 0) return -1;
      if (same20(buf, this.base + (e - 1) * REC + O_ID, id, off)) return e - 1;
      i = (i + 1) & this.mask;
    }
  }

  isSeed(slot: number): boolean {
    return slot >= this.nl;
  }

  /**
   * Adds a peer: id (20 bytes at idOff), address (16 bytes at ipOff, IPv4 mapped) and port.
   * Returns its slot. The caller checked it is not here yet.
   */
  add(id: Uint8Array, idOff: number, ip: Uint8Array, ipOff: number, v6: boolean, port: number, seed: boolean, now: number): number {
    if (this.n === this.cap) this.resize(grownCap(this.cap));
    let slot = this.n;
    if (!seed) {
      // The first seed steps aside to the end, making room at the leechers' end.
      if (this.nl < this.n) this.move(this.nl, this.n);
      slot = this.nl++;
    }
    this.n++;
    const buf = this.buf;
    const o = this.base + slot * REC;
    for (let i = 0; i < 20; i++) buf[o + O_ID + i] = id[idOff + i]!;
    buf[o + O_FLAGS] = 0;
    this.write(slot, ip, ipOff, v6, port, now);
    if (this.credits) this.credits[2 * slot] = this.credits[2 * slot + 1] = 0;
    this.indexInsert(slot);
    return slot;
  }

  /** Refreshes a peer's address, port and announce time. */
  write(slot: number, ip: Uint8Array, ipOff: number, v6: boolean, port: number, now: number): void {
    const buf = this.buf;
    const o = this.base + slot * REC;
    for (let i = 0; i < 16; i++) buf[o + i] = ip[ipOff + i]!;
    buf[o + O_PORT] = port >>> 8;
    buf[o + O_PORT + 1] = port;
    const was6 = (buf[o + O_FLAGS]! & F_V6) !== 0;
    if (was6 !== v6) this.n6 += v6 ? 1 : -1;
    buf[o + O_FLAGS] = v6 ? F_V6 : 0;
    const hi = Math.floor(now / 0x1_0000_0000);
    wr32(buf, o + O_SEEN, now - hi * 0x1_0000_0000);
    buf[o + O_SEEN + 4] = hi;
    buf[o + O_SEEN + 5] = hi >>> 8;
    if (now < this.oldest) this.oldest = now;
  }

  /** Moves a peer between the leechers and the seeds; returns its new slot. */
  setSeed(slot: number, seed: boolean): number {
    if (seed === slot >= this.nl) return slot;
    if (seed) {
      this.swap(slot, this.nl - 1);
      return --this.nl;
    }
    this.swap(slot, this.nl);
    return this.nl++;
  }

  remove(slot: number): void {
    if (this.isV6(slot)) this.n6--;
    this.indexRemove(slot);
    const last = this.n - 1;
    if (slot < this.nl) {
      // Last leecher into the hole, then the last seed into the last leecher's slot.
      const lastLeech = this.nl - 1;
      if (slot !== lastLeech) this.move(lastLeech, slot);
      if (lastLeech !== last) this.move(last, lastLeech);
      this.nl--;
    } else if (slot !== last) {
      this.move(last, slot);
    }
    this.n--;
    // Give memory back after a swarm shrank a lot (a burst of peers left, or all of them).
    if (this.n === 0) this.resize(0);
    else if (this.cap > 8 && this.n * 4 < this.cap) this.resize(grownCap(this.n));
  }

  /** Drops peers last seen before `cutoff`; returns how many (seeds among them in expiredSeeds). */
  expire(cutoff: number): number {
    this.expiredSeeds = 0;
    if (this.oldest >= cutoff) return 0;
    let removed = 0;
    let oldest = Infinity;
    // Downwards: a removal only moves records from above the hole, already read, so every
    // survivor is read exactly once.
    for (let s = this.n - 1; s >= 0; s--) {
      const seen = this.seenAt(s);
      if (seen < cutoff) {
        if (s >= this.nl) this.expiredSeeds++;
        this.remove(s);
        removed++;
      } else if (seen < oldest) oldest = seen;
    }
    this.oldest = oldest;
    return removed;
  }

  seenAt(slot: number): number {
    const o = this.base + slot * REC + O_SEEN;
    return (this.buf[o + 4]! | (this.buf[o + 5]! << 8)) * 0x1_0000_0000 + rd32(this.buf, o);
  }
  port(slot: number): number {
    const o = this.base + slot * REC + O_PORT;
    return (this.buf[o]! << 8) | this.buf[o + 1]!;
  }
  isV6(slot: number): boolean {
    return (this.buf[this.base + slot * REC + O_FLAGS]! & F_V6) !== 0;
  }
  peerIdHex(slot: number): string {
    const o = this.base + slot * REC + O_ID;
    return Buffer.from(this.buf.buffer, this.buf.byteOffset + o, 20).toString('hex');
  }
  host(slot: number): string {
    const o = this.base + slot * REC;
    const b = this.buf;
    if (!this.isV6(slot)) return `${b[o + 12]}.${b[o + 13]}.${b[o + 14]}.${b[o + 15]}`;
    return formatIpv6(b, o);
  }
  /** IPv4 peers: the BEP 23 form (6 bytes); IPv6 peers: the BEP 7 form (18 bytes). Returns the length. */
  copyCompact(slot: number, out: Uint8Array, off: number): number {
    const buf = this.buf;
    let o = this.base + slot * REC;
    let len = 18;
    if ((buf[o + O_FLAGS]! & F_V6) === 0) {
      o += 12;
      len = 6;
    }
    // Byte moves: a native copy call for 6 bytes costs more than the copy.
    for (let i = 0; i < len; i++) out[off + i] = buf[o + i]!;
    return len;
  }

  /**
   * Chooses up to numwant peers for the announcer at `self`, never itself, and only leechers when
   * it is a seed (a seed has no use for other seeds). See stratifiedPick: O(numwant) whatever the
   * swarm's size, no slot twice. Returns the count; the slots are pickedSlots()[0..count).
   */
  pick(self: number, numwant: number): number {
    const m = self >= this.nl ? this.nl : this.n;
    const skip = self >= 0 && self < m ? self : -1;
    const k = stratifiedPick(m - (skip >= 0 ? 1 : 0), numwant);
    if (skip >= 0) for (let i = 0; i < k; i++) if (picks[i]! >= skip) picks[i]!++;
    return k;
  }

  ensureCredits(): Float64Array {
    return (this.credits ??= new Float64Array(Math.max(this.cap, 1) * 2));
  }

  private resize(cap: number): void {
    const oldBuf = this.buf;
    const oldBase = this.base;
    const oldCap = this.cap;
    if (cap === 0) {
      this.buf = EMPTY;
      this.base = 0;
      this.mask = 0;
    } else {
      const seg = this.slab.take(cap);
      this.buf = seg.chunk;
      this.base = seg.base;
      this.mask = tableSize(cap) - 1;
      this.buf.fill(0, this.base + cap * REC, this.base + segmentBytes(cap));
      this.buf.set(oldBuf.subarray(oldBase, oldBase + this.n * REC), this.base);
    }
    this.slab.give(oldCap, oldBuf, oldBase);
    this.cap = cap;
    if (this.credits) {
      const c = cap === 0 ? undefined : new Float64Array(cap * 2);
      c?.set(this.credits.subarray(0, this.n * 2));
      this.credits = c;
    }
    for (let s = 0; s < this.n; s++) this.indexInsert(s);
  }

  /** Copies record `from` into the free slot `to`, and points the index at its new place. */
  private move(from: number, to: number): void {
    const pos = this.indexPos(from);
    const buf = this.buf;
    const f = this.base + from * REC;
    const t = this.base + to * REC;
    for (let i = 0; i < REC; i++) buf[t + i] = buf[f + i]!;
    wr32(buf, this.base + this.cap * REC + 4 * pos, to + 1);
    if (this.credits) {
      this.credits[2 * to] = this.credits[2 * from]!;
      this.credits[2 * to + 1] = this.credits[2 * from + 1]!;
    }
  }

  private swap(a: number, b: number): void {
    if (a === b) return;
    const pa = this.indexPos(a);
    const pb = this.indexPos(b);
    const buf = this.buf;
    const oa = this.base + a * REC;
    const ob = this.base + b * REC;
    for (let i = 0; i < REC; i++) tmp[i] = buf[oa + i]!;
    for (let i = 0; i < REC; i++) buf[oa + i] = buf[ob + i]!;
    for (let i = 0; i < REC; i++) buf[ob + i] = tmp[i]!;
    const tbl = this.base + this.cap * REC;
    wr32(buf, tbl + 4 * pa, b + 1);
    wr32(buf, tbl + 4 * pb, a + 1);
    const c = this.credits;
    if (c) {
      const u = c[2 * a]!;
      const d = c[2 * a + 1]!;
      c[2 * a] = c[2 * b]!;
      c[2 * a + 1] = c[2 * b + 1]!;
      c[2 * b] = u;
      c[2 * b + 1] = d;
    }
  }

  private indexInsert(slot: number): void {
    const tbl = this.base + this.cap * REC;
    let i = idHash(this.buf, this.base + slot * REC + O_ID) & this.mask;
    while (rd32(this.buf, tbl + 4 * i) !== 0) i = (i + 1) & this.mask;
    wr32(this.buf, tbl + 4 * i, slot + 1);
  }

  /** Where in the index the entry for `slot` sits. */
  private indexPos(slot: number): number {
    const tbl = this.base + this.cap * REC;
    let i = idHash(this.buf, this.base + slot * REC + O_ID) & this.mask;
    while (rd32(this.buf, tbl + 4 * i) !== slot + 1) i = (i + 1) & this.mask;
    return i;
  }

  /** Linear probing's deletion by backward shift: no tombstones, so lookups stay short under churn. */
  private indexRemove(slot: number): void {
    const buf = this.buf;
    const tbl = this.base + this.cap * REC;
    const mask = this.mask;
    let hole = this.indexPos(slot);
    let j = hole;
    for (;;) {
      j = (j + 1) & mask;
      const e = rd32(buf, tbl + 4 * j);
      if (e === 0) break;
      const home = idHash(buf, this.base + (e - 1) * REC + O_ID) & mask;
      // The entry at j may fill the hole unless its home lies cyclically in (hole, j].
      const between = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (between) continue;
      wr32(buf, tbl + 4 * hole, e);
      hole = j;
    }
    wr32(buf, tbl + 4 * hole, 0);
  }
}

/**
 * Draws min(k, avail) distinct numbers from [0, avail) into pickedSlots(): the range is cut into
 * k runs of whole numbers and one is drawn from each, then all are rotated by one random offset,
 * so every number is equally likely (k / avail) and none comes twice. Returns the count.
 */
export function stratifiedPick(avail: number, k: number): number {
  if (k > avail) k = avail;
  if (k <= 0) return 0;
  if (picks.length < k) picks = new Int32Array(k * 2);
  if (k === avail) {
    for (let i = 0; i < k; i++) picks[i] = i;
    return k;
  }
  const offset = Math.floor(Math.random() * avail);
  let start = 0;
  for (let i = 0; i < k; i++) {
    const end = Math.floor(((i + 1) * avail) / k);
    const x = start + Math.floor(Math.random() * (end - start)) + offset;
    picks[i] = x >= avail ? x - avail : x;
    start = end;
  }
  return k;
}

/** The slots chosen by the last pick(). */
export function pickedSlots(): Int32Array {
  return picks;
}

/**
 * Writes a textual address as 16 bytes at `off` (IPv4 as ::ffff:a.b.c.d). Returns 4 or 6, or 0
 * for anything else (then nothing useful was written). Hosts reaching the store are socket
 * addresses or validated claims, so this only has to be right for valid addresses.
 */
export function parseIp16(host: string, out: Uint8Array, off: number): 0 | 4 | 6 {
  if (host === '') return 0;
  if (!host.includes(':')) {
    for (let i = 0; i < 10; i++) out[off + i] = 0;
    out[off + 10] = out[off + 11] = 0xff;
    let part = 0;
    let k = 12;
    for (let i = 0; i < host.length; i++) {
      const c = host.charCodeAt(i);
      if (c === 46) {
        out[off + k++] = part;
        part = 0;
      } else part = part * 10 + (c - 48);
    }
    out[off + k] = part;
    return k === 15 ? 4 : 0;
  }
  // IPv6, perhaps with '::' and a dotted IPv4 tail.
  const groups: number[] = [];
  let tail: number[] = [];
  const dbl = host.indexOf('::');
  const parse = (s: string, into: number[]) => {
    if (s === '') return;
    for (const g of s.split(':')) {
      if (g.includes('.')) {
        const q = g.split('.').map(Number);
        into.push((q[0]! << 8) | q[1]!, (q[2]! << 8) | q[3]!);
      } else into.push(parseInt(g, 16) || 0);
    }
  };
  if (dbl >= 0) {
    parse(host.slice(0, dbl), groups);
    parse(host.slice(dbl + 2), tail);
  } else {
    parse(host, groups);
    tail = [];
  }
  const all = [...groups, ...Array<number>(Math.max(0, 8 - groups.length - tail.length)).fill(0), ...tail];
  for (let i = 0; i < 8; i++) {
    out[off + 2 * i] = (all[i] ?? 0) >>> 8;
    out[off + 2 * i + 1] = all[i] ?? 0;
  }
  return 6;
}

/** RFC 5952 text: lowercase, no leading zeros, the longest run of two or more zero groups as '::'. */
export function formatIpv6(b: Uint8Array, off: number): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!);
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}
