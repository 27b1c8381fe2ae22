// Announce replies leave in batches, once per turn of the event loop, from buffers kept per reply
// length: no buffer per reply, and one wake-up of a client that sent many requests rather than
// one per reply.
//
// Node hands a socket's datagrams to JavaScript one callback at a time, up to 32 per poll. A
// reply sent at once wakes the client when it sleeps, and on a virtual machine a wake-up (an
// inter-processor interrupt) costs more than the rest of the announce. Held until setImmediate,
// after the poll phase, the replies to a whole poll's requests go out back to back, and the
// client wakes to all of them.
//
// A buffer goes back to its length's free list once sent: the kernel copies a datagram before
// send() returns unless the socket's queue is full; then Node holds the buffer until it is sent,
// so it is let go. Sending a slice instead would make a Buffer per reply (Node wraps
// offset/length in one).

import type dgram from 'node:dgram';

/** Replies held at most before a flush whatever the loop does: bounds the memory held. */
const MAX_HELD = 256;

export class ReplyBatcher {
  private readonly socket: dgram.Socket;
  private readonly free: Buffer[][] = [];
  private readonly bufs: (Buffer | undefined)[] = [];
  private readonly ports: number[] = [];
  private readonly addrs: string[] = [];
  private held = 0;
  private scheduled = false;
  private readonly flushNow = () => this.flush();

  constructor(socket: dgram.Socket) {
    this.socket = socket;
  }

  /** Queues the first `length` bytes of `src` (copied now) for `address`:`port`. */
  send(src: Buffer, length: number, port: number, address: string): void {
    let list = this.free[length];
    if (list === undefined) this.free[length] = list = [];
    const b = list.length > 0 ? list.pop()! : Buffer.allocUnsafeSlow(length);
    src.copy(b, 0, 0, length);
    const i = this.held++;
    this.bufs[i] = b;
    this.ports[i] = port;
    this.addrs[i] = address;
    if (this.held >= MAX_HELD) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushNow);
    }
  }

  flush(): void {
    const socket = this.socket;
    const n = this.held;
    this.held = 0;
    this.scheduled = false;
    let sent = 0;
    for (let i = 0; i < n; i++) {
      try {
        // No callback: a callback costs a deferred call per send, and errors reach the 'error' handler anyway.
        socket.send(this.bufs[i]!, this.ports[i]!, this.addrs[i]!);
        sent++;
      } catch {
        // Closed meanwhile (the tracker is stopping): the rest go unsent, as they would a moment later.
      }
    }
    // Asked once per batch: sends left queued only finish in a later turn, so an empty queue now
    // means Node holds none of this batch's buffers. Otherwise the whole batch is let go.
    const reuse = sent === n && socket.getSendQueueCount() === 0;
    for (let i = 0; i < n; i++) {
      const b = this.bufs[i]!;
      this.bufs[i] = undefined;
      if (reuse) this.free[b.length]!.push(b);
    }
  }
}
