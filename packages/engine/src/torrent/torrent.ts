// One torrent's life: metadata → checking → downloading → seeding. Receives well-formed peer
// events (swarm/peer.ts), asks the picker what to request, verifies pieces and hands them to storage.
// Connections and periodic work: torrent-swarm.ts; trackers and the DHT: torrent-discovery.ts; the
// session's scheduler ticks it only when needed.

import type { AddTorrentOptions, PeerStats, RateLimits, ResumeData, TorrentHandle, TorrentStats } from '../api.ts';
import { checkPieces, claimsHeld, dataGone, type ClaimsOnDisk } from '../pieces/check.ts';
import { parseInfoDict } from '../metainfo/metainfo.ts';
import { piecesOfFiles } from '../pieces/piece-map.ts';
import { distributedCopiesOf, fileProgress, peerListing, torrentStats } from './torrent-report.ts';
import { Picker } from '../swarm/picker.ts';
import { moveTorrent } from './torrent-move.ts';
import { FileStatTracker } from './resume-files.ts';
import { expandSelection } from '../metainfo/magnet.ts';
import type { FileRanges, Metainfo } from '../types.ts';
import type { Storage } from '../platform.ts';
import type { TorrentContext } from '../session/torrent-context.ts';
import { TorrentDiscovery } from './torrent-discovery.ts';
import { isDiskError } from '../events/counters.ts';
import { hasV1 } from '../pieces/torrent-v2.ts';
import { sharedTiers } from '../discovery/shared-tiers.ts';
import { type FileRenames, type PieceReport, pieceReport, renamedMetainfo, renameFiles } from './torrent-edits.ts';
import { clock } from '../clock.ts';

export type { TorrentContext } from '../session/torrent-context.ts';

const NO_LIMITS: RateLimits = { download: 0, upload: 0 };
const NO_CLAIMS: { first: number; last: number }[] = [];

export class Torrent extends TorrentDiscovery implements TorrentHandle {
  private selected: number[] | undefined;
  /** A magnet's `so=` until the file count is known (then it becomes `selected`). */
  private selectRanges: FileRanges | undefined;
  private errorMessage: string | undefined;
  /** Stopped by its check: every file it had data in was gone (SessionOptions.stopWhenDataGone). */
  private dataGoneStop = false;
  /** Resumed from that: its next check fetches what is gone. */
  private dataGoneAccepted = false;
  private releaseFiles: (() => void) | undefined;
  /** Piece ranges a reader (a stream) needs beyond the selection; see fetchPieces(). */
  private readerClaims: Set<{ first: number; last: number }> | undefined;
  private displayName: string | undefined;
  private renames: FileRenames | undefined;
  /** The last check of the data on disk: pieces hashed and how long it took (its wait for a turn too). */
  lastCheck: { hashed: number; ms: number } | undefined;
  checkWaiting = false;

  constructor(
    ctx: TorrentContext,
    src: { infoHashHex: string; infoHashV2Hex?: string; metainfo?: Metainfo; name?: string; trackers?: string[]; peers?: string[]; webSeeds?: string[]; selectOnly?: FileRanges },
    opts: AddTorrentOptions,
  ) {
    super(ctx, src.infoHashHex, opts);
    this.renames = opts.renamedFiles && Object.keys(opts.renamedFiles).length > 0 ? opts.renamedFiles : undefined;
    this.metainfo = src.metainfo && this.withRenames(src.metainfo);
    this.infoHashV2Hex = src.metainfo?.infoHashV2Hex ?? src.infoHashV2Hex;
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
    this.trackerUrls = sharedTiers(opts.trackerTiers ?? tiers);
    const webSeeds = [...(src.webSeeds ?? []), ...(opts.mirrors ?? [])];
    if (webSeeds.length) this.webSeedUrls = webSeeds;
    for (const p of [...(src.peers ?? []), ...(opts.peers ?? [])]) this.addPeer(p, 'manual');
  }

