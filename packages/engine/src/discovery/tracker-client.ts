// Announces one torrent to its trackers (BEP 12 tiers). Platform-free: HTTP goes through fetch and
// UDP through an injected transport, so the browser build simply has no UDP trackers.

import type { LocalTracker, TrackerStatus } from '../api.ts';
import { toHex } from '../encoding/hex.ts';
import type { PeerAddress } from '../types.ts';
import type { AnnouncePacer } from './announce-pacer.ts';
import { sharedAnnounceTimers, type AnnounceTimers, type TimedAnnounce } from './announce-timers.ts';
import type { EngineTally } from '../events/counters.ts';
import { createHttpTransport } from './tracker-http.ts';
import type { AnnounceEvent, AnnounceParams, AnnounceResult, TrackerTransport } from './tracker-types.ts';

export interface TrackerStats {
  uploaded: number;
  downloaded: number;
  left: number;
}

export interface TrackerClientOptions {
  infoHash: Uint8Array;
  /** infoHash in hex when the caller holds it already (the torrent's own string, not a copy each). */
  infoHashHex?: string;
  peerId: Uint8Array;
  /** The port announced: a number, or read at each announce (it follows the gateway's port mapping). */
  port: number | (() => number);
  tiers: string[][];
  getStats: () => TrackerStats;
  onPeers: (peers: PeerAddress[], source: string) => void;
  /** Returns the UDP transport (caller-owned, usually one per session); omitted = no UDP trackers. */
  udp?: () => TrackerTransport;
  http?: TrackerTransport;
  numwant?: number;
  /** BEP 12 shuffles each tier once; false keeps the given order (deterministic tests). Default true. */
  shuffle?: boolean;
  /** Floor on the tracker's interval, in seconds, so a hostile tracker can't make us hammer it. */
  minInterval?: number;
  /** First retry delay after a whole tier failed, in seconds; doubles per consecutive failure. */
  retryDelay?: number;
  /** How long stop() waits for the `stopped` announces. */
  stopTimeoutMs?: number;
  /** The session's announce pacer: scheduled announces wait for a turn (announce() does not). */
  pacer?: AnnouncePacer;
  /** A tracker's status changed (announcing, answered, failed). */
  onStatus?: () => void;
  /** The tracker of this process: its URLs' tiers become one tier announcing in-process. */
  local?: LocalTracker;
  /** The session's running totals: each announce's outcome is counted there. */
  tally?: EngineTally;
}

type Info = Omit<TrackerStatus, 'url' | 'tier'>;

interface Tracker {
  url: string;
  /** What happened last; absent while nothing did ('idle', no peers): status() makes the object. */
  info?: Info;
}

/** One BEP 12 tier. While it waits for its next announce it is an entry of the session's
 *  AnnounceTimers (announce-timers.ts), not a Node timer with a closure of its own. */
class Tier implements TimedAnnounce {
  readonly index: number;
  readonly trackers: Tracker[];
  /** `started` reached a tracker of this tier, so later announces carry no event (or completed/stopped). */
  started = false;
  busy = false;
  /** An announce asked for while one was in flight; sent as soon as that one ends. */
  queued: { event: AnnounceEvent | undefined; now?: boolean } | undefined = undefined;
  /** Set while the tier waits for its turn at the pacer: lets it go now. */
  skipWait: (() => void) | undefined = undefined;
  failures = 0;
  trackerId: string | undefined = undefined;
  /** The in-process tracker's tier (its HTTP and UDP URLs): one call, no network, no pacer turn. */
  readonly local: LocalTracker | undefined;
  dueAt = Infinity;
  heapAt = -1;
  private readonly client: TrackerClient;

  constructor(client: TrackerClient, index: number, urls: string[], local: LocalTracker | undefined) {
    this.client = client;
    this.index = index;
    this.trackers = urls.map((url) => ({ url, info: undefined }));
    this.local = local;
  }

  due(): void {
    this.client.tierDue(this);
  }
}

