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
import { toHex } from '../hex.ts';
import type { Connection } from '../platform.ts';
import { channelOpen, dataChannelConnection, iceGatheringDone, selectedCandidatePairs, type CandidatePairInfo } from '../webrtc-connection.ts';

/** Used when the options give no iceServers. Real deployments configure their own STUN/TURN. */
export const DEFAULT_ICE_SERVERS: RTCIceServer[] = [{ urls: 'stun:stun.l.google.com:19302' }];

export type RTCPeerConnectionCtor = new (config?: RTCConfiguration) => RTCPeerConnection;

export interface WebRtcEnv {
  RTCPeerConnection: RTCPeerConnectionCtor;
  /** Passed to every RTCPeerConnection (iceServers; node-datachannel also reads `bindAddress`). */
  config?: RTCConfiguration & Record<string, unknown>;
  /** Default: globalThis.WebSocket. */
  WebSocket?: typeof WebSocket;
}

export interface WsTrackerStats {
  uploaded: number;
  downloaded: number;
  left: number;
}

export interface WsTrackerClientOptions {
  pool: WsTrackerPool;
  urls: string[];
  infoHash: Uint8Array;
  getStats: () => WsTrackerStats;
  /** An open data channel to a peer of this torrent. */
  onConnection: (conn: Connection, info: { peerIdHex: string; url: string; initiator: boolean }) => void;
  /** Offers to send with the next announce (WebTorrent: 5). Default 5; 0 when the torrent is full.
   *  `swarm` is what the tracker last said (see offerCount for the usual policy). */
  wantOffers?: (swarm: SwarmView) => number;
  /** Whether to answer an incoming offer (e.g. false when the torrent has enough peers). */
  acceptOffer?: () => boolean;
  /** Floor on the announce interval, seconds. Default 30. */
  minInterval?: number;
  /** Unanswered offers are dropped after this. Default 50 s (WebTorrent's value). */
  offerTimeoutMs?: number;
}

const DEFAULT_OFFERS = 5;
const MAX_OFFERS = 10;
const LONELY_RETRY_MAX_S = 30;
const OFFER_TIMEOUT_MS = 50_000;
const CONNECT_TIMEOUT_MS = 30_000;
const RECONNECT_MIN_MS = 5_000;
const RECONNECT_MAX_MS = 5 * 60_000;

type Json = Record<string, unknown>;

/** The swarm as this client knows it: the tracker's last counts, and our open connections. */
export interface SwarmView {
  leechers: number;
  connected: number;
}

/**
 * How many WebRTC offers a torrent sends with an announce. A leecher offers up to `max`, as room
 * allows. A seed offers only to leechers it is not connected to yet: seeds made no offers at all
 * (each offer holds a peer connection for up to 50 s), which left a seed that joined, or came back
 * after a restart, unreachable until every leecher's next announce, two minutes later.
 */
export function offerCount(t: { state: string; wantsPeers(): number } | undefined, max: number, swarm: SwarmView): number {
  if (!t) return 0;
  const room = Math.min(max, t.wantsPeers());
  return t.state === 'seeding' ? Math.max(0, Math.min(room, swarm.leechers - swarm.connected)) : room;
}

export function toBinaryString(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return s;
}

