// The client's end of one circuit: the hops' keys in order, telescoping construction (CREATE to the
// first relay, then EXTEND through the circuit so far), layered sends and receives, and requests
// to the exit on streams.
import { Cmd, DestroyReason, RelayCmd, decodeRelay, encodeCell, encodeRelay, type RelayMessage } from '../protocol/cells.ts';
import { HopCrypto } from '../protocol/layers.ts';
import { clientHandshake, relayIdDigest, type ClientHandshake } from '../protocol/ntor.ts';
import { concatCreate } from '../relay/relay.ts';
import { linkAddress, type Link } from '../protocol/link.ts';
import { isTabRelay, onionKeyOf, type RelayDescriptor } from '../directory/descriptor.ts';
import { DocumentBuffer, MAX_ANSWER_BYTES, documentCells } from '../protocol/streams.ts';
import { concat, fromUtf8, signingKeyFromDid, utf8 } from '@cascade/identity';

export class CircuitError extends Error {
  /** The relay the failure points at, when one does (unreachable next hop, bad handshake). */
  readonly relay: string | undefined;
  /** The exit did not answer in time (the circuit may be silently broken). */
  timedOut = false;
  constructor(message: string, relay?: string) {
    super(message);
    this.name = 'CircuitError';
    this.relay = relay;
  }
}

interface Waiter {
  resolve: (m: RelayMessage) => void;
  reject: (e: Error) => void;
}

interface Stream {
  buf: DocumentBuffer;
  resolve: (doc: unknown) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** The client's end of a tunnel (see openTunnel). */
export interface Tunnel {
  send(doc: unknown): void;
  close(): void;
}

interface TunnelState {
  buf: DocumentBuffer;
  onMessage: (doc: unknown) => void;
  onClose: (reason: string) => void;
}

export class Circuit {
  readonly link: Link;
  readonly circId: number;
  readonly path: readonly RelayDescriptor[];
  readonly createdAt = Date.now();
  private readonly hops: HopCrypto[] = [];
  private created: ((payload: Uint8Array) => void) | undefined;
  /** The one control message (EXTENDED / EXTEND_FAILED) being waited for, while building. */
  private control: Waiter | undefined;
  private readonly streams = new Map<number, Stream>();
  private readonly tunnels = new Map<number, TunnelState>();
  private nextStream = 1;
  private closeFns: ((reason: string) => void)[] = [];
  closed: string | undefined;

  constructor(link: Link, circId: number, path: readonly RelayDescriptor[]) {
    this.link = link;
    this.circId = circId;
    this.path = path;
  }

  get pending(): number {
    return this.streams.size + this.tunnels.size;
  }

  onClose(fn: (reason: string) => void): void {
    this.closeFns.push(fn);
  }

  /** CREATE, then EXTEND to each further relay; rejects (and closes) on the first failure. */
  async build(timeoutMs: number): Promise<void> {
    const first = this.path[0]!;
    const hs = handshakeWith(first);
    const created = this.withTimeout(
      new Promise<Uint8Array>((resolve) => (this.created = resolve)),
      timeoutMs,
      `relay ${first.id} did not answer CREATE`,
      first.id,
    );
    this.link.send(encodeCell(this.circId, Cmd.CREATE, concatCreate(hs.message)));
    const reply = await created;
    this.hops.push(new HopCrypto(this.finish(hs, reply, first)));
    for (const [i, relay] of this.path.entries()) {
      if (i === 0) continue;
      const next = handshakeWith(relay);
      const len = new Uint8Array(2);
      new DataView(len.buffer).setUint16(0, next.message.length);
      // A tab extends over WebSocket (a page cannot open TCP); node relays prefer TCP.
      const data = concat(len, next.message, utf8(linkAddress(relay, isTabRelay(this.path[i - 1]!) ? 'ws' : 'tcp')));
      const answer = this.withTimeout(
        new Promise<RelayMessage>((resolve, reject) => (this.control = { resolve, reject })),
        timeoutMs,
        `extending to ${relay.id} timed out`,
        relay.id,
      );
      this.sendTo(this.hops.length - 1, { cmd: RelayCmd.EXTEND, streamId: 0, data });
      const m = await answer;
      if (m.cmd !== RelayCmd.EXTENDED) {
        const why = m.cmd === RelayCmd.EXTEND_FAILED ? fromUtf8(m.data) : 'unexpected answer to EXTEND';
        this.close(why);
        throw new CircuitError(`extending to ${relay.id}: ${why}`, relay.id);
      }
      this.hops.push(new HopCrypto(this.finish(next, m.data, relay)));
    }
  }