const MAX_RETRY_S = 1800;
/** One stateless HTTP transport for every client that brings none (one each cost 10,000 copies). */
let defaultHttp: TrackerTransport | undefined;

export class TrackerClient {
  private readonly opts: TrackerClientOptions;
  private readonly tiers: Tier[];
  private readonly http: TrackerTransport;
  private udp: TrackerTransport | undefined;
  private readonly key = (Math.random() * 0x1_0000_0000) >>> 0;
  /** Made while a network announce is under way (see signal()): an AbortSignal holds maps of its
   *  own, and 10,000 idle clients (or ones announcing in-process) need none. */
  private abort: AbortController | undefined;
  private running = false;
  private readonly timers: AnnounceTimers;

  constructor(opts: TrackerClientOptions) {
    this.opts = opts;
    this.http = opts.http ?? (defaultHttp ??= createHttpTransport());
    // The local tracker's URLs (wherever they sit) make one tier, where the first of them was.
    const local = opts.local;
    const localUrls: string[] = [];
    const lists: string[][] = [];
    for (const tier of opts.tiers) {
      const urls = [...new Set(tier)];
      const own = local ? urls.filter((u) => local.urls.includes(u)) : [];
      if (own.length > 0) {
        if (localUrls.length === 0) lists.push(localUrls);
        for (const u of own) if (!localUrls.includes(u)) localUrls.push(u);
      }
      const rest = own.length > 0 ? urls.filter((u) => !own.includes(u)) : urls;
      if (rest.length > 0) lists.push(opts.shuffle === false ? rest : shuffle(rest));
    }
    this.timers = opts.pacer?.timers ?? sharedAnnounceTimers;
    this.tiers = lists.map((urls, index) => new Tier(this, index, urls, urls === localUrls ? local : undefined));
    for (const tier of this.tiers) {
      for (const t of tier.trackers) {
        const why = this.unsupported(t.url);
        if (why) t.info = { status: 'error', message: why, peers: 0 };
      }
    }
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.opts.pacer?.join(this.pacedTiers());
    for (const tier of this.tiers) void this.announceTier(tier, 'started');
  }

  /** Tells every tier the download finished. */
  completed(): void {
    if (!this.running) return;
    // A busy tier may be mid-`started`; queueing `completed` behind it beats dropping it.
    for (const tier of this.tiers) if (tier.started || tier.busy) void this.announceTier(tier, 'completed');
  }

  /** Forces an announce now, outside the regular interval (and ahead of the pacer's line). */
  announce(): void {
    if (!this.running) return;
    for (const tier of this.tiers) void this.announceTier(tier, tier.started ? undefined : 'started', true);
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.opts.pacer?.join(-this.pacedTiers());
    for (const tier of this.tiers) this.timers.cancel(tier);
    this.abort?.abort(new Error('tracker client stopped'));
    this.abort = undefined;
    const signal = AbortSignal.timeout(this.opts.stopTimeoutMs ?? 3000);
    // Only the tracker that knows us matters for `stopped`; falling over to others would just be slow.
    await Promise.all(
      this.tiers
        .filter((tier) => tier.started)
        .map(async (tier) => {
          const t = tier.trackers.find((x) => !this.unsupported(x.url));
          if (!t) return;
          try {
            await this.send(tier, t.url, { ...this.params(tier, 'stopped'), numwant: 0, signal });
            if (this.opts.tally) this.opts.tally.announcesOk++;
            setInfo(tier, t, { status: 'idle', message: undefined, lastAnnounce: Date.now() });
          } catch {
            if (this.opts.tally) this.opts.tally.announcesFailed++;
            // Best effort: the tracker expires us anyway.
          }
          tier.started = false;
        }),
    );
  }

  /** The first tracker's URL, in tier order: what a list row names, without building every status. */
  firstUrl(): string | undefined {
    for (const tier of this.tiers) if (tier.trackers.length > 0) return tier.trackers[0]!.url;
    return undefined;
  }