export function fromBinaryString(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

function randomBinary(n: number): string {
  const b = new Uint8Array(n);
  crypto.getRandomValues(b);
  return toBinaryString(b);
}

export function isWsTracker(url: string): boolean {
  return /^wss?:\/\//i.test(url);
}

/** One WebSocket per tracker URL, shared by every torrent of a session (as bittorrent-tracker does). */
export class WsTrackerPool {
  readonly peerId: Uint8Array;
  readonly peerIdBinary: string;
  readonly env: WebRtcEnv;
  private sockets = new Map<string, TrackerSocket>();
  private closed = false;
  /** Peer connections whose data channel is open, for diagnostics (candidate pairs). */
  readonly live = new Set<RTCPeerConnection>();

  constructor(peerId: Uint8Array, env: WebRtcEnv) {
    this.peerId = peerId;
    this.peerIdBinary = toBinaryString(peerId);
    this.env = env;
  }

  /** @internal */
  socket(url: string): TrackerSocket {
    let s = this.sockets.get(url);
    if (!s) {
      s = new TrackerSocket(url, this.env.WebSocket ?? globalThis.WebSocket, () => this.sockets.delete(url));
      this.sockets.set(url, s);
    }
    return s;
  }

  /** Every peer connection not yet closed: native ones (node-datachannel) keep the process alive. */
  // Their data channels too: node-datachannel keeps a never-connected channel (and the process) alive
  // unless the channel itself is closed.
  private all = new Map<RTCPeerConnection, RTCDataChannel[]>();

  newPeerConnection(): RTCPeerConnection {
    if (this.closed) throw new Error('session closed');
    const pc = new this.env.RTCPeerConnection({ iceServers: [], ...this.env.config });
    const channels: RTCDataChannel[] = [];
    this.all.set(pc, channels);
    pc.addEventListener('datachannel', (e: RTCDataChannelEvent) => channels.push(e.channel));
    return pc;
  }

  createDataChannel(pc: RTCPeerConnection, label: string): RTCDataChannel {
    const ch = pc.createDataChannel(label);
    this.all.get(pc)?.push(ch);
    return ch;
  }

  /** Closes a peer connection made by newPeerConnection(), channels first. */
  closePeerConnection(pc: RTCPeerConnection): void {
    const channels = this.all.get(pc) ?? [];
    this.all.delete(pc);
    this.live.delete(pc);
    for (const ch of channels) {
      try {
        ch.close();
      } catch {
        // already closed
      }
    }
    try {
      pc.close();
    } catch {
      // already closed
    }
  }

  /** The ICE candidate pair each open WebRTC connection uses (is it direct, relayed, loopback?). */
  async candidatePairs(): Promise<CandidatePairInfo[]> {
    const all = await Promise.all([...this.live].map((pc) => selectedCandidatePairs(pc).catch(() => [])));
    return all.flat();
  }

  close(): void {
    this.closed = true;
    for (const pc of [...this.all.keys()]) this.closePeerConnection(pc);
    for (const s of this.sockets.values()) s.destroy();
    this.sockets.clear();
  }
}

interface Subscriber {
  onMessage(msg: Json): void;
  onOpen(): void;
  onDown(reason: string): void;
}

/** @internal A reconnecting WebSocket; messages are routed to torrents by info_hash. */
class TrackerSocket {
  private ws: WebSocket | undefined;
  private subs = new Map<string, Subscriber>();
  private queue: string[] = [];
  private retries = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private destroyed = false;
  private readonly url: string;
  private readonly WS: typeof WebSocket;
  private readonly onEmpty: () => void;

  constructor(url: string, WS: typeof WebSocket, onEmpty: () => void) {
    this.url = url;
    this.WS = WS;
    this.onEmpty = onEmpty;
  }

  get open(): boolean {
    return this.ws?.readyState === 1;
  }

  subscribe(infoHashBinary: string, sub: Subscriber): void {
    this.subs.set(infoHashBinary, sub);
    if (!this.ws && !this.timer) this.connect();
    else if (this.open) queueMicrotask(() => sub.onOpen());
  }

  unsubscribe(infoHashBinary: string): void {
    this.subs.delete(infoHashBinary);
    if (this.subs.size > 0) return;
    // Let a final `stopped` leave before the socket goes.
    setTimeout(() => {
      if (this.subs.size === 0) {
        this.destroy();
        this.onEmpty();
      }
    }, 1000);
  }

  send(msg: Json): void {
    const text = JSON.stringify(msg);
    if (this.open) this.ws!.send(text);
    else if (this.queue.length < 100) this.queue.push(text);
  }

  private connect(): void {
    if (this.destroyed) return;
    this.timer = undefined;
    let ws: WebSocket;
    try {
      ws = new this.WS(this.url);
    } catch (err) {
      this.down(`cannot connect: ${(err as Error).message}`);
      return;
    }
    this.ws = ws;
    ws.binaryType = 'arraybuffer';
    ws.addEventListener('open', () => {
      if (this.ws !== ws) return;
      this.retries = 0;
      for (const text of this.queue.splice(0)) ws.send(text);
      for (const s of [...this.subs.values()]) s.onOpen();
    });
    ws.addEventListener('message', (e: MessageEvent) => {
      if (this.ws !== ws) return;
      let msg: unknown;
      try {
        msg = JSON.parse(typeof e.data === 'string' ? e.data : new TextDecoder().decode(e.data as ArrayBuffer));
      } catch {
        return;
      }
      if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return;
      const m = msg as Json;
      const ih = m.info_hash;
      if (typeof ih === 'string') this.subs.get(ih)?.onMessage(m);
      else if (m['failure reason']) for (const s of this.subs.values()) s.onMessage(m);
    });
    ws.addEventListener('close', () => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      this.down('connection to tracker closed');
    });
    ws.addEventListener('error', () => {
      // 'close' follows and does the work.
    });
  }

  private down(reason: string): void {
    for (const s of [...this.subs.values()]) s.onDown(reason);
    if (this.destroyed || this.subs.size === 0) return;
    const delay = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** this.retries++);
    this.timer = setTimeout(() => this.connect(), delay * (0.75 + Math.random() / 2));
    (this.timer as { unref?: () => void }).unref?.();
  }

  destroy(): void {
    this.destroyed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    const ws = this.ws;
    this.ws = undefined;
    try {
      ws?.close();
    } catch {
      // ignore
    }
  }
}

