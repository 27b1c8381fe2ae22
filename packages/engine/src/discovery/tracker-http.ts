// HTTP(S) tracker announce and scrape (BEP 3, 23, 7, 48). Platform-free: only global fetch.

import { decode, isDict, text } from '../encoding/bencode.ts';
import type { BDict, BValue } from '../encoding/bencode.ts';
import type { PeerAddress } from '../types.ts';
import { TrackerError, parseCompactPeers, toHex } from './tracker-types.ts';
import type { AnnounceParams, AnnounceResult, ScrapeEntry, TrackerTransport } from './tracker-types.ts';

const DEFAULT_TIMEOUT_MS = 15_000;
// Trackers answer with a few KB; anything far bigger is broken or hostile.
const MAX_BODY = 4 * 1024 * 1024;
const textDecoder = new TextDecoder();

/** Percent-encodes raw bytes; URLSearchParams would UTF-8-encode a string and corrupt binary hashes. */
export function escapeBytes(b: Uint8Array): string {
  let s = '';
  for (const c of b) {
    const unreserved =
      (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) ||
      c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e;
    s += unreserved ? String.fromCharCode(c) : `%${c.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return s;
}

export function announceUrl(base: string, p: AnnounceParams): string {
  const parts = [
    `info_hash=${escapeBytes(p.infoHash)}`,
    `peer_id=${escapeBytes(p.peerId)}`,
    `port=${p.port}`,
    `uploaded=${Math.max(0, Math.floor(p.uploaded))}`,
    `downloaded=${Math.max(0, Math.floor(p.downloaded))}`,
    `left=${Math.max(0, Math.floor(p.left))}`,
    'compact=1',
    `numwant=${p.numwant ?? 50}`,
  ];
  if (p.event) parts.push(`event=${p.event}`);
  if (p.key !== undefined) parts.push(`key=${(p.key >>> 0).toString(16).padStart(8, '0')}`);
  if (p.trackerId) parts.push(`trackerid=${encodeURIComponent(p.trackerId)}`);
  return joinQuery(base, parts.join('&'));
}

/** BEP 48 convention: only URLs whose last path segment starts with "announce" have a scrape URL. */
export function scrapeUrlFor(announce: string): string | undefined {
  const u = new URL(announce);
  const slash = u.pathname.lastIndexOf('/');
  const last = u.pathname.slice(slash + 1);
  if (!last.startsWith('announce')) return undefined;
  u.pathname = `${u.pathname.slice(0, slash + 1)}scrape${last.slice('announce'.length)}`;
  return u.toString();
}

/** What a tracker's answer needs of a fetch Response: the global fetch's fits, and a Node fetch
 *  on node:http (bound-fetch.ts) gives one without constructing a Response, whose first use loads
 *  Node's fetch implementation (undici: ~40 CPU-ms and ~100 ms before a one-shot download's first
 *  announce). */
export interface TrackerResponse {
  readonly ok: boolean;
  readonly status: number;
  readonly body: ReadableStream<Uint8Array> | null;
}

/** The fetch trackers are asked with: the global one (browsers), or node:http's (Node: bound-fetch.ts). */
export type TrackerFetch = (url: string, init: { signal: AbortSignal; redirect: 'follow' }) => Promise<TrackerResponse>;

export async function httpAnnounce(url: string, p: AnnounceParams, timeoutMs = DEFAULT_TIMEOUT_MS, fetchImpl: TrackerFetch = fetch): Promise<AnnounceResult> {
  const dict = await fetchBencoded(announceUrl(url, p), p.signal, timeoutMs, fetchImpl);
  const failure = text(dict['failure reason']);
  if (failure !== undefined) throw new TrackerError(failure);

  const peers: PeerAddress[] = [];
  const raw = dict['peers'];
  if (raw instanceof Uint8Array) peers.push(...parseCompactPeers(raw, 4));
  else if (Array.isArray(raw)) peers.push(...parseDictPeers(raw));
  const raw6 = dict['peers6'];
  if (raw6 instanceof Uint8Array) peers.push(...parseCompactPeers(raw6, 6));

  const interval = num(dict['interval']);
  return {
    interval: interval !== undefined && interval > 0 ? interval : 1800,
    minInterval: num(dict['min interval']),
    complete: num(dict['complete']),
    incomplete: num(dict['incomplete']),
    peers,
    warning: text(dict['warning message']),
    trackerId: text(dict['tracker id']),
  };
}

export async function httpScrape(
  announce: string,
  infoHashes: Uint8Array[],
  signal?: AbortSignal,
  timeoutMs = DEFAULT_TIMEOUT_MS,
  fetchImpl: TrackerFetch = fetch,
): Promise<Map<string, ScrapeEntry>> {
  const base = scrapeUrlFor(announce);
  if (!base) throw new Error(`tracker ${announce} has no scrape URL`);
  const url = joinQuery(base, infoHashes.map((h) => `info_hash=${escapeBytes(h)}`).join('&'));
  const dict = await fetchBencoded(url, signal, timeoutMs, fetchImpl);
  const failure = text(dict['failure reason']);
  if (failure !== undefined) throw new TrackerError(failure);
  const files = dict['files'];
  const out = new Map<string, ScrapeEntry>();
  if (!isDict(files)) return out;
  // Our decoder turns dict keys into UTF-8 text, which is lossy for binary infohashes; decoding the
  // hashes we asked for the same way gives the same key, so matching still works.
  for (const h of infoHashes) {
    const entry = files[textDecoder.decode(h)];
    if (!isDict(entry)) continue;
    out.set(toHex(h), {
      complete: num(entry['complete']) ?? 0,
      incomplete: num(entry['incomplete']) ?? 0,
      downloaded: num(entry['downloaded']) ?? 0,
    });
  }
  return out;
}

export function createHttpTransport(timeoutMs = DEFAULT_TIMEOUT_MS, fetchImpl: TrackerFetch = fetch): TrackerTransport {
  return {
    announce: (url, p) => httpAnnounce(url, p, timeoutMs, fetchImpl),
    scrape: (url, hashes, signal) => httpScrape(url, hashes, signal, timeoutMs, fetchImpl),
  };
}

async function fetchBencoded(url: string, signal: AbortSignal | undefined, timeoutMs: number, fetchImpl: TrackerFetch): Promise<BDict> {
  // One controller per request, tied to the caller's signal by a listener removed afterwards:
  // AbortSignal.any left weak references on the torrent's long-lived signal after every announce.
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(new DOMException('tracker timed out', 'TimeoutError')), timeoutMs);
  const onAbort = () => ctl.abort(signal!.reason);
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  let res: TrackerResponse;
  let body: Uint8Array;
  try {
    res = await fetchImpl(url, { signal: ctl.signal, redirect: 'follow' });
    body = await readLimited(res);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
  let value: BValue;
  try {
    value = decode(body).value;
  } catch {
    // A non-200 with a non-bencoded body is an HTTP failure; a 200 with garbage is a broken tracker.
    throw new Error(res.ok ? 'tracker sent an invalid response' : `tracker HTTP ${res.status}`);
  }
  if (!isDict(value)) throw new Error('tracker response is not a dictionary');
  return value;
}

async function readLimited(res: TrackerResponse): Promise<Uint8Array> {
  if (!res.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = res.body.getReader();
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > MAX_BODY) {
      await reader.cancel();
      throw new Error('tracker response too large');
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

function parseDictPeers(list: BValue[]): PeerAddress[] {
  const out: PeerAddress[] = [];
  for (const item of list) {
    if (!isDict(item)) continue;
    const host = text(item['ip']);
    const port = num(item['port']);
    if (!host || port === undefined || port <= 0 || port > 65535) continue;
    out.push({ host, port });
  }
  return out;
}

function joinQuery(base: string, query: string): string {
  const hash = base.indexOf('#');
  const clean = hash >= 0 ? base.slice(0, hash) : base;
  return `${clean}${clean.includes('?') ? '&' : '?'}${query}`;
}

function num(v: BValue | undefined): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return undefined;
}
