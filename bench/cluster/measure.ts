// The two library figures of bench:cluster, measured the same way against a single node and against
// the cluster's balancer: the add rate of N torrents (multipart .torrent uploads, as the web app and
// the CLI send them, `concurrency` in flight) and the latency of the torrent list's first page.

import { randomBytes } from 'node:crypto';
import { bencode } from '../../packages/engine/index.ts';
import { median, pool } from '../scale/proc.ts';

/** Where requests go and with which token: a node's own URL, or haproxy's frontend. */
export interface Target {
  url: string;
  token: string;
}

const REQUEST_TIMEOUT_MS = 60_000;

export async function call(target: Target, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${target.token}`);
  return fetch(new URL(path, target.url), { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS), ...init, headers });
}

export async function getJson<T>(target: Target, path: string): Promise<T> {
  const res = await call(target, path);
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/**
 * `n` single-file torrents with distinct info hashes and no data anywhere (their piece hashes are
 * random): what the add path costs, not hashing or seeding. One piece of 16 KiB each.
 */
export function metadataOnlyTorrents(n: number, tag: string): Uint8Array[] {
  return Array.from({ length: n }, (_, i) =>
    bencode({ 'created by': 'bench/cluster', info: { length: 16384, name: `${tag}-${String(i).padStart(6, '0')}.bin`, 'piece length': 16384, pieces: randomBytes(20) } }),
  );
}

/** Adds a .torrent paused: the benchmark's torrents have no data anywhere, and left running each
 *  would be a stalled download holding a place in the queue, ahead of the failover's real files
 *  (a holder's copy is a download: it waited behind 500 of them for 10 min and never started). */
export async function addTorrent(target: Target, bytes: Uint8Array, filename: string): Promise<string> {
  const form = new FormData();
  form.append('paused', 'true');
  form.append('torrent', new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/x-bittorrent' }), filename);
  const res = await call(target, '/api/torrents', { method: 'POST', body: form });
  const text = await res.text();
  if (res.status !== 201 && res.status !== 200) throw new Error(`POST /api/torrents ${filename}: ${res.status} ${text.slice(0, 300)}`);
  return (JSON.parse(text) as { infoHash: string }).infoHash;
}

export interface AddFigures {
  n: number;
  seconds: number;
  perSecond: number;
  /** Adds per second per tenth of the run, in the order they finished: a slowdown as the library grows shows. */
  perTenth: number[];
  /** Failed adds (status and message of the first); the run goes on without them. */
  failed: number;
  firstFailure?: string;
  /** Per-request latency, ms. */
  medianMs: number;
  p95Ms: number;
}

export async function measureAdds(target: Target, torrents: Uint8Array[], concurrency: number): Promise<AddFigures> {
  const latencies: number[] = [];
  let failed = 0;
  let firstFailure: string | undefined;
  const t0 = performance.now();
  const finished = await pool(torrents.length, concurrency, async (i) => {
    const s = performance.now();
    try {
      await addTorrent(target, torrents[i]!, `bench-${i}.torrent`);
    } catch (err) {
      failed++;
      firstFailure ??= (err as Error).message;
    }
    latencies.push(performance.now() - s);
  });
  const seconds = (finished[finished.length - 1]! - t0) / 1000;
  const tenth = Math.max(1, Math.floor(torrents.length / 10));
  const perTenth: number[] = [];
  for (let end = tenth, prev = t0; end <= finished.length; end += tenth) {
    perTenth.push(tenth / ((finished[end - 1]! - prev) / 1000));
    prev = finished[end - 1]!;
  }
  return { n: torrents.length, seconds, perSecond: (torrents.length - failed) / seconds, perTenth, failed, firstFailure, medianMs: median(latencies), p95Ms: percentile(latencies, 0.95) };
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]!;
}

/** The web UI's default order (TorrentsView's loadSort: name, ascending), first page of 100. */
export const LIST_PAGE = '/api/torrents?sort=name&order=asc&offset=0&limit=100';

export interface ListFigures {
  requests: number;
  medianMs: number;
  p95Ms: number;
  /** `total` of the last answer: the whole library was counted. */
  total: number;
  bytes: number;
}

/** `requests` GETs of the page one after another (a page's own pace), after 3 not counted (warm-up). */
export async function measureList(target: Target, requests: number, path = LIST_PAGE): Promise<ListFigures> {
  const ms: number[] = [];
  let total = 0;
  let bytes = 0;
  for (let i = -3; i < requests; i++) {
    const s = performance.now();
    const res = await call(target, path);
    const body = await res.text();
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${body.slice(0, 300)}`);
    if (i >= 0) ms.push(performance.now() - s);
    total = (JSON.parse(body) as { total: number }).total;
    bytes = Buffer.byteLength(body);
  }
  return { requests, medianMs: median(ms), p95Ms: percentile(ms, 0.95), total, bytes };
}

/** Polls until the target lists `n` torrents (an add acknowledged is listed; on a member the bus
 *  may take a moment): seconds waited. */
export async function waitListed(target: Target, n: number, timeoutMs = 120_000): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const { total } = await getJson<{ total: number }>(target, '/api/torrents?limit=1');
    if (total >= n) return (performance.now() - t0) / 1000;
    if (performance.now() - t0 > timeoutMs) throw new Error(`listed ${total} of ${n} torrents after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
