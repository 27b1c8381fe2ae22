// One torrent's life: metadata → checking → downloading → seeding. Receives well-formed peer
// events (swarm/peer.ts), asks the picker what to request, verifies pieces and hands them to storage.
// Connections and the periodic work are in torrent-swarm.ts; the session's scheduler (scheduler.ts)
// ticks a torrent only while it has something to do.

import type { AddTorrentOptions, DiscoveryReport, PeerStats, RateLimits, TorrentHandle, TorrentStats, TrackerStatus, TransferEvent } from './api.ts';
import type { Bitfield } from './bitfield.ts';
import { BufferPool } from './buffer-pool.ts';
import { checkPieces, equal20 } from './check.ts';
import type { TrackerClient } from './discovery/tracker-client.ts';
import { toHex } from './hex.ts';
import { parseInfoDict } from './metainfo.ts';
import { pieceLengthOf, piecesOfFiles } from './piece-map.ts';
import { bytesLeft, fileProgress, peerListing, torrentStats } from './torrent-report.ts';
import type { Storage } from './platform.ts';
import type { Peer } from './swarm/peer.ts';
import { Picker } from './swarm/picker.ts';
import { TorrentThrottle } from './swarm/rate-limiter.ts';
import { moveTorrent } from './torrent-move.ts';
import { WebSeed, type WebSeedHost } from './swarm/webseed.ts';
import { PieceCache, UploadServer } from './swarm/uploader.ts';
import { FileStatTracker } from './resume-files.ts';
import { ResumeSaver } from './resume-saver.ts';
import { expandSelection } from './magnet.ts';
import type { FileRanges, Metainfo } from './types.ts';
import { decodePex } from './wire/extended.ts';
import { BLOCK_SIZE } from './wire/protocol.ts';
import type { TorrentContext } from './torrent-context.ts';
import { TorrentSwarm } from './torrent-swarm.ts';
import { growQueue } from './swarm/pipeline.ts';

export type { TorrentContext } from './torrent-context.ts';

const BAN_STRIKES = 3;
const MAX_WRITE_BACKLOG = 32 * 1024 * 1024;
const NO_LIMITS: RateLimits = { download: 0, upload: 0 };

export class Torrent extends TorrentSwarm implements TorrentHandle {
  private storage: Storage | undefined;
  private pieceCache: PieceCache | undefined;
  private pool: BufferPool | undefined;
  private trackerClient: TrackerClient | undefined;
  private ownThrottle: TorrentThrottle | undefined;
  private uploadServer: UploadServer | undefined;
  private sessionDownloaded = 0;
  private sessionUploaded = 0;
  private selected: number[] | undefined;
  /** A magnet's `so=` until the file count is known (then it becomes `selected`). */
  private selectRanges: FileRanges | undefined;
  private saver: ResumeSaver | undefined;
  private pendingWrites: Set<Promise<void>> | undefined;
  /** Bytes of verified pieces waiting for the disk. */
  private writeBacklog = 0;
  private errorMessage: string | undefined;
  private releaseFiles: (() => void) | undefined;
  private doneEmitted = false;
  /** Piece ranges a reader (a stream) needs beyond the selection; see fetchPieces(). */
  private readerClaims: Set<{ first: number; last: number }> | undefined;
  private displayName: string | undefined;
  private trackerUrls: string[][];
  private webSeedUrls: string[] | undefined;
  private webSeeds: WebSeed[] | undefined;
  private fileStats: FileStatTracker | undefined;
  /** The last check of the data on disk: pieces hashed and how long it took. */
  lastCheck: { hashed: number; ms: number } | undefined;

  constructor(
    ctx: TorrentContext,
    src: { infoHashHex: string; metainfo?: Metainfo; name?: string; trackers?: string[]; peers?: string[]; webSeeds?: string[]; selectOnly?: FileRanges },
    opts: AddTorrentOptions,
  ) {
    super(ctx, src.infoHashHex, opts);
    this.metainfo = src.metainfo;
    // A .torrent whose files another torrent owns is refused at once (the add throws).
    if (src.metainfo) this.releaseFiles = ctx.claimFiles?.(src.metainfo, opts.savePath);
    this.displayName = src.name;
    this.selected = opts.selectedFiles;
    if (!opts.selectedFiles) this.selectRanges = src.selectOnly;
    const tiers = src.metainfo?.announce.length ? src.metainfo.announce.map((t) => [...t]) : (src.trackers ?? []).map((t) => [t]);
    // A private torrent announces only where its creator said (BEP 27): no trackers of ours.
    const extra = [...ctx.extraTrackers, ...(src.metainfo?.private ? [] : (opts.trackers ?? []))];
    if (extra.length > 0) {
      const known = new Set(tiers.flat());
      for (const t of extra) {
        if (!known.has(t)) tiers.push([t]);
        known.add(t);
      }
    }
    this.trackerUrls = tiers;
    if (src.webSeeds?.length) this.webSeedUrls = src.webSeeds;
    for (const p of [...(src.peers ?? []), ...(opts.peers ?? [])]) this.addPeer(p, 'manual');
  }

