// What an announce or scrape means, independent of the protocol it came in: private-mode checks,
// numwant limits and counting. HTTP, UDP and WebSocket front ends only parse and encode.

import type { Metrics, Protocol } from './metrics.ts';
import type { AnnounceInput, AnnounceResult, Awaitable, Refusal, SwarmCounts, TrackerStore } from '../store/store.ts';
import { then } from '../store/store.ts';

export interface CoreOptions {
  store: TrackerStore;
  metrics: Metrics;
  /** Seconds between announces we ask clients for, and the least we accept. */
  interval: number;
  minInterval: number;
  defaultNumwant: number;
  maxNumwant: number;
  private: boolean;
}

export type AnnounceOutcome = ({ ok: true } & AnnounceResult) | { ok: false; reason: string };
export type ScrapeOutcome = { ok: true; files: [string, SwarmCounts][] } | { ok: false; reason: string };

export const REASONS = {
  noPasskey: 'this is a private tracker: announce to /announce/<passkey> with your passkey',
  'unknown passkey': 'unknown passkey: this tracker has no user with that passkey',
  'unregistered torrent': 'torrent not registered with this tracker',
} as const;

// Field by field, not a spread: this runs for every announce.
function succeeded(r: AnnounceResult): AnnounceOutcome {
  return { ok: true, peers: r.peers, counts: r.counts, compact4: r.compact4, compact6: r.compact6, written: r.written };
}

export class TrackerCore {
  readonly store: TrackerStore;
  readonly metrics: Metrics;
  readonly interval: number;
  readonly minInterval: number;
  readonly private: boolean;
  private readonly defaultNumwant: number;
  private readonly maxNumwant: number;
  private readonly intoOutcome: { ok: true } & AnnounceResult = { ok: true, peers: [], counts: { complete: 0, incomplete: 0, downloaded: 0 }, compact4: undefined, compact6: undefined, written: undefined };

  constructor(o: CoreOptions) {
    this.store = o.store;
    this.metrics = o.metrics;
    this.interval = o.interval;
    this.minInterval = o.minInterval;
    this.private = o.private;
    this.defaultNumwant = o.defaultNumwant;
    this.maxNumwant = o.maxNumwant;
  }

  /** Clients disagree on "no preference" (absent, -1, huge); none of that is worth a failure. */
  numwant(asked: number | undefined): number {
    if (asked === undefined || !Number.isFinite(asked) || asked < 0) return this.defaultNumwant;
    return Math.min(Math.floor(asked), this.maxNumwant);
  }

  /** `local`: an announce from this process (the node that embeds the tracker), no socket involved. */
  announce(a: AnnounceInput, proto: Protocol | 'local'): Awaitable<AnnounceOutcome> {
    if (proto === 'local') this.metrics.localAnnounces++;
    else this.metrics.announced(proto, a.now);
    if (a.event === 'stopped') a.numwant = 0;
    if (!this.private) {
      a.passkey = undefined;
      // One record per peer and address family: a dual-stack client announces over each (as
      // libtorrent does, once per listen socket), and each must not replace the other.
      if (a.kind === 'ip' && a.host.includes(':')) otherKey(a);
      return this.stored(a);
    }
    if (!a.passkey) return this.fail(proto, REASONS.noPasskey);
    return then(this.store.authorize(a.passkey, a.infoHashHex), (refusal: Refusal): Awaitable<AnnounceOutcome> => {
      if (refusal) return this.fail(proto, REASONS[refusal]);
      return this.stored(a);
    });
  }

