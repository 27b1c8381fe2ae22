// A torrent's data path: what to request from whom, blocks in, pieces verified and written, pieces
// served to peers and web seeds. Sits between the connections (torrent-swarm.ts) and the lifecycle
// and public API (torrent.ts). What only a busy torrent needs is made on first use and let go when
// the torrent goes idle (idle()).

import type { Bitfield } from '../pieces/bitfield.ts';
import { BufferPool } from '../pieces/buffer-pool.ts';
import { equal20 } from '../pieces/check.ts';
import type { TrackerClient } from '../discovery/tracker-client.ts';
import { pieceLengthOf } from '../pieces/piece-map.ts';
import type { Storage } from '../platform.ts';
import { FileStatTracker } from './resume-files.ts';
import { ResumeSaver } from './resume-saver.ts';
import type { TransferEvent } from '../api.ts';
import type { Peer } from '../swarm/peer.ts';
import { growQueue } from '../swarm/pipeline.ts';
import type { ActivePiece } from '../swarm/picker.ts';
import { TorrentThrottle } from '../swarm/rate-limiter.ts';
import { PieceCache, UploadServer } from '../swarm/uploader.ts';
import type { WebSeed } from '../swarm/webseed.ts';
import type { SourceBytes } from '../api.ts';
import { TorrentSwarm } from './torrent-swarm.ts';
import { decodePex } from '../wire/extended.ts';
import { BLOCK_SIZE } from '../wire/protocol.ts';
import { isDiskError } from '../events/counters.ts';
import { checkV2, hasV1, hasV2 } from '../pieces/torrent-v2.ts';
import type { TransportCounts } from '../api.ts';
import { clock } from '../clock.ts';
import { SeedSuggester } from '../swarm/seed-suggest.ts';
import { SUPER_SEED_OFF, SuperSeedSwitch } from '../swarm/super-seed.ts';

/** Two seeds have nothing to trade, but an extension's last messages (the Cascade receipt for the
 *  final piece, which follows its HAVE) may still be on the way: their connection closes after this. */
const BOTH_SEEDING_GRACE_MS = 2000;

const MAX_WRITE_BACKLOG = 32 * 1024 * 1024;

function addTo(map: Map<string, number> | undefined, key: string, n: number): Map<string, number> {
  const m = map ?? new Map<string, number>();
  m.set(key, (m.get(key) ?? 0) + n);
  return m;
}

export abstract class TorrentPieces extends TorrentSwarm {
  protected storage: Storage | undefined;
  protected pieceCache: PieceCache | undefined;
  protected pool: BufferPool | undefined;
  protected trackerClient: TrackerClient | undefined;
  /** A hybrid torrent's announces under its truncated v2 hash (BEP 52). */
  protected trackerClientV2: TrackerClient | undefined;
  protected ownThrottle: TorrentThrottle | undefined;
  protected uploadServer: UploadServer | undefined;
  protected sessionDownloaded = 0;
  protected sessionUploaded = 0;
  protected saver: ResumeSaver | undefined;
  protected pendingWrites: Set<Promise<void>> | undefined;
  /** Bytes of verified pieces waiting for the disk. */
  protected writeBacklog = 0;
  protected doneEmitted = false;
  protected webSeedUrls: string[] | undefined;
  protected webSeeds: WebSeed[] | undefined;
  protected fileStats: FileStatTracker | undefined;
  /** Bytes of blocks taken in, by source (peer address key or `webseed:URL`): what each source gave
   *  this download, kept after a peer leaves. Made on the first block. */
  protected bytesBySource: Map<string, number> | undefined;

  /** Stops the torrent with an error (torrent.ts). */
  protected abstract fail(message: string): void;
  /** A v2 piece failed its merkle check with these leaves: find and refetch its bad blocks (torrent-hashes.ts). */
  protected abstract repairBlocks(piece: ActivePiece, leaves: Uint8Array): Promise<void>;
  /** A piece failed its hash check: fetched again, its senders given strikes (torrent-hashes.ts). */
  protected abstract pieceFailed(index: number, contributors: Set<string>): void;