  // ---- lifecycle ----
  /** `trust: false` (a forced recheck) hashes every piece on disk, resume data or not. */
  async start(trust = true): Promise<void> {
    if (this.opts.paused) {
      this.state = 'paused';
      return;
    }
    // Started while it moves (the queue, a resume): it starts once the data is where it went
    // (resumeAfterMove). Before, its look at the disk made its storage in the folder being left,
    // and it wrote there after the move (bench:crash --cluster).
    if (this.moving) return;
    this.running = true;
    if (!this.metainfo && this.ctx.resumeStore) {
      const saved = await this.ctx.resumeStore.load(this.infoHashHex).catch(() => undefined);
      if (saved?.infoBytes) await this.gotMetadata(saved.infoBytes, false);
      if (this.moving) return; // a move began meanwhile: as above
    }
    if (this.metainfo && !this.picker) await this.prepare(trust);
    if (this.state === 'error' || this.closed || !this.running) return;
    this.startDiscovery();
    this.candidates?.retryNow(); // peers we let go when we stopped (pause, move) are dialled at once
    this.connectMore();
    this.wake();
  }

  // ---- AnnouncingTorrent (what its tracker client reports and where answers go) ----
  protected async gotMetadata(info: Uint8Array, fromPeers = true): Promise<void> {
    if (this.metainfo) return;
    try {
      this.metainfo = this.withRenames(parseInfoDict(info, { announce: this.trackerUrls }));
    } catch (err) {
      return this.fail(`metadata from peers is invalid: ${(err as Error).message}`);
    }
    this.infoHashV2Hex ??= this.metainfo.infoHashV2Hex;
    this.metadataKnown(info);
    if (this.selectRanges) this.selected = expandSelection(this.selectRanges, this.metainfo.files.length);
    this.selectRanges = undefined;
    this.emit('metadata', this.metainfo);
    if (this.state !== 'paused' && fromPeers) await this.prepare();
  }

  /** Metadata known: find what is on disk, then start trading pieces. With resume data whose files
   *  are as it recorded them this is a stat per file and no read: the torrent never shows 'checking'
   *  (10,000 torrents restart without hashing); only pieces that must be hashed make it 'checking'. */
  private prepare(trust = true): Promise<void> {
    const p = this.checkDisk(trust).finally(() => {
      if (this.preparing === p) this.preparing = undefined;
    });
    this.preparing = p;
    return p;
  }

  /** The look at what is on disk in flight (prepare): a move or a rename waits for it, or it would
   *  read files the move had taken away, count their pieces missing and fetch them again (a node
   *  started, then told to move a torrent at once: the 200-kill crash run's kill 47). */
  private preparing: Promise<void> | undefined;

  /** Resolves once no look at the data is in flight. */
  async settled(): Promise<void> {
    while (this.preparing) await this.preparing.catch(() => {});
  }

