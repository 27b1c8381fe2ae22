// One uTP connection (BEP 29): handshake, ordered reliable delivery over datagrams, selective
// ACKs, retransmission and LEDBAT congestion control; the receive side (reorder buffer, in-order
// delivery, the window) is receive.ts. Pure: the owner hands it decoded packets, a clock and a
// send function, and calls tick() now and then for the timers.

import { Ledbat } from './ledbat.ts';
import { ReceiveBuffer } from './receive.ts';
import { RttEstimator } from './rtt.ts';
import type { Sent, UtpEnv, UtpOptions, UtpState } from './connection-types.ts';
import { HEADER_SIZE, ST_DATA, ST_FIN, ST_RESET, ST_STATE, ST_SYN, encodeHeader, seqLess, type PacketType, type UtpPacket } from './packet.ts';

export type { UtpEnv, UtpOptions, UtpState } from './connection-types.ts';

/** 1,400 bytes fits every path with IPv6 and a tunnel or two on a 1,500-byte MTU. */
export const DEFAULT_MSS = 1400;
const DEFAULT_RECV_BUFFER = 1 << 20;
const MAX_CWND = 4 << 20;
const MAX_TIMEOUTS = 6; // retransmission timeouts in a row before the connection is given up
const DUP_ACKS = 3; // duplicate ACKs (or packets selectively acked past a hole) before a fast resend

export class UtpConnection {
  state: UtpState;
  readonly recvId: number;
  readonly sendId: number;
  private readonly env: UtpEnv;
  private readonly mss: number;
  private synAttempts: number;

  /** Next sequence number we send. */
  private seqNr: number;
  /** Packets sent and not yet acked by ack_nr, oldest first (by seq). */
  private readonly inflight = new Map<number, Sent>();
  private flight = 0;
  private readonly cc: Ledbat;
  private peerWindow = DEFAULT_MSS * 4;
  /** Microseconds between the peer's last timestamp and our receipt of it (we echo it). */
  private replyMicro = 0;
  private readonly rtt = new RttEstimator();
  private rtoAt = 0;
  private timeouts = 0;
  private dupAcks = 0;
  /** Packets a timeout counted lost and flush() has not resent yet. */
  private lostCount = 0;
  private lastAck = -1;
  /** Fast resends once per window: no second halving until this seq is acked. */
  private recoverySeq = -1;
  /** The shortest round trip (ms) of the packets the ACK being handled acked: bounds the delay LEDBAT acts on. */
  private ackedRtt = Infinity;

  /** Written, not yet packed into DATA packets. */
  private readonly unsent: Uint8Array[] = [];
  private unsentBytes = 0;
  private corked = 0;
  private finQueued = false;
  private finSent = false;

  /** What the peer sent: held out of order, or waiting for a paused reader. */
  private readonly rx: ReceiveBuffer;
  private ackDue = false;
  /** Our answer to the peer's SYN (acceptor only), sent again for a resent SYN until it sends more. */
  private synAck: Uint8Array | undefined;

  readonly stats = { packetsSent: 0, resent: 0, timeouts: 0, fastResends: 0, packetsReceived: 0, duplicates: 0, statesSent: 0 };

  onConnect: (() => void) | undefined;
  onData: ((chunk: Uint8Array) => void) | undefined;
  onDrain: (() => void) | undefined;
  onClose: ((err?: Error) => void) | undefined;
  /** Asked to send an ACK soon (the owner batches them after a burst of datagrams). */
  onAckDue: ((c: UtpConnection) => void) | undefined;

  private constructor(env: UtpEnv, recvId: number, sendId: number, seqNr: number, state: UtpState, opts: UtpOptions) {
    this.env = env;
    this.recvId = recvId & 0xffff;
    this.sendId = sendId & 0xffff;
    this.seqNr = seqNr & 0xffff;
    this.state = state;
    this.mss = opts.mss ?? DEFAULT_MSS;
    this.rx = new ReceiveBuffer(opts.recvBuffer ?? DEFAULT_RECV_BUFFER, (chunk) => this.onData?.(chunk));
    this.synAttempts = opts.synAttempts ?? 3;
    this.cc = new Ledbat(this.mss, MAX_CWND);
  }