interface PendingOffer {
  pc: RTCPeerConnection;
  channel: RTCDataChannel;
  timer: ReturnType<typeof setTimeout>;
}

/** One connection (being made or made) to a peer. */
interface Attempt {
  role: 'offer' | 'answer';
  connected: boolean;
  /** Gives up an answer still waiting for the offerer's data channel. */
  abort?: () => void;
}

interface UrlState {
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
}

/** Announces one torrent to its WebSocket trackers and turns offers/answers into connections. */
export class WsTrackerClient {
  private readonly opts: WsTrackerClientOptions;
  private readonly pool: WsTrackerPool;
  private readonly infoHashBinary: string;
  private readonly urls: UrlState[];
  /** Peers (hex peer id) we are connected or connecting to: one connection per peer. */
  private readonly peers = new Map<string, Attempt>();
  private running = false;

  constructor(opts: WsTrackerClientOptions) {
    this.opts = opts;
    this.pool = opts.pool;
    this.infoHashBinary = toBinaryString(opts.infoHash);
    this.urls = [...new Set(opts.urls)].filter(isWsTracker).map((url, i) => ({
      url,
      socket: undefined as unknown as TrackerSocket,
      status: { url, tier: i, status: 'idle', peers: 0 },
      started: false,
      busy: false,
      queued: undefined,
      interval: 120,
      offers: new Map(),
      leechers: 0,
      lonelyRetry: 0,
    }));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (const u of this.urls) {
      u.socket = this.pool.socket(u.url);
      u.socket.subscribe(this.infoHashBinary, {
        onOpen: () => void this.announceUrl(u, 'started'),
        onMessage: (m) => this.onMessage(u, m),
        onDown: (reason) => {
          u.started = false;
          clearTimeout(u.timer);
          u.status = { ...u.status, status: 'error', message: reason };
        },
      });
      u.status = { ...u.status, status: 'working' };
    }
  }

  completed(): void {
    if (!this.running) return;
    for (const u of this.urls) if (u.started) void this.announceUrl(u, 'completed');
  }

  announce(): void {
    if (!this.running) return;
    for (const u of this.urls) if (u.socket.open) void this.announceUrl(u, u.started ? undefined : 'started');
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const u of this.urls) {
      clearTimeout(u.timer);
      for (const o of u.offers.values()) this.dropOffer(o);
      u.offers.clear();
      if (u.started && u.socket.open) u.socket.send({ ...this.params('stopped'), numwant: 0 });
      u.started = false;
      u.socket.unsubscribe(this.infoHashBinary);
      u.status = { ...u.status, status: 'idle' };
    }
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

