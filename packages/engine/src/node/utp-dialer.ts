// Outgoing connections over uTP or TCP, libtorrent's way: uTP first when it is on, TCP when uTP
// gets no answer, and a peer known to speak only one of them is dialled on that one. Except on
// loopback and private networks, where TCP goes first and uTP only when TCP fails: there LEDBAT's
// yielding to other traffic buys nothing, and TCP moves several times what our userspace uTP does
// (each 1,400-byte packet is a dgram send: two Cascade nodes on one machine went from 0.9x to
// 0.11x libtorrent's TCP rate when they talked uTP).

import type { Connection, DialOptions, Dialer } from '../platform.ts';
import { addressKey, isLocalAddress, type PeerAddress } from '../types.ts';
import { udpPortClosed, type UtpSocket } from './utp-socket.ts';

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
/** How long a local TCP connection is watched for an immediate close before it is handed on. */
const LOCAL_CLOSE_WAIT_MS = 25;

function closesAtOnce(c: Connection): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), LOCAL_CLOSE_WAIT_MS);
    c.onClose(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

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

  /** A local peer: TCP, and uTP only when TCP fails (refused at once on a host with TCP off). */
  private async tcpThenUtp(utp: UtpSocket, addr: PeerAddress, signal: AbortSignal): Promise<Connection> {
    try {
      const c = await this.tcp.dial(addr, signal);
      // A client with TCP turned off (libtorrent's enable_incoming_tcp) accepts and closes at once:
      // a local one does so within a millisecond or two; then uTP is the way to it.
      const closed = await closesAtOnce(c);
      if (signal.aborted) {
        c.close(); // given up on while we watched it
        throw new Error('aborted');
      }
      if (!closed) return this.watchSilentClose(c, addr);
      throw new Error(`${addressKey(addr)} closed the TCP connection at once`);
    } catch (err) {
      if (signal.aborted) throw err;
      const give = new AbortController();
      const timer = setTimeout(() => give.abort(), UTP_GRACE_MS);
      const onAbort = () => give.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        const c = await utp.connect(addr, give.signal);
        this.note(addr, 'utp');
        return c;
      } catch {
        throw err; // neither: the TCP error says more
      } finally {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      }
    }
  }

  /**
   * A local TCP connection that outlived the close watch is handed on, but still watched: one that
   * closes before the peer said a single byte was most likely a TCP-off client that took longer
   * than the watch to close it (its process busy: on a loaded machine that is tens of ms), so the
   * next dial to that address goes uTP first. Without this, every redial met the same slow close
   * and the peer stayed out of reach (utp.test's downloader timed out so under load). A peer that
   * does speak TCP but closed in silence costs the next dial uTP's head start, no more: uTP
   * failing on its own puts the address back on TCP.
   */
  private watchSilentClose(c: Connection, addr: PeerAddress): Connection {
    let heard = false;
    let ours = false;
    c.onClose(() => {
      if (!heard && !ours && this.known.get(addressKey(addr)) === undefined) this.note(addr, 'utp');
    });
    return {
      ...c,
      close: () => {
        ours = true; // dropped by us (a duplicate, the torrent stopped): says nothing of the peer
        c.close();
      },
      onData: (fn) =>
        c.onData((chunk, borrowed, redeliver) => {
          heard = true;
          return fn(chunk, borrowed, redeliver);
        }),
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
      const started = Date.now();
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
            setTimeout(() => utpAbort.abort(), Math.max(0, UTP_GRACE_MS - (Date.now() - started)));
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
