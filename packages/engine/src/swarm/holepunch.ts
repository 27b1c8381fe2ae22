// BEP 55 hole punching for one torrent (docs/holepunch.md). Three roles:
// - requester: a peer we learned by PEX from a peer that speaks ut_holepunch, flagged 0x08 (it
//   speaks it too), does not answer a direct dial: we ask the peer that told us of it to broker;
// - broker: a peer names another we are connected to: both get a `connect` naming the other;
// - either end: a `connect` makes us dial the named address over uTP at once, so both SYNs cross
//   and each opens its own NAT for the other's (the swarm settles the two connections that result).
// Everything a peer can make us do here is rate-limited: a hostile peer gets at most a few
// connects relayed or dials started a minute, and malformed messages are dropped and counted.

import type { HolepunchCounts } from '../api.ts';
import { addressKey, parseAddress, type PeerAddress } from '../types.ts';
import { PEX_FLAG, type PexPeer } from '../wire/extended.ts';
import { decodeHolepunch, encodeHolepunch, HP_CONNECT, HP_ERR, HP_ERR_NAMES, HP_ERROR, HP_RENDEZVOUS } from '../wire/holepunch.ts';
import { hostOf } from './admission.ts';
import type { Peer } from './peer.ts';

/** A direct dial to a peer with a broker that has not connected by now is helped by a rendezvous:
 *  a reachable peer answers a uTP SYN within the dialer's 500 ms head start. */
export const RENDEZVOUS_AFTER_MS = 1500;
/** One rendezvous per target this often at most, while the last one was not seen to fail. */
const ASK_AGAIN_MS = 60_000;
/** After a refusal the next stuck dial asks again this soon: a broker that had not yet connected to
 *  the target, or had just lost it, may have it by then. (A connect we asked for clears the ask, so a
 *  punch that missed is asked again at the next stuck dial.) */
export const ASK_AFTER_FAILURE_MS = 10_000;
/** Quick re-asks per target before only the minute's cadence is left (a broker that refuses every time). */
const QUICK_RETRIES = 3;
/** Addresses remembered with the peer that told us of them (oldest forgotten first). */
const MAX_INTRODUCED = 1000;

/** A token bucket: `burst` at once, then one every `everyMs`; true when a token was taken. */
type Budget = (now: number) => boolean;
function budget(burst: number, everyMs: number, start: number): Budget {
  let tokens = burst;
  let at = start;
  return (now) => {
    tokens = Math.min(burst, tokens + (now - at) / everyMs);
    at = now;
    if (tokens < 1) return false;
    tokens--;
    return true;
  };
}

export interface HolepunchHost {
  /** Connected peers (for the broker's look-up). */
  peers(): Iterable<Peer>;
  /** Connected to (or in a hole-punch dial to) this address already. */
  busy(key: string): boolean;
  isBanned(key: string): boolean;
  /** Starts a uTP-only dial whose connection joins the swarm (source 'holepunch'). */
  dial(addr: PeerAddress): void;
  /** A line in the torrent's discovery log. */
  log(key: string, result: string): void;
  counts: HolepunchCounts | undefined;
  now(): number;
}

/** Where a peer can be reached for a punch: a uTP connection's own remote is the port its NAT
 *  mapped for its uTP socket (exactly what the other end must aim at); over TCP the remote port is
 *  an ephemeral one, so the listen port it told us (BEP 10 `p`) is the best guess. */
export function punchAddress(p: Peer): string {
  if (p.conn.transport === 'utp' || p.outgoing || !p.ext?.port) return p.key;
  return addressKey({ host: hostOf(p.key).replace(/^\[|\]$/g, ''), port: p.ext.port });
}

/**
 * Where the connected peers listen (punchAddress), for the dialler to leave alone. One that dialled
 * us over TCP came from an ephemeral port, but trackers and PEX name it by its listen port. Dialling
 * that only met it again: a duplicate one end drops, and by the peer-id rule the end with the lower
 * id retired the connection that was trading instead, its unchoke lost until the next rechoke
 * (issue 60: ~35 such dials per downloader in a 16-peer swarm, again at each back-off).
 */
export function listenAddresses(peers: Iterable<Peer>): Set<string> {
  const out = new Set<string>();
  for (const p of peers) if (!p.outgoing && p.ext?.port) out.add(punchAddress(p));
  return out;
}