  private finish(hs: ClientHandshake, reply: Uint8Array, relay: RelayDescriptor) {
    try {
      return hs.finish(reply);
    } catch (err) {
      this.close('handshake failed');
      throw new CircuitError(`relay ${relay.id}: ${(err as Error).message}`, relay.id);
    }
  }

  /** Sends a JSON request to the exit and resolves with its JSON answer. */
  request(doc: unknown, timeoutMs: number): Promise<unknown> {
    if (this.closed) return Promise.reject(new CircuitError(`circuit closed: ${this.closed}`));
    const streamId = this.nextStreamId();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.streams.delete(streamId);
        reject(Object.assign(new CircuitError('the exit did not answer in time'), { timedOut: true }));
      }, timeoutMs);
      this.streams.set(streamId, { buf: new DocumentBuffer(MAX_ANSWER_BYTES), resolve, reject, timer });
      for (const m of documentCells(streamId, doc, 'BEGIN')) this.sendTo(this.hops.length - 1, m);
    });
  }

  /**
   * Opens a tunnel at the exit: `doc` says to what (a WebSocket tracker); then messages go both ways
   * until either side closes. onClose runs once, also when the circuit dies.
   */
  openTunnel(doc: unknown, onMessage: (doc: unknown) => void, onClose: (reason: string) => void): Tunnel {
    const id = this.nextStreamId();
    const last = this.hops.length - 1;
    const state: TunnelState = { buf: new DocumentBuffer(MAX_ANSWER_BYTES), onMessage, onClose };
    if (this.closed) {
      queueMicrotask(() => onClose(`circuit closed: ${this.closed}`));
    } else {
      this.tunnels.set(id, state);
      for (const m of documentCells(id, doc, 'BEGIN', 'MSG_END')) this.sendTo(last, m);
    }
    return {
      send: (message) => {
        if (this.tunnels.get(id) === state) for (const m of documentCells(id, message, 'DATA', 'MSG_END')) this.sendTo(last, m);
      },
      close: () => {
        if (this.tunnels.get(id) !== state) return;
        this.tunnels.delete(id);
        this.sendTo(last, { cmd: RelayCmd.END, streamId: id, data: new Uint8Array(0) });
      },
    };
  }

  private nextStreamId(): number {
    const id = this.nextStream;
    this.nextStream = (this.nextStream % 0xffff) + 1;
    return id;
  }

  /** Long-range padding to the last hop (it drops it): cover traffic like any relay cell. Only the
   *  last hop: a hop that has extended passes every cell on without opening it. */
  pad(): void {
    if (!this.closed) this.sendTo(this.hops.length - 1, { cmd: RelayCmd.DROP, streamId: 0, data: new Uint8Array(0) });
  }

  private sendTo(hop: number, m: RelayMessage): void {
    let payload = this.hops[hop]!.sealForward(encodeRelay(m));
    for (let j = hop; j >= 0; j--) payload = this.hops[j]!.forwardLayer(payload);
    this.link.send(encodeCell(this.circId, Cmd.RELAY, payload));
  }

  /** A cell for this circuit from the link. */
  onCell(cmd: number, payload: Uint8Array): void {
    if (this.closed) return;
    if (cmd === Cmd.CREATED && this.created && this.hops.length === 0) {
      const len = new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint16(0);
      const resolve = this.created;
      this.created = undefined;
      return resolve(payload.slice(2, 2 + Math.min(len, 64)));
    }
    if (cmd === Cmd.DESTROY) return this.close(`destroyed by the circuit (reason ${payload[0]})`);
    if (cmd !== Cmd.RELAY) return;
    let p = payload;
    for (let i = 0; i < this.hops.length; i++) {
      p = this.hops[i]!.backwardLayer(p);
      const plain = this.hops[i]!.openBackward(p);
      if (plain) return this.fromHop(i, decodeRelay(plain));
    }
    // No hop sealed it: someone on the path altered it. Nothing on this circuit can be trusted now.
    this.destroy('a cell failed authentication');
  }

  private fromHop(hop: number, m: RelayMessage): void {
    if (m.cmd === RelayCmd.EXTENDED || m.cmd === RelayCmd.EXTEND_FAILED) {
      const w = this.control;
      this.control = undefined;
      if (w && hop === this.hops.length - 1) w.resolve(m);
      return;
    }
    if (hop !== this.hops.length - 1) return;
    const tunnel = this.tunnels.get(m.streamId);
    if (tunnel) return this.fromTunnel(m, tunnel);
    const s = this.streams.get(m.streamId);
    if (!s) return;
    if (m.cmd === RelayCmd.DATA) {
      try {
        s.buf.add(m.data);
      } catch (err) {
        this.endStream(m.streamId, s);
        s.reject(err as Error);
      }
      return;
    }
    if (m.cmd !== RelayCmd.END) return;
    this.endStream(m.streamId, s);
    if (m.data.length > 0) return s.reject(new CircuitError(`exit refused: ${fromUtf8(m.data)}`));
    try {
      s.resolve(s.buf.json());
    } catch {
      s.reject(new CircuitError('the exit answered with something other than JSON'));
    }
  }

  private fromTunnel(m: RelayMessage, t: TunnelState): void {
    if (m.cmd === RelayCmd.DATA) {
      try {
        return t.buf.add(m.data);
      } catch {
        this.tunnels.delete(m.streamId);
        return t.onClose('the exit sent a message over the size limit');
      }
    }
    if (m.cmd === RelayCmd.MSG_END) {
      let doc: unknown;
      try {
        doc = t.buf.json();
      } catch {
        doc = undefined;
      }
      t.buf = new DocumentBuffer(MAX_ANSWER_BYTES);
      if (doc !== undefined) t.onMessage(doc);
      return;
    }
    if (m.cmd === RelayCmd.END) {
      this.tunnels.delete(m.streamId);
      t.onClose(m.data.length > 0 ? `exit refused: ${fromUtf8(m.data)}` : 'closed by the exit');
    }
  }

  private endStream(id: number, s: Stream): void {
    clearTimeout(s.timer);
    this.streams.delete(id);
  }

  /** Closes and tells the relays (DESTROY). */
  destroy(reason: string): void {
    if (this.closed) return;
    this.link.send(encodeCell(this.circId, Cmd.DESTROY, Uint8Array.of(DestroyReason.CLOSED)));
    this.close(reason);
  }

  /** Marks closed (the relays already know, or the link is gone) and fails what was waiting. */
  close(reason: string): void {
    if (this.closed) return;
    this.closed = reason;
    const err = new CircuitError(`circuit closed: ${reason}`);
    this.control?.reject(err);
    this.control = undefined;
    for (const [id, s] of this.streams) {
      this.endStream(id, s);
      s.reject(err);
    }
    for (const t of this.tunnels.values()) t.onClose(`circuit closed: ${reason}`);
    this.tunnels.clear();
    for (const fn of this.closeFns) fn(reason);
  }

  private withTimeout<T>(p: Promise<T>, ms: number, message: string, relay: string): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const closed = new Promise<never>((_, reject) => this.onClose((why) => reject(new CircuitError(`circuit closed while building: ${why}`, relay))));
    closed.catch(() => {});
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.destroy(message);
        reject(new CircuitError(message, relay));
      }, ms);
    });
    return Promise.race([p, closed, timeout]).finally(() => clearTimeout(timer));
  }
}

function handshakeWith(relay: RelayDescriptor): ClientHandshake {
  return clientHandshake(relayIdDigest(signingKeyFromDid(relay.id)), onionKeyOf(relay));
}
