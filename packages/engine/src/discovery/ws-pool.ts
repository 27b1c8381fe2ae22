// The WebRTC side of WebSocket trackers shared by every torrent of a session: one reconnecting
// WebSocket per tracker URL (messages routed to torrents by info_hash), and the peer connections
// made for offers and answers, tracked so that closing the session closes every one of them.
// Platform-free: the global WebSocket and an injected RTCPeerConnection constructor.

import { isLocalAddress } from '../types.ts';
import { selectedCandidatePairs, type CandidatePairInfo } from '../webrtc/webrtc-connection.ts';
import { MAX_PENDING_ANSWERS, MAX_PENDING_OFFERS, OfferBudget } from './offer-budget.ts';

/** Used when the options give no iceServers. Real deployments configure their own STUN/TURN. */
export const DEFAULT_ICE_SERVERS: RTCIceServer[] = [{ urls: 'stun:stun.l.google.com:19302' }];

export type RTCPeerConnectionCtor = new (config?: RTCConfiguration) => RTCPeerConnection;

export interface WebRtcEnv {
  RTCPeerConnection: RTCPeerConnectionCtor;
  /** Passed to every RTCPeerConnection (iceServers; node-datachannel also reads `bindAddress`). */
  config?: RTCConfiguration & Record<string, unknown>;
  /** Default: globalThis.WebSocket. */
  WebSocket?: typeof WebSocket;
  /** Told each data-channel message's size once it was handed on (Node: young collections for them). */
  received?: (bytes: number) => void;
}

const RECONNECT_MIN_MS = 5_000;
const RECONNECT_MAX_MS = 5 * 60_000;

/** @internal */
export type Json = Record<string, unknown>;

export function toBinaryString(b: Uint8Array): string {
  // One flat string: appending a character at a time made a chain of 19 cons strings for a 20-byte
  // id, kept for as long as the string is (10,000 torrents' infohashes: 92,000 objects, 2.9 MB).
  if (b.length <= 4096) return String.fromCharCode.apply(null, b as unknown as number[]);
  let s = '';
  for (let i = 0; i < b.length; i += 4096) s += String.fromCharCode.apply(null, b.subarray(i, i + 4096) as unknown as number[]);
  return s;
}

