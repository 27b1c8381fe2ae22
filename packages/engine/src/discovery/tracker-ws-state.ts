// The state a WebSocket tracker client (tracker-ws.ts) keeps per tracker URL, per pending offer and
// per peer it is connecting to, and the subscription that routes a socket's events to it.
import type { TrackerStatus } from '../api.ts';
import type { Json, Subscriber, TrackerSocket } from './ws-pool.ts';
import type { TimedAnnounce } from './announce-timers.ts';
import type { OfferWaiter } from './offer-budget.ts';

export interface PendingOffer {
  pc: RTCPeerConnection;
  channel: RTCDataChannel;
  timer: ReturnType<typeof setTimeout>;
}

/** One connection (being made or made) to a peer. */
export interface Attempt {
  role: 'offer' | 'answer';
  connected: boolean;
  /** When it began (ms), and the kinds of candidate the offer it answers had: a stuck answer gives
   *  way to the peer's next offer. */
  startedAt?: number;
  candidates?: Set<string>;
  /** Gives up an attempt still waiting for its data channel: an answer our own offer supersedes,
   *  an offer whose peer answered a newer one. */
  abort?: () => void;
}

export interface UrlState extends TimedAnnounce, OfferWaiter {
  url: string;
  socket: TrackerSocket;
  status: TrackerStatus;
  started: boolean;
  busy: boolean;
  queued: { event: string | undefined } | undefined;
  interval: number;
  offers: Map<string, PendingOffer>;
  /** Leechers in the tracker's last reply. */
  leechers: number;
  /** Seconds of the last quick re-announce while we had no connection (0: we have one). */
  lonelyRetry: number;
  /** Offers the last announce carried (a seed's first carries none: it knows of no leecher yet). */
  offered: number;
  /** When the next announce is due (ms, the engine's clock; Infinity: none set; set by the
   *  session's AnnounceTimers only), and whether it is `retry`'s. */
  dueAt: number;
  retryTimer: boolean;
  /** A failed attempt's wish for fresh offers (attemptFailed): when, and for which peer (hex). A
   *  later schedule does not put it off; the next announce that makes offers fulfils it. */
  retry: { at: number; peer: string } | undefined;
}

/** An attempt we gave up ourselves (superseded, stopped): not a failure to retry. */
export class GaveUp extends Error {}

/** What a URL's entry tells its client (WsTrackerClient). */
export interface UrlEvents {
  socketOpen(u: UrlState): void;
  onMessage(u: UrlState, m: Json): void;
  socketDown(u: UrlState, reason: string): void;
  urlDue(u: UrlState): void;
  offerRoom(u: UrlState): void;
}

/**
 * One WebSocket tracker URL of a torrent: its state, its subscription to the shared socket, and,
 * while it waits for its next announce, its entry in the session's AnnounceTimers. One object
 * with the class's methods, where a subscriber with three closures and a Node timer with its own
 * cost some 500 bytes per torrent (10,000 torrents: 5 MB).
 */
export class UrlEntry implements UrlState, Subscriber, TimedAnnounce {
  readonly url: string;
  socket = undefined as unknown as TrackerSocket;
  status: TrackerStatus;
  started = false;
  busy = false;
  queued: { event: string | undefined } | undefined = undefined;
  interval = 120;
  offers: Map<string, PendingOffer>;
  leechers = 0;
  lonelyRetry = 0;
  offered = 0;
  dueAt = Infinity;
  heapAt = -1;
  retryTimer = false;
  retry: { at: number; peer: string } | undefined = undefined;
  private readonly client: UrlEvents;

  constructor(client: UrlEvents, url: string, tier: number, offers: Map<string, PendingOffer>) {
    this.client = client;
    this.url = url;
    this.status = { url, tier, status: 'idle', peers: 0 };
    this.offers = offers;
  }
  onOpen(): void {
    this.client.socketOpen(this);
  }
  onMessage(m: Json): void {
    this.client.onMessage(this, m);
  }
  onDown(reason: string): void {
    this.client.socketDown(this, reason);
  }
  due(): void {
    this.client.urlDue(this);
  }
  offerRoom(): void {
    this.client.offerRoom(this);
  }
}