  private async checkDisk(trust: boolean): Promise<void> {
    const meta = this.metainfo!;
    // A v2 torrent from a magnet checks nothing without its piece layers: peers give them first.
    if (this.missingLayers().length > 0) {
      this.startDiscovery();
      this.connectMore();
      this.wake();
      if (!(await this.fetchPieceLayers())) return;
    }
    if (!trust) this.state = 'checking';
    let resume;
    try {
      // A magnet learns its files only now: another torrent's files fail it before anything is written.
      this.releaseFiles ??= this.ctx.claimFiles?.(meta, this.opts.savePath);
      this.storage ??= this.ctx.createStorage(meta, this.opts.savePath);
      // A recheck trusts no record, but the guard reads it: a recheck is no "fetch it all again".
      const saved = trust || this.ctx.stopWhenDataGone ? await this.ctx.resumeStore?.load(this.infoHashHex).catch(() => undefined) : undefined;
      resume = trust ? saved : undefined;
      if (!resume) this.state = 'checking';
      const started = clock.now();
      const { have, hashed, stats } = await checkPieces(meta, this.storage, this.ctx.hasher, {
        resume,
        isCancelled: () => this.closed, gate: this.ctx.checkGate,
        onWaiting: (waiting) => ((this.checkWaiting = waiting), waiting ? this.emit('check-waiting') : this.touch()),
        onHashing: () => (this.state = 'checking'),
        onProgress: (done, total) => this.emit('checking', done, total),
      });
      if (this.closed) return;
      // Every file its record saw data in gone: a drive not mounted, most likely. Fetching it all again
      // would fill whatever disk the empty mount point is on: stopped until resumed (resume()).
      const gone = saved && this.ctx.stopWhenDataGone ? dataGone(meta, saved, stats) : [];
      if (gone.length > 0 && !this.dataGoneAccepted) {
        this.dataGoneStop = true;
        const names = gone.slice(0, 3).map((f) => meta.files[f]!.path.join('/')).join(', ') + (gone.length > 3 ? `, and ${gone.length - 3} more` : '');
        return this.fail(`No data found: its ${gone.length === 1 ? 'file is' : `${gone.length} files are`} not in ${this.opts.savePath} (${names}). Is the drive connected? Put the data back (or set its location) and resume; resumed as it is, it downloads everything again`);
      }
      this.dataGoneAccepted = false;
      this.lastCheck = { hashed, ms: clock.now() - started };
      (this.fileStats ??= new FileStatTracker(meta)).seed(stats);
      this.picker = new Picker({
        pieceCount: meta.pieceCount, pieceLength: meta.pieceLength, totalLength: meta.length, have, buffers: this,
        // SHA-1 as blocks arrive only where there are SHA-1 piece hashes (not in a v2-only torrent).
        hasher: hasV1(meta) ? this.ctx.hasher : undefined,
      });
      this.applySelection();
      // Resume data that says what the check found needs no new save (10,000 writes after a restart).
      // Fetched anew as the user said (gone): the record forgets the data it saw (or a restart stops it).
      if (!resume || hashed > 0 || !resume.files || gone.length > 0) this.resumeSaver.schedule();
    } catch (err) {
      // Files another torrent owns are no disk error; a check the OS refused reading (EIO, EACCES) is.
      if (this.ctx.tally && isDiskError(err)) this.ctx.tally.diskErrors++;
      return this.fail((err as Error).message);
    }
    this.state = this.opts.paused ? 'paused' : 'downloading';
    this.peersGotMetadata();
    this.checkDone();
    this.startWebSeeds();
    this.wake();
  }

  private applySelection(): void {
    if (!this.picker || !this.metainfo) return;
    const wanted = this.selected ? piecesOfFiles(this.metainfo, this.selected) : undefined;
    const claims = this.readerClaims?.size ? [...this.readerClaims] : NO_CLAIMS;
    // Readers' claims widen what is fetched, never what is selected (a GET must change nothing).
    if (wanted) for (const c of claims) wanted.fill(1, c.first, c.last + 1);
    this.picker.setWanted(wanted);
    this.picker.setUrgent(claims);
  }

  /** Stops the torrent: a disk that refused one piece refuses the next, and every block fetched
   *  meanwhile would be thrown away (gigabytes a minute from a fast swarm). resume() retries. */
  protected fail(message: string): void {
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
    this.idle(); // a paused torrent holds no open files nor buffers
  }

  async resume(): Promise<void> {
    if (this.state !== 'paused' && this.state !== 'error') return;
    // Resumed after "No data found": the user says fetch it again (the next check does not stop).
    if (this.state === 'error' && this.dataGoneStop) this.dataGoneAccepted = true;
    this.dataGoneStop = false;
    this.opts.paused = false;
    this.errorMessage = undefined;
    this.closed = false;
    this.state = this.picker ? (this.picker.done ? 'seeding' : 'downloading') : 'metadata';
    await this.start();
    this.checkDone(); // completed while paused (a narrower selection): 'done' is still owed
  }

  /** TorrentHandle.claimsOnDisk: a resume record's claims against the files as they are now. */
  async claimsOnDisk(have: Uint8Array, saved: ResumeData['files']): Promise<ClaimsOnDisk | undefined> {
    const meta = this.metainfo;
    if (!meta || this.closed) return undefined;
    // The files are stat()ed, not opened: a storage made for it opens nothing until a read or write.
    const storage = this.storage ?? this.ctx.createStorage(meta, this.opts.savePath);
    try {
      return claimsHeld(meta, have, await storage.fileStats(), saved);
    } finally {
      if (storage !== this.storage) await storage.close();
    }
  }

