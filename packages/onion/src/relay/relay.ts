// A relay's circuit switch, platform-free. For each circuit it knows the previous hop (a link and a
// circuit id) and, once extended, the next one; it peels or adds its own layer and passes cells on.
// Cells sealed to this hop are EXTEND (open a link to the next relay and send it CREATE) or a
// discovery request (when this relay is an exit). It never learns more than the previous and next
// hop of a circuit.
import {
  Cmd,
  DestroyReason,
  RelayCmd,
  decodeCell,
  decodeRelay,
  encodeCell,
  encodeRelay,
  type RelayMessage,
} from '../protocol/cells.ts';
import { HopCrypto } from '../protocol/layers.ts';
import { HANDSHAKE_TYPE, serverHandshake, type OnionKeyPair } from '../protocol/ntor.ts';
import { newCircId, type Link, type LinkDialer, LinkPool } from '../protocol/link.ts';
import { ExitStreams, type ExitHandler, type TunnelHandler } from '../exit/exit-streams.ts';
import { fromUtf8 } from '@cascade/identity';

export type { ExitHandler, TunnelHandler };


export interface RelayCoreOptions {
  /** SHA-256 of the relay's Ed25519 identity key (what CREATE names). */
  idDigest: Uint8Array;
  /** Current onion keys, newest first. */
  onionKeys: () => readonly OnionKeyPair[];
  dial: LinkDialer;
  /** Discovery requests from circuits ending here; omitted = not an exit. */
  exit?: ExitHandler;
  /** WebSocket tracker sessions tunnelled from circuits ending here; omitted = none. */
  tunnel?: TunnelHandler;
  extendTimeoutMs?: number;
  /** Every cell in or out on every link, as it travels (tests check sizes and what a relay sees). */
  observe?: (event: { link: Link; direction: 'in' | 'out'; cell: Uint8Array; peeled?: Uint8Array }) => void;
  maxCircuits?: number;
  /** Circuits one link may hold (one client's share). Default 256. */
  maxCircuitsPerLink?: number;
  /** Whether EXTEND may open a link to `address` (a relay on a public address refuses local and
   *  private ones, or EXTEND would probe the network behind it); rejects with the reason. */
  checkExtend?: (address: string) => Promise<void>;
  maxStreamsPerCircuit?: number;
}

interface Hop {
  link: Link;
  circId: number;
}

interface Circuit {
  prev: Hop;
  next?: Hop;
  extending?: { timer: ReturnType<typeof setTimeout>; abort: AbortController };
  crypto: HopCrypto;
  /** Made when the first stream cell arrives (exits only ever need them). */
  streams?: ExitStreams;
  closed: boolean;
}

export class RelayCore {
  private readonly opts: RelayCoreOptions;
  private readonly pool: LinkPool;
  /** Per link, its circuits by the id they have on that link. */
  private readonly byLink = new Map<Link, Map<number, Circuit>>();
  private circuitCount = 0;
  private closed = false;
  readonly stats = { circuits: 0, cellsIn: 0, cellsOut: 0, refused: 0 };

  constructor(opts: RelayCoreOptions) {
    this.opts = opts;
    this.pool = new LinkPool(async (address, signal) => {
      const link = await opts.dial(address, signal);
      this.attach(link);
      return link;
    });
  }

  get circuits(): number {
    return this.circuitCount;
  }

  /** Takes a link (accepted, or dialled by the pool) and switches its cells. */
  attach(link: Link): void {
    if (this.closed) return link.close();
    if (this.byLink.has(link)) return;
    this.byLink.set(link, new Map());
    link.onCell((cell) => this.onCell(link, cell));
    link.onClose(() => this.linkClosed(link));
  }

  close(): void {
    this.closed = true;
    for (const link of [...this.byLink.keys()]) link.close();
    this.pool.closeAll();
  }

  private send(link: Link, cell: Uint8Array): void {
    this.stats.cellsOut++;
    this.opts.observe?.({ link, direction: 'out', cell });
    link.send(cell);
  }

