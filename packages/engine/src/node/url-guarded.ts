// SessionOptions.urlGuard applied to what a session reads beyond the wire: web seeds and mirrors
// (http(s) through the guard's fetch, other schemes checked first) and UDP trackers.

import type { UrlGuard } from '../api.ts';
import { httpRangeRead } from '../swarm/webseed.ts';
import type { RangeRead } from '../swarm/range-read.ts';
import type { TrackerTransport } from '../discovery/tracker-types.ts';

/** Web seed readers through SessionOptions.urlGuard: http(s) by its fetch (checked and pinned),
 *  other schemes (ftp) checked before each read. Made once per session. */
export function guardedReads(guard: UrlGuard, readers: Record<string, RangeRead> | undefined): (scheme: string) => RangeRead | undefined {
  const http = httpRangeRead(guard.fetch);
  const made = new Map<string, RangeRead>();
  return (scheme) => {
    if (scheme === 'http' || scheme === 'https') return http;
    const inner = readers?.[scheme];
    if (!inner) return undefined;
    let r = made.get(scheme);
    if (!r) made.set(scheme, (r = async (url, start, end, signal) => (await guard.check(url), inner(url, start, end, signal))));
    return r;
  };
}

/** A tracker transport whose URLs pass SessionOptions.urlGuard first. */
export function checkedTransport(inner: TrackerTransport, guard: UrlGuard): TrackerTransport {
  return {
    announce: async (url, p) => (await guard.check(url), inner.announce(url, p)),
    ...(inner.scrape ? { scrape: async (url: string, hashes: Uint8Array[], signal?: AbortSignal) => (await guard.check(url), inner.scrape!(url, hashes, signal)) } : {}),
  };
}
