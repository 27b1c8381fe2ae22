// Announces per address family, as libtorrent announces once per listen socket: a dual-stack
// session ('::') announces to a tracker whose name has both A and AAAA records over IPv4 and over
// IPv6, so the tracker lists it at both addresses (and peers of either family can dial it). One
// tracker URL stays one entry of the torrent's tracker list: its answer merges both announces'
// peers, and it fails only when both did. Scrapes likewise: over both, the higher count of each,
// so a tracker reachable over one family only is still scraped. A name with one family, an IP
// literal, or a session bound to one address announces (and scrapes) once, as before.
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import type { AnnounceParams, AnnounceResult, ScrapeEntry, TrackerTransport } from '../discovery/tracker-types.ts';
import { addressKey } from '../types.ts';
import { createHttpTransport, type TrackerFetch } from '../discovery/tracker-http.ts';
import { boundFetch } from './bound-fetch.ts';
import type { UdpTracker } from './tracker-udp.ts';
import { resolveHost, systemResolve, type Resolve } from './resolve-host.ts';

export type { Resolve };

/** A dns.lookup for http.request that gives the addresses of one family only (0: any). */
export function familyLookup(resolve: Resolve, family: 0 | 4 | 6): LookupFunction {
  return (hostname, options, cb) => {
    resolveHost(resolve, hostname).then(
      (all) => {
        const mine = family === 0 ? all : all.filter((a) => a.family === family);
        if (mine.length === 0) return cb(Object.assign(new Error(`${hostname} has no IPv${family} address`), { code: 'ENOTFOUND' }), '', family);
        if ((options as { all?: boolean }).all) (cb as unknown as (e: null, a: typeof mine) => void)(null, mine);
        else cb(null, mine[0]!.address, mine[0]!.family);
      },
      (err: NodeJS.ErrnoException) => cb(err, '', family),
    );
  };
}

/** How long a name's families are remembered (one look-up per tracker name, not per announce). */
const FAMILIES_TTL_MS = 60_000;

export class PerFamilyTransport implements TrackerTransport {
  private readonly over: (family: 4 | 6) => TrackerTransport;
  private readonly single: TrackerTransport;
  private readonly resolve: Resolve;
  private readonly families = new Map<string, { both: boolean; at: number }>();
  readonly scrape: TrackerTransport['scrape'];

  /** over(f): the transport announcing over family f; single: the one for every other case. */
  constructor(over: (family: 4 | 6) => TrackerTransport, single: TrackerTransport, resolve: Resolve) {
    this.over = over;
    this.single = single;
    this.resolve = resolve;
    this.scrape = single.scrape && ((url, hashes, signal) => this.scrapeBoth(url, hashes, signal));
  }

  private async scrapeBoth(url: string, hashes: Uint8Array[], signal?: AbortSignal): Promise<Map<string, ScrapeEntry>> {
    if (!(await this.dual(url))) return this.single.scrape!(url, hashes, signal);
    const both = await Promise.allSettled([4, 6].map((f) => this.over(f as 4 | 6).scrape!(url, hashes, signal)));
    const ok = both.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    if (ok.length === 0) throw (both[0] as PromiseRejectedResult).reason;
    // One swarm seen through two doors: a tracker counting both families answers the same on each.
    const out = new Map<string, ScrapeEntry>();
    for (const m of ok) {
      for (const [k, e] of m) {
        const had = out.get(k);
        out.set(k, had ? { complete: Math.max(had.complete, e.complete), incomplete: Math.max(had.incomplete, e.incomplete), downloaded: Math.max(had.downloaded, e.downloaded) } : e);
      }
    }
    return out;
  }

  async announce(url: string, p: AnnounceParams): Promise<AnnounceResult> {
    if (!(await this.dual(url))) return this.single.announce(url, p);
    const both = await Promise.allSettled([this.over(4).announce(url, p), this.over(6).announce(url, p)]);
    const ok = both.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    if (ok.length === 0) throw (both[0] as PromiseRejectedResult).reason;
    const seen = new Set<string>();
    const peers = ok.flatMap((r) => r.peers).filter((x) => {
      const k = addressKey(x);
      return seen.has(k) ? false : (seen.add(k), true);
    });
    return { ...ok[0]!, peers, warning: ok.map((r) => r.warning).find(Boolean) };
  }

  private async dual(url: string): Promise<boolean> {
    let host: string;
    try {
      host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    } catch {
      return false;
    }
    if (isIP(host)) return false;
    const known = this.families.get(host);
    if (known && Date.now() - known.at < FAMILIES_TTL_MS) return known.both;
    const all = await this.resolve(host).catch(() => []);
    const both = all.some((a) => a.family === 4) && all.some((a) => a.family === 6);
    if (this.families.size > 1000) this.families.clear();
    this.families.set(host, { both, at: Date.now() });
    return both;
  }
}

/** HTTP trackers of a dual-stack session: over each family when the name has both. `resolve`
 *  given (tests), every request resolves through it; else the single announce is `fallback`'s, as
 *  before. `fetchOver`: the URL guard's fetch over one family (SessionOptions.urlGuard), which
 *  then makes both announces. */
export function dualStackHttp(resolve: Resolve | undefined, fallback: TrackerTransport, fetchOver?: (family: 4 | 6) => TrackerFetch): TrackerTransport {
  const r = resolve ?? systemResolve;
  const over = (f: 0 | 4 | 6) => createHttpTransport(undefined, boundFetch(undefined, familyLookup(r, f)));
  const four = fetchOver ? createHttpTransport(undefined, fetchOver(4)) : over(4);
  const six = fetchOver ? createHttpTransport(undefined, fetchOver(6)) : over(6);
  return new PerFamilyTransport((f) => (f === 4 ? four : six), resolve && !fetchOver ? over(0) : fallback, r);
}

/** UDP trackers of a dual-stack session, likewise (the one client's sockets, one per family). */
export function dualStackUdp(udp: UdpTracker, resolve: Resolve | undefined): TrackerTransport {
  const over = (f: 4 | 6): TrackerTransport => ({ announce: (url, p) => udp.announce(url, p, f), scrape: (url, h, signal) => udp.scrape(url, h, signal, f) });
  const four = over(4);
  const six = over(6);
  return new PerFamilyTransport((f) => (f === 4 ? four : six), udp, resolve ?? systemResolve);
}
