// Peer exchange (BEP 11): tells each peer that speaks ut_pex which addresses we are connected to
// now, as the difference from what it was told before (at most 50 added and 50 dropped a message).
// A peer's first message goes as soon as there is anyone to name (as libtorrent's first list does:
// a BEP 55 requester needs to learn who can broker for whom within seconds); after it, at most one
// a minute, as BEP 11 asks.
// Peers that dialled us are shared too, as libtorrent shares them: over uTP at the address their
// NAT showed us (the one a BEP 55 punch aims at), over TCP at the listen port they told us; with
// the BEP 11 flags (seed, uTP, holepunch, reachable = we dialled it), which a BEP 55 requester
// needs to know whom it may ask to broker.
import { parseAddress } from '../types.ts';
import { encodePex, type PexPeer } from '../wire/extended.ts';
import { pexFlags, punchAddress } from './holepunch.ts';
import type { Peer } from './peer.ts';

const INTERVAL_MS = 60_000;

export class PexSender {
  readonly #sent = new Map<Peer, Set<string>>();
  /** When each peer that got its first message was last looked at. */
  readonly #at = new Map<Peer, number>();

  send(peers: Peer[], now: number): void {
    const due = (p: Peer) => !!p.ext?.m.ut_pex && !p.closed && now - (this.#at.get(p) ?? -Infinity) >= INTERVAL_MS;
    if (!peers.some(due)) return;
    // WebRTC peers have no address worth sharing; peers still in their handshake are not shared.
    const current = new Map<string, Peer>();
    for (const p of peers) {
      if (p.conn.transport === 'webrtc' || !p.remoteId || p.closed) continue;
      if (!p.outgoing && p.conn.transport === 'tcp' && !p.ext?.port) continue;
      current.set(punchAddress(p), p);
    }
    for (const p of peers) {
      if (!due(p)) continue;
      const sent = this.#sent.get(p);
      if (sent) this.#at.set(p, now);
      if (!sent && current.size < 2) continue; // nobody to name to it but itself
      const own = punchAddress(p);
      const added = [...current.keys()].filter((k) => k !== own && k !== p.key && !sent?.has(k)).slice(0, 50);
      const dropped = sent ? [...sent].filter((k) => !current.has(k)).slice(0, 50) : [];
      if (added.length === 0 && dropped.length === 0) continue;
      const list: PexPeer[] = added.map((k) => ({ ...parseAddress(k), flags: pexFlags(current.get(k)!) }));
      p.sendExtended('ut_pex', encodePex(list, dropped.map(parseAddress)));
      const next = sent ?? new Set<string>();
      for (const k of added) next.add(k);
      for (const k of dropped) next.delete(k);
      this.#sent.set(p, next);
      this.#at.set(p, now);
    }
  }

  forget(peer: Peer): void {
    this.#sent.delete(peer);
    this.#at.delete(peer);
  }
}