  private onCell(link: Link, raw: Uint8Array): void {
    this.stats.cellsIn++;
    let cell;
    try {
      cell = decodeCell(raw);
    } catch {
      // A link that breaks framing carries nothing we can trust: it goes, other links stay.
      this.stats.refused++;
      return link.close();
    }
    const circuits = this.byLink.get(link);
    if (!circuits) return;
    const c = circuits.get(cell.circId);
    switch (cell.cmd) {
      case Cmd.PADDING:
        return this.opts.observe?.({ link, direction: 'in', cell: raw });
      case Cmd.CREATE:
        this.opts.observe?.({ link, direction: 'in', cell: raw });
        return c ? this.refuse(link, cell.circId, DestroyReason.PROTOCOL) : this.create(link, cell.circId, cell.payload);
      case Cmd.CREATED:
        this.opts.observe?.({ link, direction: 'in', cell: raw });
        return c ? this.created(c, link, cell.payload) : undefined;
      case Cmd.RELAY:
        if (!c) return this.opts.observe?.({ link, direction: 'in', cell: raw });
        return c.prev.link === link && c.prev.circId === cell.circId ? this.forward(c, raw, cell.payload) : this.backward(c, raw, cell.payload);
      case Cmd.DESTROY:
        this.opts.observe?.({ link, direction: 'in', cell: raw });
        if (c) this.destroy(c, c.prev.link === link && c.prev.circId === cell.circId ? 'prev' : 'next', DestroyReason.NEXT_HOP_GONE);
        return;
      default:
        this.stats.refused++;
        this.opts.observe?.({ link, direction: 'in', cell: raw });
    }
  }

  private create(link: Link, circId: number, payload: Uint8Array): void {
    if (this.circuitCount >= (this.opts.maxCircuits ?? 4096)) return this.refuse(link, circId, DestroyReason.RESOURCES);
    const onLink = this.byLink.get(link)!;
    if (onLink.size >= (this.opts.maxCircuitsPerLink ?? 256)) return this.refuse(link, circId, DestroyReason.RESOURCES);
    const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    const type = view.getUint16(0);
    const len = view.getUint16(2);
    if (type !== HANDSHAKE_TYPE || len > payload.length - 4) return this.refuse(link, circId, DestroyReason.HANDSHAKE);
    let answer;
    try {
      answer = serverHandshake(payload.subarray(4, 4 + len), this.opts.idDigest, this.opts.onionKeys());
    } catch {
      return this.refuse(link, circId, DestroyReason.HANDSHAKE);
    }
    const c: Circuit = { prev: { link, circId }, crypto: new HopCrypto(answer.keys), closed: false };
    this.byLink.get(link)!.set(circId, c);
    this.circuitCount++;
    this.stats.circuits++;
    this.send(link, encodeCell(circId, Cmd.CREATED, withLength(answer.reply)));
  }

  private refuse(link: Link, circId: number, reason: number): void {
    this.stats.refused++;
    this.send(link, encodeCell(circId, Cmd.DESTROY, Uint8Array.of(reason)));
  }

  private forward(c: Circuit, raw: Uint8Array, payload: Uint8Array): void {
    const peeled = c.crypto.forwardLayer(payload);
    this.opts.observe?.({ link: c.prev.link, direction: 'in', cell: raw, peeled });
    // Once extended, a hop is only a passage: clients seal nothing to it any more (EXTEND and
    // requests go to the last hop), so it forwards without trying its seal — half a relay's work.
    if (c.next && !c.extending) return this.send(c.next.link, encodeCell(c.next.circId, Cmd.RELAY, peeled));
    const plain = c.crypto.openForward(peeled);
    if (plain) {
      let m: RelayMessage;
      try {
        m = decodeRelay(plain);
      } catch {
        return this.destroy(c, 'here', DestroyReason.PROTOCOL);
      }
      return this.relayMessage(c, m);
    }
    // Sealed to nobody (or sent on while the next hop is still being reached): tampered with on the
    // way, or a protocol error. Tor's rule: the circuit dies.
    this.destroy(c, 'here', DestroyReason.PROTOCOL);
  }

  private backward(c: Circuit, raw: Uint8Array, payload: Uint8Array): void {
    this.opts.observe?.({ link: c.next!.link, direction: 'in', cell: raw });
    this.send(c.prev.link, encodeCell(c.prev.circId, Cmd.RELAY, c.crypto.backwardLayer(payload)));
  }

  /** A message from this hop to the client, sealed and layered by this hop. */
  private reply(c: Circuit, m: RelayMessage): void {
    if (c.closed) return;
    const payload = c.crypto.backwardLayer(c.crypto.sealBackward(encodeRelay(m)));
    this.send(c.prev.link, encodeCell(c.prev.circId, Cmd.RELAY, payload));
  }

  private relayMessage(c: Circuit, m: RelayMessage): void {
    switch (m.cmd) {
      case RelayCmd.EXTEND:
        return this.extend(c, m.data);
      case RelayCmd.DROP:
        return;
      case RelayCmd.BEGIN:
      case RelayCmd.DATA:
      case RelayCmd.MSG_END:
      case RelayCmd.END:
        return this.stream(c, m);
      default:
        this.destroy(c, 'here', DestroyReason.PROTOCOL);
    }
  }