/** BEP 11 flags for a peer we tell others of. */
export function pexFlags(p: Peer): number {
  return (p.seed ? PEX_FLAG.seed : 0) | (p.conn.transport === 'utp' ? PEX_FLAG.utp : 0) | (p.ext?.m.ut_holepunch ? PEX_FLAG.holepunch : 0) | (p.outgoing ? PEX_FLAG.reachable : 0);
}

const LOCAL = /^(127\.|10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|169\.254\.|::1$|f[cd][0-9a-f]{0,2}:|fe[89ab][0-9a-f]?:)/i;
const isLocal = (host: string) => LOCAL.test(host.replace(/^\[|\]$/g, ''));
/** Addresses no one can be asked to dial: unspecified, multicast, broadcast, port 0. */
const undialable = (a: PeerAddress) => a.port === 0 || a.host === '::' || /^(0\.|22[4-9]\.|2[3-5]\d\.|ff[0-9a-f]{2}:)/i.test(a.host);

export class Holepunch {
  private readonly host: HolepunchHost;
  /** Address key → the peer whose PEX named it with the holepunch flag. */
  private readonly introducers = new Map<string, Peer>();
  /** Address key → when we last asked a broker about it. */
  private readonly asked = new Map<string, number>();
  /** Address key → the next ask allowed before the minute is out, after a failure, and how many such there were. */
  private readonly retry = new Map<string, { at: number; n: number }>();
  /** Per peer: what it may make us do (rendezvous it asks us to broker, connects it sends). */
  private readonly budgets = new WeakMap<Peer, { rendezvous: Budget; connect: Budget }>();
  /** The whole torrent's: many hostile peers together get no more than this. */
  private readonly brokered: Budget;
  private readonly dialled: Budget;

  constructor(host: HolepunchHost) {
    this.host = host;
    const now = host.now();
    this.brokered = budget(20, 3000, now);
    this.dialled = budget(10, 3000, now);
  }

  /** A PEX message from `from`: remember who can broker which of its peers. */
  pexAdded(from: Peer, added: readonly PexPeer[]): void {
    if (!from.ext?.m.ut_holepunch) return;
    for (const a of added) {
      if (!((a.flags ?? 0) & PEX_FLAG.holepunch)) continue;
      const k = addressKey(a);
      this.introducers.delete(k);
      this.introducers.set(k, from);
      if (this.introducers.size > MAX_INTRODUCED) this.introducers.delete(this.introducers.keys().next().value!);
    }
  }

  /** Whether a broker is known for this address (the swarm then watches its dial). */
  hasBroker(key: string): boolean {
    const b = this.introducers.get(key);
    return !!b && !b.closed;
  }

  /** A direct dial to `key` has not connected in time, or failed: ask its broker, once a minute. */
  dialStuck(key: string): void {
    const broker = this.introducers.get(key);
    if (!broker || broker.closed || !broker.ext?.m.ut_holepunch || this.host.busy(key)) return;
    const now = this.host.now();
    const last = this.asked.get(key);
    const quick = this.retry.get(key);
    const retryDue = quick !== undefined && now >= quick.at;
    if (last !== undefined && now - last < ASK_AGAIN_MS && !retryDue) return;
    if (retryDue) quick.at = Infinity; // spent: the next refusal sets another
    this.asked.delete(key);
    this.asked.set(key, now);
    if (this.asked.size > MAX_INTRODUCED) this.asked.delete(this.asked.keys().next().value!);
    let addr: PeerAddress;
    try {
      addr = parseAddress(key);
      broker.sendExtended('ut_holepunch', encodeHolepunch({ type: HP_RENDEZVOUS, addr, error: 0 }));
    } catch {
      return;
    }
    if (this.host.counts) this.host.counts.rendezvousSent++;
    this.host.log(key, `hole punch asked of ${broker.address}`);
  }

  message(peer: Peer, payload: Uint8Array): void {
    const m = decodeHolepunch(payload);
    const counts = this.host.counts;
    if (!m) return this.ignore();
    if (m.type === HP_RENDEZVOUS) return this.rendezvous(peer, m.addr);
    if (m.type === HP_ERROR) {
      if (counts) counts.errorsReceived++;
      this.failed(addressKey(m.addr));
      this.host.log(addressKey(m.addr), `hole punch refused by ${peer.address}: ${HP_ERR_NAMES[m.error] ?? `error ${m.error}`}`);
      return;
    }
    if (counts) counts.connectsReceived++;
    this.connect(peer, m.addr);
  }

