// Outgoing connections over uTP or TCP, libtorrent's way: uTP first when it is on, TCP when uTP
// gets no answer, and a peer known to speak only one of them is dialled on that one. Except on
// loopback and private networks, where TCP goes first and uTP only when TCP fails: there LEDBAT's
// yielding to other traffic buys nothing, and TCP moves several times what our userspace uTP does
// (each 1,400-byte packet is a dgram send: two Cascade nodes on one machine went from 0.9x to
// 0.11x libtorrent's TCP rate when they talked uTP).

import type { Connection, DialOptions, Dialer } from '../platform.ts';
import { addressKey, isLocalAddress, type PeerAddress } from '../types.ts';
import { udpPortClosed, type UtpSocket } from './utp-socket.ts';
import { clock } from '../clock.ts';

/** How long uTP has the line to itself before TCP is dialled beside it. On a path that answers at
 *  all, the SYN's ACK comes back well within this; a peer that ignores uTP (or whose UDP port is
 *  shut) costs this much, not the seconds of SYN retries libtorrent spends on it. */
export const UTP_HEAD_START_MS = 500;
/** On loopback and private networks a round trip takes a millisecond or two: a tenth of a second
 *  is ample for the SYN-ACK, and a TCP-only peer there (libtorrent with uTP off keeps its UDP port
 *  open and silent) waits that long, not half a second. */
export const UTP_HEAD_START_LOCAL_MS = 100;

function headStart(host: string): number {
  return isLocalAddress(host) ? UTP_HEAD_START_LOCAL_MS : UTP_HEAD_START_MS;
}
/** How long after its connect a local TCP connection's close, before the peer said a byte, means
 *  "TCP is off there" and the connection goes on over uTP (watchedTcp). */
const LOCAL_CLOSE_WAIT_MS = 25;

/** SYNs of a BEP 55 dial: the peer's SYNs open our NAT only once ours went out, and the first of
 *  ours may die at its NAT for the same reason, so a few more than a plain dial's three
 *  (0, 1, 3, 7 s: the two ends hear the broker's connect within a round trip of each other). */
const HOLEPUNCH_SYNS = 4;

/** How long uTP may go on unanswered once TCP has failed, from the start of the dial. */
const UTP_GRACE_MS = 1500;
/** Addresses remembered with the transport that worked (bounded: oldest forgotten first). */
const REMEMBERED = 10_000;

export class UtpFirstDialer implements Dialer {
  private readonly utp: () => UtpSocket | undefined;
  private readonly tcp: Dialer;
  /** The transport each address last connected over (or 'tcp' once uTP failed and TCP worked). */
  private readonly known = new Map<string, 'tcp' | 'utp'>();

  /** uTP first to local peers too (SessionOptions.utp 'first'). */
  private readonly utpFirstEverywhere: boolean;

  /** Outgoing over uTP alone (SessionOptions.utp 'only'). */
  private readonly utpOnly: boolean;

  constructor(utp: () => UtpSocket | undefined, tcp: Dialer, opts: { utpFirstEverywhere?: boolean; utpOnly?: boolean } = {}) {
    this.utp = utp;
    this.tcp = tcp;
    this.utpFirstEverywhere = opts.utpFirstEverywhere === true;
    this.utpOnly = opts.utpOnly === true;
  }

  /** What worked for an address (from an earlier dial, or learnt some other way). */
  note(addr: PeerAddress, transport: 'tcp' | 'utp'): void {
    const k = addressKey(addr);
    this.known.delete(k);
    this.known.set(k, transport);
    if (this.known.size > REMEMBERED) this.known.delete(this.known.keys().next().value!);
  }

