// WebSocket trackers (the protocol WebTorrent and bittorrent-tracker speak): JSON over a WebSocket,
// `info_hash` / `peer_id` / `offer_id` as 20-character latin1 strings. Browsers cannot be dialled, so
// an announce carries WebRTC offers that the tracker hands to other peers in the swarm; a peer that
// gets one answers through the tracker (`to_peer_id`, `offer_id`), and the answer completes the
// offerer's connection. Each data channel that opens becomes a Connection (transport 'webrtc').
//
// Platform-free: the global WebSocket and an injected RTCPeerConnection constructor (the browser's
// own, or node-datachannel's polyfill in Node). Offers are sent complete (no trickle ICE), as
// WebTorrent does.

import type { TrackerStatus } from '../api.ts';
import { toHex } from '../encoding/hex.ts';
import type { Connection } from '../platform.ts';
import { channelOpen, connectionEnded, dataChannelConnection, iceGatheringDone } from '../webrtc/webrtc-connection.ts';
import { fromBinaryString, isWsTracker, randomBinary, sdpCandidateTypes, toBinaryString, type Json, type WsTrackerPool } from './ws-pool.ts';
import { DEFAULT_OFFERS, type WsTrackerClientOptions } from './tracker-ws-options.ts';
import { AttemptRetries, retryNotNeeded, wantRetry } from './tracker-ws-retry.ts';
import { GaveUp, UrlEntry, type Attempt, type PendingOffer, type UrlState } from './tracker-ws-state.ts';
import { sharedAnnounceTimers, type AnnounceTimers } from './announce-timers.ts';
import { clock } from '../clock.ts';

export { DEFAULT_OFFERS, offerCount, type SwarmView, type WsTrackerClientOptions, type WsTrackerStats } from './tracker-ws-options.ts';

const MAX_OFFERS = 10;
const LONELY_RETRY_MAX_S = 30;
const OFFER_TIMEOUT_MS = 50_000;
const CONNECT_TIMEOUT_MS = 30_000;

/** An answer still unconnected after this gives way to a newer offer from the same peer. */
const STUCK_ANSWER_MS = 5_000;

const NO_ATTEMPTS: ReadonlyMap<string, Attempt> = new Map();
const NO_OFFERS: ReadonlyMap<string, PendingOffer> = new Map();

/** Announces one torrent to its WebSocket trackers and turns offers/answers into connections. */
export class WsTrackerClient {
  private readonly opts: WsTrackerClientOptions;
  private readonly pool: WsTrackerPool;
  private readonly infoHashBinary: string;
  private readonly urls: UrlEntry[];
  /** Peers (hex peer id) we are connected or connecting to: one connection per peer. */
  // Shared empties until the first offer or connection: a seed in a big library holds no maps.
  private peers = NO_ATTEMPTS as Map<string, Attempt>;
  private running = false;
  /** URLs counted in the pacer's sources while running. */
  private pacedSources = 0;
  /** Made at the first failed attempt (most torrents never have one). */
  private retries: AttemptRetries | undefined;
  private readonly timers: AnnounceTimers;

  constructor(opts: WsTrackerClientOptions) {
    this.opts = opts;
    this.pool = opts.pool;
    this.infoHashBinary = toBinaryString(opts.infoHash);
    this.timers = opts.pacer?.timers ?? sharedAnnounceTimers;
    this.urls = [...new Set(opts.urls)].filter(isWsTracker).map((url, i) => new UrlEntry(this, url, i, NO_OFFERS as Map<string, PendingOffer>));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.pool.clients.add(this);
    for (const u of this.urls) {
      u.socket = this.pool.socket(u.url);
      u.socket.subscribe(this.infoHashBinary, u);
      u.status = { ...u.status, status: 'working' };
    }
    // In-process trackers are not paced (see announceUrl), so they do not speed the seeds' rate.
    this.pacedSources = this.urls.filter((u) => !u.socket.local).length;
    this.opts.pacer?.join(this.pacedSources);
  }