  /** Starts a connection: sends the SYN. `recvId` is ours (random); the peer sends to it. */
  static connect(env: UtpEnv, recvId: number, seqNr: number, opts: UtpOptions = {}): UtpConnection {
    const c = new UtpConnection(env, recvId, recvId + 1, seqNr, 'syn-sent', opts);
    c.sendControl(ST_SYN);
    return c;
  }

  /** Answers a SYN: the peer's connection id is our send id, one more is our receive id. */
  static accept(env: UtpEnv, syn: UtpPacket, seqNr: number, opts: UtpOptions = {}): UtpConnection {
    const c = new UtpConnection(env, syn.connectionId + 1, syn.connectionId, seqNr, 'connected', opts);
    c.rx.ackNr = syn.seq;
    c.notePeer(syn);
    c.synAck = c.buildPacket(ST_STATE);
    env.send(c.synAck);
    return c;
  }

  debug(): object {
    const first = this.inflight.values().next().value;
    return { inflight: this.inflight.size, flight: this.flight, lost: this.lostCount, cwnd: this.cc.cwnd, peerWindow: this.peerWindow, rto: this.rtt.rto, rtoAt: this.rtoAt, seqNr: this.seqNr, ackNr: this.rx.ackNr, timeouts: this.timeouts, unsent: this.unsentBytes, reorder: this.rx.held, undelivered: this.rx.undeliveredLength, first: first && { seq: first.seq, sacked: first.sacked, lost: first.lost, tx: first.transmissions, sentAt: first.sentAt } };
  }

  get bytesInFlight(): number {
    return this.flight;
  }
  /** For traces: as a sender (cwnd, queuing delay, peer's window), as a receiver (our window, echo, queue). */
  trace(): { cwnd: number; delayUs: number; peerWindow: number; window: number; echoUs: number; rxDelayUs: number } {
    return { cwnd: this.cc.cwnd, delayUs: this.cc.queuingDelayUs, peerWindow: this.peerWindow, window: this.rx.window(), echoUs: this.replyMicro, rxDelayUs: this.rx.queuingDelayUs };
  }
  /** Bytes written and not yet acked: what still holds the writer's buffers or our copies. */
  get bufferedBytes(): number {
    return this.unsentBytes + this.flight;
  }
  get unsentLength(): number {
    return this.unsentBytes;
  }

  // ---- incoming ----

  /** A decoded packet addressed to this connection (the owner matched its connection id). */
  receive(p: UtpPacket): void {
    if (this.state === 'closed') return;
    this.stats.packetsReceived++;
    if (p.type === ST_RESET) return this.close(new Error('connection reset by peer'));
    if (p.type === ST_SYN) {
      // Our answer was lost and the peer asks again: the same answer again, naming our first
      // sequence number (not the next one: data sent since would be skipped by the peer).
      if (this.synAck) this.env.send(this.synAck);
      return;
    }
    if (this.state === 'syn-sent') {
      // The SYN is acked by ack_nr = its seq (libtorrent: anything else is ignored). Only a STATE
      // tells where the peer's numbers start: a DATA packet overtaking it may not be its first,
      // so it is dropped (the peer sends it again) rather than taken as the start.
      if (p.type !== ST_STATE || p.ack !== ((this.seqNr - 1) & 0xffff)) return;
      this.rx.ackNr = (p.seq - 1) & 0xffff;
      this.state = 'connected';
      this.notePeer(p);
      this.handleAck(p);
      this.onConnect?.();
      if (p.type === ST_STATE) return this.flush();
    } else {
      this.notePeer(p);
      this.synAck = undefined;
    }
    const acked = this.handleAck(p);
    if (this.state !== 'connected') return;
    if (p.type === ST_DATA && p.timestamp !== 0) this.rx.delaySample(p.payload.length, this.replyMicro, this.env.now(), this.rtt.srtt);
    if (p.type === ST_DATA || p.type === ST_FIN) this.handleData(p);
    this.flush();
    if (acked > 0 && this.state === 'connected' && this.unsentBytes < this.highWater()) this.onDrain?.();
  }

  private notePeer(p: UtpPacket): void {
    this.replyMicro = (this.env.micros() - p.timestamp) >>> 0;
    this.peerWindow = p.window;
    // A peer answering with a shut window is alive, only full: its silence about our probe is
    // no timeout towards closing (the wire's own idle limit ends a peer that never reopens).
    if (p.window < this.mss) this.timeouts = 0;
  }

