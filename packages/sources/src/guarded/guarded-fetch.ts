// `fetch` and range sources over the SSRF guard (url-guard.ts): every HTTP hop's address checked
// and pinned, an FTP host resolved, checked and dialled by that address.
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { TrackerFetch } from '@cascade/engine';
import { trackerResponse } from '@cascade/engine/bound-fetch';
import { openRangeSource, type RangeSource } from '../ranges/range-source.ts';
import { ftpRangeRead, ftpSize } from '../ranges/ftp.ts';
import { guardedRequest, MAX_REDIRECTS } from './fetch-capped.ts';
import { resolveAllowed, type PrivateAllowance } from './url-guard.ts';

/** GET (or `method`) over the guard, following redirects: every hop's address checked and pinned,
 *  at most MAX_REDIRECTS hops. The last hop's answer, its body not yet read. */
async function guardedHops(url: URL, allowPrivate: PrivateAllowance, signal: AbortSignal, headers: Record<string, string>, method: string, localAddress?: string, family?: 4 | 6): Promise<IncomingMessage> {
  for (let hop = 0; ; hop++) {
    const res = await guardedRequest(url, allowPrivate, signal, headers, method, localAddress, family);
    const location = res.headers.location;
    if (res.statusCode! >= 300 && res.statusCode! < 400 && location && hop < MAX_REDIRECTS) {
      res.resume();
      url = new URL(location, url);
      continue;
    }
    return res;
  }
}

/** `fetch` over the guard: every hop's address checked and pinned, at most MAX_REDIRECTS hops. */
/** family: connect over that address family only (a dual-stack node's tracker announces). */
export function guardedFetch(allowPrivate: PrivateAllowance, localAddress?: string, family?: 4 | 6): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : input);
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((v, k) => (headers[k] = v));
    const signal = init?.signal ?? AbortSignal.timeout(60_000);
    const res = await guardedHops(url, allowPrivate, signal, headers, init?.method ?? 'GET', localAddress, family);
    const h = new Headers();
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
    const bodyless = init?.method === 'HEAD' || res.statusCode === 204 || res.statusCode === 304;
    if (bodyless) res.resume();
    return new Response(bodyless ? null : (Readable.toWeb(res) as ReadableStream), { status: res.statusCode!, headers: h });
  }) as typeof fetch;
}

/** The tracker side of the guard's fetch: status and body only, without the Headers and Response
 *  classes, whose first use loads Node's undici (~0.1 CPU-s at a node's first announce). */
export function guardedTrackerFetch(allowPrivate: PrivateAllowance, localAddress?: string, family?: 4 | 6): TrackerFetch {
  return async (input, init) => {
    return trackerResponse(await guardedHops(new URL(input), allowPrivate, init.signal, {}, 'GET', localAddress, family));
  };
}

/** A range source whose connections only reach addresses the guard allows. */
export function guardedSource(url: string, allowPrivate: PrivateAllowance): RangeSource {
  const u = new URL(url);
  if (u.protocol !== 'ftp:') return openRangeSource(url, guardedFetch(allowPrivate));
  // basic-ftp dials the host we give it, and its passive data connections go to that same address.
  const pinned = async (): Promise<string> => {
    const { address, family } = await resolveAllowed(u, allowPrivate);
    const copy = new URL(url);
    copy.hostname = family === 6 ? `[${address}]` : address;
    return copy.href;
  };
  return {
    url,
    probe: async (signal) => ({ length: await ftpSize(await pinned(), signal) }),
    read: async (_url, start, end, signal) => ftpRangeRead(await pinned(), start, end, signal),
  };
}