  // Made on first need: a seeded torrent nobody talks to holds none of these.
  private get resumeSaver(): ResumeSaver {
    return (this.saver ??= new ResumeSaver(() => this.writeResume(), !!this.ctx.resumeStore));
  }

  private get throttle(): TorrentThrottle {
    return (this.ownThrottle ??= new TorrentThrottle(this.ctx.rateLimits, () => {
      // The download bucket has room again: peers ask in turn, so one peer does not take it all.
      const peers = [...this.peersByKey.values()];
      const from = this.ticks % Math.max(1, peers.length);
      for (let i = 0; i < peers.length; i++) this.fillRequests(peers[(from + i) % peers.length]!);
    }));
  }

  private get uploads(): UploadServer {
    return (this.uploadServer ??= new UploadServer({
      cache: () => this.cache,
      has: (i) => this.picker?.have.get(i) ?? false,
      pieceSize: (i) => this.pieceSize(i),
      sent: (peer, bytes) => {
        this.meters.up.add(bytes);
        this.sessionUploaded += bytes;
        this.emitTransfer(peer, 'up', bytes);
      },
      warn: (message) => this.emit('warning', message),
      limit: () => this.throttle.up,
    }));
  }

  /** Pieces read for uploads; made on the first request (a seed nobody asks holds no buffers). */
  private get cache(): PieceCache | undefined {
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

  // ---- lifecycle ----
  /** `trust: false` (a forced recheck) hashes every piece on disk, resume data or not. */
  async start(trust = true): Promise<void> {
    if (this.opts.paused) {
      this.state = 'paused';
      return;
    }
    this.running = true;
    if (!this.metainfo && this.ctx.resumeStore) {
      const saved = await this.ctx.resumeStore.load(this.infoHashHex).catch(() => undefined);
      if (saved?.infoBytes) await this.gotMetadata(saved.infoBytes, false);
    }
    if (this.metainfo && !this.picker) await this.prepare(trust);
    if (this.state === 'error' || this.closed || !this.running) return;
    this.startDiscovery();
    this.candidates?.retryNow(); // peers we let go when we stopped (pause, move) are dialled at once
    this.connectMore();
    this.wake();
  }

  private startDiscovery(): void {
    if (this.trackerUrls.length > 0 && !this.trackerClient) {
      this.trackerClient = this.ctx.createTracker({
        infoHash: this.infoHash,
        peerId: this.ctx.peerId,
        port: this.ctx.port(),
        tiers: this.trackerUrls,
        getStats: () => ({ uploaded: this.sessionUploaded, downloaded: this.sessionDownloaded, left: bytesLeft(this.picker, this.metainfo) }),
        onPeers: (peers, source) => peers.forEach((p) => this.addPeer(p, source)),
        onStatus: () => this.touch(),
        pacer: this.ctx.scheduler.announces,
      });
      this.trackerClient.start();
    }
    if (this.ctx.dht && !this.metainfo?.private) {
      // Seeds take their DHT turn as it comes round (spread over the interval); a torrent that
      // wants data looks for peers at once.
      const wantsData = !this.picker?.done;
      this.ctx.scheduler.joinDht(this, !wantsData);
      if (wantsData) this.dhtRound();
    }
  }

  dhtRound(): void {
    const dht = this.ctx.dht;
    if (!dht || this.metainfo?.private || !this.running) return;
    this.discoveryLog.dhtLookup();
    this.touch();
    dht.lookup(this.infoHashHex, (peers) => {
      this.discoveryLog.dhtPeers(peers.length);
      peers.forEach((p) => this.addPeer(p, 'dht'));
    });
    dht.announce(this.infoHashHex, this.ctx.port()).catch(() => {});
  }

  protected async gotMetadata(info: Uint8Array, fromPeers = true): Promise<void> {
    if (this.metainfo) return;
    try {
      this.metainfo = parseInfoDict(info, { announce: this.trackerUrls });
    } catch (err) {
      return this.fail(`metadata from peers is invalid: ${(err as Error).message}`);
    }
    this.metadataKnown(info);
    if (this.selectRanges) this.selected = expandSelection(this.selectRanges, this.metainfo.files.length);
    this.selectRanges = undefined;
    this.emit('metadata', this.metainfo);
    if (this.state !== 'paused' && fromPeers) await this.prepare();
  }

  /** Metadata known: find what is on disk, then start trading pieces. With resume data whose files
   *  are as it recorded them this is a stat per file and no read: the torrent never shows 'checking'
   *  (10,000 torrents restart without hashing); only pieces that must be hashed make it 'checking'. */
  private async prepare(trust = true): Promise<void> {
    const meta = this.metainfo!;
    if (!trust) this.state = 'checking';
    let resume;
    try {
      // A magnet learns its files only now: another torrent's files fail it before anything is written.
      this.releaseFiles ??= this.ctx.claimFiles?.(meta, this.opts.savePath);
      this.storage ??= this.ctx.createStorage(meta, this.opts.savePath);
      resume = trust ? await this.ctx.resumeStore?.load(this.infoHashHex).catch(() => undefined) : undefined;
      if (!resume) this.state = 'checking';
      const started = Date.now();
      const { have, hashed, stats } = await checkPieces(meta, this.storage, this.ctx.hasher, {
        resume,
        isCancelled: () => this.closed,
        onHashing: () => (this.state = 'checking'),
        onProgress: (done, total) => this.emit('checking', done, total),
      });
      if (this.closed) return;
      this.lastCheck = { hashed, ms: Date.now() - started };
      (this.fileStats ??= new FileStatTracker(meta)).seed(stats);
      this.picker = new Picker({
        pieceCount: meta.pieceCount, pieceLength: meta.pieceLength, totalLength: meta.length, have, allocate: (n) => this.bufferPool().get(n),
        newHash: this.ctx.hasher.incremental?.bind(this.ctx.hasher),
      });
      this.applySelection();
      // Resume data that says what the check found needs no new save (10,000 writes after a restart).
      if (!resume || hashed > 0 || !resume.files) this.resumeSaver.schedule();
    } catch (err) {
      return this.fail((err as Error).message);
    }
    this.state = this.opts.paused ? 'paused' : 'downloading';
    this.peersGotMetadata();
    this.checkDone();
    this.startWebSeeds();
    this.wake();
  }

  /** Made on first need and dropped once the download is done, so a seeding torrent holds no slab. */
  private bufferPool(): BufferPool {
    const pieceLength = this.metainfo!.pieceLength;
    return (this.pool ??= new BufferPool(pieceLength, 64, this.ctx.allocate, this.ctx.pieceSlab?.(pieceLength)));
  }

  private applySelection(): void {
    if (!this.picker || !this.metainfo) return;
    const wanted = this.selected ? piecesOfFiles(this.metainfo, this.selected) : undefined;
    const claims = [...(this.readerClaims ?? [])];
    // Readers' claims widen what is fetched, never what is selected (a GET must change nothing).
    if (wanted) for (const c of claims) wanted.fill(1, c.first, c.last + 1);
    this.picker.setWanted(wanted);
    this.picker.setUrgent(claims);
  }

  /** Stops the torrent: a disk that refused one piece refuses the next, and every block fetched
   *  meanwhile would be thrown away (gigabytes a minute from a fast swarm). resume() retries. */
  private fail(message: string): void {
    if (this.state === 'error') return;
    this.errorMessage = message;
    this.state = 'error';
    this.emit('error', new Error(message));
    void this.stopActivity();
  }

  async pause(): Promise<void> {
    if (this.state === 'paused') return;
    await this.stopActivity();
    this.state = 'paused';
    this.opts.paused = true;
  }

  async resume(): Promise<void> {
    if (this.state !== 'paused' && this.state !== 'error') return;
    this.opts.paused = false;
    this.errorMessage = undefined;
    this.closed = false;
    this.state = this.picker ? (this.picker.done ? 'seeding' : 'downloading') : 'metadata';
    await this.start();
    this.checkDone(); // completed while paused (a narrower selection): 'done' is still owed
  }

  /** Hashes every piece on disk again, trusting neither resume data nor earlier checks: files
   *  changed behind our back with their size and mtime kept. A paused torrent stays paused. */
  async recheck(): Promise<void> {
    if (!this.picker || this.closed) return; // no metadata, or its first check (or a recheck) is running
    this.state = 'checking';
    await this.stopActivity();
    // Peers that arrived while it stopped were counted by the old picker: the new one starts clean.
    for (const p of [...this.peersByKey.values()]) p.destroy('rechecking');
    this.peersByKey.clear();
    this.picker = undefined;
    this.pieceCache?.clear();
    this.doneEmitted = false;
    this.errorMessage = undefined;
    if (this.opts.paused) await this.prepare(false);
    else await this.start(false);
  }

  /** Stops peers, trackers and ticks; flushes writes and resume data. */
  private async stopActivity(): Promise<void> {
    this.running = false;
    this.ctx.scheduler.remove(this);
    this.ownThrottle?.stop();
    for (const w of this.webSeeds ?? []) w.stop();
    this.disconnectAll();
    this.picker?.clearActive();
    await Promise.allSettled([...(this.pendingWrites ?? [])]);
    const tc = this.trackerClient;
    this.trackerClient = undefined;
    await tc?.stop().catch(() => {});
    await this.saver?.flush();
  }

  async close(opts: { deleteData?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    await this.stopActivity();
    this.closed = true;
    this.saver?.stop();
    this.pieceCache?.clear();
    if (opts.deleteData) {
      await this.storage?.destroy();
      await this.ctx.resumeStore?.delete(this.infoHashHex).catch(() => {});
    } else {
      await this.storage?.close();
    }
    this.releaseFiles?.();
    this.releaseFiles = undefined;
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
      peer.sendHaves(this.picker.have);
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
    // One new piece can only add interest: test that piece, not the whole bitfield. Either way it
    // may be something to request now (a peer that is itself downloading hands us pieces this way).
    if (typeof what === 'number') {
      if (!peer.amInterested && !this.picker.done && this.picker.isWanted(what)) peer.setInterested(true);
      if (peer.amInterested) this.fillRequests(peer);
    } else this.updateInterest(peer);
    if (this.picker.done && peer.seed && this.picker.have.complete) peer.destroy('both seeding');
  }

  private trackAvailability(peer: Peer): void {
    if (peer.availabilityTracked) return;
    peer.availabilityTracked = true;
    peer.onceClosed(() => this.forgetAvailability(peer));
  }

  private forgetAvailability(peer: Peer): void {
    if (!this.picker || !peer.availabilityTracked) return;
    peer.availabilityTracked = false;
    if (peer.seed) this.picker.peerHasAll(-1);
    else if (peer.bits) this.picker.peerBitfield(peer.bits, -1);
  }

  private updateInterest(peer: Peer): void {
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
    if (!picker || peer.closed || peer.peerChoking || !peer.amInterested || this.state === 'paused' || this.state === 'error') return;
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
    if (peer.windowStart === 0) peer.windowStart = Date.now(); // the first pipeline window opens
    peer.sendRequests(blocks);
  }

  onBlock(peer: Peer, index: number, begin: number, block: Uint8Array): void {
    this.emitTransfer(peer, 'down', block.length);
    this.acceptBlock(peer.key, peer, index, begin, block);
    growQueue(peer);
    this.fillRequests(peer);
  }

  /** A block from a peer or a web seed: store it, and verify the piece once it is whole. */
  private acceptBlock(key: string, from: Peer | undefined, index: number, begin: number, block: Uint8Array): void {
    const picker = this.picker;
    if (!picker) return;
    this.meters.down.add(block.length);
    this.sessionDownloaded += block.length;
    const result = picker.received(index, begin, block, key);
    if (result && result !== 'duplicate') {
      // Endgame: others may still be fetching blocks of this piece; tell them to stop.
      for (const other of this.peersByKey.values()) {
        if (other === from || other.requests.size === 0) continue;
        for (const r of [...other.requests.values()]) if (r.index === index) other.sendCancel(r.index, r.begin, r.length);
      }
      void this.completePiece(result.index, result.buffer, result.contributors, result.hash?.digest());
    } else if (result === undefined && picker.active.has(index)) {
      for (const other of this.peersByKey.values()) if (other !== from && other.isRequested(index, begin)) other.sendCancel(index, begin, block.length);
    }
  }

  protected hasWebSeedsRunning(): boolean {
    return this.webSeeds?.some((w) => w.running) ?? false;
  }

  protected startWebSeeds(): void {
    const meta = this.metainfo;
    if (!meta || !this.picker || this.picker.done || this.state === 'paused' || this.closed) return;
    if (!this.webSeeds && (this.webSeedUrls?.length ?? 0) + meta.urlList.length > 0) {
      this.webSeeds = [];
      const host: WebSeedHost = {
        picker: () => this.picker,
        active: () => !this.closed && this.state !== 'paused' && this.state !== 'error',
        isBanned: (key) => this.ctx.isBanned(key), limit: () => this.throttle.down,
        deliver: (_seed, index, begin, block) => this.acceptBlock(_seed.key, undefined, index, begin, block),
        warn: (message) => this.emit('warning', message),
      };
      for (const url of new Set([...meta.urlList, ...(this.webSeedUrls ?? [])])) {
        if (/^https?:\/\//i.test(url)) this.webSeeds.push(new WebSeed(url, meta, host));
      }
    }
    for (const w of this.webSeeds ?? []) w.start();
  }

  private async completePiece(index: number, buffer: Uint8Array, contributors: Set<string>, hashed?: Uint8Array): Promise<void> {
    const meta = this.metainfo!;
    const { digest, data } = hashed ? { digest: hashed, data: buffer } : await this.ctx.hasher.sha1(buffer);
    if (this.closed || !this.picker) return;
    if (!equal20(digest, meta.pieceHashes, index * 20)) {
      this.pool?.release(data);
      return this.pieceFailed(index, contributors);
    }
    const write = this.storage!.writePiece(index, data);
    (this.pendingWrites ??= new Set()).add(write);
    this.writeBacklog += data.length;
    try {
      await write;
    } catch (err) {
      this.picker.failed(index);
      return this.fail(`disk error: ${(err as Error).message}`);
    } finally {
      this.pendingWrites?.delete(write);
      const wasBlocked = this.writeBacklog >= MAX_WRITE_BACKLOG;
      this.writeBacklog -= data.length;
      this.pool?.release(data);
      // Only a write that lifts the backlog below the limit has requests to restart.
      if (wasBlocked && this.writeBacklog < MAX_WRITE_BACKLOG) for (const p of this.peersByKey.values()) this.fillRequests(p);
    }
    if (this.closed || !this.picker) return;
    this.fileStats?.wrote(index);
    this.picker.verified(index);
    for (const p of this.peersByKey.values()) {
      if (!p.closed && p.bits) p.sendHave(index);
      if (p.amInterested && !p.closed) this.refreshInterest(p);
    }
    // Who sent it (addresses; web seeds by URL): reputation ledgers outside the engine use it.
    this.emit('verified', index, [...contributors]);
    this.resumeSaver.schedule();
    this.checkDone();
  }

  private refreshInterest(peer: Peer): void {
    if (this.picker?.done) peer.setInterested(false);
  }

  private pieceFailed(index: number, contributors: Set<string>): void {
    this.picker!.failed(index);
    this.emit('hash-failed', index, [...contributors]);
    for (const key of contributors) {
      const peer = this.peersByKey.get(key);
      const strikes = contributors.size === 1 ? BAN_STRIKES : (peer ? ++peer.strikes : 0);
      if (strikes < BAN_STRIKES) continue;
      this.ctx.ban(key, peer?.remoteId);
      this.candidates?.delete(key);
      this.emit('peer-banned', { address: key, reason: `sent data for piece ${index} that failed its hash check` });
      peer?.destroy('banned: sent corrupt data');
    }
    for (const p of this.peersByKey.values()) this.fillRequests(p);
  }

  private checkDone(): void {
    const picker = this.picker;
    if (!picker || !picker.done || this.state === 'paused' || this.state === 'error') return;
    this.state = 'seeding';
    this.pool = undefined;
    if (!this.doneEmitted) {
      this.doneEmitted = true;
      if (picker.have.complete) this.trackerClient?.completed();
      void this.resumeSaver.flush().then(() => this.emit('done'));
    }
    for (const p of this.peersByKey.values()) {
      p.setInterested(false);
      if (p.seed && picker.have.complete) p.destroy('both seeding');
    }
  }

  onRequest(peer: Peer, index: number, begin: number, length: number): void {
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
        for (const a of decodePex(payload).added) this.addPeer(a, 'pex');
      }
    } catch (err) {
      peer.destroy(`bad ${name} message: ${(err as Error).message}`);
    }
  }

  private emitTransfer(peer: Peer, direction: 'up' | 'down', bytes: number): void {
    if (this.listenerCount('transfer') === 0) return;
    const e: TransferEvent = { infoHashHex: this.infoHashHex, peer: peer.address, peerId: peer.remoteId ? toHex(peer.remoteId) : undefined, direction, bytes };
    this.emit('transfer', e);
  }

  /** Only pieces already written are in `have`, so a crash after this never claims missing data. */
  private async writeResume(): Promise<void> {
    if (!this.ctx.resumeStore || !this.picker || !this.metainfo) return;
    const have = this.picker.have.bytes.slice();
    const files = this.storage && this.fileStats ? await this.fileStats.current(this.storage) : undefined;
    await this.ctx.resumeStore
      .save(this.infoHashHex, { have, infoBytes: this.metainfo.infoBytes, files })
      .catch((err) => this.emit('warning', `cannot save resume data: ${(err as Error).message}`));
  }

  // ---- TorrentHandle ----
  stats(): TorrentStats {
    return torrentStats({
      infoHashHex: this.infoHashHex, name: this.metainfo?.name ?? this.displayName, state: this.state, picker: this.picker,
      meta: this.metainfo, selected: this.selected, downloaded: this.sessionDownloaded, uploaded: this.sessionUploaded,
      down: this.readMeters.down, up: this.readMeters.up, eta: this.readMeters.eta, peers: this.peersByKey.values(), error: this.errorMessage,
    });
  }

  peers(): PeerStats[] {
    return peerListing(this.peersByKey.values(), this.webSeeds ?? [], this.metainfo?.pieceCount ?? 0);
  }

  trackers(): TrackerStatus[] {
    return this.trackerClient?.status() ?? [];
  }

  discovery(): DiscoveryReport {
    return this.discoveryLog.report(this.trackers(), this.metainfo?.private ? undefined : this.ctx.dht);
  }

  setRateLimits(limits: Partial<RateLimits>): void {
    this.throttle.own.set(limits);
    this.throttle.trimRequests(this.peersByKey.values(), (p, i, b, n) => (p.sendCancel(i, b, n), this.picker?.released(i, b)));
    for (const p of this.peersByKey.values()) this.fillRequests(p); // a limit lifted or raised: refill now
  }

  rateLimits(): RateLimits {
    return this.ownThrottle?.own.get() ?? { ...NO_LIMITS };
  }

  get savePath(): string {
    return this.opts.savePath;
  }

  move(newSavePath: string): Promise<void> {
    return moveTorrent(this, this.ctx, newSavePath);
  }

  async suspendForMove(): Promise<boolean> {
    const running = !this.opts.paused && this.state !== 'error' && !this.closed;
    if (running) await this.stopActivity();
    else await this.resumeSaver.flush();
    this.pieceCache?.clear();
    this.pieceCache = undefined;
    await this.storage?.close();
    this.storage = undefined;
    return running;
  }

  async resumeAfterMove(savePath: string, release: (() => void) | undefined, running: boolean): Promise<void> {
    if (release) this.releaseFiles?.(), (this.releaseFiles = release);
    this.opts.savePath = savePath;
    if (this.metainfo && this.picker) this.storage = this.ctx.createStorage(this.metainfo, savePath);
    if (running) await this.start();
  }

  selectFiles(indices: number[] | undefined): void {
    this.selected = indices?.filter((i) => !this.metainfo?.files[i]?.pad);
    this.selectRanges = undefined;
    this.doneEmitted = false;
    this.rewant();
  }

  fetchPieces(first: number, last: number): () => void {
    const claim = { first: Math.max(0, first), last };
    (this.readerClaims ??= new Set()).add(claim);
    this.rewant();
    return () => {
      if (this.readerClaims?.delete(claim)) this.rewant();
    };
  }

  private rewant(): void {
    this.applySelection();
    // A finished torrent fetching for a reader downloads again; a paused or failed one stays so.
    if (this.picker && !this.picker.done && this.state === 'seeding') this.state = 'downloading';
    for (const p of this.peersByKey.values()) this.updateInterest(p);
    this.checkDone();
  }

  announce(): void {
    this.trackerClient?.announce();
    this.dhtRound();
  }

  /** Per file, 0..1 of its bytes inside verified pieces (the web UI's per-file bars); [] without metadata. */
  fileProgress(): number[] {
    return fileProgress(this.metainfo, this.picker?.have);
  }

  /** True once piece `index` is verified and on disk: the server's streaming reads wait for this. */
  havePiece(index: number): boolean {
    return this.picker?.have.get(index) ?? false;
  }
}