  private async announceUrl(u: UrlState, event: string | undefined): Promise<void> {
    if (!this.running) return;
    if (u.busy) {
      if (!u.queued || event !== undefined) u.queued = { event };
      return;
    }
    u.busy = true;
    clearTimeout(u.timer);
    try {
      const params = this.params(event);
      if (event !== 'stopped' && event !== 'completed') {
        const n = this.offersWanted(u);
        const offers = await this.makeOffers(u, n);
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
    if (this.offersWanted(u) === 0) return;
    u.lonelyRetry = Math.min(LONELY_RETRY_MAX_S, (u.lonelyRetry || 1) * 2);
    this.schedule(u, u.lonelyRetry);
  }

  private schedule(u: UrlState, soonerS?: number): void {
    clearTimeout(u.timer);
    if (!this.running) return;
    const s = soonerS ?? Math.max(this.opts.minInterval ?? 30, u.interval);
    u.timer = setTimeout(() => void this.announceUrl(u, u.started ? undefined : 'started'), s * 1000);
    (u.timer as { unref?: () => void }).unref?.();
  }

  private async makeOffers(u: UrlState, n: number): Promise<{ offer: RTCSessionDescriptionInit; offer_id: string }[]> {
    const made = await Promise.all(Array.from({ length: n }, async () => {
      const pc = this.pool.newPeerConnection();
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

  private onMessage(u: UrlState, m: Json): void {
    if (!this.running) return;
    if (typeof m['failure reason'] === 'string') {
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
    if (this.peers.has(peerIdHex) || this.opts.acceptOffer?.() === false) return;
    if (offer.type !== 'offer' || typeof offer.sdp !== 'string') return;
    const attempt: Attempt = { role: 'answer', connected: false };
    this.peers.set(peerIdHex, attempt);
    let pc: RTCPeerConnection | undefined;
    try {
      pc = this.pool.newPeerConnection();
      const gotChannel = new Promise<RTCDataChannel>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no data channel from the offerer')), CONNECT_TIMEOUT_MS);
        attempt.abort = () => {
          clearTimeout(timer);
          reject(new Error('superseded by our own offer'));
        };
        pc!.addEventListener('datachannel', (e: RTCDataChannelEvent) => {
          clearTimeout(timer);
          resolve(e.channel);
        }, { once: true });
      });
      gotChannel.catch(() => {});
      await pc.setRemoteDescription({ type: 'offer', sdp: offer.sdp });
      await pc.setLocalDescription(await pc.createAnswer());
      await iceGatheringDone(pc);
      if (!this.running || this.peers.get(peerIdHex) !== attempt) throw new Error('stopped');
      u.socket.send({
        action: 'announce',
        info_hash: this.infoHashBinary,
        peer_id: this.pool.peerIdBinary,
        to_peer_id: peerIdBin,
        answer: { type: 'answer', sdp: pc.localDescription!.sdp },
        offer_id: offerId,
      });
      const channel = await gotChannel;
      await channelOpen(channel, CONNECT_TIMEOUT_MS);
      if (this.peers.get(peerIdHex) !== attempt) throw new Error('superseded');
      this.connected(pc, channel, peerIdHex, u.url, attempt);
    } catch {
      if (this.peers.get(peerIdHex) === attempt) this.peers.delete(peerIdHex);
      if (pc) this.pool.closePeerConnection(pc);
    }
  }

  /** Our offer was answered: finish the connection it belongs to. */
  private async completeOffer(u: UrlState, answer: RTCSessionDescriptionInit, offerId: string, peerIdHex: string): Promise<void> {
    const o = u.offers.get(offerId);
    if (!o) return;
    u.offers.delete(offerId);
    clearTimeout(o.timer);
    if (answer.type !== 'answer' || typeof answer.sdp !== 'string') return this.dropOffer(o);
    const existing = this.peers.get(peerIdHex);
    if (existing) {
      // Both ends answered each other's offer at once. Both keep the connection whose offerer has
      // the lower peer id, so they keep the same one; otherwise both would give up on both.
      const weWin = existing.role === 'answer' && !existing.connected && toHex(this.pool.peerId) < peerIdHex;
      if (!weWin) return this.dropOffer(o);
      existing.abort?.();
    }
    const attempt: Attempt = { role: 'offer', connected: false };
    this.peers.set(peerIdHex, attempt);
    try {
      await o.pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
      await channelOpen(o.channel, CONNECT_TIMEOUT_MS);
      this.connected(o.pc, o.channel, peerIdHex, u.url, attempt);
    } catch {
      if (this.peers.get(peerIdHex) === attempt) this.peers.delete(peerIdHex);
      this.dropOffer(o);
    }
  }

  private connected(pc: RTCPeerConnection, channel: RTCDataChannel, peerIdHex: string, url: string, attempt: Attempt): void {
    if (!this.running) {
      if (this.peers.get(peerIdHex) === attempt) this.peers.delete(peerIdHex);
      this.pool.closePeerConnection(pc);
      return;
    }
    attempt.connected = true;
    const conn = dataChannelConnection(channel, { remote: `webrtc:${peerIdHex}`, pc });
    this.pool.live.add(pc);
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