  /** Returns the payload bytes this packet acked. */
  private handleAck(p: UtpPacket): number {
    const now = this.env.now();
    const flightBefore = this.flight;
    let acked = 0;
    this.ackedRtt = Infinity;
    // ack_nr must name a packet we sent: one in flight, or the last acked (a duplicate).
    const oldest = this.oldestInflight();
    if (oldest !== undefined && !seqLess(p.ack, oldest) && seqLess(p.ack, this.seqNr)) {
      for (let s = oldest; ; s = (s + 1) & 0xffff) {
        const sent = this.inflight.get(s);
        if (sent) acked += this.ackOne(sent, now);
        if (s === p.ack) break;
      }
      this.dupAcks = 0;
      this.timeouts = 0;
    } else if (p.type === ST_STATE && p.ack === this.lastAck && this.inflight.size > 0) {
      this.dupAcks++;
    }
    this.lastAck = p.ack;
    let topSacked = -1;
    if (p.sack) {
      // Bit i acks ack_nr + 2 + i.
      for (let i = 0; i < p.sack.length * 8; i++) {
        if (!(p.sack[i >> 3]! & (1 << (i & 7)))) continue;
        topSacked = i;
        const sent = this.inflight.get((p.ack + 2 + i) & 0xffff);
        if (sent && !sent.sacked) {
          sent.sacked = true;
          if (!sent.lost) this.flight -= sent.size;
          if (sent.lost) this.lostCount--;
          sent.lost = false;
          acked += sent.size;
          if (sent.transmissions === 1) this.sampleRtt(now - sent.sentAt);
        }
      }
    }
    if (acked > 0) {
      this.cc.delaySample(p.timestampDiff, now);
      this.cc.onAck(acked, flightBefore, this.ackedRtt === Infinity ? 0 : Math.round(this.ackedRtt * 1000));
      // Progress: the backoff of earlier timeouts is over.
      this.rtt.reset();
      this.rtoAt = now + this.rtt.rto;
    }
    if (this.recoverySeq >= 0 && (this.inflight.size === 0 || !seqLess(p.ack, this.recoverySeq))) this.recoverySeq = -1;
    this.resendHoles(p, topSacked, now);
    return acked;
  }

  /** Holes (three or more packets selectively acked after it, or three duplicate ACKs) go again now,
   *  not at the timeout; the window halves once per window of losses. */
  private resendHoles(p: UtpPacket, topSacked: number, now: number): void {
    const holes: Sent[] = [];
    let above = 0;
    // From the top of the selective ACK down to ack_nr + 1 (index -1).
    for (let i = topSacked; i >= -1; i--) {
      if (i >= 0 && p.sack![i >> 3]! & (1 << (i & 7))) {
        above++;
        continue;
      }
      const sent = this.inflight.get((p.ack + 2 + i) & 0xffff);
      if (!sent || sent.sacked || sent.lost) continue;
      const dup = i === -1 && this.dupAcks >= DUP_ACKS;
      // Not again within a round trip of its last send: the ACKs now arriving predate it.
      if ((above >= DUP_ACKS || dup) && now - sent.sentAt > Math.max(this.rtt.srtt, 1)) holes.push(sent);
    }
    if (holes.length === 0) return;
    if (this.recoverySeq < 0) {
      this.cc.onLoss();
      this.recoverySeq = (this.seqNr - 1) & 0xffff;
    }
    this.dupAcks = 0;
    for (const sent of holes.reverse().slice(0, 16)) {
      this.stats.fastResends++;
      this.resend(sent, now);
    }
  }

  private ackOne(sent: Sent, now: number): number {
    this.inflight.delete(sent.seq);
    if (sent.sacked) return 0;
    if (sent.lost) this.lostCount--;
    else this.flight -= sent.size;
    // Karn: a resent packet's ACK says nothing about which copy arrived.
    if (sent.transmissions === 1) this.sampleRtt(now - sent.sentAt);
    return sent.size;
  }

  private sampleRtt(ms: number): void {
    this.rtt.sample(ms);
    if (ms < this.ackedRtt) this.ackedRtt = ms;
  }

