// One torrent as Transmission's torrent-get shows it, computed from Cascade's list row and, only
// when a requested field needs them, the torrent's detail (files, trackers, peers). Mapping
// decisions (see the package README):
//   - status: paused/error → 0 stopped, checking → 2 (1 while it waits its turn), queued → 3 (or 5 when complete),
//     downloading/metadata → 4, seeding → 6. error: 3 (local error) when Cascade reports one.
//   - speed limits are in kB/s of 1000 bytes (Transmission's "units"), rates in bytes/s.
//   - labels: the category first (when set), then the tags.
//   - Cascade's seeding-time goal stands in for Transmission's idle-seeding limit (seedIdleLimit, in
//     minutes), which is how Sonarr and Radarr use that field: "seed this long".

import type { CompatOps, FileRow, NodeSettings, PieceStates, TorrentInfo, TorrentRow, TrackerRow } from '../ops.ts';
import type { TorrentIds } from './ids.ts';
import type { BandwidthGroups } from './groups.ts';
import { trackerRows } from '../shared-views/tracker-rows.ts';
import { transmissionFlagStr } from '../shared-views/peer-flags.ts';

/** Transmission's tr_torrent_activity. */
export const STATUS = { stopped: 0, checkWait: 1, check: 2, downloadWait: 3, download: 4, seedWait: 5, seed: 6 } as const;

/** What Transmission shows for a limit that is off (its defaults), until a client sets one. */
export const DEFAULT_SPEED_KBPS = 100;
export const DEFAULT_RATIO = 2;
export const DEFAULT_IDLE_MINUTES = 30;
/** The engine's defaults (packages/engine session.ts). */
export const PEER_LIMIT_PER_TORRENT = 50;
export const PEER_LIMIT_GLOBAL = 200;

import { KB } from './args.ts';

export { KB };

const secs = (ms: number | null | undefined): number => (ms ? Math.floor(ms / 1000) : 0);

/** State shared by all torrents of one request. */
export interface ViewContext {
  ops: CompatOps;
  ids: TorrentIds;
  settings: NodeSettings;
  /** Transmission's queue position (0-based over all torrents) by infohash. */
  queue: Map<string, number>;
  now: number;
  /** Limits set while off, remembered for display (Cascade stores only "on with a value"). */
  remembered: { down: Map<string, number>; up: Map<string, number> };
  /** Bandwidth groups (groups.ts). */
  groups?: BandwidthGroups;
}

/** Positions the way Transmission numbers its one queue: Cascade's download queue first, then the rest. */
export function queuePositions(rows: TorrentRow[]): Map<string, number> {
  const queued = rows.filter((r) => r.queuePosition !== null).sort((a, b) => a.queuePosition! - b.queuePosition!);
  const rest = rows.filter((r) => r.queuePosition === null);
  return new Map([...queued, ...rest].map((r, i) => [r.infoHash, i]));
}

export function statusOf(r: TorrentRow): number {
  switch (r.state) {
    case 'checking':
      return r.checkWaiting ? STATUS.checkWait : STATUS.check;
    case 'queued':
      return r.progress === 1 ? STATUS.seedWait : STATUS.downloadWait;
    case 'downloading':
    case 'metadata':
      return STATUS.download;
    case 'seeding':
      return STATUS.seed;
    default: // paused, error, stopped…
      return STATUS.stopped;
  }
}

export function labelsOf(r: Pick<TorrentRow, 'category' | 'tags'>): string[] {
  return [...new Set([...(r.category !== null ? [r.category] : []), ...r.tags])];
}

/** Transmission's "sitename": the name before the public suffix (tracker.example.org → example). */
function sitename(url: string): string {
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    if (/^[\d.]+$/.test(host) || host.includes(':')) return host;
    const parts = host.split('.');
    return parts.length >= 2 ? parts[parts.length - 2]! : host;
  } catch {
    return '';
  }
}

function scrapeOf(announce: string): string {
  const i = announce.lastIndexOf('/');
  return announce.slice(i + 1).startsWith('announce') ? `${announce.slice(0, i + 1)}scrape${announce.slice(i + 1 + 'announce'.length)}` : '';
}

function hostPort(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return url;
  }
}