  /** Hashes every piece on disk again, trusting neither resume data nor earlier checks: files
   *  changed behind our back with their size and mtime kept. A paused torrent stays paused. */
  async recheck(): Promise<void> {
    // No metadata, or a look at the disk (its first check, or a recheck) is running. A torrent that
    // never looked (added paused, paused at the node's start, stopped by "No data found") looks now.
    if (!this.metainfo || this.closed || this.preparing || this.rechecking) return;
    this.rechecking = true;
    try {
      await this.checkAgain();
    } finally {
      this.rechecking = false;
    }
  }

  private rechecking = false;

  private async checkAgain(): Promise<void> {
    this.state = 'checking';
    this.dataGoneStop = false;
    await this.stopActivity();
    // Peers that arrived while it stopped were counted by the old picker: the new one starts clean.
    for (const p of [...this.peersByKey.values()]) p.destroy('rechecking');
    this.peersByKey.clear();
    this.picker = undefined;
    this.pieceCache?.clear();
    this.doneEmitted = false;
    this.errorMessage = undefined;
    if (this.opts.paused) {
      await this.prepare(false);
      // The check opened its files; a paused torrent holds none (pause() closed them before). Left
      // open, each paused torrent rechecked kept a descriptor per file until it was resumed or
      // removed (bench/soak: the node's descriptors grew with the rechecks of its churn).
      if (this.opts.paused) this.idle(); // idle() itself leaves a torrent that is checking or downloading alone
    } else await this.start(false);
  }

  /** Stops peers, trackers and ticks; flushes writes and resume data. */
  private async stopActivity(): Promise<void> {
    this.running = false;
    this.ctx.scheduler.remove(this);
    this.ctx.lsd?.leave(this);
    this.ownThrottle?.stop();
    for (const w of this.webSeeds ?? []) w.stop();
    this.disconnectAll();
    this.picker?.clearActive();
    await Promise.allSettled([...(this.pendingWrites ?? [])]);
    await this.stopTrackers();
    await this.saver?.flush();
  }

  async close(opts: { deleteData?: boolean } = {}): Promise<void> {
    while (this.moveUnderWay && !this.closed) await this.moveUnderWay;
    if (this.closed) return;
    // With its data: nothing to resume, and a save now lands after the node removed the torrent's
    // rows (a resume row of no torrent; its progress on a copy placed anew: bench:crash --cluster).
    if (opts.deleteData) this.resumeSaver.cancel();
    await this.stopActivity();
    this.closed = true;
    this.saver?.stop();
    this.pieceCache?.clear();
    if (opts.deleteData) {
      await this.storageToDelete()?.destroy();
      await this.ctx.resumeStore?.delete(this.infoHashHex).catch(() => {});
    } else {
      await letGo(this.storage);
    }
    this.releaseFiles?.();
    this.releaseFiles = undefined;
  }

  /** What deletes the data: a torrent whose start never reached its files (added paused, queued,
   *  removed at once after a load) has no storage yet, and its files are its own to delete all the
   *  same (a cluster's trimmed copy kept them for good: issue 63) — unless another torrent claims them. */
  private storageToDelete(): Storage | undefined {
    if (this.storage || !this.metainfo) return this.storage;
    try {
      this.releaseFiles ??= this.ctx.claimFiles?.(this.metainfo, this.opts.savePath);
    } catch {
      return undefined;
    }
    return this.ctx.createStorage(this.metainfo, this.opts.savePath);
  }

  /** Switches private discovery on or off for a torrent already added: its announces stop (the
   *  'stopped' goes the way the announces went) and start again the new way. Peers stay. */
  async setPrivateDiscovery(on: boolean): Promise<void> {
    if ((this.opts.privateDiscovery === true) === on) return;
    if (on && !this.ctx.privateDiscovery) throw new Error('private discovery needs relays: give the node a directory (--directory URL)');
    this.ctx.scheduler.leaveDht(this);
    await this.stopTrackers();
    this.opts.privateDiscovery = on;
    if (this.running && !this.closed) this.startDiscovery();
  }

  get privateDiscovery(): boolean {
    return this.opts.privateDiscovery === true;
  }