  private handleData(p: UtpPacket): void {
    const arrival = this.rx.accept(p);
    if (arrival === 'duplicate') this.stats.duplicates++;
    if (arrival === 'ignored') return;
    // A duplicate: its ACK was lost. Refused: the window is still shut, and a STATE says so.
    this.ackSoon();
    if (arrival !== 'taken') return;
    if (this.rx.complete) {
      this.sendState();
      if (this.rx.finished) this.close();
    }
  }

  private ackSoon(): void {
    if (this.ackDue) return;
    this.ackDue = true;
    this.onAckDue?.(this);
  }

  /** Sends the ACK asked for by onAckDue (a no-op when a data packet already carried it). */
  sendPendingAck(): void {
    if (this.ackDue && this.state !== 'closed') this.sendState();
  }

  // ---- reader flow control ----

  pause(): void {
    this.rx.paused = true;
  }

  resume(): void {
    if (!this.rx.paused) return;
    const before = this.rx.window();
    this.rx.resume(() => this.state !== 'closed');
    // The window reopened: tell the peer, or it waits for its timeout to probe.
    if (this.state === 'connected' && before < this.mss && this.rx.window() >= this.mss) this.sendState();
    if (this.rx.finished) this.close();
  }

  // ---- outgoing ----

  /** Queues bytes; false when the caller should wait for onDrain. `data` is kept until sent. */
  write(data: Uint8Array): boolean {
    if (this.state === 'closed' || this.finQueued) return false;
    if (data.length > 0) {
      this.unsent.push(data);
      this.unsentBytes += data.length;
      if (this.corked === 0) this.flush();
    }
    return this.unsentBytes < this.highWater();
  }

  private highWater(): number {
    return Math.max(64 * 1024, 2 * this.cc.cwnd);
  }

  cork(): void {
    this.corked++;
  }

  uncork(): void {
    if (this.corked > 0 && --this.corked === 0) this.flush();
  }

  /** Graceful end: FIN once everything queued is out. */
  end(): void {
    if (this.state === 'closed' || this.finQueued) return;
    this.finQueued = true;
    this.flush();
  }

  /** Abrupt end (as TCP's reset): tells the peer with a RESET and drops what is queued. */
  destroy(): void {
    if (this.state === 'closed') return;
    if (this.state === 'connected') this.sendControl(ST_RESET, false);
    this.close();
  }

  /** Resends what a timeout counted lost, then packs queued bytes, while both windows allow. */
  flush(): void {
    if (this.state !== 'connected') return;
    const limit = () => Math.min(this.cc.cwnd, this.peerWindow);
    if (this.lostCount > 0) {
      const now = this.env.now();
      for (const sent of this.inflight.values()) {
        if (!sent.lost) continue;
        if (this.flight > 0 && this.flight + sent.size > limit()) return;
        sent.lost = false;
        this.lostCount--;
        this.flight += sent.size;
        this.resend(sent, now);
      }
    }
    while (this.unsentBytes > 0 && this.inflight.size < 0x7fff) {
      const room = limit() - this.flight;
      let size = Math.min(this.mss, this.unsentBytes);
      if (room < size) {
        // A window smaller than a packet, with nothing in flight: send what fits (none at zero:
        // tick() probes it). With packets in flight, wait for their ACKs (no silly-window slivers).
        if (this.flight > 0 || room <= 0) break;
        size = room;
      }
      this.sendData(size);
    }
    if (this.finQueued && !this.finSent && this.unsentBytes === 0) {
      this.finSent = true;
      this.sendControl(ST_FIN);
    }
  }

  private sendData(size: number): void {
    const packet = this.buildPacket(ST_DATA, size);
    let off = packet.length - size;
    while (off < packet.length) {
      const head = this.unsent[0]!;
      const take = Math.min(head.length, packet.length - off);
      packet.set(take === head.length ? head : head.subarray(0, take), off);
      off += take;
      if (take === head.length) this.unsent.shift();
      else this.unsent[0] = head.subarray(take);
    }
    this.unsentBytes -= size;
    this.track(packet, size);
  }

  private track(packet: Uint8Array, size: number): void {
    const now = this.env.now();
    const seq = this.seqNr;
    this.seqNr = (this.seqNr + 1) & 0xffff;
    if (this.inflight.size === 0) this.rtoAt = now + this.rtt.rto;
    this.inflight.set(seq, { seq, packet, size, sentAt: now, transmissions: 1, sacked: false, lost: false });
    this.flight += size;
    this.stats.packetsSent++;
    this.env.send(packet);
  }

