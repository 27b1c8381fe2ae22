// Which connected peers proved a Cascade identity through the wire extension (@cascade/identity's
// "cascade" BEP 10 extension), per torrent and address; what this node verified of each identity
// (identity-ledger.ts); and the fast lane. Each proof is printed as a `peer-identified` event and
// decorates that peer in every peer listing (`did`, `account`, `reputation`, `claimedReputation`).
import { cascadeExtension, type Identity, type VerifiedHello, type WirePeer } from '@cascade/identity';
import type { PeerStats, TorrentHandle, WireExtension } from '../core/engine.ts';
import { IdentityLedger, isClean, reputationOf } from './identity-ledger.ts';
import type { NodeLog } from '../core/node-log.ts';
import type { StateDB } from '@cascade/node-state';

export interface IdentifiedPeer {
  did: string;
  /** the peer's Ethereum account (its binding verified) */
  account: string;
  /** the peer's own claim, 0..1: shown, never trusted */
  claimedReputation: number;
}

/** Upload priority of a verified Cascade peer this node holds nothing against (the fast lane). */
export const FAST_LANE = 1;

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/** Messages of the extension beyond the hello (receipts), from peers whose hello verified. */
export type IdentifiedMessageHandler = (peer: WirePeer, who: IdentifiedPeer, message: Record<string, unknown>) => void;

export class IdentifiedPeers {
  readonly #byPeer = new Map<string, IdentifiedPeer>();
  readonly #wire = new Map<string, WirePeer>();
  readonly #handlers: IdentifiedMessageHandler[] = [];
  readonly #identifiedListeners: ((who: IdentifiedPeer, peer: WirePeer) => void)[] = [];
  /** "did infohash" pairs printed as `peer-identified`. */
  readonly #told = new Set<string>();
  readonly #out: NodeLog;
  readonly ledger: IdentityLedger;

  constructor(out: NodeLog, db?: StateDB, flushIntervalMs?: number) {
    this.#out = out;
    this.ledger = new IdentityLedger(db, flushIntervalMs);
  }

  extension(id: Identity, client: string): WireExtension {
    const ext = cascadeExtension(id, {
      client,
      onIdentified: (peer, who: VerifiedHello) => {
        const infoHash = hex(peer.infoHash);
        const key = `${infoHash} ${peer.address}`;
        this.#byPeer.set(key, { did: who.did, account: who.address, claimedReputation: who.reputation });
        this.#wire.set(key, peer);
        this.ledger.seen(who.did, who.address);
        // Verified and nothing held against it (this node's own ledger, kept across restarts):
        // unchoked first. The peer's own claim plays no part.
        if (isClean(this.ledger.record(who.did))) peer.setPriority?.(FAST_LANE);
        // Once per identity and torrent: cluster members reconnect for every torrent they share, and
        // each reconnect printed was most of a member's log (issue 63: 3.2 MB/h, a single node 0.25).
        const told = `${who.did} ${infoHash}`;
        if (this.#told.size >= 50_000) this.#told.clear(); // bounded
        if (!this.#told.has(told)) this.#out.event('peer-identified', { did: who.did, address: who.address, peer: peer.address, infoHash });
        this.#told.add(told);
        for (const listener of this.#identifiedListeners) listener(this.#byPeer.get(key)!, peer);
      },
      // Never trusted, only noted: the peer stays a plain BitTorrent peer.
      onRejected: (peer, reason) => this.#out.note(`peer ${peer.address} sent a Cascade hello that does not verify: ${reason}`),
      onMessage: (peer, message) => {
        const who = this.#byPeer.get(`${hex(peer.infoHash)} ${peer.address}`);
        if (who) for (const handle of this.#handlers) handle(peer, who, message);
      },
    });
    return {
      name: ext.name,
      onPeer: (peer) => ext.onPeer(peer),
      onMessage: (peer, payload) => ext.onMessage(peer, payload),
      onClose: (peer) => {
        ext.onClose(peer);
        const key = `${hex(peer.infoHash)} ${peer.address}`;
        // A reconnect of the same address may already have replaced this one.
        if (this.#wire.get(key) === peer) {
          this.#byPeer.delete(key);
          this.#wire.delete(key);
        }
      },
    };
  }

  // A torrent's verdicts on pieces and peers, credited to the identities behind them (the node
  // feeds every tracked torrent's 'verified', 'hash-failed' and 'peer-banned' here).

  verified(t: TorrentHandle, index: number, contributors: string[] = []): void {
    if (contributors.length === 0 || this.#byPeer.size === 0) return;
    const size = pieceBytes(t, index);
    for (const address of contributors) {
      const who = this.of(t.infoHashHex, address);
      if (who) this.ledger.verified(who.did, size / contributors.length);
    }
  }

  hashFailed(t: TorrentHandle, contributors: string[] = []): void {
    for (const address of contributors) {
      const who = this.of(t.infoHashHex, address);
      if (who) this.ledger.hashFailed(who.did);
    }
  }

  banned(t: TorrentHandle, address: string): void {
    const who = this.of(t.infoHashHex, address);
    if (who) this.ledger.banned(who.did);
  }

  /** Calls `listener` each time a peer proves an identity (with its connection, to send it messages). */
  onIdentified(listener: (who: IdentifiedPeer, peer: WirePeer) => void): void {
    this.#identifiedListeners.push(listener);
  }

  /** Handles the extension's other messages (receipts…) of verified peers. */
  onMessage(handler: IdentifiedMessageHandler): void {
    this.#handlers.push(handler);
  }

  /** The connection of a verified peer, to send it messages of the extension. */
  wirePeer(infoHashHex: string, address: string): WirePeer | undefined {
    return this.#wire.get(`${infoHashHex} ${address}`);
  }

  of(infoHashHex: string, address: string): IdentifiedPeer | undefined {
    return this.#byPeer.get(`${infoHashHex} ${address}`);
  }

  /** The torrent's peers, each verified one with its did, account and this node's reputation of it. */
  decorate(infoHashHex: string, peers: PeerStats[]): (PeerStats & Partial<IdentifiedPeer> & { reputation?: number })[] {
    return peers.map((p) => {
      const who = this.of(infoHashHex, p.address);
      return who ? { ...p, ...who, reputation: reputationOf(this.ledger.record(who.did)) } : p;
    });
  }

  async close(): Promise<void> {
    await this.ledger.close();
  }
}

/** Bytes of piece `index` (the last one is shorter). */
export function pieceBytes(t: TorrentHandle, index: number): number {
  const m = t.metainfo;
  if (!m) return 0;
  return index === m.pieceCount - 1 ? m.length - m.pieceLength * (m.pieceCount - 1) : m.pieceLength;
}
