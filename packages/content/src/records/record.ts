// Signed DHT records (docs/dht-records.md): one publisher's statement about one torrent — its name,
// size, infohashes and files' content ids, and the port it serves on — filed under one key of one
// namespace. The key is inside the signed bytes and must follow from the statement itself (a content
// id among its files, one of its infohashes, a word of its name), so a record cannot be replayed
// under another key. Platform-free.

import { sha1 } from '@noble/hashes/legacy.js';
import { decode, encode, isDict, type BDict, type BValue } from '@cascade/engine/bencode';
import { didFromSigningKey, signBytes, verifyBytes, type Identity } from '@cascade/identity';
import { CID, cidFromSha256, sha256FromCid } from '../cid/cid.ts';
import { keywordsOf, normalizeKeyword } from './keywords.ts';

export const NAMESPACES = ['cid_idx', 'info_hash_idx', 'keyword_idx'] as const;
export type Namespace = (typeof NAMESPACES)[number];

/** Domain separation for the Ed25519 signature (identity's signBytes prefixes it and a newline). */
export const RECORD_SIGNING_DOMAIN = 'cascade-dht-record-v1';
/** Largest bencoded record (BEP 44's limit for a value). */
export const MAX_RECORD_BYTES = 1000;
/** Longest a record may live: its expiry is at most this far past its issue time. */
export const MAX_TTL_SECONDS = 2 * 60 * 60;
/** How far in the future an issue time may be (clock skew). */
export const MAX_CLOCK_SKEW_SECONDS = 5 * 60;
export const MAX_NAME_BYTES = 200;
/** Content ids one record carries (the key's own first, in cid_idx). */
export const MAX_RECORD_CIDS = 16;

/** UnixFS CIDs one record carries (`u`: its folder's and its files' roots that differ from their
 *  content ids, the key's own first in cid_idx), fewer when the record would pass MAX_RECORD_BYTES. */
export const MAX_RECORD_UNIXFS = 6;
const DAG_PB = 0x70;
const SHA2_256 = 0x12;

/** What a publisher says about one torrent. */
export interface TorrentStatement {
  name: string;
  /** Total bytes of the torrent's files. */
  length: number;
  /** v1 infohash, 40 hex, or null (v2-only). */
  infoHash: string | null;
  /** v2 infohash, 64 hex, or null (v1-only). */
  infoHashV2: string | null;
  /** Content ids of its files (at most MAX_RECORD_CIDS). */
  cids: string[];
  /** UnixFS CIDs as IPFS names its folder and files (dag-pb roots; a file of one chunk is named by its
   *  content id, already in `cids`), at most MAX_RECORD_UNIXFS (issue 61). */
  unixfsCids?: string[];
  /** The BitTorrent port the publisher serves it on; 0 = not said. */
  port: number;
  /** A market listing of it (issue 62): the record then says "this share is for sale there", signed by
   *  the seller's node. Field `m`: [chain id, contract (20 bytes), listing id]. */
  market?: MarketRef;
}

/** Where a listing is: the chain, the market contract and the listing's id on it. */
export interface MarketRef {
  chainId: number;
  /** 0x + 40 hex, lower-case. */
  contract: string;
  listingId: number;
}

/** A record whose signature and consistency were checked. */
export interface VerifiedRecord extends TorrentStatement {
  unixfsCids: string[];
  /** "namespace::value" */
  key: string;
  publisher: string;
  /** Unix seconds. */
  issued: number;
  expires: number;
  /** The signed bytes and signature, as they travel. */
  bytes: Uint8Array;
  sig: Uint8Array;
}

export class RecordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecordError';
  }
}