  completed(): void {
    if (!this.running) return;
    for (const u of this.urls) if (u.started) void this.announceUrl(u, 'completed');
  }

  /**
   * The ICE servers changed: offers made before carry candidates that may reach nobody (made before
   * the node knew its STUN servers, say), and a torrent that has other peers would otherwise wait a
   * whole interval to offer again. Fresh offers go out at once when this node has few torrents
   * (a `cascade download` waits on them: its first offers were made before its STUN servers were
   * known, and bench:nat measured the 0.2-2.2 s spread as most of its WebRTC connect time), spread
   * over up to two seconds when it has many.
   */
  iceChanged(): void {
    if (!this.running) return;
    const spread = Math.min(2, 0.02 * this.pool.clients.size);
    for (const u of this.urls) {
      if (!u.socket.open || this.offersWanted(u) === 0) continue;
      // Offers being made now may predate the change: one more announce once that one is sent
      // (a timer set now would be replaced by the schedule that follows it).
      if (u.busy) u.queued ??= { event: undefined };
      else if (u.started) this.schedule(u, 0.02 + Math.random() * spread);
    }
  }

  announce(): void {
    if (!this.running) return;
    for (const u of this.urls) if (u.socket.open) void this.announceUrl(u, u.started ? undefined : 'started', true);
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.pool.clients.delete(this);
    this.opts.pacer?.join(-this.pacedSources);
    // Answers still waiting for the offerer's data channel give up now, not 30 s after the stop.
    for (const a of this.peers.values()) a.abort?.();
    for (const u of this.urls) {
      this.timers.cancel(u);
      this.pool.offers.cancel(u);
      for (const o of u.offers.values()) this.dropOffer(o);
      u.offers.clear();
      if (u.started && u.socket.open) u.socket.send({ ...this.params('stopped'), numwant: 0 });
      u.started = false;
      u.socket.unsubscribe(this.infoHashBinary);
      u.status = { ...u.status, status: 'idle' };
    }
  }

  firstUrl(): string | undefined {
    return this.urls[0]?.url;
  }

  status(): TrackerStatus[] {
    return this.urls.map((u) => ({ ...u.status }));
  }

  private params(event: string | undefined): Json {
    const s = this.opts.getStats();
    const p: Json = {
      action: 'announce',
      info_hash: this.infoHashBinary,
      peer_id: this.pool.peerIdBinary,
      uploaded: s.uploaded,
      downloaded: s.downloaded,
      left: s.left,
    };
    if (event) p.event = event;
    return p;
  }

  private announceUrl(u: UrlState, event: string | undefined, now = false): void {
    if (!this.running) return;
    if (u.busy) {
      if (!u.queued || event !== undefined) u.queued = { event };
      return;
    }
    u.busy = true;
    this.timers.cancel(u);
    const pacer = this.opts.pacer;
    // An in-process tracker with no offers to make is a function call away: no turn (as the
    // HTTP and UDP tiers to the node's own tracker take none). Offers cost WebRTC work: paced.
    const free = u.socket.local && this.offersWanted(u) === 0;
    if (pacer && !now && event !== 'completed' && !free) {
      // One message on a shared socket: the turn ends once it is sent. The line holds a callback,
      // not a suspended async call (whenTurn).
      pacer.whenTurn(this.opts.getStats().left > 0, (release) => {
        release();
        void this.sendAnnounce(u, event);
      });
      return;
    }
    void this.sendAnnounce(u, event);
  }

