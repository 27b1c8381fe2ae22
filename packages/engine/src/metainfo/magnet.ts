// Magnet URIs (BEP 9, with BEP 19 `ws`, BEP 53 `so` and BEP 52 `urn:btmh` v2 hashes) and bare
// infohashes (v1: 40 hex or 32 base32; v2: 64 hex).

import { toHex } from '../encoding/hex.ts';
import { MAX_FILES, MetainfoError } from './metainfo.ts';
import { addressKey, parseAddress } from '../types.ts';
import type { FileRanges, MagnetLink } from '../types.ts';

const fail = (why: string): never => {
  throw new MetainfoError(`invalid magnet: ${why}`);
};

export function parseMagnet(uri: string): MagnetLink {
  const m = /^magnet:\?(.*)$/is.exec(uri.trim());
  if (!m) return fail('does not start with "magnet:?"');

  let infoHashHex: string | undefined;
  let infoHashV2Hex: string | undefined;
  let name: string | undefined;
  let selectOnly: FileRanges | undefined;
  const trackers = new Set<string>();
  const peers = new Set<string>();
  const webSeeds = new Set<string>();

  for (const pair of m[1]!.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    // Some generators number repeated keys (tr.1=…, tr.2=…); treat them as plain repeats.
    const key = (eq < 0 ? pair : pair.slice(0, eq)).toLowerCase().replace(/\.\d+$/, '');
    const raw = eq < 0 ? '' : pair.slice(eq + 1);
    const value = unescape(key === 'dn' ? raw.replace(/\+/g, ' ') : raw);
    switch (key) {
      case 'xt': {
        const btih = /^urn:btih:(.*)$/i.exec(value);
        if (btih && infoHashHex === undefined) infoHashHex = hashToHex(btih[1]!) ?? fail(`bad btih hash "${btih[1]}"`);
        // BEP 52: a multihash, 0x12 (sha2-256) 0x20 (32 bytes) then the digest, in hex.
        const btmh = /^urn:btmh:(.*)$/i.exec(value);
        if (btmh && infoHashV2Hex === undefined) {
          const mh = /^1220([0-9a-f]{64})$/i.exec(btmh[1]!);
          infoHashV2Hex = mh ? mh[1]!.toLowerCase() : fail(`bad btmh hash "${btmh[1]}" (want 1220 and 64 hex digits: a SHA-256 multihash)`);
        }
        break;
      }
      case 'dn':
        name = value;
        break;
      case 'tr':
        if (value) trackers.add(value);
        break;
      case 'ws':
        if (value) webSeeds.add(value);
        break;
      case 'x.pe':
        // A bad peer hint should not cost the whole magnet.
        try {
          peers.add(addressKey(parseAddress(value)));
        } catch {}
        break;
      case 'so':
        selectOnly = parseSelectOnly(value);
        break;
    }
  }

  // A hybrid magnet carries both; a v2-only one is known to v2 swarms by its truncated hash.
  const id = infoHashHex ?? infoHashV2Hex?.slice(0, 40) ?? fail('no urn:btih or urn:btmh infohash (xt)');
  const link: MagnetLink = { infoHashHex: id, trackers: [...trackers], peers: [...peers], webSeeds: [...webSeeds] };
  if (infoHashV2Hex !== undefined) link.infoHashV2Hex = infoHashV2Hex;
  if (name !== undefined) link.name = name;
  if (selectOnly !== undefined) link.selectOnly = selectOnly;
  return link;
}

/** Accepts a magnet URI, a bare v1 infohash (40 hex / 32 base32) or a bare v2 one (64 hex). */
export function parseTorrentId(s: string): MagnetLink {
  const id = s.trim();
  if (/^magnet:/i.test(id)) return parseMagnet(id);
  if (V2_HEX.test(id)) {
    const infoHashV2Hex = id.toLowerCase();
    return { infoHashHex: infoHashV2Hex.slice(0, 40), infoHashV2Hex, trackers: [], peers: [], webSeeds: [] };
  }
  const infoHashHex = hashToHex(id);
  if (!infoHashHex) throw new MetainfoError('invalid torrent id: expected a magnet URI, a v1 infohash (40 hex or 32 base32) or a v2 infohash (64 hex)');
  return { infoHashHex, trackers: [], peers: [], webSeeds: [] };
}

const V2_HEX = /^[0-9a-f]{64}$/i;

/**
 * A magnet: `xt=urn:btih` for a v1 id, `xt=urn:btmh:1220…` for a v2 hash, both for a hybrid (in
 * libtorrent's order). A v2-only torrent (its id is its truncated v2 hash) gets only the btmh.
 */