/** The canonical key of `value` in `ns`, or a RecordError saying why it is not one. */
export function recordKey(ns: Namespace, value: string): string {
  if (ns === 'cid_idx') {
    const unixfs = unixfsRoot(value);
    if (unixfs) return `${ns}::${unixfs.toString()}`;
    try {
      return `${ns}::${cidFromSha256(sha256FromCid(value))}`;
    } catch (err) {
      throw new RecordError(`${(err as Error).message} (nor a UnixFS root: CIDv1, dag-pb, sha2-256)`);
    }
  }
  if (ns === 'info_hash_idx') {
    const hex = value.trim().toLowerCase();
    if (!/^([0-9a-f]{40}|[0-9a-f]{64})$/.test(hex)) throw new RecordError(`not an infohash (40 or 64 hex digits): ${value}`);
    return `${ns}::${hex}`;
  }
  if (ns === 'keyword_idx') {
    const word = normalizeKeyword(value);
    if (!word) throw new RecordError(`not a keyword: ${JSON.stringify(value)}`);
    return `${ns}::${word}`;
  }
  throw new RecordError(`unknown namespace ${String(ns)}`);
}

/** The DHT target of a key: SHA-1 of its UTF-8 bytes, like a BEP 5 infohash. */
export function targetOf(key: string): Uint8Array {
  return sha1(new TextEncoder().encode(key));
}

/** Every key a statement is filed under: its infohashes, its files' content ids, its name's words. */
export function keysOf(s: TorrentStatement, maxKeywords = 8): string[] {
  const keys: string[] = [];
  if (s.infoHash) keys.push(recordKey('info_hash_idx', s.infoHash));
  if (s.infoHashV2) keys.push(recordKey('info_hash_idx', s.infoHashV2));
  for (const cid of s.cids) keys.push(recordKey('cid_idx', cid));
  for (const cid of (s.unixfsCids ?? []).slice(0, MAX_RECORD_UNIXFS)) keys.push(recordKey('cid_idx', cid));
  for (const word of keywordsOf(s.name).slice(0, maxKeywords)) keys.push(recordKey('keyword_idx', word));
  return keys;
}

/** Signs `s` under `key`, valid from `now` (unix seconds) for `ttl` seconds. */
export function signRecord(id: Pick<Identity, 'signSecret' | 'signPublic'>, key: string, s: TorrentStatement, now: number, ttl = MAX_TTL_SECONDS): { bytes: Uint8Array; sig: Uint8Array } {
  const ns = key.slice(0, key.indexOf('::')) as Namespace;
  let cids = s.cids;
  let unixfs = [...new Set((s.unixfsCids ?? []).flatMap((c) => unixfsRoot(c)?.toString() ?? []))];
  let keep = 0;
  if (ns === 'cid_idx') {
    const own = key.slice(ns.length + 2);
    if (unixfs.includes(own)) {
      unixfs = [own, ...unixfs.filter((c) => c !== own)];
      keep = 1;
    } else cids = [own, ...s.cids.filter((c) => c !== own)];
  }
  unixfs = unixfs.slice(0, MAX_RECORD_UNIXFS);
  const dict: Record<string, unknown> = {
    c: cids.slice(0, MAX_RECORD_CIDS).map((c) => sha256FromCid(c)),
    ih: s.infoHash ? hexBytes(s.infoHash) : undefined,
    ih2: s.infoHashV2 ? hexBytes(s.infoHashV2) : undefined,
    k: key,
    l: s.length,
    n: s.name,
    m: s.market ? [s.market.chainId, hexBytes(s.market.contract.replace(/^0x/i, '').toLowerCase()), s.market.listingId] : undefined,
    p: s.port,
    pk: id.signPublic,
    t: Math.floor(now),
    x: Math.floor(now + Math.min(ttl, MAX_TTL_SECONDS)),
  };
  // The UnixFS roots go last into the size budget: dropped from the end until the record fits.
  let bytes: Uint8Array;
  for (;;) {
    dict.u = unixfs.length > 0 ? unixfs.map((c) => CID.parse(c).bytes) : undefined;
    bytes = encode(dict);
    if (bytes.length <= MAX_RECORD_BYTES || unixfs.length <= keep) break;
    unixfs = unixfs.slice(0, -1);
  }
  if (bytes.length > MAX_RECORD_BYTES) throw new RecordError(`record is ${bytes.length} bytes, more than ${MAX_RECORD_BYTES} (shorten the name)`);
  // Everything a receiver checks, checked here too: a publisher never sends what others must refuse.
  const sig = signBytes(id, RECORD_SIGNING_DOMAIN, bytes);
  openRecord(bytes, sig, { now });
  return { bytes, sig };
}

