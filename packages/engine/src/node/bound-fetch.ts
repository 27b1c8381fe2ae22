// A fetch for tracker requests on node:http: leaving from one local address (the session's concrete
// --host, as libtorrent's outgoing_interfaces), which the global fetch cannot choose without the
// undici package, or from wherever the system chooses. Every Node session asks HTTP trackers with
// it: the global fetch (and the Response class) load Node's undici at first use, ~40 CPU-ms and
// ~100 ms of wall time before a one-shot download's first announce. GET only, redirects followed
// (at most 5), the body streamed as fetch's is.
import type { IncomingMessage } from 'node:http';
import type { LookupFunction } from 'node:net';
import { Readable } from 'node:stream';
import type { TrackerFetch, TrackerResponse } from '../discovery/tracker-http.ts';
import { nodeHttp, nodeHttps } from './lazy-builtins.ts';

const MAX_REDIRECTS = 5;

/** localAddress: where requests leave from (undefined: the system chooses); lookup: how the
 *  tracker's name is resolved (tracker-families.ts gives one family's addresses only). */
export function boundFetch(localAddress: string | undefined, lookup?: LookupFunction): TrackerFetch {
  return async (input, init) => {
    let url = new URL(input);
    for (let hop = 0; ; hop++) {
      const res = await get(url, localAddress, lookup, init.signal);
      const location = res.headers.location;
      if (res.statusCode && res.statusCode >= 300 && res.statusCode < 400 && location) {
        res.resume();
        if (hop >= MAX_REDIRECTS) throw new TypeError('tracker redirected too many times');
        url = new URL(location, url);
        continue;
      }
      return trackerResponse(res);
    }
  };
}

/** A node:http answer as a tracker fetch's: its status, and its body streamed (none for 204/304,
 *  which is drained so the socket goes back to the pool). The URL guard's tracker fetch uses it too. */
export function trackerResponse(res: IncomingMessage): TrackerResponse {
  const status = res.statusCode ?? 500;
  const body = status === 204 || status === 304 ? null : (Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>);
  if (!body) res.resume();
  return { ok: status >= 200 && status < 300, status, body };
}

function get(url: URL, localAddress: string | undefined, lookup: LookupFunction | undefined, signal: AbortSignal): Promise<IncomingMessage> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return Promise.reject(new TypeError(`cannot fetch ${url.protocol} URLs`));
  const lib = url.protocol === 'https:' ? nodeHttps() : nodeHttp();
  return new Promise((resolve, reject) => {
    const req = lib.get(url, { ...(localAddress ? { localAddress } : {}), ...(lookup ? { lookup } : {}), signal, headers: { 'user-agent': 'Cascade' } }, resolve);
    // Failing as fetch fails, so callers see one kind of error: the abort reason when aborted,
    // else TypeError('fetch failed') with the socket error as its cause.
    req.on('error', (err) => reject(signal.aborted ? signal.reason : new TypeError('fetch failed', { cause: err })));
  });
}