  /**
   * Port 0 is a look-up: answered with peers, never listed (nobody can dial port 0). Private
   * discovery's exits announce so, for clients that must not be listed under the exit's address.
   * The stores have one operation, so a look-up is an announce taken straight back.
   */
  private stored(a: AnnounceInput): Awaitable<AnnounceOutcome> {
    if (a.port !== 0 || a.kind !== 'ip' || a.event === 'stopped') {
      const r = this.store.announce(a);
      if (r instanceof Promise) return r.then(succeeded);
      // An `into` announce's caller reads the outcome at once (AnnounceInput.into): the UDP front
      // end's every datagram then makes no outcome object.
      if (!a.into) return succeeded(r);
      const o = this.intoOutcome;
      o.peers = r.peers;
      o.counts = r.counts;
      o.compact4 = r.compact4;
      o.compact6 = r.compact6;
      o.written = r.written;
      return o;
    }
    a.compact = false;
    a.event = undefined;
    return then(this.store.announce(a), (r: AnnounceResult) => {
      const peers = r.peers;
      // Its own fields, not a spread: the UDP front end's announce has its infohash and peer id as
      // getters (read from the datagram), which a spread leaves behind.
      const back: AnnounceInput = { ...a, infoHashHex: a.infoHashHex, peerIdHex: a.peerIdHex, into: undefined, event: 'stopped', numwant: 0 };
      return then(this.store.announce(back), (gone: AnnounceResult) =>
        succeeded({ peers, counts: gone.counts }),
      );
    });
  }

  /**
   * BEP 7's `ipv4=` / `ipv6=`: the peer of an announce that succeeded is listed at `host` too (an
   * address of the other family than the request's, same port). Not credited in private mode:
   * the announce itself was. A second record, kept under the peer's key for that family (public
   * mode) or its second key (private mode, where a peer has one record whatever its family).
   */
  alsoAt(a: AnnounceInput, host: string): Awaitable<unknown> {
    const extra: AnnounceInput = {
      infoHashHex: a.infoHashHex, peerIdHex: a.peerIdHex, kind: 'ip', host, port: a.port, owner: '', left: a.left,
      uploaded: a.uploaded, downloaded: a.downloaded, event: a.event, numwant: 0, compact: false,
    };
    if (this.private || host.includes(':')) otherKey(extra);
    return this.store.announce(extra);
  }

  /** The peer id a record stands for (its key may be the IPv6 one: announce()). */
  peerIdOf(p: { peerIdHex: string; host: string }): string {
    return !this.private && p.host.includes(':') ? flipLast(p.peerIdHex) : p.peerIdHex;
  }

  /** Private mode reports only registered torrents, and only to known passkeys. */
  scrape(hashesHex: string[], passkey: string | undefined, proto: Protocol): Awaitable<ScrapeOutcome> {
    this.metrics.scrapes[proto]++;
    const collect = async (): Promise<ScrapeOutcome> => {
      if (this.private) {
        if (!passkey) return this.fail(proto, REASONS.noPasskey);
        if (!(await this.store.user(passkey))) return this.fail(proto, REASONS['unknown passkey']);
      }
      const files: [string, SwarmCounts][] = [];
      for (const h of hashesHex) {
        if (this.private && !(await this.store.torrentRegistered(h))) continue;
        files.push([h, await this.store.counts(h)]);
      }
      return { ok: true, files };
    };
    return collect();
  }

  failure(proto: Protocol): void {
    this.metrics.failures[proto]++;
  }

  private fail(proto: Protocol | 'local', reason: string): { ok: false; reason: string } {
    if (proto !== 'local') this.metrics.failures[proto]++;
    return { ok: false, reason };
  }
}

/** Keys an announce under the peer's second key: its peer id with the top bit of the last byte
 *  flipped (in place in the request's bytes when the front end hands them, as UDP does). */
function otherKey(a: AnnounceInput): void {
  if (a.peerId) {
    const at = (a.peerIdOffset ?? 0) + 19;
    a.peerId[at] = a.peerId[at]! ^ 0x80;
  } else a.peerIdHex = flipLast(a.peerIdHex);
}

function flipLast(hex: string): string {
  return hex.slice(0, 38) + (parseInt(hex.slice(38, 40), 16) ^ 0x80).toString(16).padStart(2, '0');
}