  // Made on first need: a seeded torrent nobody talks to holds none of these.
  protected get resumeSaver(): ResumeSaver {
    return (this.saver ??= new ResumeSaver(() => this.writeResume(), !!this.ctx.resumeStore));
  }

  protected get throttle(): TorrentThrottle {
    return (this.ownThrottle ??= new TorrentThrottle(this.ctx.rateLimits, () => {
      // The download bucket has room again: peers ask in turn, so one peer does not take it all.
      const peers = [...this.peersByKey.values()];
      const from = this.ticks % Math.max(1, peers.length);
      for (let i = 0; i < peers.length; i++) this.fillRequests(peers[(from + i) % peers.length]!);
    }));
  }

  protected get uploads(): UploadServer {
    return (this.uploadServer ??= new UploadServer({
      cache: () => this.cache,
      has: (i) => this.picker?.have.get(i) ?? false,
      pieceSize: (i) => this.pieceSize(i),
      sent: (peer, bytes) => {
        this.meters.up.add(bytes);
        this.sessionUploaded += bytes;
        const tally = this.ctx.tally;
        if (tally) tally.bytesSent[peer.conn.transport] += bytes;
        this.emitTransfer(peer, 'up', bytes);
      },
      warn: (message) => this.emit('warning', message),
      readFailed: (err) => {
        if (this.ctx.tally && isDiskError(err)) this.ctx.tally.diskErrors++;
      },
      limit: () => this.throttle.up,
    }));
  }

  /** Pieces read for uploads; made on the first request (a seed nobody asks holds no buffers). */
  protected get cache(): PieceCache | undefined {
    if (!this.picker || !this.storage) return undefined;
    return (this.pieceCache ??= new PieceCache(
      (i, into) => this.storage!.readPiece(i, into),
      () => {
        for (const p of this.peersByKey.values()) if (!p.closed && !p.conn.drained()) return false;
        return true;
      },
    ));
  }

  /** Nothing connected nor moving: buffers and open files go (a stat is all an idle seed costs). */
  protected override idle(): void {
    if (this.peersByKey.size > 0 || this.state === 'downloading' || this.state === 'checking') return;
    this.pieceCache?.clear();
    this.pieceCache = undefined;
    this.uploadServer = undefined;
    if (this.ownThrottle && !this.ownThrottle.own.download.limit && !this.ownThrottle.own.upload.limit) {
      this.ownThrottle.stop();
      this.ownThrottle = undefined;
    }
    if (!this.pendingWrites?.size) void this.storage?.close();
  }

  /** Made on first need and dropped once the download is done, so a seeding torrent holds no slab. */
  protected bufferPool(): BufferPool {
    const pieceLength = this.metainfo!.pieceLength;
    return (this.pool ??= new BufferPool(pieceLength, 64, this.ctx.allocate, this.ctx.pieceSlab?.(pieceLength)));
  }

  /** A buffer for a piece being fetched (the picker's PieceBuffers). */
  allocatePiece(n: number): Uint8Array {
    return this.bufferPool().get(n);
  }

  /** The picker's PieceBuffers.copyIn: the platform's copy where it has one. */
  get copyIn(): ((piece: Uint8Array, block: Uint8Array, at: number) => void) | undefined {
    return this.ctx.copyIntoPiece;
  }

  /** Adds this torrent's connected peers by transport, and its web seeds fetching now, to `into`. */
  countPeers(into: TransportCounts): void {
    for (const p of this.peersByKey.values()) into[p.conn.transport]++;
    if (this.webSeeds) for (const w of this.webSeeds) if (w.running) into.webseed++;
  }

  // ---- PeerHost ----
  pieceCount(): number | undefined {
    return this.metainfo?.pieceCount;
  }

  pieceSize(index: number): number {
    return pieceLengthOf(this.metainfo!, index);
  }

