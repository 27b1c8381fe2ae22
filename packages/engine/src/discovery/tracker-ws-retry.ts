// When to offer again after a WebRTC attempt with a peer died before its data channel opened.
//
// Such an attempt takes both ends down with it, and only fresh offers through the tracker can start
// another: waiting for the next announce (two minutes, or the lonely back-off) left two peers that
// both want each other apart that long. The cause that made this common is libdatachannel's own
// (0.24.x, upstream PR #1612): setRemoteDescription hands the answer to ICE before it records it,
// and the answerer's DTLS hello, sent as soon as its early checks succeeded and buffered until our
// DTLS transport starts, can bring the handshake to its certificate check in between. The check
// then finds no remote description, refuses the peer ("DTLS alert: unknown CA"), and the
// connection closes itself during the call ("Got a remote candidate without ICE transport").
// Nothing on our side orders those two steps, so the product recovers instead.

import type { UrlState } from './tracker-ws-state.ts';

/** Quick retries per peer before its failures wait for the ordinary schedule again. */
const MAX_QUICK_RETRIES = 4;
/** First delay (s) for the end with the lower peer id, and for the other end. */
const LOWER_FIRST_S = 1;
const HIGHER_FIRST_S = 2.5;
/** A peer's failures older than this no longer count towards its back-off. */
const FORGET_MS = 5 * 60_000;
/** Peers remembered at once (a bound, not a goal: a node with this many failing peers has others). */
const MAX_PEERS = 256;
/** Quick retries of one torrent within FORGET_MS, whichever peers failed: peers that answer our
 *  offers with garbage under ever new peer ids must not make it announce every second. */
const MAX_QUICK_PER_TORRENT = 8;

interface Failures {
  count: number;
  last: number;
}

/**
 * Failed attempts per peer (hex id) and the delay before the announce that offers again. Both ends
 * see the same attempt die; the end with the lower peer id offers again first and the other later,
 * so that the lower one's offer is normally answered before the other's goes out (the glare rule in
 * tracker-ws.ts would keep the lower one's anyway), and the later one still covers a peer that did
 * not retry (a browser) or whose fresh offer went to someone else.
 */
export class AttemptRetries {
  private readonly byPeer = new Map<string, Failures>();
  private readonly ownIdHex: string;
  /** When the quick retries of the last FORGET_MS were granted. */
  private granted: number[] = [];

  constructor(ownIdHex: string) {
    this.ownIdHex = ownIdHex;
  }

  /** Records a failed attempt with `peerIdHex`: seconds until offering again, or undefined when this
   *  peer's quick retries are used up. */
  failed(peerIdHex: string, now = Date.now()): number | undefined {
    let f = this.byPeer.get(peerIdHex);
    if (f && now - f.last > FORGET_MS) f = undefined;
    f = { count: (f?.count ?? 0) + 1, last: now };
    this.byPeer.delete(peerIdHex);
    this.byPeer.set(peerIdHex, f);
    if (this.byPeer.size > MAX_PEERS) this.byPeer.delete(this.byPeer.keys().next().value!);
    if (f.count > MAX_QUICK_RETRIES) return undefined;
    this.granted = this.granted.filter((t) => now - t <= FORGET_MS);
    if (this.granted.length >= MAX_QUICK_PER_TORRENT) return undefined;
    this.granted.push(now);
    const first = this.ownIdHex < peerIdHex ? LOWER_FIRST_S : HIGHER_FIRST_S;
    // A little spread, so that many peers' retries do not fall on the same instant.
    return first * 2 ** (f.count - 1) * (1 + Math.random() * 0.2);
  }

  /** A connection to `peerIdHex` opened: its next failure starts from the first delay again. */
  connected(peerIdHex: string): void {
    this.byPeer.delete(peerIdHex);
  }
}

/** Records on `u` that a failed attempt with `peerIdHex` wants fresh offers in `s` seconds; true when
 *  the announce timer must be set again for it. */
export function wantRetry(u: UrlState, peerIdHex: string, s: number, now = Date.now()): boolean {
  const at = now + s * 1000;
  // Another peer's retry that comes sooner makes fresh offers for this one too. This peer's own is
  // put off (its back-off): the end with the lower id then keeps offering first.
  if (u.retry && u.retry.peer !== peerIdHex && u.retry.at > now && u.retry.at <= at) return false;
  u.retry = { at, peer: peerIdHex };
  return u.retryTimer || u.dueAt > at;
}

/** A connection to `peerIdHex` opened after all (its own fresh offer): no early announce for its
 *  sake. True when the announce timer was the retry's and must be set again. */
export function retryNotNeeded(u: UrlState, peerIdHex: string): boolean {
  if (u.retry?.peer !== peerIdHex) return false;
  u.retry = undefined;
  return u.retryTimer;
}
