// Small pieces of the packed store: byte access, keyed hashing of 20-byte ids, the infohash
// index, sampling, growing and giving back buffers.

// Picked slots of the last pick; shared, since one pick is consumed before the next.
let picks = new Int32Array(256);
// The last windowPick as runs of consecutive slots: the count at 0, then [start, end) pairs (at
// most 4: the window may wrap, and each part may be split at the announcer's slot). At STALE, 1
// while `picks` has yet to be filled from them: a reply copied from the runs never needs it.
const runs = new Int32Array(10);
const STALE = 9;
// Keyed hashes: ids and infohashes are chosen by clients, who must not be able to aim collisions.
const SEED = (Math.random() * 0x1_0000_0000) >>> 0;
// Sampling draws ~50 numbers per announce: a xorshift32 inline costs a few ns each, where
// Math.random() is a call that refills a cache through the runtime. Nothing here is secret.
// Its state sits in a typed array: a module-level `let` holding 32-bit values is a heap number
// V8 allocates anew on every step (small integers are 31-bit), which was most of a sample's cost.
const rng = new Int32Array([((Math.random() * 0x1_0000_0000) >>> 0) | 1]);
/** A number in [0, 1). */
function random(): number {
  let x = rng[0]!;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  rng[0] = x;
  return (x >>> 0) / 0x1_0000_0000;
}