  status(): TrackerStatus[] {
    return this.tiers.flatMap((tier) => tier.trackers.map((t) => ({ url: t.url, tier: tier.index, status: 'idle' as const, peers: 0, ...t.info })));
  }

  private async announceTier(tier: Tier, event: AnnounceEvent | undefined, now = false): Promise<void> {
    if (!this.running) return;
    if (tier.busy) {
      // Waiting for the pacer: an explicit announce() lets it go at once.
      if (now && tier.skipWait) return tier.skipWait();
      // Keep the more important event: a queued `completed` must not be replaced by a plain re-announce.
      if (!tier.queued || event !== undefined) tier.queued = { event, now: now || tier.queued?.now };
      return;
    }
    tier.busy = true;
    this.timers.cancel(tier);
    let nextS: number | undefined;
    let release: (() => void) | undefined;
    try {
      // An in-process announce costs next to nothing: no turn to wait for.
      if (this.opts.pacer && !now && !tier.local) {
        // A torrent that wants data (or says it finished) goes ahead of seeds re-announcing.
        const high = event === 'completed' || this.opts.getStats().left > 0;
        // An explicit announce() meanwhile lets it go at once (it leaves the line).
        const skip = new AbortController();
        tier.skipWait = () => skip.abort();
        release = await this.opts.pacer.turn(high, this.signal(), skip.signal).catch(() => undefined);
        tier.skipWait = undefined;
        if (!this.running) return;
      }
      for (let i = 0; i < tier.trackers.length && this.running; i++) {
        const t = tier.trackers[i]!;
        if (this.unsupported(t.url)) continue;
        setInfo(tier, t, { status: 'working' });
        this.statusChanged();
        try {
          const res = await this.send(tier, t.url, { ...this.params(tier, event), signal: tier.local ? undefined : this.signal() });
          if (this.opts.tally) this.opts.tally.announcesOk++;
          if (res.trackerId) tier.trackerId = res.trackerId;
          setInfo(tier, t, {
            status: 'ok',
            message: res.warning,
            peers: res.peers.length,
            ...(res.complete !== undefined ? { seeders: res.complete } : {}),
            ...(res.incomplete !== undefined ? { leechers: res.incomplete } : {}),
            lastAnnounce: Date.now(),
            lastReplyAt: Date.now(),
            failures: 0,
            failingSince: undefined,
          });
          // BEP 12: a tracker that answered moves to the front of its tier.
          tier.trackers.splice(i, 1);
          tier.trackers.unshift(t);
          if (event === 'started' || event === undefined) tier.started = true;
          tier.failures = 0;
          nextS = Math.max(res.minInterval ?? 0, res.interval, this.opts.minInterval ?? 30);
          // In-process `started` announces go at once (no pacer): spread the re-announces that
          // follow over the second half of the interval, so they never come all together.
          if (tier.local && event === 'started') nextS = Math.round(nextS * (0.5 + Math.random() / 2));
          if (res.peers.length > 0) this.safePeers(res.peers, t.url);
          break;
        } catch (err) {
          if (!this.running) {
            setInfo(tier, t, { status: 'idle' });
            break;
          }
          if (this.opts.tally) this.opts.tally.announcesFailed++;
          const message = errorMessage(err);
          const now = Date.now();
          // Failures in a row since its last answer, and since when ("timed out 5 times since 12:02").
          const failures = (t.info?.failures ?? 0) + 1;
          const failingSince = failures === 1 ? now : (t.info?.failingSince ?? now);
          setInfo(tier, t, { status: 'error', message, lastAnnounce: now, lastError: message, lastErrorAt: now, failures, failingSince });
        }
      }
      if (nextS === undefined) {
        tier.failures++;
        nextS = Math.min(MAX_RETRY_S, (this.opts.retryDelay ?? 60) * 2 ** (tier.failures - 1));
      }
    } catch {
      // Never let an announce failure escape a timer; the per-tracker status already says what happened.
      nextS ??= this.opts.retryDelay ?? 60;
    } finally {
      tier.busy = false;
      // Nothing left to abort once no tier announces.
      if (this.abort && !this.tiers.some((x) => x.busy)) this.abort = undefined;
      release?.();
      this.statusChanged();
    }
    if (!this.running) return;
    const queued = tier.queued;
    tier.queued = undefined;
    if (queued) {
      const ev = !tier.started ? 'started' : queued.event === 'started' ? undefined : queued.event;
      void this.announceTier(tier, ev, queued.now);
      return;
    }
    this.timers.at(tier, nextS * 1000);
  }