  // ---- TorrentHandle ----
  stats(): TorrentStats {
    return torrentStats({
      infoHashHex: this.infoHashHex, name: this.metainfo?.name ?? this.displayName, state: this.state, picker: this.picker,
      meta: this.metainfo, selected: this.selected, downloaded: this.sessionDownloaded, uploaded: this.sessionUploaded,
      down: this.readMeters.down, up: this.readMeters.up, eta: this.readMeters.eta, peers: this.peersByKey.values(), error: this.errorMessage,
    });
  }

  wantedDone(): boolean {
    return this.picker?.done === true;
  }

  peers(): PeerStats[] {
    return peerListing(this.peersByKey.values(), this.webSeeds ?? [], this.metainfo?.pieceCount ?? 0);
  }

  distributedCopies(): number | null {
    return distributedCopiesOf(this.picker?.availability, this.picker?.pieceCount ?? 0);
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
    const moving = moveTorrent(this, this.ctx, newSavePath);
    const settled = moving.then(() => {}, () => {});
    this.moveUnderWay = settled;
    void settled.then(() => this.moveUnderWay === settled && (this.moveUnderWay = undefined));
    return moving;
  }

  /** A move in flight, which a close waits for: a removal with the data deletes it where it went.
   *  Before, it deleted the folder the move had emptied and the moved files stayed for good (a
   *  cluster's surplus copy trimmed just as it moved: bench:crash --cluster). */
  private moveUnderWay: Promise<void> | undefined;

  async suspendForMove(): Promise<boolean> {
    const running = !this.opts.paused && this.state !== 'error' && !this.closed;
    if (running) await this.stopActivity();
    else await this.resumeSaver.flush();
    this.pieceCache?.clear();
    this.pieceCache = undefined;
    // Let go for good: a write still on its way would make a file again in the folder being left.
    const old = this.storage;
    this.storage = undefined;
    await letGo(old);
    return running;
  }

  async resumeAfterMove(savePath: string, release: (() => void) | undefined, running: boolean): Promise<void> {
    if (release) this.releaseFiles?.(), (this.releaseFiles = release);
    this.opts.savePath = savePath;
    if (this.metainfo && this.picker) this.storage = this.ctx.createStorage(this.metainfo, savePath);
    // Running before, or started meanwhile (start() waited for the move).
    if (running || (!this.opts.paused && !this.closed && this.state !== 'error')) await this.start();
  }

  wantsAllFiles(): boolean {
    return this.selected === undefined && this.selectRanges === undefined;
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

  /** Per file, 0..1 of its bytes inside verified pieces (the web UI's per-file bars); [] without metadata. */
  fileProgress(): number[] {
    return fileProgress(this.metainfo, this.picker?.have);
  }

  // ---- edits a remote makes (issue 45; torrent-edits.ts) ----
  renamedFiles(): FileRenames {
    return { ...this.renames };
  }

  /** The stored names applied (names that do not fit, which one infohash cannot give, are ignored). */
  private withRenames(meta: Metainfo): Metainfo {
    try {
      return this.renames ? renamedMetainfo(meta, this.renames) : meta;
    } catch {
      return meta;
    }
  }

  rename(renames: FileRenames): Promise<void> {
    return renameFiles(this, this.ctx, renames);
  }

  /** Owns `meta`'s files instead of the ones it owns now; on a clash keeps the old ones and throws. */
  claimAs(meta: Metainfo, old: Metainfo): void {
    this.releaseFiles?.();
    try {
      this.releaseFiles = this.ctx.claimFiles?.(meta, this.savePath);
    } catch (err) {
      this.releaseFiles = this.ctx.claimFiles?.(old, this.savePath);
      throw err;
    }
  }

  renamed(meta: Metainfo, renames: FileRenames): void {
    this.metainfo = meta;
    this.renames = { ...this.renames, ...renames };
    this.touch();
  }

  pieceStates(): PieceReport | undefined {
    return this.picker ? pieceReport(this.picker) : undefined;
  }

  /** True once piece `index` is verified and on disk: the server's streaming reads wait for this. */
  havePiece(index: number): boolean {
    return this.picker?.have.get(index) ?? false;
  }
}

/** Closes a storage the torrent drops for good (retired where it can be: a write still on its way
 *  must not make a file again in a folder the data left). */
function letGo(storage: Storage | undefined): Promise<void> | undefined {
  return storage?.retire ? storage.retire() : storage?.close();
}
