// What a connected peer (peer.ts) needs from the torrent it belongs to: the torrent's side of the
// wire, as events in and a few facts out. Generic in the peer, so that this file does not import
// peer.ts, which imports it (peer.ts exports PeerHost for its own Peer).

import type { Bitfield } from '../pieces/bitfield.ts';
import type { HashRequest } from '../wire/protocol.ts';

/** What a peer needs from the torrent it belongs to. */
export interface PeerHost<Peer> {
  /** The torrent's id: what our handshakes carry unless the connection speaks v2 (BEP 52). */
  readonly infoHash: Uint8Array;
  /** BEP 52: the truncated SHA-256 infohash of a torrent we speak v2 for (v2-only or hybrid); the
   *  same as infoHash for a v2-only torrent; undefined for a v1 torrent. */
  readonly infoHashV2Short: Uint8Array | undefined;
  readonly peerId: Uint8Array;
  /** Our DHT node's UDP port, announced with BEP 5's PORT message; undefined = no DHT. */
  dhtPort(): number | undefined;
  onDhtPort(peer: Peer, port: number): void;
  /** Piece count once metadata is known. */
  pieceCount(): number | undefined;
  pieceSize(index: number): number;
  onReady(peer: Peer): void;
  onHave(peer: Peer, index: number | 'all' | Bitfield): void;
  onChoke(peer: Peer, choked: boolean): void;
  onInterested(peer: Peer): void;
  onBlock(peer: Peer, index: number, begin: number, block: Uint8Array): void;
  onRequest(peer: Peer, index: number, begin: number, length: number): void;
  onCancel(peer: Peer, index: number, begin: number, length: number): void;
  onReject(peer: Peer, index: number, begin: number): void;
  /** Just before an unchoke goes out: a seed's suggestions go first, so the first requests use them. */
  beforeUnchoke?(peer: Peer): void;
  onExtended(peer: Peer, name: string, payload: Uint8Array): void;
  onExtHandshake(peer: Peer): void;
  /** BEP 52 messages, only from a peer that speaks v2 on this connection (Peer.v2). */
  onHashRequest(peer: Peer, req: HashRequest): void;
  onHashes(peer: Peer, req: HashRequest, hashes: Uint8Array): void;
  onHashReject(peer: Peer, req: HashRequest): void;
  /** Name of the extension we gave local id `id` (ut_metadata 1, ut_pex 2, registered ones after). */
  localExtension(id: number): string | undefined;
  onClose(peer: Peer, reason: string): void;
}
