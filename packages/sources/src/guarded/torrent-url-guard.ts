// URLs that come inside a torrent or magnet (web seeds from url-list and ws=, trackers from
// announce, announce-list and tr=) pass the guard that URLs typed into the node pass (url-guard.ts):
// a torrent anyone can hand a node must not make it fetch from its own machine or LAN, any more
// than a link can. Every HTTP hop is checked and pinned to the checked address (guardedFetch);
// UDP and WebSocket trackers and ftp web seeds are checked before each connection.
//
// Which nodes: one whose API strangers may reach. `serve` (startServer) decides it from where its
// HTTP API listens: on a concrete loopback or private address (the default 127.0.0.1, a LAN
// address) only this machine or LAN can add torrents, and the torrents of tests and LANs point
// there, so such URLs stay allowed, as `--allow-private-urls` allows them anywhere. The
// one-shot verbs (seed, download) run what their own user gave them and are not guarded.
//
// Never checked: the hosts of the node's own trackers and of the ones its user gave (--tracker),
// which every torrent gets from the node, not from the torrent.
import type { TrackerFetch, UrlGuard } from '@cascade/engine';
import { guardedFetch, guardedTrackerFetch } from './guarded-fetch.ts';
import { isPrivateAddress, resolveAllowed, type PrivateAllowance } from './url-guard.ts';
import { isIP } from 'node:net';

/** True when URLs inside torrents may reach private addresses on a node whose API listens on
 *  `host`: a concrete loopback or private address (or `localhost`). 0.0.0.0 and :: listen on every
 *  interface, public ones included. */
export function privateTorrentUrlsFor(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host.replace(/^\[|\]$/g, '')) === 0) return false;
  const h = host.replace(/^\[|\]$/g, '');
  if (h === '0.0.0.0' || h === '::') return false;
  return isPrivateAddress(h);
}

/** Host and port: what an exempt URL is matched on (an announce adds a query, the node asks its
 *  own tracker for /ice-servers, and its HTTP and WebSocket trackers share a port). */
function hostOf(url: string): string | undefined {
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    return undefined;
  }
}

export function torrentUrlGuard(opts: { allowPrivate: PrivateAllowance; exempt: () => Iterable<string>; localAddress?: string | undefined }): UrlGuard {
  const isExempt = (url: string): boolean => {
    const h = hostOf(url);
    if (h === undefined) return false;
    for (const u of opts.exempt()) if (hostOf(u) === h) return true;
    return false;
  };
  const over = (family?: 4 | 6): typeof fetch => {
    const guarded = guardedFetch(opts.allowPrivate, opts.localAddress, family);
    const trusted = guardedFetch(true, opts.localAddress, family);
    return ((input: string | URL | Request, init?: RequestInit) => {
      const url = input instanceof Request ? input.url : String(input);
      return (isExempt(url) ? trusted : guarded)(input, init);
    }) as typeof fetch;
  };
  const byFamily = { 4: over(4), 6: over(6) };
  const trackerOver = (family?: 4 | 6): TrackerFetch => {
    const guarded = guardedTrackerFetch(opts.allowPrivate, opts.localAddress, family);
    const trusted = guardedTrackerFetch(true, opts.localAddress, family);
    return (url, init) => (isExempt(url) ? trusted : guarded)(url, init);
  };
  const trackerByFamily = { 4: trackerOver(4), 6: trackerOver(6) };
  return {
    fetch: over(),
    trackerFetch: trackerOver(),
    // A node bound to one address (localAddress) has one family: it announces once.
    ...(opts.localAddress ? {} : { fetchOver: (family: 4 | 6) => byFamily[family], trackerFetchOver: (family: 4 | 6) => trackerByFamily[family] }),
    async check(url: string): Promise<void> {
      if (isExempt(url)) return;
      // The typed-URL guard takes http(s) URLs: the host is what it checks.
      const host = new URL(url).host;
      await resolveAllowed(new URL(`http://${host}/`), opts.allowPrivate);
    },
  };
}