export function toMagnet(m: {
  infoHashHex?: string;
  infoHashV2Hex?: string;
  name?: string;
  trackers?: string[];
  peers?: string[];
  webSeeds?: string[];
  /** File indices, or ranges as parseMagnet gives them. */
  selectOnly?: number[] | FileRanges;
}): string {
  const v2 = m.infoHashV2Hex === undefined ? undefined : V2_HEX.test(m.infoHashV2Hex) ? m.infoHashV2Hex.toLowerCase() : fail(`bad v2 infohash "${m.infoHashV2Hex}"`);
  const v1 = m.infoHashHex === undefined ? undefined : hashToHex(m.infoHashHex) ?? fail(`bad infohash "${m.infoHashHex}"`);
  if (!v1 && !v2) return fail('no infohash to make a magnet of');
  const xts = [...(v1 && v1 !== v2?.slice(0, 40) ? [`urn:btih:${v1}`] : []), ...(v2 ? [`urn:btmh:1220${v2}`] : [])];
  let uri = `magnet:?${xts.map((x) => `xt=${x}`).join('&')}`;
  if (m.name) uri += `&dn=${encodeURIComponent(m.name)}`;
  for (const t of m.trackers ?? []) uri += `&tr=${encodeURIComponent(t)}`;
  for (const p of m.peers ?? []) uri += `&x.pe=${encodeURIComponent(p)}`;
  for (const w of m.webSeeds ?? []) uri += `&ws=${encodeURIComponent(w)}`;
  const so = formatSelectOnly(m.selectOnly ?? []);
  if (so) uri += `&so=${so}`;
  return uri;
}

function unescape(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return fail(`bad percent-encoding in "${s.length > 60 ? s.slice(0, 60) + '…' : s}"`);
  }
}

function hashToHex(s: string): string | undefined {
  if (/^[0-9a-f]{40}$/i.test(s)) return s.toLowerCase();
  if (/^[a-z2-7]{32}$/i.test(s)) return toHex(base32Decode(s.toUpperCase()));
  return undefined;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

// Only called on 32 validated characters, which make exactly 20 bytes.
function base32Decode(s: string): Uint8Array {
  const out = new Uint8Array((s.length * 5) >> 3);
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (const ch of s) {
    acc = (acc << 5) | BASE32.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

/** BEP 53: "0,2,4-6,5" → [[0, 0], [2, 2], [4, 6]]. Sorting and merging the ranges is the only
 *  work, so 16 KB of "0-99998,0-99998,…" costs what its 2,000 entries cost, never their product. */
function parseSelectOnly(value: string): FileRanges {
  const ranges: [number, number][] = [];
  for (const part of value.split(',')) {
    const r = /^(\d{1,9})(?:-(\d{1,9}))?$/.exec(part.trim());
    if (!r) return fail(`bad so entry "${part}"`);
    const from = Number(r[1]);
    const to = r[2] === undefined ? from : Number(r[2]);
    if (to < from) return fail(`bad so range "${part}"`);
    if (to >= MAX_FILES) return fail(`so index ${to} exceeds the ${MAX_FILES}-file limit`);
    ranges.push([from, to]);
  }
  return mergeRanges(ranges);
}

/** Sorted, with overlapping and touching ranges joined. */
function mergeRanges(ranges: [number, number][]): FileRanges {
  ranges.sort((a, b) => a[0] - b[0]);
  const merged: FileRanges = [];
  for (const [from, to] of ranges) {
    const last = merged[merged.length - 1];
    if (last && from <= last[1] + 1) last[1] = Math.max(last[1], to);
    else merged.push([from, to]);
  }
  return merged;
}

/** The selected file indices of a torrent of `fileCount` files: ranges past its end select nothing. */
export function expandSelection(ranges: FileRanges, fileCount: number): number[] {
  const out: number[] = [];
  for (const [from, to] of ranges) {
    for (let i = from; i <= Math.min(to, fileCount - 1); i++) out.push(i);
  }
  return out;
}

function formatSelectOnly(sel: number[] | FileRanges): string {
  const ranges: [number, number][] = [];
  for (const e of sel) {
    const [from, to] = typeof e === 'number' ? [e, e] : e;
    if (Number.isSafeInteger(from) && Number.isSafeInteger(to) && from >= 0 && to >= from) ranges.push([from, to]);
  }
  return mergeRanges(ranges).map(([from, to]) => (to > from ? `${from}-${to}` : `${from}`)).join(',');
}

