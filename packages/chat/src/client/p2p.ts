// Peer-to-peer sessions for direct chats: one WebRTC data channel per online peer, negotiated through
// the relay's `rtc:signal` events. The envelopes on it are the same signed, encrypted envelopes as on
// the relay, so the channel adds no trust; each one is acknowledged, and anything unacknowledged falls
// back to the relay. Only the peer with the smaller did makes offers (no glare); the other asks with 'want'.
// Platform-free: the RTCPeerConnection constructor is injected (the browser's, or node-datachannel's polyfill).
import { randomBytes } from '@noble/hashes/utils.js';
import { b64u } from '@cascade/identity';

export type RtcSignal =
  | { kind: 'want' }
  | { kind: 'offer'; sid: string; sdp: string }
  | { kind: 'answer'; sid: string; sdp: string }
  | { kind: 'bye'; sid?: string; reason?: string };

export type RtcConstructor = new (config?: RTCConfiguration) => RTCPeerConnection;

export interface P2POptions {
  me: string;
  rtc: RtcConstructor | undefined;
  iceServers: () => RTCIceServer[];
  /** Send a signal to a peer: to one of its connections (`toSocket`, as reported with its signals), or to all. */
  sendSignal: (to: string, data: RtcSignal, toSocket?: string) => void;
  /** An envelope arrived on the channel; it is acknowledged once this returns. */
  onEnvelope: (from: string, env: unknown) => void;
  onState: (peer: string, open: boolean) => void;
  connectTimeoutMs?: number;
  ackTimeoutMs?: number;
  retryMs?: number;
  log?: (line: string) => void;
}

interface Link {
  peer: string;
  sid: string;
  /** the peer's relay connection this session was negotiated with (a user may be signed in on several) */
  remote?: string;
  pc: RTCPeerConnection;
  dc: RTCDataChannel;
  open: boolean;
  closed: boolean;
  acks: Map<string, { resolve: () => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> }>;
  timer?: ReturnType<typeof setTimeout>;
}

export class P2PSessions {
  private readonly o: Required<Omit<P2POptions, 'log'>>;
  private readonly log: (line: string) => void;
  private readonly links = new Map<string, Link>();
  private readonly failedAt = new Map<string, number>();
  private closed = false;

  constructor(o: P2POptions) {
    this.o = { ...o, connectTimeoutMs: o.connectTimeoutMs ?? 15_000, ackTimeoutMs: o.ackTimeoutMs ?? 4_000, retryMs: o.retryMs ?? 15_000 };
    this.log = o.log ?? (() => {});
  }

  get available(): boolean {
    return typeof this.o.rtc === 'function';
  }

  isOpen(peer: string): boolean {
    return this.links.get(peer)?.open === true;
  }

  /** Try to bring up a session with an online peer (no-op if one is up, starting, or failed recently). */
  ensure(peer: string): void {
    if (this.closed || peer === this.o.me || !this.available) return;
    const l = this.links.get(peer);
    if (l && !l.closed) return;
    if (Date.now() - (this.failedAt.get(peer) ?? 0) < this.o.retryMs) return;
    this.log(`p2p: ensure ${peer.slice(-6)} (${this.o.me < peer ? 'offer' : 'want'})`);
    if (this.o.me < peer) void this.offer(peer);
    else this.o.sendSignal(peer, { kind: 'want' });
  }

  /** The peer went offline or is no longer of interest. */
  drop(peer: string, reason = 'closed'): void {
    const l = this.links.get(peer);
    if (l) this.teardown(l, reason, false);
  }

  handleSignal(from: string, data: unknown, fromSocket?: string): void {
    if (this.closed || !data || typeof data !== 'object') return;
    const s = data as RtcSignal;
    this.log(`p2p: signal ${String(s.kind)} from ${from.slice(-6)}`);
    if (s.kind === 'want') {
      if (this.o.me < from) {
        const l = this.links.get(from);
        if (!l || l.closed) {
          this.failedAt.delete(from);
          void this.offer(from, fromSocket);
        }
      }
    } else if (s.kind === 'offer' && typeof s.sid === 'string' && typeof s.sdp === 'string') {
      if (from < this.o.me) void this.answer(from, s.sid, s.sdp, fromSocket);
    } else if (s.kind === 'answer' && typeof s.sid === 'string' && typeof s.sdp === 'string') {
      const l = this.links.get(from);
      // with the peer signed in twice, both may answer one offer: the first one wins
      if (l && l.sid === s.sid && !l.closed && (l.remote === undefined || l.remote === fromSocket) && l.pc.signalingState === 'have-local-offer') {
        l.remote = fromSocket;
        l.pc.setRemoteDescription({ type: 'answer', sdp: s.sdp }).catch((e: Error) => this.teardown(l, `answer: ${e.message}`, true));
      }
    } else if (s.kind === 'bye') {
      const l = this.links.get(from);
      if (l && s.sid === l.sid && (l.remote === undefined || fromSocket === undefined || l.remote === fromSocket)) {
        this.teardown(l, `peer: ${s.reason ?? 'bye'}`, true, false);
      }
    }
  }