  /** Our ask about `key` was refused: the next stuck dial may ask again soon, a few times. */
  private failed(key: string): void {
    if (!this.asked.has(key)) return; // a refusal of nothing we asked: no retry for it
    const r = this.retry.get(key) ?? { at: Infinity, n: 0 };
    if (r.n >= QUICK_RETRIES) return;
    r.n++;
    r.at = this.host.now() + ASK_AFTER_FAILURE_MS;
    this.retry.delete(key);
    this.retry.set(key, r);
    if (this.retry.size > MAX_INTRODUCED) this.retry.delete(this.retry.keys().next().value!);
  }

  private ignore(): void {
    if (this.host.counts) this.host.counts.ignored++;
  }

  private budget(peer: Peer) {
    let b = this.budgets.get(peer);
    if (!b) {
      const now = this.host.now();
      this.budgets.set(peer, (b = { rendezvous: budget(5, 10_000, now), connect: budget(3, 10_000, now) }));
    }
    return b;
  }

  /** As broker: `from` wants to reach `target`. */
  private rendezvous(from: Peer, target: PeerAddress): void {
    const counts = this.host.counts;
    const now = this.host.now();
    // Over budget: not even an error goes back, so a flood costs us one look-up a message.
    if (!this.budget(from).rendezvous(now) || !this.brokered(now)) return this.ignore();
    if (counts) counts.rendezvousReceived++;
    const fail = (code: number) => {
      if (counts) counts.errorsSent++;
      from.sendExtended('ut_holepunch', encodeHolepunch({ type: HP_ERROR, addr: target, error: code }));
    };
    if (undialable(target)) return fail(HP_ERR.noSuchPeer);
    const key = addressKey(target);
    const hostText = target.host;
    let found: Peer | undefined;
    for (const p of this.host.peers()) {
      if (p.closed || p.conn.transport === 'webrtc' || !p.remoteId) continue;
      if (p.key === key || punchAddress(p) === key || (hostOf(p.key).replace(/^\[|\]$/g, '') === hostText && p.ext?.port === target.port)) {
        found = p;
        if (p !== from) break;
      }
    }
    if (found === from) return fail(HP_ERR.noSelf);
    if (!found) return fail(HP_ERR.notConnected);
    if (!found.ext?.m.ut_holepunch) return fail(HP_ERR.noSupport);
    // A peer on our LAN is not shown to one outside it, nor the other way (libtorrent's rule).
    if (isLocal(hostOf(found.key)) !== isLocal(hostOf(from.key))) return fail(HP_ERR.notConnected);
    let toFrom: Uint8Array;
    let toTarget: Uint8Array;
    try {
      toFrom = encodeHolepunch({ type: HP_CONNECT, addr: parseAddress(punchAddress(found)), error: 0 });
      toTarget = encodeHolepunch({ type: HP_CONNECT, addr: parseAddress(punchAddress(from)), error: 0 });
    } catch {
      return fail(HP_ERR.noSuchPeer);
    }
    from.sendExtended('ut_holepunch', toFrom);
    found.sendExtended('ut_holepunch', toTarget);
    if (counts) counts.introduced++;
  }

  /** `broker` tells us to dial `addr` now. */
  private connect(broker: Peer, addr: PeerAddress): void {
    const key = addressKey(addr);
    const now = this.host.now();
    // Asked for by us within the minute: the answer we waited for. Otherwise we are the target,
    // and the broker's own budget limits how often it can make us dial.
    const wanted = this.asked.has(key) && now - this.asked.get(key)! < ASK_AGAIN_MS;
    if (!wanted && !this.budget(broker).connect(now)) return this.ignore();
    if (undialable(addr) || (isLocal(addr.host) && !isLocal(hostOf(broker.key)))) return this.ignore();
    if (this.host.busy(key) || this.host.isBanned(key)) return;
    if (!this.dialled(now)) return this.ignore();
    if (wanted) this.asked.delete(key);
    if (this.host.counts) this.host.counts.dials++;
    this.host.log(key, `hole punch dial (connect from ${broker.address})`);
    this.host.dial(addr);
  }
}