/**
 * Checks a record as it arrives (a storing node on put, a reader on get) and returns what it says:
 * size, strict bencoding, field types, the signature, a known namespace, a key that follows from
 * the statement, and its time window. `key`: the key it was asked or stored under (must match).
 */
export function openRecord(bytes: Uint8Array, sig: Uint8Array, opts: { now: number; key?: string }): VerifiedRecord {
  if (!(bytes instanceof Uint8Array) || !(sig instanceof Uint8Array)) throw new RecordError('record and signature must be byte strings');
  if (bytes.length > MAX_RECORD_BYTES) throw new RecordError(`record is ${bytes.length} bytes, more than ${MAX_RECORD_BYTES}`);
  let value: BValue;
  try {
    value = decode(bytes, { maxDepth: 3, maxTokens: 200 }).value;
  } catch (err) {
    throw new RecordError(`record is not bencoded: ${(err as Error).message}`);
  }
  if (!isDict(value)) throw new RecordError('record is not a dictionary');
  // Re-encoding must give the same bytes: unsorted keys or other spellings would let two byte
  // strings carry one statement (and one signature be stretched to another reading).
  if (!sameBytes(encode(value), bytes)) throw new RecordError('record is not in canonical bencoding');
  const pk = bytesField(value, 'pk', 32);
  const publisher = didFromSigningKey(pk);
  if (!verifyBytes(publisher, RECORD_SIGNING_DOMAIN, bytes, sig)) throw new RecordError('bad signature');

  const key = textField(value, 'k', 200);
  const sep = key.indexOf('::');
  const ns = key.slice(0, sep) as Namespace;
  if (sep < 0 || !NAMESPACES.includes(ns)) throw new RecordError(`unknown namespace in key ${JSON.stringify(key)}`);
  if (recordKey(ns, key.slice(sep + 2)) !== key) throw new RecordError(`key ${JSON.stringify(key)} is not in canonical form`);
  if (opts.key !== undefined && opts.key !== key) throw new RecordError(`record is for ${key}, not ${opts.key}`);

  const name = textField(value, 'n', MAX_NAME_BYTES);
  const length = intField(value, 'l');
  const port = intField(value, 'p');
  if (port > 65535) throw new RecordError('port out of range');
  const ih = optionalBytes(value, 'ih', 20);
  const ih2 = optionalBytes(value, 'ih2', 32);
  if (!ih && !ih2) throw new RecordError('record names no infohash');
  const c = value.c;
  if (!Array.isArray(c) || c.length > MAX_RECORD_CIDS) throw new RecordError(`c must be a list of at most ${MAX_RECORD_CIDS} digests`);
  const cids = c.map((d) => {
    if (!(d instanceof Uint8Array) || d.length !== 32) throw new RecordError('c holds a value that is not a 32-byte SHA-256');
    return cidFromSha256(d);
  });
  const u = value.u ?? [];
  if (!Array.isArray(u) || u.length > MAX_RECORD_UNIXFS) throw new RecordError(`u must be a list of at most ${MAX_RECORD_UNIXFS} UnixFS CIDs`);
  const unixfsCids = u.map((b) => {
    const root = b instanceof Uint8Array && b.length === 36 ? unixfsRoot(b) : undefined;
    if (!root) throw new RecordError('u holds a value that is not a UnixFS root (CIDv1, dag-pb, sha2-256, 36 bytes)');
    return root.toString();
  });
  const issued = intField(value, 't');
  const expires = intField(value, 'x');
  if (issued > opts.now + MAX_CLOCK_SKEW_SECONDS) throw new RecordError('record is issued in the future');
  if (expires <= opts.now) throw new RecordError('record has expired');
  if (expires - issued > MAX_TTL_SECONDS) throw new RecordError(`record lives longer than ${MAX_TTL_SECONDS} s`);

  const market = marketField(value);
  const statement: TorrentStatement = { name, length, infoHash: ih ? hex(ih) : null, infoHashV2: ih2 ? hex(ih2) : null, cids, port, ...(market ? { market } : {}) };
  const subject = key.slice(sep + 2);
  const follows =
    ns === 'cid_idx' ? cids.includes(subject) || unixfsCids.includes(subject) : ns === 'info_hash_idx' ? subject === statement.infoHash || subject === statement.infoHashV2 : keywordsOf(name).includes(subject);
  if (!follows) throw new RecordError(`${key} does not follow from the record (${ns === 'cid_idx' ? 'its files' : ns === 'info_hash_idx' ? 'its infohashes' : 'its name'} say otherwise)`);
  return { ...statement, unixfsCids, key, publisher, issued, expires, bytes, sig };
}

