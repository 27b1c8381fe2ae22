// Which connected peers proved a Cascade identity through the wire extension (@cascade/identity's
// "cascade" BEP 10 extension), per torrent and address. Each proof is printed as a
// `peer-identified` event and decorates that peer in every peer listing (`did`, `account`).
import { cascadeExtension, type Identity, type VerifiedHello } from '@cascade/identity';
import type { PeerStats, WireExtension } from './engine.ts';
import type { NodeLog } from './node.ts';

export interface IdentifiedPeer {
  did: string;
  /** the peer's Ethereum account (its binding verified) */
  account: string;
  /** the peer's own claim, 0..1: shown, never trusted */
  claimedReputation: number;
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/** Upload priority of a verified Cascade peer this node holds nothing against (the fast lane). */
export const FAST_LANE = 1;

export class IdentifiedPeers {
  readonly #byPeer = new Map<string, IdentifiedPeer>();
  /** dids this node banned (corrupt data): no fast lane for them, whatever they claim. */
  readonly #distrusted = new Set<string>();
  readonly #out: NodeLog;

  constructor(out: NodeLog) {
    this.#out = out;
  }

  extension(id: Identity, client: string): WireExtension {
    const ext = cascadeExtension(id, {
      client,
      onIdentified: (peer, who: VerifiedHello) => {
        this.#byPeer.set(`${hex(peer.infoHash)} ${peer.address}`, { did: who.did, account: who.address, claimedReputation: who.reputation });
        // Verified and nothing held against it: unchoked first. The peer's own claim plays no part.
        if (!this.#distrusted.has(who.did)) peer.setPriority?.(FAST_LANE);
        this.#out.event('peer-identified', { did: who.did, address: who.address, peer: peer.address, infoHash: hex(peer.infoHash) });
      },
      // Never trusted, only noted: the peer stays a plain BitTorrent peer.
      onRejected: (peer, reason) => this.#out.note(`peer ${peer.address} sent a Cascade hello that does not verify: ${reason}`),
    });
    return {
      name: ext.name,
      onPeer: (peer) => ext.onPeer(peer),
      onMessage: (peer, payload) => ext.onMessage(peer, payload),
      onClose: (peer) => {
        ext.onClose(peer);
        this.#byPeer.delete(`${hex(peer.infoHash)} ${peer.address}`);
      },
    };
  }

  /** The torrent banned the peer at `address`: if it had proved an identity, that did loses the
   *  fast lane on every later connection too. */
  banned(infoHashHex: string, address: string): void {
    const who = this.of(infoHashHex, address);
    if (who) this.#distrusted.add(who.did);
  }

  of(infoHashHex: string, address: string): IdentifiedPeer | undefined {
    return this.#byPeer.get(`${infoHashHex} ${address}`);
  }

  /** The torrent's peers, each verified one with its did and account. */
  decorate(infoHashHex: string, peers: PeerStats[]): (PeerStats & Partial<IdentifiedPeer>)[] {
    return peers.map((p) => {
      const who = this.of(infoHashHex, p.address);
      return who ? { ...p, ...who } : p;
    });
  }
}
