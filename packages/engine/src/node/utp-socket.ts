// uTP over one UDP socket (BEP 29), bound to the TCP listener's port number as libtorrent does.
// Each uTP connection is handed to the rest of the engine as the same Connection a TCP socket is,
// so MSE and the wire protocol run over it unchanged. The DHT may share the socket: datagrams
// that open with 'd' (a bencoded dictionary) go to it, everything else is read as uTP.

import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import { randomInt } from 'node:crypto';
import type { Connection } from '../platform.ts';
import { addressKey, type PeerAddress } from '../types.ts';
import { UtpConnection, type UtpEnv, type UtpOptions } from '../utp/connection.ts';
import { ST_SYN, decodePacket, type UtpPacket } from '../utp/packet.ts';
import { addressGroup } from '../swarm/admission.ts';
import { clock } from '../clock.ts';

const TICK_MS = 50;
/** New incoming connections per second beyond which SYNs are dropped (a flood of spoofed SYNs
 *  must not turn into a flood of half-open connections for the session to sort out). */
const ACCEPTS_PER_SECOND = 200;
/** Of those, the most one address (an IPv6 /64) gets: one flooding host cannot use up the
 *  socket's budget and lock every other peer out of incoming uTP while it lasts. */
const ACCEPTS_PER_HOST_PER_SECOND = 20;
/** Hosts counted per second at most (spoofed sources each make an entry; past this, only the
 *  socket-wide budget applies until the next second). */
const MAX_HOSTS_COUNTED = 10_000;
/** Most uTP connections one socket holds. */
const MAX_CONNECTIONS = 4096;

export interface UtpCounters {
  packetsIn: number;
  packetsOut: number;
  /** Datagrams that were not uTP (bad headers) or named no connection we have. */
  dropped: number;
  synDropped: number;
}

const epoch = performance.now();
const micros = () => Math.floor((performance.now() - epoch) * 1000) >>> 0;

export class UtpSocket {
  private readonly socket: dgram.Socket;
  private readonly conns = new Map<string, UtpConnection>();
  private readonly ackDue = new Set<UtpConnection>();
  private ackScheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private acceptWindowStart = 0;
  private acceptsInWindow = 0;
  private readonly acceptsByHost = new Map<string, number>();
  private closed = false;
  /** Incoming connections: set by the owner (undefined: SYNs are ignored). */
  onAccept: ((c: Connection) => void) | undefined;
  readonly counters: UtpCounters = { packetsIn: 0, packetsOut: 0, dropped: 0, synDropped: 0 };
  private readonly opts: UtpOptions;
  private dht: DhtSocketFace | undefined;

  readonly ipv6: boolean;

  private constructor(socket: dgram.Socket, opts: UtpOptions) {
    this.socket = socket;
    this.ipv6 = socket.address().family === 'IPv6';
    this.opts = opts;
    socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    socket.on('error', () => {});
  }

