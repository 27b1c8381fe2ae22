// The receive side of a uTP connection (connection.ts): packets past a hole held by sequence number
// until the hole fills, in-order data handed to the reader or kept while it is paused, and the
// window we advertise out of what both hold and of the queue the peer's packets meet
// (delay-window.ts). Pure; the connection decides what to send back.

import { DelayWindow } from './delay-window.ts';
import { MAX_SACK_BYTES, ST_DATA, ST_FIN, selectiveAckMask, seqDist, seqLess, type UtpPacket } from './packet.ts';

/** Packets past ack_nr + 1 we keep out of order (the selective ACK reports 256 of them). */
const MAX_REORDER = MAX_SACK_BYTES * 8;

/** What became of a DATA or FIN packet: `duplicate`, already had (its ACK was lost); `refused`,
 *  next in order but past the window while the reader is paused; `ignored`, past the end the
 *  peer's FIN set, or out of order with no room; `taken`, held or delivered (or too far ahead). */
export type Arrival = 'duplicate' | 'refused' | 'ignored' | 'taken';

export class ReceiveBuffer {
  /** Last sequence number received in order. */
  ackNr = 0;
  /** Seq of the peer's FIN once seen. */
  eofSeq = -1;
  paused = false;
  /** Received out of order, by seq. */
  private readonly reorder = new Map<number, Uint8Array>();
  private reorderBytes = 0;
  /** In-order data the reader has not taken (paused). */
  private readonly undelivered: Uint8Array[] = [];
  private undeliveredBytes = 0;
  private readonly capacity: number;
  private readonly onData: (chunk: Uint8Array) => void;
  private readonly delay: DelayWindow;

  /** `capacity`: bytes held for the reader before the window shuts; `onData` hands a chunk to it. */
  constructor(capacity: number, onData: (chunk: Uint8Array) => void) {
    this.capacity = capacity;
    this.onData = onData;
    this.delay = new DelayWindow(capacity);
  }

  /** A DATA packet of `bytes` came `delayUs` after its timestamp (DelayWindow.onData). */
  delaySample(bytes: number, delayUs: number, nowMs: number, rttMs: number): void {
    if (bytes > 0) this.delay.onData(bytes, delayUs, nowMs, rttMs);
  }

  /** The queuing delay the peer's packets meet on their way to us, microseconds. */
  get queuingDelayUs(): number {
    return this.delay.queuingDelayUs;
  }

  accept(p: UtpPacket): Arrival {
    const d = seqDist(this.ackNr, p.seq);
    if (d === 0 || d >= 0x8000) return 'duplicate';
    if (p.type === ST_FIN && this.eofSeq < 0) this.eofSeq = p.seq;
    if (this.eofSeq >= 0 && seqLess(this.eofSeq, p.seq)) return 'ignored'; // past the end: a lie
    if (d === 1) {
      // Past the window we advertised while our reader is paused: dropped, and the connection's
      // STATE says the window is still shut (the sender's probe is answered, so it knows we are alive).
      if (this.undeliveredBytes + p.payload.length > this.capacity) return 'refused';
      this.ackNr = p.seq;
      if (p.type === ST_DATA) this.deliver(p.payload);
      // Packets waiting behind this one now follow it.
      for (let next = (this.ackNr + 1) & 0xffff; ; next = (next + 1) & 0xffff) {
        const held = this.reorder.get(next);
        if (held === undefined) break;
        this.reorder.delete(next);
        this.reorderBytes -= held.length;
        this.ackNr = next;
        if (next !== this.eofSeq) this.deliver(held);
      }
    } else if (d <= MAX_REORDER + 1 && !this.reorder.has(p.seq)) {
      // Out of order: held while it fits in the window we advertised (a peer ignoring it gets drops).
      if (this.reorderBytes + this.undeliveredBytes + p.payload.length > this.capacity) return 'ignored';
      const copy = p.type === ST_DATA ? p.payload : new Uint8Array(0);
      this.reorder.set(p.seq, copy);
      this.reorderBytes += copy.length;
    }
    return 'taken';
  }

  private deliver(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.paused || this.undelivered.length > 0) {
      this.undelivered.push(chunk);
      this.undeliveredBytes += chunk.length;
      return;
    }
    this.onData(chunk);
  }

  /** Hands the reader what waited while it was paused, until it pauses again or `open()` fails. */
  resume(open: () => boolean): void {
    this.paused = false;
    while (this.undelivered.length > 0 && !this.paused && open()) {
      const chunk = this.undelivered.shift()!;
      this.undeliveredBytes -= chunk.length;
      this.onData(chunk);
    }
  }

  /** The receive window we advertise: what the buffer has room for, as far as the queue allows. */
  window(): number {
    return Math.max(0, Math.min(this.capacity - this.reorderBytes - this.undeliveredBytes, this.delay.window));
  }

  /** Every packet up to the peer's FIN is in, and the reader has taken all of it. */
  get finished(): boolean {
    return this.eofSeq >= 0 && this.ackNr === this.eofSeq && this.undeliveredBytes === 0;
  }

  /** Every packet up to the peer's FIN is in (the reader may still be paused on some). */
  get complete(): boolean {
    return this.eofSeq >= 0 && this.ackNr === this.eofSeq;
  }

  /** Packets held out of order. */
  get held(): number {
    return this.reorder.size;
  }

  get undeliveredLength(): number {
    return this.undeliveredBytes;
  }

  /** The selective ACK for a STATE packet; undefined when nothing is held. */
  selectiveAck(): Uint8Array | undefined {
    return selectiveAckMask(this.ackNr, this.reorder);
  }

  dropHeld(): void {
    this.reorder.clear();
  }
}