  async dial(addr: PeerAddress, signal: AbortSignal, opts?: DialOptions): Promise<Connection> {
    const utp = this.utp();
    if (opts?.holepunch) {
      if (!utp) throw new Error('hole punching needs uTP');
      // On a dual-stack host uTP runs on IPv4 only (see session.ts): an IPv6 punch cannot go out.
      if (addr.host.includes(':') && !utp.ipv6) throw new Error('hole punching over IPv6 needs uTP on IPv6 (an IPv6 --host)');
      return utp.connect(addr, signal, { synAttempts: HOLEPUNCH_SYNS });
    }
    if (this.utpOnly) {
      if (!utp) throw new Error('outgoing connections are uTP only, and uTP is not running');
      return utp.connect(addr, signal);
    }
    const known = this.known.get(addressKey(addr));
    if (!utp || known === 'tcp') return this.tcp.dial(addr, signal);
    if (known !== 'utp' && !this.utpFirstEverywhere && isLocalAddress(addr.host)) return this.tcpThenUtp(utp, addr, signal);
    // Known for uTP, or not known: the race (a uTP peer answers within the head start anyway).
    return this.race(utp, addr, signal);
  }

  /** A local peer: TCP, and uTP only when TCP fails (refused, or closed at once: a host with TCP off). */
  private async tcpThenUtp(utp: UtpSocket, addr: PeerAddress, signal: AbortSignal): Promise<Connection> {
    let c: Connection;
    try {
      c = await this.tcp.dial(addr, signal);
    } catch (err) {
      if (signal.aborted) throw err;
      try {
        return await this.utpAfterTcp(utp, addr, signal);
      } catch {
        throw err; // neither: the TCP error says more
      }
    }
    return this.watchedTcp(c, utp, addr);
  }

  /** uTP to a peer whose TCP failed, given UTP_GRACE_MS to answer. */
  private async utpAfterTcp(utp: UtpSocket, addr: PeerAddress, signal: AbortSignal): Promise<Connection> {
    const give = new AbortController();
    const timer = setTimeout(() => give.abort(), UTP_GRACE_MS);
    const onAbort = () => give.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const c = await utp.connect(addr, give.signal);
      this.note(addr, 'utp');
      return c;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }

  /**
   * A local TCP connection, handed on at once. A client with TCP turned off (libtorrent's
   * enable_incoming_tcp) accepts and closes at once: a local one within a millisecond or two. This
   * used to wait LOCAL_CLOSE_WAIT_MS for that close before handing the connection on, which held
   * every local connection's handshake 25 ms (issue 40: a loopback download's first request went
   * out ~50 ms after the connect instead of ~25). Now the handshake goes out at once, and a close
   * within that time, before the peer said a byte, carries the same connection on over uTP: what
   * was written on TCP (the handshake) is written again there, and the user of the connection sees
   * no close. A silent close after it sends the next dial to that address over uTP first (a
   * TCP-off client too busy to close in time: on a loaded machine that is tens of ms; without this,
   * every redial met the same slow close and the peer stayed out of reach). A peer that does speak
   * TCP but closed in silence costs the next dial uTP's head start, no more: uTP failing on its
   * own puts the address back on TCP.
   */
  private watchedTcp(tcp: Connection, utp: UtpSocket, addr: PeerAddress): Connection {
    const until = clock.now() + LOCAL_CLOSE_WAIT_MS;
    let cur = tcp;
    let heard = false;
    let ours = false;
    /** Copies of what was written before the peer spoke, inside the watch (replayed on uTP). */
    let written: Uint8Array[] | undefined = [];
    let moving = false;
    let dataFn: Parameters<Connection['onData']>[0] | undefined;
    const drainFns: (() => void)[] = [];
    const closeFns: ((err?: Error) => void)[] = [];
    let closedOut = false;
    const closeOut = (err?: Error) => {
      if (closedOut) return;
      closedOut = true;
      for (const fn of closeFns) fn(err);
    };
    const listenData = (conn: Connection) =>
      conn.onData((chunk, borrowed, redeliver) => {
        heard = true;
        written = undefined;
        return dataFn?.(chunk, borrowed, redeliver);
      });
    const follow = (conn: Connection) => {
      conn.onDrain(() => {
        if (conn === cur) for (const fn of drainFns) fn();
      });
      conn.onClose((err) => {
        if (conn !== cur) return;
        if (conn === tcp && !heard && !ours && written && clock.now() <= until) return void moveToUtp();
        if (conn === tcp && !heard && !ours && this.known.get(addressKey(addr)) === undefined) this.note(addr, 'utp');
        closeOut(err);
      });
    };
    const moveToUtp = async () => {
      moving = true;
      try {
        const u = await this.utpAfterTcp(utp, addr, new AbortController().signal);
        if (ours) {
          u.close(); // let go of while uTP was dialled
          return closeOut();
        }
        cur = u;
        follow(u);
        if (dataFn) listenData(u);
        for (const b of written ?? []) u.write(b);
        written = undefined;
      } catch {
        closeOut(new Error(`${addressKey(addr)} closed the TCP connection at once`));
      } finally {
        moving = false;
      }
    };
    follow(tcp);
    return {
      remote: tcp.remote,
      get transport() {
        return cur.transport;
      },
      write: (data) => {
        if (moving) {
          written!.push(data.slice()); // for uTP, once it answers
          return true;
        }
        if (written) {
          if (clock.now() <= until) written.push(data.slice());
          else written = undefined;
        }
        return cur.write(data);
      },
      cork: () => cur.cork(),
      uncork: () => cur.uncork(),
      pause: () => cur.pause(),
      resume: () => cur.resume(),
      close: () => {
        ours = true; // dropped by us (a duplicate, the torrent stopped): says nothing of the peer
        cur.close();
      },
      onData: (fn) => {
        dataFn = fn;
        listenData(cur);
      },
      onDrain: (fn) => void drainFns.push(fn),
      onClose: (fn) => void closeFns.push(fn),
      // While moving, what was written is held in copies: nothing of the caller's is referenced.
      drained: () => moving || cur.drained(),
      unsent: () => (moving ? 0 : cur.unsent?.() ?? 0),
    };
  }