  static bind(port: number, host: string, opts: UtpOptions = {}): Promise<UtpSocket> {
    const socket = dgram.createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.removeListener('error', reject);
        resolve(new UtpSocket(socket, opts));
      });
    });
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** Each open connection's totals, for diagnostics. */
  connectionStats(): (UtpConnection['stats'] & ReturnType<UtpConnection['trace']> & { flight: number })[] {
    return [...this.conns.values()].map((c) => ({ ...c.stats, ...c.trace(), flight: c.bytesInFlight }));
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  /** The same socket for the DHT (k-rpc-socket's `socket` option): already bound, it answers
   *  bind() at once, and hears only the datagrams that look like KRPC. */
  dhtSocket(): DhtSocketFace {
    return (this.dht ??= new DhtSocketFace(this.socket));
  }

  private onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (this.closed) return;
    if (msg.length > 0 && msg[0] === 0x64 && this.dht) return void this.dht.emit('message', msg, rinfo);
    this.counters.packetsIn++;
    const p = decodePacket(msg);
    if (typeof p === 'string') return void this.counters.dropped++;
    const host = rinfo.address.replace(/^::ffff:/, '');
    if (p.type === ST_SYN) return this.onSyn(p, host, rinfo.port);
    const c = this.conns.get(key(host, rinfo.port, p.connectionId));
    // A packet for no connection of ours: dropped quietly (a RESET back would make us a reflector).
    if (!c) return void this.counters.dropped++;
    c.receive(p);
  }

  private onSyn(p: UtpPacket, host: string, port: number): void {
    const k = key(host, port, p.connectionId + 1);
    const have = this.conns.get(k);
    if (have) return have.receive(p); // a resent SYN: the connection answers it again
    const now = clock.now();
    if (now - this.acceptWindowStart >= 1000) {
      this.acceptWindowStart = now;
      this.acceptsInWindow = 0;
      this.acceptsByHost.clear();
    }
    if (!this.onAccept || this.conns.size >= MAX_CONNECTIONS || this.acceptsInWindow >= ACCEPTS_PER_SECOND || !this.hostMayOpen(host)) {
      this.counters.synDropped++;
      return;
    }
    this.acceptsInWindow++;
    const c = UtpConnection.accept(this.env(host, port), p, randomInt(0x10000), this.opts);
    this.track(k, c);
    this.onAccept(streamOf(c, host, port, () => this.untrack(k, c)));
  }

  /** Counts a SYN against its host's share of this second's accepts; false once it is spent. */
  private hostMayOpen(host: string): boolean {
    const group = addressGroup(host);
    const n = this.acceptsByHost.get(group) ?? 0;
    if (n >= ACCEPTS_PER_HOST_PER_SECOND) return false;
    if (n > 0 || this.acceptsByHost.size < MAX_HOSTS_COUNTED) this.acceptsByHost.set(group, n + 1);
    return true;
  }

  /** Opens a uTP connection; rejects when the peer does not answer the SYN (or resets it). */
  connect(addr: PeerAddress, signal: AbortSignal, opts: UtpOptions = {}): Promise<Connection> {
    const host = addr.host.replace(/^\[|\]$/g, '');
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error('uTP socket closed'));
      let recvId = randomInt(0x10000);
      for (let i = 0; i < 8 && this.conns.has(key(host, addr.port, recvId)); i++) recvId = randomInt(0x10000);
      const k = key(host, addr.port, recvId);
      if (this.conns.has(k)) return reject(new Error('no free uTP connection id'));
      const c = UtpConnection.connect(this.env(host, addr.port), recvId, randomInt(0x10000), { ...this.opts, ...opts });
      this.track(k, c);
      const onAbort = () => {
        c.destroy();
        this.untrack(k, c);
        reject(new Error('aborted'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      c.onConnect = () => {
        signal.removeEventListener('abort', onAbort);
        resolve(streamOf(c, host, addr.port, () => this.untrack(k, c)));
      };
      c.onClose = (err) => {
        signal.removeEventListener('abort', onAbort);
        this.untrack(k, c);
        reject(err ?? new Error('uTP connection closed'));
      };
    });
  }

  private env(host: string, port: number): UtpEnv {
    // A dual-stack (udp6) socket reaches IPv4 peers through their mapped address.
    if (this.ipv6 && !host.includes(':')) host = `::ffff:${host}`;
    return {
      now: () => performance.now(),
      micros,
      send: (packet) => {
        if (this.closed) return;
        this.counters.packetsOut++;
        this.socket.send(packet, port, host);
      },
    };
  }

  private track(k: string, c: UtpConnection): void {
    this.conns.set(k, c);
    c.onAckDue = (conn) => {
      this.ackDue.add(conn);
      if (this.ackScheduled) return;
      this.ackScheduled = true;
      // After the datagrams already waiting are read: one ACK for the lot.
      setImmediate(() => {
        this.ackScheduled = false;
        for (const a of this.ackDue) a.sendPendingAck();
        this.ackDue.clear();
      });
    };
    this.timer ??= setInterval(() => this.tick(), TICK_MS).unref();
  }

  private untrack(k: string, c: UtpConnection): void {
    if (this.conns.get(k) === c) this.conns.delete(k);
    this.ackDue.delete(c);
    if (this.conns.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private tick(): void {
    for (const c of this.conns.values()) c.tick();
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    for (const c of [...this.conns.values()]) c.destroy();
    this.conns.clear();
    if (this.timer) clearInterval(this.timer);
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

/** Whether nothing listens on UDP at `addr`: a zero-length datagram from a connected socket of
 *  its own draws the kernel's ICMP "port unreachable" back as ECONNREFUSED (the shared socket is
 *  not connected, so it never hears it). A uTP peer ignores the empty datagram; a peer whose UDP
 *  port is shut (TCP-only clients, libtorrent with uTP off) is known within a round trip instead
 *  of after the dialer's head start. Resolves false when no refusal came within `ms`. */
export function udpPortClosed(addr: PeerAddress, ms: number, signal?: AbortSignal): Promise<boolean> {
  const host = addr.host.replace(/^\[|\]$/g, '');
  return new Promise((resolve) => {
    const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      try {
        s.close();
      } catch {
        // already closed
      }
      resolve(closed);
    };
    const onAbort = () => finish(false);
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => finish(false), ms);
    s.on('error', (e: NodeJS.ErrnoException) => finish(e.code === 'ECONNREFUSED'));
    s.connect(addr.port, host, () => s.send(new Uint8Array(0), (err) => err && finish(false)));
  });
}

function key(host: string, port: number, id: number): string {
  return `${host}|${port}|${id & 0xffff}`;
}

/** A uTP connection as the engine's Connection (see platform.ts), like tcp.ts's socketConnection. */
function streamOf(c: UtpConnection, host: string, port: number, release: () => void): Connection {
  let dataFn: ((chunk: Uint8Array, borrowed: boolean) => number | void) | undefined;
  const early: Uint8Array[] = [];
  const drainFns: (() => void)[] = [];
  const closeFns: ((err?: Error) => void)[] = [];
  let closedWith: { err?: Error | undefined } | undefined;
  c.onData = (chunk) => (dataFn ? dataFn(chunk, false) : early.push(chunk));
  c.onDrain = () => {
    for (const fn of drainFns) fn();
  };
  c.onClose = (err) => {
    release();
    closedWith = { err };
    // Later, as a socket's 'close' event comes: callers close from inside their own handlers.
    queueMicrotask(() => {
      for (const fn of closeFns.splice(0)) fn(err);
    });
  };
  return {
    remote: addressKey({ host, port }),
    transport: 'utp',
    write: (data) => c.write(data),
    cork: () => c.cork(),
    uncork: () => c.uncork(),
    pause: () => c.pause(),
    resume: () => c.resume(),
    close: () => c.destroy(),
    onData: (fn) => {
      dataFn = fn;
      for (const chunk of early.splice(0)) fn(chunk, false);
    },
    onDrain: (fn) => void drainFns.push(fn),
    drained: () => c.unsentLength === 0,
    unsent: () => c.unsentLength,
    onClose: (fn) => {
      if (closedWith) queueMicrotask(() => fn(closedWith!.err));
      else closeFns.push(fn);
    },
  };
}

/** What k-rpc-socket uses of a dgram socket, over the shared one: it hears KRPC datagrams only. */
export class DhtSocketFace extends EventEmitter {
  private readonly socket: dgram.Socket;
  constructor(socket: dgram.Socket) {
    super();
    this.socket = socket;
  }
  bind(...args: unknown[]): void {
    const cb = args.find((a) => typeof a === 'function') as (() => void) | undefined;
    setImmediate(() => {
      this.emit('listening');
      cb?.();
    });
  }
  address(): ReturnType<dgram.Socket['address']> {
    return this.socket.address();
  }
  send(...args: Parameters<dgram.Socket['send']>): void {
    (this.socket.send as (...a: unknown[]) => void)(...args);
  }
  /** The DHT closing leaves the socket to uTP (UtpSocket.close closes it). */
  close(): void {
    setImmediate(() => this.emit('close'));
  }
}
