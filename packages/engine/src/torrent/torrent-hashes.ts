// The BEP 52 hash exchange of a torrent: answering peers' hash requests, and asking peers for the
// hashes we lack. A v2 piece that fails its merkle check is pinned to its bad 16 KiB blocks: the
// piece's block hashes, proved against the piece layer entry we trust, show which blocks differ;
// only those are fetched again and only the peers that sent them are banned (the proof leaves no
// doubt). Without an answer the piece fails whole, as a v1 piece does: each of its senders gets a
// strike, and BAN_STRIKES of them (or one, when it sent the whole piece) ban it.

import { toHex } from '../encoding/hex.ts';
import { HASH_LENGTH, nodesAt, pieceLevel, treeHeight, verifyHashes } from '../hashing/merkle.ts';
import type { Peer } from '../swarm/peer.ts';
import type { ActivePiece } from '../swarm/picker.ts';
import { HashFetcher } from '../swarm/hash-fetcher.ts';
import { HashServer } from '../swarm/hash-server.ts';
import { TorrentPieces } from './torrent-pieces.ts';
import { badBlocks, blockHashRequest, expectedV2, locateV2, provesPiece } from '../pieces/torrent-v2.ts';
import type { FileEntry } from '../types.ts';
import type { HashRequest } from '../wire/protocol.ts';

/** How long a failed piece waits for its block hashes before it fails whole. */
const BLOCK_HASHES_MS = 30_000;
/** Piece layer hashes asked for at once (libtorrent asks 512 at a time too). */
const LAYER_RUN = 512;
const BAN_STRIKES = 3;

export abstract class TorrentHashes extends TorrentPieces {
  /** Made on the first hash request, dropped when the torrent goes idle. */
  private hashServer: HashServer | undefined;
  private hashFetcher: HashFetcher | undefined;

  protected get fetcher(): HashFetcher {
    return (this.hashFetcher ??= new HashFetcher(
      () => this.peersByKey.values(),
      (peer) => peer.destroy('sent hashes that do not prove out against the torrent'),
    ));
  }

  onHashRequest(peer: Peer, req: HashRequest): void {
    (this.hashServer ??= new HashServer({
      meta: () => this.metainfo, has: (i) => this.picker?.have.get(i) ?? false,
      readPiece: (i) => (this.storage ? this.storage.readPiece(i) : Promise.reject(new Error('no storage'))), hasher: this.ctx.hasher,
    })).serve(peer, req);
  }

  onHashes(peer: Peer, req: HashRequest, hashes: Uint8Array): void {
    this.hashFetcher?.onHashes(peer, req, hashes);
  }

  onHashReject(peer: Peer, req: HashRequest): void {
    this.hashFetcher?.onReject(peer, req);
  }

  override onReady(peer: Peer): void {
    super.onReady(peer);
    if (peer.v2 && this.hashFetcher?.pending) this.hashFetcher.tick();
  }

  override tick(now: number): boolean | number {
    if (this.hashFetcher?.pending) this.hashFetcher.tick(now);
    return super.tick(now);
  }

  protected override idle(): void {
    super.idle();
    if (this.peersByKey.size > 0 || this.state === 'downloading' || this.state === 'checking') return;
    this.hashServer = undefined;
    if (!this.hashFetcher?.pending) this.hashFetcher = undefined;
  }

  /** Files of a v2-only torrent whose piece layer is unknown (it came from a magnet): its pieces
   *  cannot be checked without it. A hybrid's pieces are checked by SHA-1 meanwhile. */
  protected missingLayers(): FileEntry[] {
    const meta = this.metainfo;
    if (meta?.version !== 'v2') return [];
    return meta.files.filter((f) => !f.pad && f.piecesRoot && f.length > meta.pieceLength && !meta.pieceLayers?.has(toHex(f.piecesRoot)));
  }

  /** Asks v2 peers for every missing piece layer, in runs proved against the file's pieces root;
   *  waits for peers as long as it takes. True once every layer is known. */
  protected async fetchPieceLayers(): Promise<boolean> {
    const meta = this.metainfo!;
    const level = pieceLevel(meta.pieceLength);
    await Promise.all(this.missingLayers().map(async (f) => {
      const root = f.piecesRoot!;
      const nodes = nodesAt(f.length, level);
      const height = treeHeight(f.length);
      const run = Math.min(LAYER_RUN, 2 ** (height - level));
      const layer = new Uint8Array(nodes * HASH_LENGTH);
      for (let index = 0; index < nodes; index += run) {
        const req = { piecesRoot: root, baseLayer: level, index, length: run, proofLayers: height - level - 1 };
        const hashes = await this.fetcher.fetch(req, (h) => verifyHashes(root, f.length, req, h), { giveUp: false });
        if (!hashes || this.closed) return;
        layer.set(hashes.subarray(0, Math.min(run, nodes - index) * HASH_LENGTH), index * HASH_LENGTH);
      }
      (meta.pieceLayers ??= new Map()).set(toHex(root), layer);
    }));
    return !this.closed && this.missingLayers().length === 0;
  }

  protected async repairBlocks(piece: ActivePiece, leaves: Uint8Array): Promise<void> {
    const meta = this.metainfo!;
    const where = locateV2(meta, piece.index)!;
    const expected = expectedV2(meta, where)!;
    const req = blockHashRequest(meta, where);
    const truth = req ? await this.fetcher.fetch(req, (h) => provesPiece(req, h, expected), { giveUp: true, ms: BLOCK_HASHES_MS }) : expected;
    const picker = this.picker;
    if (this.closed || !picker || !this.running) {
      picker?.failed(piece.index);
      return this.pool?.release(piece.buffer);
    }
    const bad = truth ? badBlocks(truth, leaves) : [];
    if (bad.length === 0) {
      this.pool?.release(piece.buffer);
      return this.pieceFailed(piece.index, piece.contributors);
    }
    const culprits = new Set<string>();
    for (const b of bad) if (piece.senders?.[b] !== undefined) culprits.add(piece.senders[b]!);
    if (this.ctx.tally) this.ctx.tally.hashFailures++;
    this.emit('hash-failed', piece.index, [...culprits]);
    for (const key of culprits) this.banSource(key, `sent block(s) ${bad.join(', ')} of piece ${piece.index} that fail their merkle hash (BEP 52)`);
    picker.retryBlocks(piece, bad);
    for (const p of this.peersByKey.values()) this.fillRequests(p);
  }

  protected pieceFailed(index: number, contributors: Set<string>): void {
    this.picker!.failed(index);
    if (this.ctx.tally) this.ctx.tally.hashFailures++;
    this.emit('hash-failed', index, [...contributors]);
    for (const key of contributors) {
      const peer = this.peersByKey.get(key);
      const seed = peer ? undefined : this.webSeeds?.find((w) => w.key === key);
      const strikes = contributors.size === 1 ? BAN_STRIKES : peer ? ++peer.strikes : seed ? ++seed.strikes : 0;
      if (strikes >= BAN_STRIKES) this.banSource(key, `sent data for piece ${index} that failed its hash check`);
    }
    for (const p of this.peersByKey.values()) this.fillRequests(p);
  }

  /** Never again: a peer (by address and peer id) or a web seed that sent corrupt data. */
  protected banSource(key: string, reason: string): void {
    const peer = this.peersByKey.get(key);
    const seed = peer ? undefined : this.webSeeds?.find((w) => w.key === key);
    this.ctx.ban(key, peer?.remoteId);
    this.candidates?.delete(key);
    this.emit('peer-banned', { address: key, reason });
    peer?.destroy('banned: sent corrupt data');
    seed?.stop();
  }
}