function portOf(address: string): number {
  const m = /:(\d+)$/.exec(address);
  return m ? Number(m[1]) : 0;
}

export class TorrentView {
  readonly row: TorrentRow;
  readonly #ctx: ViewContext;
  #info: TorrentInfo | null | undefined;

  constructor(row: TorrentRow, ctx: ViewContext) {
    this.row = row;
    this.#ctx = ctx;
  }

  /** The detail, read once and only if a field needs it; null if the torrent went meanwhile. */
  get info(): TorrentInfo | null {
    if (this.#info === undefined) {
      try {
        this.#info = this.#ctx.ops.info(this.row.infoHash);
      } catch {
        this.#info = null;
      }
    }
    return this.#info;
  }

  #files: FileRow[] | undefined;

  /** Its files: from the detail when that was read anyway, else on their own (a list poll asks
   *  sizes of every torrent, and the whole detail — peers, trackers, discovery — costs far more). */
  get files(): FileRow[] {
    if (this.#info) return this.#info.files ?? [];
    if (this.#files === undefined) {
      try {
        this.#files = this.#ctx.ops.files(this.row.infoHash) ?? [];
      } catch {
        this.#files = [];
      }
    }
    return this.#files;
  }

  get complete(): boolean {
    return this.row.progress === 1;
  }

  get sizeWhenDone(): number {
    if (this.row.length === null) return 0; // no metadata, no files: skip reading the detail
    // Every file wanted (the usual case): the whole length, without walking the files.
    if (this.#ctx.ops.wantsAllFiles(this.row.infoHash)) return this.row.length;
    return this.#wantedFileBytes();
  }

  #wantedFileBytes(): number {
    return this.files.reduce((n, f) => n + (f.selected ? f.length : 0), 0);
  }

  get leftUntilDone(): number {
    if (this.row.length === null || this.row.progress === 1) return 0;
    // Nothing verified yet and every file wanted: the whole of sizeWhenDone is left. A list poll
    // asks this of every incomplete torrent (queued downloads, mostly untouched): no file walk.
    if (this.row.verifiedPieces === 0 && this.#ctx.ops.wantsAllFiles(this.row.infoHash)) return this.row.length;
    return Math.round(this.files.reduce((n, f) => n + (f.selected ? f.length * (1 - f.progress) : 0), 0));
  }

  get haveValid(): number {
    return Math.round(this.files.reduce((n, f) => n + f.length * f.progress, 0));
  }

  get percentDone(): number {
    // Complete, or no metadata yet: known without the detail (clients poll this for every torrent).
    if (this.row.progress === 1 || this.row.length === null) return this.row.progress ?? 0;
    if (this.info?.files == null) return this.row.progress ?? 0;
    // Both from the files (a downloading torrent: few of them), so BEP 47 pad files count in neither.
    const size = this.#wantedFileBytes();
    return size > 0 ? (size - this.leftUntilDone) / size : 1;
  }

  /** The ratio goal in force: its own, else the node's; null = none. */
  get ratioGoal(): number | null {
    const own = this.row.ratioLimit;
    return own === null ? this.#ctx.settings.ratioLimit : own < 0 ? null : own;
  }

  get timeGoal(): number | null {
    const own = this.row.seedingTimeLimit;
    return own === null ? this.#ctx.settings.seedingTimeLimit : own < 0 ? null : own;
  }

  get secondsSeeding(): number {
    // A seeding row's clock runs on from seedingTimeOrigin (the server's row has it; the contract may not).
    const origin = (this.row as TorrentRow & { seedingTimeOrigin?: number | null }).seedingTimeOrigin;
    return typeof origin === 'number' ? Math.max(this.row.seedingTime, Math.round((this.#ctx.now - origin) / 1000)) : this.row.seedingTime;
  }

  /** Transmission's "finished": complete and a seeding goal reached. */
  get isFinished(): boolean {
    if (!this.complete) return false;
    const ratio = this.ratioGoal;
    const time = this.timeGoal;
    return (ratio !== null && this.row.ratio >= ratio) || (time !== null && this.secondsSeeding >= time);
  }

  get eta(): number {
    const r = this.row;
    if (r.state !== 'downloading' && r.state !== 'metadata') return -1; // TR_ETA_NOT_AVAIL
    // Without a size or a rate there is nothing to count down from: TR_ETA_UNKNOWN.
    if (r.length === null || r.downloadSpeed <= 0 || r.eta === null || !Number.isFinite(r.eta)) return -2;
    return Math.round(r.eta);
  }

  get addedDate(): number {
    return secs(this.row.addedAt);
  }

  get activityDate(): number {
    const r = this.row;
    if (r.downloadSpeed > 0 || r.uploadSpeed > 0) return Math.floor(this.#ctx.now / 1000);
    return this.#ctx.ids.activeAt(r.infoHash) || Math.max(secs(r.completedAt), secs(r.addedAt));
  }

  kbps(dir: 'down' | 'up'): number {
    const own = dir === 'down' ? this.row.downloadLimit : this.row.uploadLimit;
    if (own > 0) return Math.max(1, Math.round(own / KB));
    return this.#ctx.remembered[dir].get(this.row.infoHash) ?? DEFAULT_SPEED_KBPS;
  }

  get peerList() {
    return this.info?.peerList ?? [];
  }

  #trackerList: TrackerRow[] | undefined;

  /** Every tracker of the torrent, running or not; `id` in trackers/trackerStats is the index here. */
  get trackerList(): TrackerRow[] {
    return (this.#trackerList ??= trackerRows(this.#ctx.ops, this.row.infoHash, this.info?.trackers ?? []));
  }

  #pieces: PieceStates | null | undefined;

  /** Piece states and availability; null before the metadata is known (or for a torrent not loaded). */
  get pieceStates(): PieceStates | null {
    if (this.#pieces === undefined) {
      try {
        this.#pieces = this.row.pieceCount === null ? null : this.#ctx.ops.pieces(this.row.infoHash);
      } catch {
        this.#pieces = null;
      }
    }
    return this.#pieces;
  }

  /** Transmission's tr_priority_t of each file: -1 low, 0 normal, 1 high. */
  priorityOf(f: FileRow): number {
    const p = this.#ctx.ops.pieceOrder(this.row.infoHash).priorities.get(f.index);
    return p === 'high' ? 1 : p === 'low' ? -1 : 0;
  }

  /** Transmission's isStalled: running, and nothing moved for longer than queue-stalled-minutes
   *  (Cascade's stalledTimeout), when that is on. */
  get isStalled(): boolean {
    const status = statusOf(this.row);
    const limit = this.#ctx.settings.stalledTimeout;
    if ((status !== STATUS.download && status !== STATUS.seed) || !(limit > 0)) return false;
    const last = Math.max(this.activityDate, this.#ctx.ids.startedAt(this.row.infoHash));
    return Math.floor(this.#ctx.now / 1000) - last > limit;
  }

  /** Transmission file names include the torrent's folder for multi-file torrents (the folder on
   *  disk, which the shown name may differ from). */
  fileName(f: FileRow): string {
    const folder = this.info?.folder;
    if (folder !== undefined) return folder ? `${folder}/${f.path}` : f.path;
    const name = this.row.name ?? '';
    const single = this.files.length === 1 && f.path === name;
    return single || name === '' ? f.path : `${name}/${f.path}`;
  }

  peers() {
    return this.peerList
      .filter((p) => p.transport !== 'webseed')
      .map((p) => {
        // As Transmission's peer-mgr says them: active each way = unchoked and wanted.
        const downloading = p.amInterested && !p.choked;
        const uploading = p.interested && !p.amChoking;
        return {
          address: p.address.replace(/:\d+$/, '').replace(/^\[|\]$/g, ''),
          clientName: p.client ?? '',
          clientIsChoked: p.choked,
          clientIsInterested: p.amInterested,
          flagStr: transmissionFlagStr(p),
          isDownloadingFrom: downloading,
          // Transmission calls only an RC4 stream encrypted (tr_peerIo's encryption type).
          isEncrypted: p.encryption === 'rc4',
          isIncoming: p.incoming ?? p.source === 'incoming',
          isUploadingTo: uploading,
          isUTP: p.transport === 'utp',
          peerIsChoked: p.amChoking,
          peerIsInterested: p.interested,
          port: portOf(p.address),
          progress: p.progress,
          rateToClient: Math.round(p.downloadSpeed),
          rateToPeer: Math.round(p.uploadSpeed),
        };
      });
  }

  peersFrom() {
    const from = { fromCache: 0, fromDht: 0, fromIncoming: 0, fromLpd: 0, fromLtep: 0, fromPex: 0, fromTracker: 0 };
    for (const p of this.peerList) {
      if (p.transport === 'webseed') continue;
      if (p.source === 'dht') from.fromDht++;
      else if (p.source === 'incoming') from.fromIncoming++;
      else if (p.source === 'pex') from.fromPex++;
      else if (p.source === 'lsd') from.fromLpd++;
      else if (/^(https?|udp|wss?):|tracker/i.test(p.source)) from.fromTracker++;
      else from.fromCache++;
    }
    return from;
  }

  trackers() {
    return this.trackerList.map((t, id) => ({ announce: t.url, id, scrape: scrapeOf(t.url), sitename: sitename(t.url), tier: t.tier }));
  }

  trackerListText(): string {
    const tiers = new Map<number, string[]>();
    for (const t of this.trackerList) tiers.set(t.tier, [...(tiers.get(t.tier) ?? []), t.url]);
    return [...tiers.values()].map((urls) => urls.join('\n')).join('\n\n');
  }

  trackerStats() {
    const running = statusOf(this.row) !== STATUS.stopped;
    return this.trackerList.map((t, id) => {
      const announced = t.lastReplyAt !== undefined || t.lastErrorAt !== undefined;
      const lastFailed = t.status === 'error' || (t.lastErrorAt ?? 0) > (t.lastReplyAt ?? 0);
      const result = t.status === 'error' || lastFailed ? (t.lastError ?? t.message ?? 'error') : announced ? 'Success' : '';
      return {
        announce: t.url,
        announceState: t.status === 'working' ? 3 : running ? 1 : 0,
        downloadCount: -1,
        hasAnnounced: announced,
        hasScraped: false,
        host: hostPort(t.url),
        id,
        isBackup: false,
        lastAnnouncePeerCount: t.peers,
        lastAnnounceResult: result,
        lastAnnounceStartTime: secs(t.lastAnnounce),
        lastAnnounceSucceeded: announced && !lastFailed,
        lastAnnounceTime: secs(Math.max(t.lastReplyAt ?? 0, t.lastErrorAt ?? 0)),
        lastAnnounceTimedOut: lastFailed && /timed? ?out/i.test(result),
        lastScrapeResult: '',
        lastScrapeStartTime: 0,
        lastScrapeSucceeded: false,
        lastScrapeTime: 0,
        lastScrapeTimedOut: false,
        // From its last announce reply (BEP 3 complete/incomplete); Cascade does not scrape.
        leecherCount: t.leechers ?? -1,
        nextAnnounceTime: 0,
        nextScrapeTime: 0,
        scrape: scrapeOf(t.url),
        scrapeState: 0,
        seederCount: t.seeders ?? -1,
        sitename: sitename(t.url),
        tier: t.tier,
      };
    });
  }

  /** Bytes still wanted that connected peers could give (Transmission's desiredAvailable): the
   *  pieces missing here that some connected peer holds, capped at what is left (an unwanted file's
   *  pieces are not taken out one by one). Without a piece map, the best peer's share of the whole. */
  get desiredAvailable(): number {
    const left = this.leftUntilDone;
    if (left === 0) return 0;
    const p = this.pieceStates;
    const pieceLength = this.info?.pieceLength;
    const length = this.row.length;
    if (p && pieceLength && length !== null) {
      let bytes = 0;
      const last = p.states.length - 1;
      for (let i = 0; i <= last; i++) {
        if (p.states[i] !== 2 && p.availability[i]! > 0) bytes += i === last ? length - last * pieceLength : pieceLength;
      }
      return Math.min(left, bytes);
    }
    const best = this.peerList.reduce((m, x) => Math.max(m, x.progress), 0);
    return best >= 1 ? left : Math.min(left, Math.round(best * this.sizeWhenDone));
  }
}

