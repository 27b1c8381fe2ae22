// The state a WebSocket tracker client (tracker-ws.ts) keeps per tracker URL, per pending offer and
// per peer it is connecting to, and the subscription that routes a socket's events to it.
import type { TrackerStatus } from '../api.ts';
import type { Json, Subscriber, TrackerSocket } from './ws-pool.ts';

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

export interface UrlState {
  url: string;
  socket: TrackerSocket;
  status: TrackerStatus;
  started: boolean;
  busy: boolean;
  queued: { event: string | undefined } | undefined;
  timer?: ReturnType<typeof setTimeout>;
  interval: number;
  offers: Map<string, PendingOffer>;
  /** Leechers in the tracker's last reply. */
  leechers: number;
  /** Seconds of the last quick re-announce while we had no connection (0: we have one). */
  lonelyRetry: number;
  /** Offers the last announce carried (a seed's first carries none: it knows of no leecher yet). */
  offered: number;
  /** When the announce timer fires (ms; Infinity: none set), and whether it is `retry`'s. */
  dueAt: number;
  retryTimer: boolean;
  /** A failed attempt's wish for fresh offers (attemptFailed): when, and for which peer (hex). A
   *  later schedule does not put it off; the next announce that makes offers fulfils it. */
  retry: { at: number; peer: string } | undefined;
}

/** An attempt we gave up ourselves (superseded, stopped): not a failure to retry. */
export class GaveUp extends Error {}

/** What a UrlSubscriber tells its client (WsTrackerClient). */
export interface UrlEvents {
  socketOpen(u: UrlState): void;
  onMessage(u: UrlState, m: Json): void;
  socketDown(u: UrlState, reason: string): void;
}

/** A URL's subscription to its socket: two fields and the class's methods, where three closures and
 *  their context cost some 250 bytes per torrent (10,000 torrents: 2.5 MB). */
export class UrlSubscriber implements Subscriber {
  private readonly client: UrlEvents;
  private readonly u: UrlState;
  constructor(client: UrlEvents, u: UrlState) {
    this.client = client;
    this.u = u;
  }
  onOpen(): void {
    this.client.socketOpen(this.u);
  }
  onMessage(m: Json): void {
    this.client.onMessage(this.u, m);
  }
  onDown(reason: string): void {
    this.client.socketDown(this.u, reason);
  }
}