  /** uTP with a head start, then TCP beside it; the first to connect is kept, the other dropped. */
  private race(utp: UtpSocket, addr: PeerAddress, signal: AbortSignal): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const utpAbort = new AbortController();
      const tcpAbort = new AbortController();
      let settled = false;
      let tcpStarted = false;
      let utpFailed = false;
      /** uTP failed by itself (no answer, or a reset), not because we gave up on it. */
      let utpRefused = false;
      let tcpFailed = false;
      let tcpErr: unknown;
      const started = clock.now();
      const onAbort = () => {
        utpAbort.abort();
        tcpAbort.abort();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      const win = (c: Connection, t: 'tcp' | 'utp') => {
        if (settled) return c.close();
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        (t === 'utp' ? tcpAbort : utpAbort).abort();
        // TCP is remembered only once uTP failed on its own: TCP winning a race against a slow
        // SYN-ACK says nothing about uTP (and a uTP-only peer may accept TCP only to close it).
        if (t === 'utp' || utpRefused) this.note(addr, t);
        resolve(c);
      };
      const fail = (err: unknown) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        reject(err);
      };
      const startTcp = () => {
        if (tcpStarted || settled) return;
        tcpStarted = true;
        clearTimeout(timer);
        this.tcp.dial(addr, tcpAbort.signal).then(
          (c) => win(c, 'tcp'),
          (err) => {
            tcpFailed = true;
            tcpErr = err;
            if (utpFailed) return fail(err);
            // TCP refused and uTP silent since the start: a second of SYNs is enough (a peer that
            // answers uTP at all does so well within it); more would hold the dial for seconds.
            setTimeout(() => utpAbort.abort(), Math.max(0, UTP_GRACE_MS - (clock.now() - started)));
          },
        );
      };
      const wait = headStart(addr.host);
      const timer = setTimeout(startTcp, wait);
      // A shut UDP port answers with ICMP at once: then TCP goes now, not after the head start.
      void udpPortClosed(addr, wait, utpAbort.signal).then((closed) => {
        if (!closed || settled) return;
        startTcp();
        utpAbort.abort();
      });
      utp.connect(addr, utpAbort.signal).then(
        (c) => win(c, 'utp'),
        (err) => {
          utpFailed = true;
          utpRefused = !utpAbort.signal.aborted;
          if (signal.aborted) return fail(err);
          if (!tcpStarted) startTcp();
          else if (tcpFailed) fail(tcpErr ?? err);
        },
      );
    });
  }
}