  protected peerGotMetadata(peer: Peer): void {
    if (!this.picker || peer.closed) return;
    peer.applyPieceCount(this.metainfo!.pieceCount);
    if (!peer.haveAnnounced) {
      peer.haveAnnounced = true;
      const superSeeder = this.superSeed.active(this.picker);
      if (superSeeder) superSeeder.refresh(peer);
      else peer.sendHaves(this.picker.have);
    }
    if (!peer.availabilityTracked) {
      if (peer.seed) this.picker.peerHasAll(1);
      else if (peer.bits) this.picker.peerBitfield(peer.bits, 1);
      this.trackAvailability(peer);
    }
    this.updateInterest(peer);
  }

  onHave(peer: Peer, what: number | 'all' | Bitfield): void {
    if (!this.picker) return;
    if (what === 'all') this.picker.peerHasAll(1);
    else if (typeof what === 'number') this.picker.peerHave(what);
    else this.picker.peerBitfield(what, 1);
    this.trackAvailability(peer);
    const superSeeder = this.superSeed.active(this.picker);
    if (superSeeder) typeof what === 'number' ? superSeeder.peerHas(peer, what) : superSeeder.refresh(peer);
    const suggester = this.suggester(false);
    if (suggester) typeof what === 'number' ? suggester.peerHas(peer, what) : suggester.topUp(peer);
    // One new piece can only add interest: test that piece, not the whole bitfield. Either way it
    // may be something to request now (a peer that is itself downloading hands us pieces this way).
    if (typeof what === 'number') {
      if (!peer.amInterested && !this.picker.done && this.picker.isWanted(what)) peer.setInterested(true);
      if (peer.amInterested) this.fillRequests(peer);
    } else this.updateInterest(peer);
    if (this.picker.done && peer.seed && this.picker.have.complete) this.closeBothSeeding(peer);
  }

  protected trackAvailability(peer: Peer): void {
    if (peer.availabilityTracked) return;
    peer.availabilityTracked = true;
    peer.onceClosed(() => this.forgetAvailability(peer));
  }

  protected forgetAvailability(peer: Peer): void {
    if (!this.picker || !peer.availabilityTracked) return;
    peer.availabilityTracked = false;
    if (peer.seed) this.picker.peerHasAll(-1);
    else if (peer.bits) this.picker.peerBitfield(peer.bits, -1);
  }

  protected updateInterest(peer: Peer): void {
    if (!this.picker) return;
    let wants = false;
    if (!this.picker.done) {
      if (peer.seed) wants = true;
      else for (let i = 0; i < this.picker.pieceCount && !wants; i++) wants = peer.has(i) && this.picker.isWanted(i);
    }
    peer.setInterested(wants);
    if (wants) this.fillRequests(peer);
  }

  onChoke(peer: Peer, choked: boolean): void {
    if (!choked) return this.fillRequests(peer);
    // Fast-extension peers reject each dropped request explicitly; others drop them all silently.
    if (!peer.fast) this.releaseRequests(peer);
  }

  beforeUnchoke(peer: Peer): void {
    this.suggester(true)?.topUp(peer);
  }

  /** A seed's suggester (swarm/seed-suggest.ts): while it holds every piece and is not super-seeding
   *  (which steers by hiding pieces instead); made on first use, so an idle seed holds none. */
  private suggester(create: boolean): SeedSuggester | undefined {
    const picker = this.picker;
    if (this.superSeed.on || !picker?.have.complete) return undefined;
    if (this.seedSuggester?.availability !== picker.availability) this.seedSuggester = create ? new SeedSuggester(picker.availability) : undefined;
    return this.seedSuggester;
  }

  onInterested(peer: Peer): void {
    if (peer.peerInterested && peer.amChoking && this.picker) this.tryUnchoke(peer);
  }

  protected releaseRequests(peer: Peer): void {
    for (const r of peer.requests.values()) this.picker?.released(r.index, r.begin);
    peer.requests.clear();
  }

