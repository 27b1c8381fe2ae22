// Peer exchange (BEP 11): tells each peer that speaks ut_pex which addresses we are connected to
// now, as the difference from what it was told before (at most 50 added and 50 dropped a message).
import { parseAddress } from '../types.ts';
import { encodePex } from '../wire/extended.ts';
import type { Peer } from './peer.ts';

export class PexSender {
  readonly #sent = new Map<Peer, Set<string>>();

  send(peers: Peer[]): void {
    // Only peers we dialled (TCP or uTP) have an address worth sharing (WebRTC peers have none).
    const current = new Set(peers.filter((p) => p.outgoing && p.conn.transport !== 'webrtc').map((p) => p.key));
    for (const p of peers) {
      if (!p.ext?.m.ut_pex) continue;
      const sent = this.#sent.get(p) ?? new Set<string>();
      const added = [...current].filter((k) => k !== p.key && !sent.has(k)).slice(0, 50);
      const dropped = [...sent].filter((k) => !current.has(k)).slice(0, 50);
      if (added.length === 0 && dropped.length === 0) continue;
      p.sendExtended('ut_pex', encodePex(added.map(parseAddress), dropped.map(parseAddress)));
      for (const k of added) sent.add(k);
      for (const k of dropped) sent.delete(k);
      this.#sent.set(p, sent);
    }
  }

  forget(peer: Peer): void {
    this.#sent.delete(peer);
  }
}
