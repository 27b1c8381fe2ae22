// Fetches a .torrent named by an http(s) URL in `POST /api/torrents {"uri": …}`. Every hop (at
// most MAX_REDIRECTS redirects) goes to a checked, pinned address (url-guard.ts); the size cap and
// the overall deadline keep a wrong link (a video, an endless stream) from filling memory or
// hanging the request. Every failure is the client's link being bad: a FetchError of kind 'invalid',
// 'unusable' or 'too-large' (the node turns it into its NodeError of that kind: a 4xx over HTTP).

import type { IncomingMessage } from 'node:http';
import { nodeHttp, nodeHttps } from '@cascade/engine/lazy-builtins';
import type { LookupFunction } from 'node:net';

/** Why a guarded fetch failed; `kind` is the node's error kind for it. */
export class FetchError extends Error {
  readonly kind: 'invalid' | 'unusable' | 'too-large';
  constructor(kind: 'invalid' | 'unusable' | 'too-large', message: string) {
    super(message);
    this.name = 'FetchError';
    this.kind = kind;
  }
}

const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));
const invalid = (message: string) => new FetchError('invalid', message);
import { type PrivateAllowance, resolveAllowed, UrlRefused } from './url-guard.ts';

export const MAX_REDIRECTS = 5;
/** The largest .torrent the node takes, by upload or by URL. */
export const MAX_TORRENT_FILE = 10 * 1024 * 1024;

export interface FetchTorrentOptions {
  maxBytes?: number;
  timeoutMs?: number;
  /** Let URLs reach loopback, private and link-local addresses (a LAN), or those a predicate
   *  names (tests stand a local address in for a public one). Default false. */
  allowPrivate?: PrivateAllowance;
}

export function fetchTorrentFile(url: string, opts: FetchTorrentOptions = {}): Promise<Uint8Array> {
  return fetchCapped(url, { ...opts, maxBytes: opts.maxBytes ?? MAX_TORRENT_FILE, what: 'a .torrent', accept: 'application/x-bittorrent, */*' });
}

/** What fetchCapped fetches, for its messages and the Accept header (RSS feeds use it too). */
export interface FetchCappedOptions extends FetchTorrentOptions {
  maxBytes: number;
  /** "a .torrent", "a feed": named when the body is too big. */
  what: string;
  accept: string;
}

/** GET through the SSRF guard: redirects checked hop by hop, the body capped, one deadline. */
export async function fetchCapped(url: string, opts: FetchCappedOptions): Promise<Uint8Array> {
  const maxBytes = opts.maxBytes;
  const signal = AbortSignal.timeout(opts.timeoutMs ?? 20_000);
  let current: URL;
  try {
    current = new URL(url);
  } catch {
    throw invalid(`not a URL: ${url}`);
  }
  for (let hop = 0; ; hop++) {
    const res = await get(current, opts.allowPrivate ?? false, signal, opts.accept);
    if (res.statusCode! >= 300 && res.statusCode! < 400 && res.headers.location) {
      res.resume();
      if (hop >= MAX_REDIRECTS) throw new FetchError('unusable', `cannot fetch ${url}: more than ${MAX_REDIRECTS} redirects`);
      try {
        current = new URL(res.headers.location, current);
      } catch {
        throw new FetchError('unusable', `cannot fetch ${url}: a redirect to an invalid URL`);
      }
      continue;
    }
    if (res.statusCode! < 200 || res.statusCode! >= 300) {
      res.resume();
      throw new FetchError('unusable', `cannot fetch ${url}: HTTP ${res.statusCode}`);
    }
    return readCapped(res, url, maxBytes, opts.what);
  }
}

function get(url: URL, allowPrivate: PrivateAllowance, signal: AbortSignal, accept: string): Promise<IncomingMessage> {
  return guardedRequest(url, allowPrivate, signal, { accept });
}

/** One request (no redirects followed) to the checked address of `url`, pinned for the connect. */
export function guardedRequest(
  url: URL,
  allowPrivate: PrivateAllowance,
  signal: AbortSignal,
  headers: Record<string, string>,
  method = 'GET',
  localAddress?: string,
  family?: 4 | 6,
): Promise<IncomingMessage> {
  return (async () => {
    let target: { address: string; family: 4 | 6 };
    try {
      target = await resolveAllowed(url, allowPrivate, family);
    } catch (err) {
      if (err instanceof UrlRefused) throw new FetchError('unusable', `cannot fetch ${url.href}: ${err.message}`);
      throw err;
    }
    // Connect to the address that was checked, whatever the name resolves to a moment later.
    const pinned: LookupFunction = (_host, options, cb) => {
      if ((options as { all?: boolean }).all) (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [target]);
      else cb(null, target.address, target.family);
    };
    const lib = url.protocol === 'https:' ? nodeHttps() : nodeHttp();
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = lib.request(url, { method, signal, lookup: pinned, headers, ...(localAddress ? { localAddress } : {}) }, resolve);
      req.end();
      req.on('error', (err) => reject(new FetchError('unusable', `cannot fetch ${url.href}: ${signal.aborted ? 'timed out' : errorMessage(err)}`)));
    });
  })();
}

async function readCapped(res: IncomingMessage, url: string, maxBytes: number, what: string): Promise<Uint8Array> {
  const declared = Number(res.headers['content-length']);
  if (declared > maxBytes) {
    res.destroy();
    throw new FetchError('too-large', `${url} is ${declared} bytes; ${what} may be at most ${maxBytes}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) throw new FetchError('too-large', `${url} is larger than ${maxBytes} bytes: not ${what}`);
      chunks.push(chunk);
    }
  } catch (err) {
    res.destroy();
    if (err instanceof FetchError) throw err;
    throw new FetchError('unusable', `cannot fetch ${url}: ${errorMessage(err)}`);
  }
  if (size === 0) throw invalid(`${url} returned an empty body`);
  return new Uint8Array(Buffer.concat(chunks));
}