  /** @internal The tier's wait is over (AnnounceTimers). */
  tierDue(tier: Tier): void {
    // A failed `started` is retried as `started`: the tracker never learned about us.
    void this.announceTier(tier, tier.started ? undefined : 'started');
  }

  private signal(): AbortSignal {
    return (this.abort ??= new AbortController()).signal;
  }

  /** Tiers that take turns at the pacer (the in-process one does not). */
  private pacedTiers(): number {
    let n = 0;
    for (const tier of this.tiers) if (!tier.local) n++;
    return n;
  }

  private statusChanged(): void {
    try {
      this.opts.onStatus?.();
    } catch {
      // a consumer's failure is not the tracker's
    }
  }

  private params(tier: Tier, event: AnnounceEvent | undefined): AnnounceParams {
    const s = this.opts.getStats();
    return {
      infoHash: this.opts.infoHash,
      peerId: this.opts.peerId,
      port: typeof this.opts.port === 'function' ? this.opts.port() : this.opts.port,
      uploaded: s.uploaded,
      downloaded: s.downloaded,
      left: s.left,
      event,
      numwant: this.opts.numwant ?? 50,
      key: this.key,
      trackerId: tier.trackerId,
    };
  }

  /** One announce: in-process for the local tier (whatever its URL's scheme), else over the network. */
  private send(tier: Tier, url: string, p: AnnounceParams): Promise<AnnounceResult> {
    const local = tier.local;
    if (!local) return this.transport(url).announce(url, p);
    return (async () => {
      const r = await local.announce({
        infoHashHex: toHex(p.infoHash),
        peerIdHex: toHex(p.peerId),
        port: p.port,
        uploaded: p.uploaded,
        downloaded: p.downloaded,
        left: p.left,
        event: p.event,
        numwant: p.numwant ?? 50,
      });
      return { interval: r.interval, complete: r.complete, incomplete: r.incomplete, peers: r.peers };
    })();
  }

  private transport(url: string): TrackerTransport {
    if (url.startsWith('udp:')) {
      this.udp ??= this.opts.udp!();
      return this.udp;
    }
    return this.http;
  }

  private unsupported(url: string): string | undefined {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
    if (scheme === 'http' || scheme === 'https') return undefined;
    if (scheme === 'udp') return this.opts.udp ? undefined : 'UDP trackers are not available here';
    return `unsupported tracker scheme "${scheme ?? url}:"`;
  }

  private safePeers(peers: PeerAddress[], source: string): void {
    try {
      this.opts.onPeers(peers, source);
    } catch {
      // A throwing consumer must not look like a tracker failure.
    }
  }
}

/** Updates a tracker's status; in the local tier one answer stands for all its URLs (HTTP and UDP). */
function setInfo(tier: Tier, t: Tracker, change: Partial<Info>): void {
  const info: Info = { status: 'idle', peers: 0, ...t.info, ...change };
  if (!tier.local) t.info = info;
  // One object for all its URLs: they are one announce.
  else for (const x of tier.trackers) x.info = info;
}

function shuffle<T>(a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

function errorMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // fetch wraps the useful part (ECONNREFUSED, timeout) in `cause`.
  const cause = (err as { cause?: unknown }).cause;
  if (err.message === 'fetch failed' && cause instanceof Error) return `fetch failed: ${cause.message}`;
  if (err.name === 'TimeoutError') return 'tracker timed out';
  return err.message;
}