  onReject(peer: Peer, index: number, begin: number): void {
    this.picker?.released(index, begin);
    setTimeout(() => this.fillRequests(peer), 100).unref?.();
  }

  protected fillRequests(peer: Peer): void {
    const picker = this.picker;
    if (!picker || peer.closed || peer.peerChoking || !peer.amInterested || peer.retiring !== undefined || this.state === 'paused' || this.state === 'error') return;
    // A disk slower than the network: stop asking until the writes catch up, so memory stays bounded.
    if (this.writeBacklog >= MAX_WRITE_BACKLOG) return;
    // Refill in batches of half the pipeline: each write of requests wakes the remote side, and
    // halving the refills (from a quarter) measured 0.87× → 0.95× libtorrent in bench/swarm.
    let room = peer.queueTarget - peer.requests.size;
    if (room < Math.max(4, peer.queueTarget / 2)) return;
    // A download limit: ask only for what the buckets allow now (the peer sends what we ask for).
    const limited = this.throttle.down.limited;
    if (limited && (room = this.throttle.requestBudget(room, BLOCK_SIZE)) === 0) return;
    const blocks = picker.pick(peer, room);
    if (blocks.length === 0) return;
    if (limited) this.throttle.requested(blocks.reduce((n, b) => n + b.length, 0));
    if (peer.windowStart === 0) peer.windowStart = clock.now(); // the first pipeline window opens
    peer.sendRequests(blocks);
  }

  onBlock(peer: Peer, index: number, begin: number, block: Uint8Array): void {
    this.emitTransfer(peer, 'down', block.length);
    this.acceptBlock(peer.key, peer, index, begin, block);
    growQueue(peer);
    this.fillRequests(peer);
  }

  /** A block from a peer or a web seed: store it, and verify the piece once it is whole. */
  protected acceptBlock(key: string, from: Peer | undefined, index: number, begin: number, block: Uint8Array): void {
    const picker = this.picker;
    if (!picker) return;
    this.meters.down.add(block.length);
    this.sessionDownloaded += block.length;
    const tally = this.ctx.tally;
    if (tally) tally.bytesReceived[from ? from.conn.transport : 'webseed'] += block.length;
    const result = picker.received(index, begin, block, key);
    // Counted when it went into a piece (not a duplicate, not a block of a piece no longer wanted).
    if (result !== 'duplicate' && (result !== undefined || picker.active.has(index))) this.bytesBySource = addTo(this.bytesBySource, key, block.length);
    if (result && result !== 'duplicate') {
      // Endgame: others may still be fetching blocks of this piece; tell them to stop.
      for (const other of this.peersByKey.values()) {
        if (other === from || other.requests.size === 0) continue;
        for (const r of [...other.requests.values()]) if (r.index === index) other.sendCancel(r.index, r.begin, r.length);
      }
      void this.completePiece(result, result.hash?.digest());
    } else if (result === undefined && picker.active.has(index)) {
      for (const other of this.peersByKey.values()) if (other !== from && other.isRequested(index, begin)) other.sendCancel(index, begin, block.length);
    }
  }

  /** Bytes each source gave this download (peers by address, web seeds and mirrors by URL), most first. */
  sources(): SourceBytes[] {
    const out: SourceBytes[] = [];
    for (const [key, downloaded] of this.bytesBySource ?? []) {
      const web = key.startsWith('webseed:');
      out.push({ address: web ? key.slice('webseed:'.length) : key, kind: web ? 'webseed' : 'peer', downloaded, banned: this.ctx.isBanned(key) });
    }
    return out.sort((a, b) => b.downloaded - a.downloaded);
  }

