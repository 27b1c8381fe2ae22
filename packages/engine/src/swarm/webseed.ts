// BEP 19 web seeds, and mirrors given with a download: a server holding the files is one more source
// of blocks. It asks the picker for a run of blocks like any peer, fetches their byte ranges (one
// range read per file segment: HTTP Range, or whatever RangeRead the session has for the URL's
// scheme, such as FTP's REST) and hands the blocks to the torrent, which verifies them exactly as it
// does a peer's.

import { pieceSegments } from '../pieces/piece-map.ts';
import type { Metainfo } from '../types.ts';
import type { BlockRef, PeerView, Picker } from './picker.ts';
import { SpeedMeter } from './speed.ts';
import { BLOCK_SIZE, blockKey } from '../wire/protocol.ts';
import { sleep, type RateGate } from './rate-limiter.ts';
import type { RangeRead } from './range-read.ts';
import { clock } from '../clock.ts';

const BLOCKS_PER_REQUEST = 256; // 4 MiB per round trip, at most
const MIN_BLOCKS = 16;
/** A run is what the source delivers in about this long at its measured rate. */
const RUN_SECONDS = 2;
const PARALLEL_RUNS = 3;
const MAX_FAILURES = 5;

/** HTTP(S) range reads (a server ignoring Range is accepted only when the whole file was asked for). */
export function httpRangeRead(fetchFn: typeof fetch = fetch): RangeRead {
  return async (url, start, end, signal) => {
    const res = await fetchFn(url, { headers: { range: `bytes=${start}-${end - 1}` }, signal });
    const whole = res.status === 200 && start === 0 && Number(res.headers.get('content-length') ?? end) === end;
    if (res.status !== 206 && !whole) {
      await res.body?.cancel();
      throw new Error(`HTTP ${res.status} for bytes ${start}-${end - 1}`);
    }
    const body = new Uint8Array(await res.arrayBuffer());
    if (body.length !== end - start) throw new Error(`short response: ${body.length} of ${end - start} bytes`);
    return body;
  };
}

export interface WebSeedHost {
  picker(): Picker | undefined;
  active(): boolean;
  isBanned(key: string): boolean;
  deliver(seed: WebSeed, index: number, begin: number, block: Uint8Array): void;
  warn(message: string): void;
  /** The download limit the torrent's blocks pass (its own and the session's). */
  limit?(): RateGate;
}

/** The readers a torrent may use, by URL scheme (TorrentContext's): guarded reads first. */
export interface WebSeedReaders {
  guardedRead?: (scheme: string) => RangeRead | undefined;
  rangeReaders?: Record<string, RangeRead>;
}

/** One WebSeed per distinct URL that some reader can fetch; the host hears of the others. */
export function webSeedsFor(urls: Iterable<string>, meta: Metainfo, host: WebSeedHost, readers: WebSeedReaders): WebSeed[] {
  const out: WebSeed[] = [];
  for (const url of new Set(urls)) {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
    const guarded = scheme && readers.guardedRead ? readers.guardedRead(scheme) : undefined;
    if (guarded) out.push(new WebSeed(url, meta, host, guarded));
    else if (scheme === 'http' || scheme === 'https') out.push(new WebSeed(url, meta, host));
    else if (scheme && readers.rangeReaders?.[scheme]) out.push(new WebSeed(url, meta, host, readers.rangeReaders[scheme]));
    else host.warn(`web seed ${url}: no reader for this kind of URL`);
  }
  return out;
}

export class WebSeed implements PeerView {
  readonly key: string;
  readonly url: string;
  readonly down = new SpeedMeter();
  /** Never handed free blocks of a piece another source started: a bad piece from a web seed has
   *  it alone to blame (peers stay untouched when a mirror serves bad bytes, and the other way). */
  readonly wholePieces = true;
  /** Fetch loops running now (each with its own run of blocks in flight). */
  private loops = 0;
  failures = 0;
  /** Failed pieces it shared with other sources (pieces it sent alone ban it at once). */
  strikes = 0;
  private meta: Metainfo;
  private host: WebSeedHost;
  private abort = new AbortController();
  private read: RangeRead;

  constructor(url: string, meta: Metainfo, host: WebSeedHost, read: RangeRead = httpRangeRead()) {
    this.url = url;
    this.key = `webseed:${url}`;
    this.meta = meta;
    this.host = host;
    this.read = read;
  }

  /** Gone for good: failed too often or banned. */
  get dropped(): boolean {
    return this.failures >= MAX_FAILURES || this.host.isBanned(this.key);
  }

  has(): boolean {
    return true;
  }

  /** Blocks some run of ours is fetching: endgame must not hand one to another of our runs. */
  private inFlight = new Set<number>();

