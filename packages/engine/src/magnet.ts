// Magnet URIs (BEP 9, with BEP 19 `ws` and BEP 53 `so`) and bare infohashes.

import { toHex } from './hex.ts';
import { MAX_FILES, MetainfoError } from './metainfo.ts';
import { addressKey, parseAddress } from './types.ts';
import type { FileRanges, MagnetLink } from './types.ts';

const fail = (why: string): never => {
  throw new MetainfoError(`invalid magnet: ${why}`);
};

export function parseMagnet(uri: string): MagnetLink {
  const m = /^magnet:\?(.*)$/is.exec(uri.trim());
  if (!m) return fail('does not start with "magnet:?"');

  let infoHashHex: string | undefined;
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
        // A hybrid magnet also carries urn:btmh (v2); we only speak v1.
        if (btih && infoHashHex === undefined) infoHashHex = hashToHex(btih[1]!) ?? fail(`bad btih hash "${btih[1]}"`);
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

  if (infoHashHex === undefined) return fail('no urn:btih infohash (xt)');
  const link: MagnetLink = { infoHashHex, trackers: [...trackers], peers: [...peers], webSeeds: [...webSeeds] };
  if (name !== undefined) link.name = name;
  if (selectOnly !== undefined) link.selectOnly = selectOnly;
  return link;
}

/** Accepts a magnet URI or a bare 40-hex / 32-base32 infohash. */
export function parseTorrentId(s: string): MagnetLink {
  const id = s.trim();
  if (/^magnet:/i.test(id)) return parseMagnet(id);
  const infoHashHex = hashToHex(id);
  if (!infoHashHex) throw new MetainfoError('invalid torrent id: expected a magnet URI or a 40-hex / 32-base32 infohash');
  return { infoHashHex, trackers: [], peers: [], webSeeds: [] };
}

export function toMagnet(m: {
  infoHashHex: string;
  name?: string;
  trackers?: string[];
  peers?: string[];
  webSeeds?: string[];
  /** File indices, or ranges as parseMagnet gives them. */
  selectOnly?: number[] | FileRanges;
}): string {
  const hex = hashToHex(m.infoHashHex) ?? fail(`bad infohash "${m.infoHashHex}"`);
  let uri = `magnet:?xt=urn:btih:${hex}`;
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