  private extend(c: Circuit, data: Uint8Array): void {
    if (c.next || c.extending || data.length < 2) return this.destroy(c, 'here', DestroyReason.PROTOCOL);
    const hsLen = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint16(0);
    if (2 + hsLen > data.length) return this.destroy(c, 'here', DestroyReason.PROTOCOL);
    const handshake = data.slice(2, 2 + hsLen);
    const address = fromUtf8(data.subarray(2 + hsLen));
    const abort = new AbortController();
    const fail = (why: string) => {
      if (!c.extending || c.closed) return;
      clearTimeout(c.extending.timer);
      c.extending = undefined;
      this.reply(c, { cmd: RelayCmd.EXTEND_FAILED, streamId: 0, data: new TextEncoder().encode(why) });
    };
    const timer = setTimeout(() => {
      abort.abort();
      fail('next relay did not answer');
      if (c.next) this.dropNext(c);
    }, this.opts.extendTimeoutMs ?? 10_000);
    c.extending = { timer, abort };
    const refused = (err: unknown) => {
      throw Object.assign(new Error(err instanceof Error ? err.message : String(err)), { refused: true });
    };
    const allowed = this.opts.checkExtend ? this.opts.checkExtend(address).catch(refused) : Promise.resolve();
    allowed.then(() => this.pool.get(address, abort.signal)).then(
      (link) => {
        if (c.closed || !c.extending) return;
        const circuits = this.byLink.get(link);
        if (!circuits) return fail('next relay unreachable');
        const circId = newCircId(link, (id) => circuits.has(id));
        c.next = { link, circId };
        circuits.set(circId, c);
        this.send(link, encodeCell(circId, Cmd.CREATE, concatCreate(handshake)));
      },
      (err: { refused?: boolean; message?: string }) => fail(err?.refused ? `refused: ${err.message}` : 'next relay unreachable'),
    );
  }

  private created(c: Circuit, link: Link, payload: Uint8Array): void {
    if (!c.extending || c.next?.link !== link) return;
    clearTimeout(c.extending.timer);
    c.extending = undefined;
    const len = new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint16(0);
    this.reply(c, { cmd: RelayCmd.EXTENDED, streamId: 0, data: payload.slice(2, 2 + Math.min(len, 64)) });
  }

  private stream(c: Circuit, m: RelayMessage): void {
    c.streams ??= new ExitStreams((reply) => this.reply(c, reply), this.opts.exit, this.opts.tunnel);
    if (!c.streams.take(m)) this.destroy(c, 'here', DestroyReason.PROTOCOL);
  }

  /** Gives up the next hop of a circuit whose extension failed; that relay hears so (DESTROY). */
  private dropNext(c: Circuit): void {
    if (!c.next) return;
    this.byLink.get(c.next.link)?.delete(c.next.circId);
    this.send(c.next.link, encodeCell(c.next.circId, Cmd.DESTROY, Uint8Array.of(DestroyReason.CLOSED)));
    c.next = undefined;
  }

  /** Tears a circuit down; tells the side(s) that did not start it. */
  private destroy(c: Circuit, from: 'prev' | 'next' | 'here', reason: number): void {
    if (c.closed) return;
    c.closed = true;
    this.circuitCount--;
    c.streams?.close();
    if (c.extending) {
      clearTimeout(c.extending.timer);
      c.extending.abort.abort();
    }
    this.byLink.get(c.prev.link)?.delete(c.prev.circId);
    if (from !== 'prev') this.send(c.prev.link, encodeCell(c.prev.circId, Cmd.DESTROY, Uint8Array.of(reason)));
    if (c.next) {
      this.byLink.get(c.next.link)?.delete(c.next.circId);
      if (from !== 'next') this.send(c.next.link, encodeCell(c.next.circId, Cmd.DESTROY, Uint8Array.of(DestroyReason.CLOSED)));
    }
  }

  private linkClosed(link: Link): void {
    const circuits = this.byLink.get(link);
    this.byLink.delete(link);
    if (!circuits) return;
    for (const c of new Set(circuits.values())) {
      this.destroy(c, c.prev.link === link ? 'prev' : 'next', DestroyReason.NEXT_HOP_GONE);
    }
  }
}

function withLength(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + data.length);
  new DataView(out.buffer).setUint16(0, data.length);
  out.set(data, 2);
  return out;
}

/** CREATE's payload: handshake type, length, handshake. */
export function concatCreate(handshake: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + handshake.length);
  const view = new DataView(out.buffer);
  view.setUint16(0, HANDSHAKE_TYPE);
  view.setUint16(2, handshake.length);
  out.set(handshake, 4);
  return out;
}