  /** announceUrl's second half, once it is this announce's turn (u.busy is set). */
  private async sendAnnounce(u: UrlState, event: string | undefined): Promise<void> {
    try {
      if (!this.running) return;
      const params = this.params(event);
      if (event !== 'stopped' && event !== 'completed') {
        const wanted = this.offersWanted(u);
        const n = this.pool.offers.room(wanted); // short of room (OfferBudget): waits its turn
        if (n < wanted) this.pool.offers.wait(u);
        const offers = n > 0 ? await this.makeOffers(u, n) : [];
        if (!this.running) {
          for (const o of offers) {
            const p = u.offers.get(o.offer_id);
            u.offers.delete(o.offer_id);
            if (p) this.dropOffer(p);
          }
          return;
        }
        params.numwant = offers.length;
        params.offers = offers;
        u.offered = offers.length;
        u.retry = undefined;
      } else {
        // It carries no offers: if its reply shows someone to offer to, that is a lull of its own
        // (a download just complete is a seed now, offering to leechers): at once (retryIfLonely),
        // not after the back-off its offers as a leecher had run up.
        u.offered = u.lonelyRetry = 0;
      }
      u.socket.send(params);
      if (event === 'started' || event === undefined) u.started = true;
    } catch (err) {
      u.status = { ...u.status, status: 'error', message: `cannot create WebRTC offers: ${(err as Error).message}` };
    } finally {
      u.busy = false;
    }
    const q = u.queued;
    u.queued = undefined;
    if (q && this.running) return this.announceUrl(u, q.event);
    this.schedule(u);
  }

  private offersWanted(u: UrlState): number {
    const swarm = { leechers: u.leechers, connected: this.connectedCount() };
    return Math.max(0, Math.min(MAX_OFFERS, this.opts.wantOffers?.(swarm) ?? DEFAULT_OFFERS));
  }

  private connectedCount(): number {
    let n = 0;
    for (const a of this.peers.values()) if (a.connected) n++;
    return n;
  }

  /**
   * Without a single connection while we want peers, look again soon (2, 4 … 30 s) instead of after
   * the tracker's interval (two minutes): offers into an empty swarm reach nobody, a first attempt
   * can fail (ICE, a busy peer), and a connection can drop; each would otherwise cost two minutes.
   */
  private retryIfLonely(u: UrlState): void {
    if (this.connectedCount() > 0) {
      u.lonelyRetry = 0;
      return;
    }
    // Waiting for room to offer: its turn brings the announce (offerRoom).
    if (this.offersWanted(u) === 0 || this.pool.offers.waiting(u)) return;
    // The announce this reply answers carried no offers (a seed that knew of no leecher) and there
    // is someone to offer to now: at once. The leechers' own offers went out before we were in the
    // swarm and reached nobody; waiting the 2 s below held a freshly started seed's first
    // connection (bench:nat: the seeder's offer 2 s after its first reply, most of the download's
    // connect time). The announce that follows carries offers, so this happens once per lull.
    // Half the first back-off: the doubling below makes it the first delay (2 s by default).
    const half = (this.opts.lonelyRetryS ?? 2) / 2;
    if (u.offered === 0 && u.lonelyRetry === 0) {
      u.lonelyRetry = half;
      this.schedule(u, 0);
      return;
    }
    u.lonelyRetry = Math.min(LONELY_RETRY_MAX_S, (u.lonelyRetry || half) * 2);
    this.schedule(u, u.lonelyRetry);
  }

  private schedule(u: UrlState, soonerS?: number): void {
    this.timers.cancel(u);
    u.retryTimer = false;
    if (!this.running) return;
    const now = clock.now();
    let ms = (soonerS ?? Math.max(this.opts.minInterval ?? 30, u.interval)) * 1000;
    // A tracker reply that sets the interval must not put off the fresh offers a failed attempt wants.
    if (u.retry && u.retry.at - now <= ms) {
      ms = Math.max(0, u.retry.at - now);
      u.retryTimer = true;
    }
    this.timers.at(u, ms);
  }

  /** @internal Room to offer freed up for this URL (OfferBudget): its announce, soon. */
  offerRoom(u: UrlState): void {
    if (!this.running || !u.started) return;
    if (u.busy) u.queued ??= { event: undefined };
    else this.schedule(u, 0);
  }

  /** @internal The URL's wait is over (AnnounceTimers). */
  urlDue(u: UrlState): void {
    u.retryTimer = false;
    void this.announceUrl(u, u.started ? undefined : 'started');
  }

