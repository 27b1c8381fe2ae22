// Who gets a connection slot. A node at its limit would otherwise be locked by whoever connected
// first and then did nothing (issue 19): a newcomer may take the slot of the peer that has been
// useless longest, i.e. neither side has wanted anything of the other for the longest time.

import type { Peer } from './peer.ts';

/** Peers that are never evicted to make room: they trade, or an extension vouched for them. */
function evictable(p: Peer): boolean {
  return !p.closed && !p.peerInterested && !p.amInterested && p.priority <= 0;
}

/**
 * The peer (other than `except`) that has been useless the longest, or undefined when every peer
 * is trading. No minimum idle time: a flood that keeps reconnecting displaces its own older
 * connections first, while an honest newcomer shows interest within a round trip and leaves the
 * pool. Peers still in their handshake count as useless since they connected.
 */
export function longestUseless(groups: Iterable<Iterable<Peer>>, except?: Peer): Peer | undefined {
  let victim: Peer | undefined;
  for (const peers of groups) {
    for (const p of peers) {
      if (p === except || !evictable(p)) continue;
      if (!victim || p.usefulAt < victim.usefulAt) victim = p;
    }
  }
  return victim;
}

/** The host part of a Connection's "host:port" / "[v6]:port": what per-address limits count. */
export function hostOf(remote: string): string {
  const m = /^\[(.*)\]:\d+$/.exec(remote) ?? /^(.*):\d+$/.exec(remote);
  return m ? m[1]! : remote;
}

/**
 * What per-address limits count a remote host as: an IPv4 address itself (also written as
 * ::ffff:a.b.c.d), an IPv6 address by its /64. One IPv6 subscriber is handed a whole /64 (often a
 * /56 or /48), so counting addresses one by one would give a single host 2^64 budgets.
 */
export function addressGroup(host: string): string {
  if (!host.includes(':')) return host;
  const v6 = host.toLowerCase().replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(v6);
  if (mapped) return mapped[1]!;
  const [head = '', tail] = v6.split('::', 2) as [string, string | undefined];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  // An embedded IPv4 tail (a:b::1.2.3.4) is two groups; only the first four groups matter here.
  const fill = tail === undefined ? 0 : Math.max(0, 8 - left.length - right.length);
  const groups = [...left, ...Array<string>(fill).fill('0'), ...right].slice(0, 4);
  while (groups.length < 4) groups.push('0');
  return `${groups.map((g) => (parseInt(g, 16) || 0).toString(16)).join(':')}::/64`;
}

/**
 * Two connections to the same peer (same peer id): both ends dialled each other at once, or one of
 * them reached us at a second address. Both would be asked for the same blocks, and the other end
 * uploads every one of them twice. Returns the connection to close. Both ends must close the same
 * one, so with one dialled each way the survivor is the one dialled by the end with the lower peer
 * id (as libtorrent decides); with both dialled the same way, the older one stays.
 */
export function duplicateToDrop(peers: Iterable<Peer>, newcomer: Peer, localId: Uint8Array): Peer | undefined {
  const id = newcomer.remoteId;
  if (!id) return undefined;
  // One pass: `peers` may be a Map's values(), which a second loop would find empty (it did, and
  // two TCP connections to one peer both stayed).
  let sameTransport: Peer | undefined;
  for (const p of peers) {
    if (p === newcomer || p.closed || !p.remoteId || !sameBytes(p.remoteId, id)) continue;
    // The same peer over TCP (or uTP) and over WebRTC: TCP stays (cheaper, and first where it
    // works); both ends see both connections and decide alike. TCP beside uTP is settled as two
    // TCP connections are, below: both were dialled by one end or the other.
    if ((p.conn.transport === 'webrtc') !== (newcomer.conn.transport === 'webrtc')) return newcomer.conn.transport === 'webrtc' ? newcomer : p;
    sameTransport ??= p;
  }
  // Two TCP connections: who dialled is known on both ends there. Two WebRTC channels are settled
  // where the offers meet (the lower peer id offers), and neither end's channel counts as "dialled".
  const p = sameTransport;
  if (!p || newcomer.conn.transport === 'webrtc') return undefined;
  if (p.outgoing === newcomer.outgoing) return newcomer;
  const keepOurs = compareBytes(localId, id) < 0;
  return newcomer.outgoing === keepOurs ? p : newcomer;
}

/**
 * Two uTP connections to one address, one dialled each way: a BEP 55 punch (both ends dial at
 * the broker's word) or two ends dialling each other at once. Both ends must keep the same one,
 * and libtorrent decides by port: the end with the lower port keeps the connection it dialled.
 * Equal ports (two hosts behind NATs that kept their ports): the lower peer id keeps its own, as
 * duplicateToDrop decides. Returns the one to keep.
 */
export interface ConnectionSide {
  readonly conn: { readonly transport: string };
  readonly outgoing: boolean;
  readonly key: string;
  readonly remoteId: Uint8Array | undefined;
}

export function crossedKeep<T extends ConnectionSide>(dialled: T, accepted: T, ourPort: number, localId: Uint8Array): T {
  const theirPort = Number(/:(\d+)$/.exec(dialled.key)?.[1] ?? 0);
  if (ourPort !== theirPort) return ourPort < theirPort ? dialled : accepted;
  const id = accepted.remoteId ?? dialled.remoteId;
  return !id || compareBytes(localId, id) < 0 ? dialled : accepted;
}

/** The connection of a crossed pair (crossedKeep) to drop, or undefined when `a` and `b` are not
 *  one: both uTP, one dialled each way. */
export function crossedDrop<T extends ConnectionSide>(a: T, b: T, ourPort: number, localId: Uint8Array): T | undefined {
  if (a.conn.transport !== 'utp' || b.conn.transport !== 'utp' || a.outgoing === b.outgoing) return undefined;
  const [dialled, accepted] = a.outgoing ? [a, b] : [b, a];
  return crossedKeep(dialled, accepted, ourPort, localId) === a ? b : a;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && compareBytes(a, b) === 0;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