  /** A packet with its header written (sequence number included) and room for `payload` bytes. */
  private buildPacket(type: PacketType, payload = 0): Uint8Array {
    // The selective ACK rides on STATE packets only: a DATA packet may be resent later with a
    // newer ack_nr, which would shift the meaning of every bit of a mask written for the old one.
    const sack = type === ST_STATE ? this.rx.selectiveAck() : undefined;
    const out = new Uint8Array(HEADER_SIZE + (sack ? 2 + sack.length : 0) + payload);
    encodeHeader(out, {
      type,
      connectionId: type === ST_SYN ? this.recvId : this.sendId,
      timestamp: this.env.micros(),
      timestampDiff: this.replyMicro,
      window: this.rx.window(),
      // A STATE names the next sequence number without taking it.
      seq: this.seqNr,
      ack: this.rx.ackNr,
      ...(sack ? { sack } : {}),
    });
    // A DATA packet carries the ack_nr but no selective ACK: with holes, a STATE still follows.
    if (sack || this.rx.held === 0) this.ackDue = false;
    return out;
  }

  private sendState(): void {
    this.stats.statesSent++;
    this.env.send(this.buildPacket(ST_STATE));
  }

  /** SYN and FIN take a sequence number and are resent until acked; RESET does not. */
  private sendControl(type: PacketType, reliable = true): void {
    const packet = this.buildPacket(type);
    if (!reliable) return this.env.send(packet);
    this.track(packet, 0);
  }

  private resend(sent: Sent, now: number): void {
    sent.transmissions++;
    this.stats.resent++;
    sent.sentAt = now;
    // Fresh timestamps, ack and window: the old ones would mislead the peer's delay estimate.
    const dv = new DataView(sent.packet.buffer, sent.packet.byteOffset, sent.packet.byteLength);
    dv.setUint32(4, this.env.micros() >>> 0);
    dv.setUint32(8, this.replyMicro >>> 0);
    dv.setUint32(12, this.rx.window() >>> 0);
    if (sent.packet[0]! >> 4 !== ST_SYN) dv.setUint16(18, this.rx.ackNr);
    this.env.send(sent.packet);
  }

  private oldestInflight(): number | undefined {
    for (const seq of this.inflight.keys()) return seq; // a Map keeps insertion order: oldest first
    return undefined;
  }

  /** Timers: retransmission timeouts, SYN retries, zero-window probes. */
  tick(): void {
    if (this.state === 'closed') return;
    const now = this.env.now();
    if (now < this.rtoAt) return;
    if (this.inflight.size === 0) {
      // Nothing in flight but data waits on a closed window: probe it with one packet.
      if (this.unsentBytes > 0 && this.peerWindow < this.mss) {
        this.peerWindow = this.mss;
        this.timeouts++;
        this.rtt.backoff();
        this.rtoAt = now + this.rtt.rto;
        this.flush();
      }
      return;
    }
    this.timeouts++;
    this.stats.timeouts++;
    if (this.state === 'syn-sent' ? this.timeouts >= this.synAttempts : this.timeouts >= MAX_TIMEOUTS) {
      return this.close(new Error(this.state === 'syn-sent' ? 'uTP connect timed out' : 'uTP connection timed out'));
    }
    this.cc.onTimeout();
    this.rtt.backoff();
    this.rtoAt = now + this.rtt.rto;
    // Everything in flight counts as lost: flush() sends it again as the (now small) window allows.
    for (const sent of this.inflight.values()) {
      if (sent.sacked || sent.lost) continue;
      sent.lost = true;
      this.flight -= sent.size;
      this.lostCount++;
    }
    if (this.state === 'syn-sent') {
      const syn = this.inflight.get(this.oldestInflight()!)!;
      syn.lost = false;
      this.lostCount = 0;
      return this.resend(syn, now);
    }
    this.flush();
  }

  /** Next moment tick() has work (ms), for owners that sleep between ticks. */
  get nextTimer(): number {
    return this.inflight.size > 0 || this.unsentBytes > 0 ? this.rtoAt : Infinity;
  }

  private close(err?: Error): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.inflight.clear();
    this.rx.dropHeld();
    this.unsent.length = 0;
    this.unsentBytes = this.flight = 0;
    this.onClose?.(err);
  }
}