  isRequested(index: number, begin: number): boolean {
    return this.inFlight.has(blockKey(index, begin));
  }

  get running(): boolean {
    return this.loops > 0;
  }

  /** Starts the fetch loops that are not running; each stops by itself when nothing is left. Several
   *  runs in flight keep a server busy while another run's bytes are on their way (one request at a
   *  time measured 26 MiB/s from a loopback HTTP mirror). */
  start(): void {
    while (this.loops < PARALLEL_RUNS && this.failures < MAX_FAILURES) {
      this.loops++;
      void this.loop().finally(() => this.loops--);
    }
  }

  stop(): void {
    this.abort.abort();
    this.abort = new AbortController();
  }

  private async loop(): Promise<void> {
    while (this.host.active() && !this.host.isBanned(this.key)) {
      const picker = this.host.picker();
      if (!picker || picker.done) return;
      const blocks = picker.pick(this, this.runSize());
      if (blocks.length === 0) return;
      for (const b of blocks) this.inFlight.add(blockKey(b.index, b.begin));
      try {
        await this.fetchBlocks(blocks);
        this.failures = 0;
      } catch (err) {
        for (const b of blocks) picker.released(b.index, b.begin);
        if (this.abort.signal.aborted || this.host.isBanned(this.key)) return;
        this.failures++;
        this.host.warn(`web seed ${this.url}: ${(err as Error).message}`);
        if (this.failures >= MAX_FAILURES) return;
        await new Promise((r) => setTimeout(r, 1000 * 2 ** this.failures));
      } finally {
        for (const b of blocks) this.inFlight.delete(blockKey(b.index, b.begin));
      }
    }
  }

  /** Sources ranked by measured speed: a slow mirror takes few blocks at a time (the swarm gets the
   *  rest sooner), a fast one up to 4 MiB a run. It starts small and grows as its rate shows; all
   *  its runs together hold about RUN_SECONDS of its rate. */
  private runSize(): number {
    const blocks = Math.ceil((this.down.rate() * RUN_SECONDS) / PARALLEL_RUNS / BLOCK_SIZE);
    return Math.max(MIN_BLOCKS, Math.min(BLOCKS_PER_REQUEST, blocks));
  }

  /** Fetches a run of blocks piece by piece; each piece's byte range may span files. */
  private async fetchBlocks(blocks: BlockRef[]): Promise<void> {
    const byPiece = new Map<number, BlockRef[]>();
    for (const b of blocks) {
      const list = byPiece.get(b.index);
      if (list) list.push(b);
      else byPiece.set(b.index, [b]);
    }
    for (const [index, list] of byPiece) {
      // Banned for a piece of this run that failed its check: the rest of the run goes back.
      if (this.host.isBanned(this.key)) throw new Error('banned');
      const first = list[0]!.begin;
      const last = list[list.length - 1]!;
      const end = last.begin + last.length;
      // A download limit: the range is booked in the buckets, then fetched when its time comes.
      const gate = this.host.limit?.();
      if (gate?.limited) {
        const now = clock.now();
        const wait = gate.waitFor(end - first, now);
        gate.take(end - first, now);
        if (wait > 0) await sleep(wait);
        if (!this.host.active()) return; // paused meanwhile (stopping clears what the picker lent us)
      }
      const data = await this.fetchRange(index, first, end);
      for (const b of list) {
        this.inFlight.delete(blockKey(index, b.begin));
        this.host.deliver(this, index, b.begin, data.subarray(b.begin - first, b.begin - first + b.length));
      }
      this.down.add(end - first);
    }
  }

  private async fetchRange(index: number, from: number, to: number): Promise<Uint8Array> {
    const out = new Uint8Array(to - from);
    for (const s of pieceSegments(this.meta, index)) {
      const a = Math.max(from, s.pieceOffset);
      const b = Math.min(to, s.pieceOffset + s.length);
      if (b <= a) continue;
      const file = this.meta.files[s.file]!;
      if (file.pad) continue; // zeros, already in `out`
      const start = s.fileOffset + (a - s.pieceOffset);
      out.set(await this.read(this.fileUrl(s.file), start, start + (b - a), this.abort.signal), a - from);
    }
    return out;
  }

  /** BEP 19: a URL ending in '/' is a folder holding the torrent's name (and, multi-file, its paths). */
  private fileUrl(file: number): string {
    const enc = (parts: string[]) => parts.map(encodeURIComponent).join('/');
    if (!this.meta.multiFile) return this.url.endsWith('/') ? this.url + enc([this.meta.name]) : this.url;
    const base = this.url.endsWith('/') ? this.url : this.url + '/';
    return base + enc([this.meta.name, ...this.meta.files[file]!.path]);
  }
}