export function rd32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}
export function wr32(b: Uint8Array, o: number, v: number): void {
  b[o] = v;
  b[o + 1] = v >>> 8;
  b[o + 2] = v >>> 16;
  b[o + 3] = v >>> 24;
}
export function hash20(b: Uint8Array, o: number): number {
  let h = SEED ^ 0x811c9dc5;
  for (let i = 0; i < 20; i += 4) h = Math.imul(h ^ rd32(b, o + i), 0x9e3779b1);
  // MurmurHash3's finalizer: every input bit reaches the low bits the tables mask. A multiply only
  // carries upwards, so without it the last bytes of an id (where clients that number their ids,
  // like bench/tracker's generator, vary) never reached them: probe runs of dozens in a swarm.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
export function same20(a: Uint8Array, ao: number, b: Uint8Array, bo: number): boolean {
  for (let i = 0; i < 20; i++) if (a[ao + i] !== b[bo + i]) return false;
  return true;
}
/**
 * Draws min(k, avail) distinct numbers from [0, avail) into pickedSlots(): the range is cut into
 * k runs of whole numbers and one is drawn from each, then all are rotated by one random offset,
 * so every number is equally likely (k / avail) and none comes twice. Returns the count.
 */
export function stratifiedPick(avail: number, k: number): number {
  if (k > avail) k = avail;
  runs[0] = runs[STALE] = 0;
  if (k <= 0) return 0;
  if (picks.length < k) picks = new Int32Array(k * 2);
  if (k === avail) {
    for (let i = 0; i < k; i++) picks[i] = i;
    return k;
  }
  const offset = Math.floor(random() * avail);
  // Run i ends at floor((i + 1) * avail / k), kept as quotient and remainder: integer steps,
  // where a division per run was a tenth of an announce's cost.
  const q = Math.floor(avail / k);
  const r = avail - q * k;
  let start = 0;
  let end = 0;
  let rem = 0;
  for (let i = 0; i < k; i++) {
    end += q;
    rem += r;
    if (rem >= k) {
      rem -= k;
      end++;
    }
    const x = start + Math.floor(random() * (end - start)) + offset;
    picks[i] = x >= avail ? x - avail : x;
    start = end;
  }
  return k;
}

/**
 * Chooses min(k, avail) of the slots [0, m) other than `skip` (-1: none): a window of k
 * consecutive candidates from one random start, wrapping around, so every candidate is equally
 * likely (k / avail) and none comes twice. One random number per sample, where a draw per peer
 * (stratifiedPick) was a tenth of an announce; and the window's peers sit side by side, so a reply
 * is copied from about half the cache lines of a spread sample (packed-peers.ts writePicked). Sets
 * pickedRuns() (and pickedSlots(), filled when first asked for); returns the count.
 */
export function windowPick(m: number, skip: number, k: number): number {
  const avail = m - (skip >= 0 && skip < m ? 1 : 0);
  if (skip >= m) skip = -1;
  if (k > avail) k = avail;
  runs[0] = runs[STALE] = 0;
  if (k <= 0) return 0;
  if (picks.length < k) picks = new Int32Array(k * 2);
  const o = k === avail ? 0 : Math.floor(random() * avail);
  // The window in candidate numbers: [o, o + k), wrapping at avail; candidate x is slot x, or
  // x + 1 from the announcer's slot on.
  const end = o + k;
  if (end <= avail) addRun(o, end, skip);
  else {
    addRun(o, avail, skip);
    addRun(0, end - avail, skip);
  }
  runs[STALE] = 1;
  return k;
}

/** Appends candidates [a, b) as runs of slots, split at the skipped slot. */
function addRun(a: number, b: number, skip: number): void {
  if (skip < 0 || b <= skip) pushRun(a, b);
  else if (a >= skip) pushRun(a + 1, b + 1);
  else {
    pushRun(a, skip);
    pushRun(skip + 1, b + 1);
  }
}

function pushRun(a: number, b: number): void {
  if (a >= b) return;
  const n = runs[0]!;
  runs[1 + 2 * n] = a;
  runs[2 + 2 * n] = b;
  runs[0] = n + 1;
}

/** Capacities grow by about 1.5× (not 2×): a swarm of 10 peers should not hold 16 slots. */
export function grownCap(cap: number): number {
  return cap < 4 ? 4 : Math.ceil((cap * 1.5) / 2) * 2;
}

/** A typed array of `size` elements starting with `a`'s. */
export function grow<T extends Int32Array | Float64Array | Uint8Array>(a: T, size: number): T {
  const b = new (a.constructor as new (n: number) => T)(size);
  b.set(a);
  return b;
}

/**
 * Gives a buffer's memory back now. Left to the garbage collector, a dropped chunk lives on
 * until the next full collection, rare with a heap this small: compaction after a burst of growth
 * left megabytes of dead chunks in RSS. Nothing else may view the buffer.
 */
export function release(b: Uint8Array): void {
  (b.buffer as ArrayBuffer).transfer(0);
}

/** The slots chosen by the last pick. */
export function pickedSlots(): Int32Array {
  if (runs[STALE] === 1) {
    runs[STALE] = 0;
    let i = 0;
    for (let r = 0; r < runs[0]!; r++) for (let x = runs[1 + 2 * r]!, e = runs[2 + 2 * r]!; x < e; x++) picks[i++] = x;
  }
  return picks;
}

/** The last windowPick's runs of slots: the count at 0, then [start, end) pairs. */
export function pickedRuns(): Int32Array {
  return runs;
}

/**
 * Swarm numbers by infohash: the 20-byte hashes side by side, found through an open-addressing
 * table (linear probing, at most 3/4 full, backward-shift deletion: no tombstones).
 */
export class InfohashIndex {
  private bytes = new Uint8Array(20 * 16);
  private table = new Int32Array(32);
  private size = 0;

  get byteLength(): number {
    return this.bytes.byteLength + this.table.byteLength;
  }

  find(ih: Uint8Array, off: number): number {
    const mask = this.table.length - 1;
    for (let i = hash20(ih, off) & mask; ; i = (i + 1) & mask) {
      const e = this.table[i]!;
      if (e === 0) return -1;
      if (same20(this.bytes, (e - 1) * 20, ih, off)) return e - 1;
    }
  }

  /** Records that swarm number s has this infohash (not present yet). */
  add(s: number, ih: Uint8Array, off: number): void {
    if ((s + 1) * 20 > this.bytes.length) {
      const grown = new Uint8Array(Math.max((s + 1) * 20, this.bytes.length * 2));
      grown.set(this.bytes);
      this.bytes = grown;
    }
    this.bytes.set(ih.subarray(off, off + 20), s * 20);
    if (++this.size * 4 > this.table.length * 3) {
      // Rebuilt from the table itself: it holds every live number.
      const old = this.table;
      this.table = new Int32Array(old.length * 2);
      for (const e of old) if (e !== 0) this.insert(e - 1);
    }
    this.insert(s);
  }

  remove(s: number): void {
    const t = this.table;
    const mask = t.length - 1;
    let hole = hash20(this.bytes, s * 20) & mask;
    while (t[hole] !== s + 1) hole = (hole + 1) & mask;
    for (let j = (hole + 1) & mask; t[j] !== 0; j = (j + 1) & mask) {
      const home = hash20(this.bytes, (t[j]! - 1) * 20) & mask;
      // The entry at j may fill the hole unless its home lies cyclically in (hole, j].
      if (hole <= j ? home > hole && home <= j : home > hole || home <= j) continue;
      t[hole] = t[j]!;
      hole = j;
    }
    t[hole] = 0;
    this.size--;
  }

  hex(s: number): string {
    return Buffer.from(this.bytes.buffer, s * 20, 20).toString('hex');
  }

  private insert(s: number): void {
    const mask = this.table.length - 1;
    let i = hash20(this.bytes, s * 20) & mask;
    while (this.table[i] !== 0) i = (i + 1) & mask;
    this.table[i] = s + 1;
  }
}
