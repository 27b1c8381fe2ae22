// A swarm's segment in the packed store (packed-peers.ts): `cap` records of REC bytes, then an
// open-addressing index of peer id → slot + 1 (32-bit little-endian entries, linear probing, at
// most 3/4 full, backward-shift deletion: no tombstones), then a compact area of CPT bytes per
// slot. These functions work on one segment, given its buffer, where it starts and its capacity.
//
// The compact area repeats each IPv4 peer's BEP 23 bytes (zeros for an IPv6 peer), slot for slot
// with the records: a reply's 50 peers are then read from 600 contiguous bytes, about ten cache
// lines, instead of from 50 records spread over the whole segment. Those cache misses were most
// of the store's cost per announce (opentracker's peers are 8-byte entries for the same reason).

import { hash20, rd32, same20, wr32 } from './packed-util.ts';

// A record (48 bytes):
//   0..16   address as IPv6; IPv4 as ::ffff:a.b.c.d, so bytes 12..18 are its BEP 23 form
//   16..18  port, big-endian (bytes 0..18 are the BEP 7 form of an IPv6 peer)
//   18..38  peer id
//   38      flags (F_V6)
//   40..46  last announce, ms since the epoch: 32 low bits at 40, 16 high bits at 44

/** Bytes per peer record. */
export const REC = 48;
/** Where a record keeps the peer id (20 bytes). */
export const O_ID = 18;

/** Index entries for a capacity: a power of two, at most 3/4 full. */
export function tableSize(n: number): number {
  let t = 8;
  while (t * 3 < n * 4) t *= 2;
  return t;
}

/** Bytes per slot of a segment's compact area: the BEP 23 form (address, port) of an IPv4 peer. */
export const CPT = 6;

/** Where a segment of `cap` records keeps its compact area, from its start: after the index. */
export function compactOffset(cap: number): number {
  return cap * REC + 4 * tableSize(cap);
}

/** Bytes of a segment of `cap` records, its index and its compact area. */
export function segmentBytes(cap: number): number {
  return cap === 0 ? 0 : compactOffset(cap) + cap * CPT;
}

/** The slot of the record whose id is the 20 bytes of `id` at `off`, or -1. */
export function indexFind(buf: Uint8Array, b: number, cap: number, id: Uint8Array, off: number): number {
  const tbl = b + cap * REC;
  const mask = tableSize(cap) - 1;
  for (let i = hash20(id, off) & mask; ; i = (i + 1) & mask) {
    const e = rd32(buf, tbl + 4 * i);
    if (e === 0) return -1;
    if (same20(buf, b + (e - 1) * REC + O_ID, id, off)) return e - 1;
  }
}

/** Indexes the record at `slot` (not indexed yet). */
export function indexInsert(buf: Uint8Array, b: number, cap: number, slot: number): void {
  const tbl = b + cap * REC;
  const mask = tableSize(cap) - 1;
  let i = hash20(buf, b + slot * REC + O_ID) & mask;
  while (rd32(buf, tbl + 4 * i) !== 0) i = (i + 1) & mask;
  wr32(buf, tbl + 4 * i, slot + 1);
}

/** Where in the index the entry for `slot` sits. */
export function indexPos(buf: Uint8Array, b: number, cap: number, slot: number): number {
  const tbl = b + cap * REC;
  const mask = tableSize(cap) - 1;
  let i = hash20(buf, b + slot * REC + O_ID) & mask;
  while (rd32(buf, tbl + 4 * i) !== slot + 1) i = (i + 1) & mask;
  return i;
}

/** Points the index entry at `pos` to `slot`. */
export function indexSet(buf: Uint8Array, b: number, cap: number, pos: number, slot: number): void {
  wr32(buf, b + cap * REC + 4 * pos, slot + 1);
}

/** Drops the entry for `slot`, shifting later entries of its probe run back. */
export function indexRemove(buf: Uint8Array, b: number, cap: number, slot: number): void {
  const tbl = b + cap * REC;
  const mask = tableSize(cap) - 1;
  let hole = indexPos(buf, b, cap, slot);
  for (let j = (hole + 1) & mask; ; j = (j + 1) & mask) {
    const e = rd32(buf, tbl + 4 * j);
    if (e === 0) break;
    const home = hash20(buf, b + (e - 1) * REC + O_ID) & mask;
    // The entry at j may fill the hole unless its home lies cyclically in (hole, j].
    if (hole <= j ? home > hole && home <= j : home > hole || home <= j) continue;
    wr32(buf, tbl + 4 * hole, e);
    hole = j;
  }
  wr32(buf, tbl + 4 * hole, 0);
}