  /**
   * An attempt with this peer died before its data channel opened. Both ends lose it, and only fresh
   * offers can start another: they go out within seconds (AttemptRetries: bounded per peer, backing
   * off, the lower peer id first), not with the next announce minutes later.
   */
  private attemptFailed(u: UrlState, peerIdHex: string): void {
    if (!this.running || this.offersWanted(u) === 0) return;
    this.retries ??= new AttemptRetries(toHex(this.pool.peerId));
    const s = this.retries.failed(peerIdHex);
    if (s === undefined) return;
    // An announce being made now ends with schedule(), which honours u.retry.
    if (wantRetry(u, peerIdHex, s, clock.now()) && !u.busy) this.schedule(u);
  }

  private async makeOffers(u: UrlState, n: number): Promise<{ offer: RTCSessionDescriptionInit; offer_id: string }[]> {
    const made = await Promise.all(Array.from({ length: n }, async () => {
      const pc = this.pool.newPeerConnection(this.pool.offers);
      try {
        // Label like simple-peer's: random hex; WebTorrent does not look at it.
        const channel = this.pool.createDataChannel(pc, toHex(crypto.getRandomValues(new Uint8Array(10))));
        await pc.setLocalDescription(await pc.createOffer());
        await iceGatheringDone(pc);
        const offerId = randomBinary(20);
        const o: PendingOffer = {
          pc,
          channel,
          timer: setTimeout(() => {
            if (u.offers.get(offerId) === o) u.offers.delete(offerId);
            this.dropOffer(o);
          }, this.opts.offerTimeoutMs ?? OFFER_TIMEOUT_MS),
        };
        (o.timer as { unref?: () => void }).unref?.();
        if (u.offers === NO_OFFERS) u.offers = new Map();
        u.offers.set(offerId, o);
        return { offer: { type: 'offer' as const, sdp: pc.localDescription!.sdp }, offer_id: offerId };
      } catch (err) {
        this.pool.closePeerConnection(pc);
        throw err;
      }
    }));
    return made;
  }

  private dropOffer(o: PendingOffer): void {
    clearTimeout(o.timer);
    this.pool.closePeerConnection(o.pc);
  }

  /** @internal UrlSubscriber's: the socket went down. */
  socketDown(u: UrlState, reason: string): void {
    if (this.opts.tally) this.opts.tally.announcesFailed++;
    u.started = false;
    this.timers.cancel(u);
    u.status = { ...u.status, status: 'error', message: reason };
  }

  /** @internal UrlSubscriber's: the socket is open. */
  socketOpen(u: UrlState): void {
    this.announceUrl(u, 'started');
  }

  /** @internal */
  onMessage(u: UrlState, m: Json): void {
    if (!this.running) return;
    if (typeof m['failure reason'] === 'string') {
      if (this.opts.tally) this.opts.tally.announcesFailed++;
      u.status = { ...u.status, status: 'error', message: m['failure reason'] as string, lastAnnounce: Date.now() };
      return;
    }
    if (typeof m.peer_id === 'string' && m.peer_id === this.pool.peerIdBinary) return;
    if (typeof m.interval === 'number' && m.interval > 0) {
      u.interval = m.interval;
      this.schedule(u);
    }
    if (m.complete !== undefined || m.incomplete !== undefined) {
      const peers = (Number(m.complete) || 0) + (Number(m.incomplete) || 0);
      if (this.opts.tally) this.opts.tally.announcesOk++;
      const warning = typeof m['warning message'] === 'string' ? (m['warning message'] as string) : undefined;
      u.status = { ...u.status, status: 'ok', message: warning, peers, lastAnnounce: Date.now() };
      u.leechers = Number(m.incomplete) || 0;
      // The reply to our own announce counts us: a leecher among the leechers, a seed not.
      if (u.leechers > 0 && this.opts.getStats().left > 0) u.leechers--;
      this.retryIfLonely(u);
    }
    if (typeof m.peer_id !== 'string' || m.peer_id.length !== 20) return;
    const peerIdHex = toHex(fromBinaryString(m.peer_id));
    if (isObject(m.offer) && typeof m.offer_id === 'string') void this.answer(u, m.offer as unknown as RTCSessionDescriptionInit, m.offer_id, m.peer_id, peerIdHex);
    else if (isObject(m.answer) && typeof m.offer_id === 'string') void this.completeOffer(u, m.answer as unknown as RTCSessionDescriptionInit, m.offer_id, peerIdHex);
  }