/** The torrent a record is about: its v1 infohash, else its v2 one (one record per publisher each). */
export function subjectOf(r: TorrentStatement): string {
  // A listing is a subject of its own: it neither replaces nor is replaced by its share's record.
  return (r.infoHash ?? r.infoHashV2 ?? '') + (r.market ? ` market:${r.market.chainId}/${r.market.contract}/${r.market.listingId}` : '');
}

/** A UnixFS root as @helia/unixfs names a file or folder (CIDv1, dag-pb, sha2-256), from its text or
 *  its bytes; undefined for anything else. */
function unixfsRoot(value: string | Uint8Array): CID | undefined {
  try {
    const cid = typeof value === 'string' ? CID.parse(value.trim()) : CID.decode(value);
    return cid.version === 1 && cid.code === DAG_PB && cid.multihash.code === SHA2_256 && cid.multihash.digest.length === 32 ? CID.createV1(DAG_PB, cid.multihash) : undefined;
  } catch {
    return undefined;
  }
}

/** `m`, when there: [chain id, 20-byte contract, listing id], each checked. */
function marketField(d: BDict): MarketRef | undefined {
  const m = d.m;
  if (m === undefined) return undefined;
  const [chainId, contract, listingId] = Array.isArray(m) && m.length === 3 ? m : [];
  const int = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
  if (!int(chainId) || !(contract instanceof Uint8Array) || contract.length !== 20 || !int(listingId)) {
    throw new RecordError('m must be [chain id, 20-byte contract, listing id] (chain id and listing id from 1)');
  }
  return { chainId: chainId as number, contract: `0x${hex(contract)}`, listingId: listingId as number };
}

function textField(d: BDict, k: string, max: number): string {
  const v = d[k];
  if (!(v instanceof Uint8Array) || v.length > max) throw new RecordError(`${k} must be a string of at most ${max} bytes`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(v);
  } catch {
    throw new RecordError(`${k} is not UTF-8`);
  }
}

function intField(d: BDict, k: string): number {
  const v = d[k];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new RecordError(`${k} must be a non-negative integer`);
  return v;
}

function bytesField(d: BDict, k: string, length: number): Uint8Array {
  const v = d[k];
  if (!(v instanceof Uint8Array) || v.length !== length) throw new RecordError(`${k} must be ${length} bytes`);
  return v;
}

function optionalBytes(d: BDict, k: string, length: number): Uint8Array | undefined {
  return d[k] === undefined ? undefined : bytesField(d, k, length);
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

function hexBytes(h: string): Uint8Array {
  if (!/^([0-9a-f]{2})+$/i.test(h)) throw new RecordError(`not hex: ${h}`);
  return Uint8Array.from(h.match(/../g)!, (x) => parseInt(x, 16));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