export function fromBinaryString(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

export function randomBinary(n: number): string {
  const b = new Uint8Array(n);
  crypto.getRandomValues(b);
  return toBinaryString(b);
}

/**
 * The peer's SDP as a connection that has TURN relay candidates only should take it: without the
 * candidates no relay can reach, private, loopback and link-local addresses (another network's, seen
 * from the TURN server) and browsers' mDNS names. Every check of such a connection goes through the
 * relay, and a TURN server whose send to one of those fails (no route, a firewall's reject) closes
 * the whole allocation, as coturn does: the checks toward the peer's reachable candidates then fail
 * too. That is why a node behind a symmetric NAT could not answer a cone peer's offer.
 */
export function relayReachableSdp(sdp: string): string {
  return sdp.split(/(?<=\n)/).filter((line) => {
    const address = /^a=candidate:\S+ \d+ \S+ \d+ (\S+) \d+ typ /.exec(line)?.[1];
    return address === undefined || !(isLocalAddress(address) || /^0\.0\.0\.0$|^::$|\.local\.?$/i.test(address));
  }).join('');
}

/** The kinds of ICE candidate an SDP offers: host, srflx, prflx, relay. */
export function sdpCandidateTypes(sdp: string): Set<string> {
  return new Set([...sdp.matchAll(/^a=candidate:.* typ (\w+)/gm)].map((m) => m[1]!));
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
  /** The torrents announcing through this pool (told when the ICE servers change). */
  readonly clients = new Set<{ iceChanged(): void }>();

  /** WebRTC offers out, and answers waiting for their data channel, across every torrent
   *  (offer-budget.ts). */
  readonly offers: OfferBudget;
  readonly answers: OfferBudget;

  constructor(peerId: Uint8Array, env: WebRtcEnv, budgets: { offers?: number; answers?: number } = {}) {
    this.peerId = peerId;
    this.peerIdBinary = toBinaryString(peerId);
    this.env = env;
    this.offers = new OfferBudget(budgets.offers ?? MAX_PENDING_OFFERS);
    this.answers = new OfferBudget(budgets.answers ?? MAX_PENDING_ANSWERS);
  }

  /** A tracker of this process reached without a socket (LocalTracker.webSocket). */
  private local: { url: string; connect(): WebSocket } | undefined;
  /** SessionOptions.urlGuard's check, run before each connection to a tracker (not the local one). */
  check: ((url: string) => Promise<void>) | undefined;

  /** Sockets opened to `local.url` from now on are in-process ones. */
  setLocal(local: { url: string; connect(): WebSocket } | undefined): void {
    this.local = local;
  }

  /** @internal */
  socket(url: string): TrackerSocket {
    let s = this.sockets.get(url);
    if (!s) {
      const local = this.local?.url === url ? this.local : undefined;
      const WS = this.env.WebSocket ?? globalThis.WebSocket;
      const check = local ? undefined : this.check;
      s = new TrackerSocket(local ? () => local.connect() : () => new WS(url), () => this.sockets.delete(url), !!local, check && (() => check(url)));
      this.sockets.set(url, s);
    }
    return s;
  }

  /** Every peer connection not yet closed: native ones (node-datachannel) keep the process alive. */
  // Their data channels too: node-datachannel keeps a never-connected channel (and the process) alive
  // unless the channel itself is closed.
  private all = new Map<RTCPeerConnection, RTCDataChannel[]>();

  /** Connections made while the ICE servers in force said relay candidates only. */
  private relayOnly = new WeakSet<RTCPeerConnection>();

  /** `budget`: the one it counts in (offers or answers) until it opens or closes. */
  newPeerConnection(budget?: OfferBudget): RTCPeerConnection {
    if (this.closed) throw new Error('session closed');
    const pc = new this.env.RTCPeerConnection({ iceServers: [], ...this.env.config });
    budget?.taken(pc);
    if (this.env.config?.iceTransportPolicy === 'relay') this.relayOnly.add(pc);
    const channels: RTCDataChannel[] = [];
    this.all.set(pc, channels);
    pc.addEventListener('datachannel', (e: RTCDataChannelEvent) => channels.push(e.channel));
    return pc;
  }

  /** The peer's offer or answer as `pc` should take it (relayReachableSdp when it is relay-only). */
  remoteSdp(pc: RTCPeerConnection, sdp: string): string {
    return this.relayOnly.has(pc) ? relayReachableSdp(sdp) : sdp;
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
    this.unbudgeted(pc);
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

  /** A peer connection whose data channel opened: live, out of its budget. */
  opened(pc: RTCPeerConnection): void {
    this.live.add(pc);
    this.unbudgeted(pc);
  }

  /** Out of whichever budget it counted in (it is in one at most). */
  private unbudgeted(pc: RTCPeerConnection): void {
    this.offers.released(pc);
    this.answers.released(pc);
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

export interface Subscriber {
  onMessage(msg: Json): void;
  onOpen(): void;
  onDown(reason: string): void;
}

/** @internal A reconnecting WebSocket; messages are routed to torrents by info_hash. */
export class TrackerSocket {
  private ws: WebSocket | undefined;
  private subs = new Map<string, Subscriber>();
  private queue: string[] = [];
  private retries = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private destroyed = false;
  private readonly dial: () => WebSocket;
  private readonly onEmpty: () => void;
  /** To a tracker of this process (LocalTracker.webSocket): its messages cost no network. */
  readonly local: boolean;

  /** Must resolve before each connection (SessionOptions.urlGuard); a rejection counts as a failed one. */
  private readonly preflight: (() => Promise<void>) | undefined;

  constructor(dial: () => WebSocket, onEmpty: () => void, local = false, preflight?: () => Promise<void>) {
    this.dial = dial;
    this.onEmpty = onEmpty;
    this.local = local;
    this.preflight = preflight;
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
    if (this.preflight) {
      // A placeholder timer keeps subscribe() from dialling again while the check runs.
      this.timer = setTimeout(() => {}, 0x7fffffff);
      (this.timer as { unref?: () => void }).unref?.();
      this.preflight().then(
        () => {
          clearTimeout(this.timer);
          this.timer = undefined;
          if (!this.destroyed) this.dialNow();
        },
        (err: Error) => {
          clearTimeout(this.timer);
          this.timer = undefined;
          if (!this.destroyed) this.down(`refused: ${err.message}`);
        },
      );
      return;
    }
    this.dialNow();
  }

  private dialNow(): void {
    let ws: WebSocket;
    try {
      ws = this.dial();
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
