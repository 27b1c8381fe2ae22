// How many WebRTC offers a session has out at once, across all its torrents. Each unanswered offer
// holds a peer connection (in Node: libdatachannel's ICE agent and its own UDP socket) for up to
// 50 s. A torrent offers 5 with each announce while it downloads (WebTorrent's number), so a node
// starting hundreds of downloads at once held hundreds of them: a cluster member taking over a
// dead member's copies went from ~40 sockets to ~1,500 (issue 63, the 2-hour cluster soak; 100
// torrents at 2 copies on 3 members, one killed: 787 at the peak, ~500 of them offers; 152 with
// this budget). The budget bounds that, as libtorrent bounds half-open TCP connections: a torrent
// makes the offers there is room for, and one left short waits its turn (FIFO) until offers
// connect (their data channel opens), time out or are dropped. An answered offer still counts until it connects: a tracker
// that answered every offer at once would otherwise free the room for ever more attempts.
//
// Answers to others' offers have a budget of their own: an offer reaches us through the tracker
// with any peer id its sender likes, and each answer holds a peer connection until its data channel
// opens (up to 30 s), so a flood of offers (a hostile peer, or tracker) made a peer connection and
// a UDP socket for each until the process ran out of descriptors. Past the budget an offer is not
// answered: its sender tries others, or us again with its next announce.

/** Offers out at once per session by default: ten torrents' worth (5 each). */
export const MAX_PENDING_OFFERS = 50;
/** Answers waiting for their data channel at once per session by default. */
export const MAX_PENDING_ANSWERS = 50;

/** A torrent's tracker URL waiting for room to offer. */
export interface OfferWaiter {
  offerRoom(): void;
}

export class OfferBudget {
  readonly max: number;
  readonly #out = new Set<object>();
  /** In the order they began to wait (a Set keeps it). */
  readonly #waiting = new Set<OfferWaiter>();

  constructor(max: number) {
    this.max = max;
  }

  /** Made, not yet connected nor closed. */
  get pending(): number {
    return this.#out.size;
  }

  /** How many of `wanted` offers may be made now. */
  room(wanted: number): number {
    return Math.max(0, Math.min(wanted, this.max - this.#out.size));
  }

  /** An offer's (or answer's) peer connection, made: it counts until released(). */
  taken(pc: object): void {
    this.#out.add(pc);
  }

  /** Its data channel opened, or it was closed: its room goes to the first torrent waiting. */
  released(pc: object): void {
    if (!this.#out.delete(pc)) return;
    const next = this.#waiting.values().next();
    if (next.done) return;
    this.#waiting.delete(next.value);
    next.value.offerRoom();
  }

  /** `w.offerRoom()` is called once, when an offer's room frees (first come, first served); it
   *  must only schedule its announce (it runs inside released()). */
  wait(w: OfferWaiter): void {
    this.#waiting.add(w);
  }

  waiting(w: OfferWaiter): boolean {
    return this.#waiting.has(w);
  }

  /** No longer waiting (the torrent stopped). */
  cancel(w: OfferWaiter): void {
    this.#waiting.delete(w);
  }
}