  /** Someone's offer reached us: answer it through the tracker and wait for their data channel. */
  private async answer(u: UrlState, offer: RTCSessionDescriptionInit, offerId: string, peerIdBin: string, peerIdHex: string): Promise<void> {
    if (offer.type !== 'offer' || typeof offer.sdp !== 'string') return;
    const existing = this.peers.get(peerIdHex);
    if (existing) {
      // A new offer from a peer whose earlier one we answered and that never connected: that ICE
      // session may be stuck (made, say, before the peer knew its STUN servers, so it offered host
      // candidates only) and would hold the peer for CONNECT_TIMEOUT_MS. The new offer takes its
      // place at once when it brings a kind of candidate the old one lacked, else after a few seconds.
      const kinds = sdpCandidateTypes(offer.sdp);
      const better = [...kinds].some((k) => !existing.candidates?.has(k));
      const stuck = existing.role === 'answer' && !existing.connected && (better || Date.now() - (existing.startedAt ?? Infinity) > STUCK_ANSWER_MS);
      if (!stuck) return;
      existing.abort?.();
      this.peers.delete(peerIdHex);
    } else if (this.pool.answers.room(1) === 0) return; // a replacement above takes its predecessor's room
    if (this.opts.acceptOffer?.() === false || this.opts.connectedOverTcp?.(peerIdHex)) return;
    const attempt: Attempt = { role: 'answer', connected: false, startedAt: Date.now(), candidates: sdpCandidateTypes(offer.sdp) };
    if (this.peers === NO_ATTEMPTS) this.peers = new Map();
    this.peers.set(peerIdHex, attempt);
    let pc: RTCPeerConnection | undefined;
    let answered = false; // an offer we could not even answer (bad SDP) is no attempt to retry
    try {
      pc = this.pool.newPeerConnection(this.pool.answers);
      const gotChannel = new Promise<RTCDataChannel>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no data channel from the offerer')), CONNECT_TIMEOUT_MS);
        // A connection that failed (the offerer's DTLS refused ours, say) ends the attempt now: kept,
        // it turned away this peer's next offers as a connection still being made.
        const ended = connectionEnded(pc!, (err) => (clearTimeout(timer), reject(err)));
        attempt.abort = () => {
          clearTimeout(timer);
          ended();
          reject(new GaveUp('superseded by our own offer'));
        };
        pc!.addEventListener('datachannel', (e: RTCDataChannelEvent) => {
          clearTimeout(timer);
          ended();
          resolve(e.channel);
        }, { once: true });
      });
      gotChannel.catch(() => {});
      await pc.setRemoteDescription({ type: 'offer', sdp: this.pool.remoteSdp(pc, offer.sdp) });
      await pc.setLocalDescription(await pc.createAnswer());
      await iceGatheringDone(pc);
      if (!this.running || this.peers.get(peerIdHex) !== attempt) throw new GaveUp('stopped');
      u.socket.send({
        action: 'announce',
        info_hash: this.infoHashBinary,
        peer_id: this.pool.peerIdBinary,
        to_peer_id: peerIdBin,
        answer: { type: 'answer', sdp: pc.localDescription!.sdp },
        offer_id: offerId,
      });
      answered = true;
      const channel = await gotChannel;
      await channelOpen(channel, CONNECT_TIMEOUT_MS, pc);
      if (this.peers.get(peerIdHex) !== attempt) throw new GaveUp('superseded');
      this.connected(pc, channel, peerIdHex, u.url, attempt);
    } catch (err) {
      if (this.peers.get(peerIdHex) === attempt) this.peers.delete(peerIdHex);
      if (pc) this.pool.closePeerConnection(pc);
      if (answered && !(err instanceof GaveUp)) this.attemptFailed(u, peerIdHex);
    }
  }

  /** Our offer was answered: finish the connection it belongs to. */
  private async completeOffer(u: UrlState, answer: RTCSessionDescriptionInit, offerId: string, peerIdHex: string): Promise<void> {
    const o = u.offers.get(offerId);
    if (!o) return;
    u.offers.delete(offerId);
    clearTimeout(o.timer);
    if (answer.type !== 'answer' || typeof answer.sdp !== 'string' || this.opts.connectedOverTcp?.(peerIdHex)) return this.dropOffer(o);
    const existing = this.peers.get(peerIdHex);
    if (existing) {
      // Both ends answered each other's offer at once. Both keep the connection whose offerer has
      // the lower peer id, so they keep the same one; otherwise both would give up on both.
      const weWin = existing.role === 'answer' && !existing.connected && toHex(this.pool.peerId) < peerIdHex;
      // The peer answered a newer offer of ours while the one it answered before has not opened: an
      // answerer replaces its answer only when that one looks stuck (answer() above: made before we
      // knew our STUN servers, host candidates only), so it has given up on it. Waiting for the old
      // one held the peer for CONNECT_TIMEOUT_MS (30 s, or 60 s, in the NAT lab's cone ↔ cone).
      const newerAnswer = existing.role === 'offer' && !existing.connected;
      if (!weWin && !newerAnswer) return this.dropOffer(o);
      existing.abort?.();
    }
    const attempt: Attempt = { role: 'offer', connected: false };
    const superseded = new Promise<never>((_, reject) => {
      attempt.abort = () => reject(new GaveUp('superseded by the peer’s answer to a newer offer'));
    });
    superseded.catch(() => {});
    if (this.peers === NO_ATTEMPTS) this.peers = new Map();
    this.peers.set(peerIdHex, attempt);
    try {
      await o.pc.setRemoteDescription({ type: 'answer', sdp: this.pool.remoteSdp(o.pc, answer.sdp) });
      await Promise.race([channelOpen(o.channel, CONNECT_TIMEOUT_MS, o.pc), superseded]);
      this.connected(o.pc, o.channel, peerIdHex, u.url, attempt);
    } catch (err) {
      if (this.peers.get(peerIdHex) === attempt) this.peers.delete(peerIdHex);
      this.dropOffer(o);
      // Among these: the answer that libdatachannel's own race refused (tracker-ws-retry.ts).
      if (!(err instanceof GaveUp)) this.attemptFailed(u, peerIdHex);
    }
  }

  private connected(pc: RTCPeerConnection, channel: RTCDataChannel, peerIdHex: string, url: string, attempt: Attempt): void {
    if (!this.running) {
      if (this.peers.get(peerIdHex) === attempt) this.peers.delete(peerIdHex);
      this.pool.closePeerConnection(pc);
      return;
    }
    attempt.connected = true;
    if (this.retries) {
      this.retries.connected(peerIdHex);
      const r = this.urls.find((x) => x.url === url);
      if (r && retryNotNeeded(r, peerIdHex) && !r.busy) this.schedule(r);
    }
    const conn = dataChannelConnection(channel, { remote: `webrtc:${peerIdHex}`, pc, ...(this.pool.env.received ? { received: this.pool.env.received } : {}) });
    this.pool.opened(pc);
    conn.onClose(() => {
      if (this.peers.get(peerIdHex) === attempt) this.peers.delete(peerIdHex);
      this.pool.closePeerConnection(pc);
      // The last connection dropped (the peer restarted, the link broke): find peers again soon.
      const u = this.urls.find((x) => x.url === url);
      if (this.running && u && this.connectedCount() === 0) {
        u.lonelyRetry = 0;
        this.retryIfLonely(u);
      }
    });
    this.opts.onConnection(conn, { peerIdHex, url, initiator: attempt.role === 'offer' });
  }
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