  protected async completePiece(piece: ActivePiece, hashed?: Uint8Array): Promise<void> {
    const { index, contributors } = piece;
    const meta = this.metainfo!;
    let data = piece.buffer;
    let good = true;
    // A hybrid piece must pass both its SHA-1 and its merkle check, as libtorrent requires.
    if (hasV1(meta)) {
      const v1 = hashed ? { digest: hashed, data } : await this.ctx.hasher.sha1(data);
      data = v1.data;
      if (this.closed || !this.picker) return;
      good = equal20(v1.digest, meta.pieceHashes, index * 20);
    }
    if (hasV2(meta)) {
      const v2 = await checkV2(meta, this.ctx.hasher, index, data);
      if (this.closed || !this.picker) return;
      // The merkle tree can tell which blocks were bad: only those are fetched again.
      if (v2.ok === false && v2.leaves.length > 0) return this.repairBlocks(Object.assign(piece, { buffer: data }), v2.leaves);
      // Without its piece layer a v2-only piece cannot be judged (nobody is to blame); a hybrid's
      // SHA-1 stands alone until the layer is known.
      if (v2.ok === 'unknown' && !hasV1(meta)) {
        this.pool?.release(data);
        return this.picker.failed(index);
      }
      if (v2.ok === false) good = false;
    }
    if (!good) {
      this.pool?.release(data);
      return this.pieceFailed(index, contributors);
    }
    if (this.closed || !this.picker) return;
    // Hashed while a move takes the files away (moving is set before the move waits for the writes
    // under way): written now, it would land in the old folder after the files left it, and count
    // as held in the new one (issue 63, bench:crash --cluster). Fetched again once moved, no one blamed.
    if (this.moving || !this.storage) {
      this.pool?.release(data);
      return this.picker.failed(index);
    }
    // A reader that transforms pieces as they come (a private share's decryption) takes the
    // verified bytes here, synchronously: the buffer goes back to the pool after the write.
    if (this.listenerCount('piece-data') > 0) this.emit('piece-data', index, data);
    // Crash safety rests on this order, not on fsync: the piece's bit is set (and saved in the
    // resume data) only once its write has returned, so a killed process never claims a piece the
    // kernel does not hold. The data is not fsynced: after a power loss the bitfield may outlive
    // it (docs/durability.md; pieces/check.ts hashes files whose size or mtime moved).
    const storage = this.storage;
    this.fileStats?.writing(index);
    const write = storage.writePiece(index, data);
    (this.pendingWrites ??= new Set()).add(write);
    this.writeBacklog += data.length;
    try {
      await write;
    } catch (err) {
      this.picker.failed(index);
      // Its storage let go meanwhile (moved, removed): not a disk's fault; fetched again if wanted.
      if (this.closed || this.moving || this.storage !== storage) return;
      if (this.ctx.tally) this.ctx.tally.diskErrors++;
      return this.fail(`disk error: ${(err as Error).message}`);
    } finally {
      this.fileStats?.wrote(index);
      this.pendingWrites?.delete(write);
      const wasBlocked = this.writeBacklog >= MAX_WRITE_BACKLOG;
      this.writeBacklog -= data.length;
      this.pool?.release(data);
      // Only a write that lifts the backlog below the limit has requests to restart.
      if (wasBlocked && this.writeBacklog < MAX_WRITE_BACKLOG) for (const p of this.peersByKey.values()) this.fillRequests(p);
    }
    if (this.closed || !this.picker) return;
    this.picker.verified(index);
    if (this.ctx.tally) this.ctx.tally.piecesVerified++;
    for (const p of this.peersByKey.values()) {
      if (!p.closed && p.bits) p.sendHave(index);
      if (p.amInterested && !p.closed) this.refreshInterest(p);
    }
    // Who sent it (addresses; web seeds by URL): reputation ledgers outside the engine use it.
    this.emit('verified', index, [...contributors]);
    this.resumeSaver.schedule();
    this.checkDone();
  }

  protected refreshInterest(peer: Peer): void {
    if (this.picker?.done) peer.setInterested(false);
  }

  protected checkDone(): void {
    const picker = this.picker;
    if (!picker || !picker.done || this.state === 'paused' || this.state === 'error') return;
    this.state = 'seeding';
    this.pool = undefined;
    if (!this.doneEmitted) {
      this.doneEmitted = true;
      if (picker.have.complete) {
        this.trackerClient?.completed();
        this.trackerClientV2?.completed();
      }
      void (this.saver?.flush() ?? Promise.resolve()).then(() => this.emit('done'));
    }
    for (const p of this.peersByKey.values()) {
      p.setInterested(false);
      if (p.seed && picker.have.complete) this.closeBothSeeding(p);
    }
  }