  /** Send an envelope over the open channel; resolves when the peer acknowledged it. */
  send(peer: string, env: { id: string }): Promise<void> {
    const l = this.links.get(peer);
    if (!l?.open) return Promise.reject(new Error('no open peer-to-peer session'));
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        l.acks.delete(env.id);
        reject(new Error('peer did not acknowledge in time'));
      }, this.o.ackTimeoutMs);
      l.acks.set(env.id, { resolve, reject, timer });
      try {
        l.dc.send(JSON.stringify({ t: 'env', env }));
      } catch (e) {
        clearTimeout(timer);
        l.acks.delete(env.id);
        reject(e as Error);
      }
    });
  }

  /** The live RTCPeerConnection of a peer (for stats). */
  connection(peer: string): RTCPeerConnection | undefined {
    return this.links.get(peer)?.pc;
  }

  close(): void {
    this.closed = true;
    for (const l of [...this.links.values()]) this.teardown(l, 'closing', false);
  }

  private create(peer: string, sid: string, remote?: string): Link | undefined {
    const old = this.links.get(peer);
    if (old) this.teardown(old, 'superseded', false, false);
    let pc: RTCPeerConnection;
    let dc: RTCDataChannel;
    try {
      pc = new this.o.rtc!({ iceServers: this.o.iceServers() });
      dc = pc.createDataChannel('cascade-chat', { negotiated: true, id: 0, ordered: true });
    } catch (e) {
      this.log(`p2p: cannot create a peer connection: ${(e as Error).message}`);
      this.failedAt.set(peer, Date.now());
      this.o.sendSignal(peer, { kind: 'bye', sid, reason: `WebRTC unavailable: ${(e as Error).message}` }, remote);
      return undefined;
    }
    const l: Link = { peer, sid, remote, pc, dc, open: false, closed: false, acks: new Map() };
    this.links.set(peer, l);
    l.timer = setTimeout(() => { if (!l.open) this.teardown(l, 'connect timeout', true); }, this.o.connectTimeoutMs);
    dc.onopen = () => {
      if (l.closed) return;
      l.open = true;
      if (l.timer) clearTimeout(l.timer);
      this.failedAt.delete(peer);
      this.log(`p2p: open with ${peer.slice(-6)}`);
      this.o.onState(peer, true);
    };
    dc.onclose = () => this.teardown(l, 'channel closed', true, false);
    dc.onerror = () => this.teardown(l, 'channel error', true, false);
    dc.onmessage = (ev: MessageEvent) => this.frame(l, ev.data);
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'failed' || pc.connectionState === 'closed') this.teardown(l, `connection ${pc.connectionState}`, true, false);
    };
    return l;
  }

  private frame(l: Link, raw: unknown): void {
    let m: { t?: unknown; id?: unknown; env?: unknown };
    try {
      m = JSON.parse(typeof raw === 'string' ? raw : new TextDecoder().decode(raw as ArrayBuffer)) as typeof m;
    } catch {
      return;
    }
    if (m.t === 'ack' && typeof m.id === 'string') {
      const a = l.acks.get(m.id);
      if (a) {
        clearTimeout(a.timer);
        l.acks.delete(m.id);
        a.resolve();
      }
    } else if (m.t === 'env' && m.env && typeof m.env === 'object') {
      this.o.onEnvelope(l.peer, m.env);
      const id = (m.env as { id?: unknown }).id;
      if (typeof id === 'string' && l.open) {
        try {
          l.dc.send(JSON.stringify({ t: 'ack', id }));
        } catch { /* channel went away; the sender falls back to the relay */ }
      }
    }
  }

  private async offer(peer: string, remote?: string): Promise<void> {
    const sid = b64u(randomBytes(12));
    const l = this.create(peer, sid, remote);
    if (!l) return;
    try {
      await l.pc.setLocalDescription(await l.pc.createOffer());
      await gathered(l.pc);
      if (l.closed) return;
      this.o.sendSignal(peer, { kind: 'offer', sid, sdp: l.pc.localDescription!.sdp }, remote);
    } catch (e) {
      this.teardown(l, `offer: ${(e as Error).message}`, true);
    }
  }

  private async answer(peer: string, sid: string, sdp: string, remote?: string): Promise<void> {
    const cur = this.links.get(peer);
    if (cur?.open && cur.remote !== undefined && remote !== undefined && cur.remote !== remote) {
      // one session per pair of users: the peer's other device keeps using the relay
      this.o.sendSignal(peer, { kind: 'bye', sid, reason: 'busy with another of your devices' }, remote);
      return;
    }
    const l = this.create(peer, sid, remote);
    if (!l) return;
    try {
      await l.pc.setRemoteDescription({ type: 'offer', sdp });
      await l.pc.setLocalDescription(await l.pc.createAnswer());
      await gathered(l.pc);
      if (l.closed) return;
      this.o.sendSignal(peer, { kind: 'answer', sid, sdp: l.pc.localDescription!.sdp }, remote);
    } catch (e) {
      this.teardown(l, `answer: ${(e as Error).message}`, true);
    }
  }

  private teardown(l: Link, reason: string, failed: boolean, tellPeer = true): void {
    if (l.closed) return;
    l.closed = true;
    this.log(`p2p: closed with ${l.peer.slice(-6)}: ${reason}`);
    const wasOpen = l.open;
    l.open = false;
    if (l.timer) clearTimeout(l.timer);
    for (const a of l.acks.values()) {
      clearTimeout(a.timer);
      a.reject(new Error(`peer-to-peer session ended: ${reason}`));
    }
    l.acks.clear();
    try { l.dc.close(); } catch { /* ignore */ }
    try { l.pc.close(); } catch { /* ignore */ }
    if (this.links.get(l.peer) === l) this.links.delete(l.peer);
    if (failed) this.failedAt.set(l.peer, Date.now());
    if (tellPeer && !this.closed) this.o.sendSignal(l.peer, { kind: 'bye', sid: l.sid, reason }, l.remote);
    if (wasOpen) this.o.onState(l.peer, false);
  }
}

/** Resolve once ICE gathering is complete (non-trickle signaling), or after a short wait. */
function gathered(pc: RTCPeerConnection, ms = 3000): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(t);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    };
    const check = (): void => { if (pc.iceGatheringState === 'complete') done(); };
    const t = setTimeout(done, ms);
    pc.addEventListener('icegatheringstatechange', check);
  });
}