  protected closeBothSeeding(peer: Peer): void {
    if (peer.closed || peer.bothSeedingClose) return;
    peer.bothSeedingClose = true;
    const timer = setTimeout(() => {
      if (!peer.closed && peer.seed && this.picker?.have.complete) peer.destroy('both seeding');
    }, BOTH_SEEDING_GRACE_MS);
    (timer as { unref?: () => void }).unref?.();
  }

  get superSeeding(): boolean {
    return this.superSeed.on;
  }

  setSuperSeeding(on: boolean): void {
    if (this.superSeed === SUPER_SEED_OFF) {
      if (!on) return;
      this.superSeed = new SuperSeedSwitch();
    }
    if (!this.superSeed.set(on)) return;
    this.opts.superSeeding = on;
    // Off: peers shown a piece or two now hear of everything (a HAVE twice is harmless).
    if (!on && this.picker) for (const p of this.peersByKey.values()) if (p.haveAnnounced && !p.closed) p.sendHaves(this.picker.have);
    this.changed();
  }

  onRequest(peer: Peer, index: number, begin: number, length: number): void {
    if (this.superSeed.active(this.picker)?.mayServe(peer, index) === false) return peer.sendReject(index, begin, length);
    // Only a request we serve claims its piece: a choked peer's would be refused below.
    if (!peer.amChoking) this.suggester(true)?.requested(peer, index);
    this.uploads.request(peer, index, begin, length);
  }

  onCancel(peer: Peer, index: number, begin: number): void {
    this.uploads.cancel(peer, index, begin);
  }

  onExtended(peer: Peer, name: string, payload: Uint8Array): void {
    if (this.extensions.message(peer, name, payload)) return;
    try {
      if (name === 'ut_metadata') this.metadata.handle(peer, payload);
      else if (name === 'ut_pex' && !this.metainfo?.private) {
        const { added } = decodePex(payload);
        for (const a of added) this.addPeer(a, 'pex');
        if (peer.ext?.m.ut_holepunch && added.some((a) => a.flags)) this.holepunch.pexAdded(peer, added);
      } else if (name === 'ut_holepunch') this.holepunch.message(peer, payload);
    } catch (err) {
      peer.destroy(`bad ${name} message: ${(err as Error).message}`);
    }
  }

  protected emitTransfer(peer: Peer, direction: 'up' | 'down', bytes: number): void {
    if (this.listenerCount('transfer') === 0) return;
    const e: TransferEvent = { infoHashHex: this.infoHashHex, peer: peer.address, peerId: peer.remoteIdHex, direction, bytes };
    this.emit('transfer', e);
  }

  /** Only pieces already written are in `have`, so a crash after this never claims missing data. */
  protected async writeResume(): Promise<void> {
    if (!this.ctx.resumeStore || !this.picker || !this.metainfo) return;
    // The files' stats first, then the bitfield: a piece written while the stat waits (behind the
    // writes, on a busy disk) is then either in the saved bitfield or newer than the saved mtime
    // (its file is hashed again at the next start). The other order saved an mtime that already
    // covered it with a bitfield that did not, so a kill before the next save lost it (bench:crash,
    // 200 kills: 1-16 verified pieces lost at 3 kills with only transfers in flight).
    const files = this.storage && this.fileStats ? await this.fileStats.current(this.storage) : undefined;
    if (!this.picker || !this.metainfo) return;
    const have = this.picker.have.bytes.slice();
    await this.ctx.resumeStore
      .save(this.infoHashHex, { have, infoBytes: this.metainfo.infoBytes, files })
      .catch((err) => this.emit('warning', `cannot save resume data: ${(err as Error).message}`));
  }
}
