// The JSON the API and the socket.io feed send for torrents: the list row (ListEntry, shared with
// `cascade list`) and the detail view (peers by transport, trackers, files with progress).

// The magnet module alone: this file is on the CLI's `list` path (@cascade/node), which must
// not load the whole engine (see engine.ts).
import { toMagnet } from '@cascade/engine/magnet';
import { Bitfield, fileProgress } from '@cascade/engine';
import { liveRow, offlineEntry, type ListingNode } from './listing.ts';
import type { TorrentRecord } from '@cascade/node-state';
import type { IdentifiedPeer } from '../peers/identified-peers.ts';
import type { TorrentHandle, PeerStats, Metainfo } from '../core/engine.ts';
import type { FileView, TorrentDetail, TransportCounts } from '@cascade/shapes';
import { pieceOrder, type PieceOrderView } from '../files/torrent-edits.ts';

// The views are @cascade/shapes' (the feed, the HTTP API and the CLI read the same).
export type { FileView, TorrentDetail, TransportCounts };

/** Accessors the Cascade engine's Torrent has beyond the TorrentHandle interface. */
export interface TorrentExtras {
  fileProgress?(): number[];
  havePiece?(index: number): boolean;
}

export function countTransports(peers: readonly PeerStats[]): TransportCounts {
  const counts: TransportCounts = { tcp: 0, utp: 0, webrtc: 0, webseed: 0 };
  for (const p of peers) counts[p.transport] = (counts[p.transport] ?? 0) + 1;
  return counts;
}

/** Whether piece `index` is verified; without the engine accessor only a finished torrent counts. */
export function havePiece(t: TorrentHandle, index: number): boolean {
  const x = t as TorrentHandle & TorrentExtras;
  if (typeof x.havePiece === 'function') return x.havePiece(index);
  return t.stats().progress >= 1 && t.stats().state === 'seeding';
}

export function filePath(meta: Metainfo, index: number): string {
  return meta.files[index]!.path.join('/');
}

/** Where a node announces its torrents (the built-in tracker, or its public URL, and --tracker):
 *  CascadeNode's announceUrls and ownTrackers. */
export interface TrackerDoors {
  announceUrls(): string[];
  ownTrackers(): string[];
}

/**
 * The trackers a torrent's magnet names besides its own: where the node announces it. An upload
 * has them in its metainfo already; a .torrent or magnet added as it came (`cascade add`, the API)
 * did not, so its magnet led nobody to the node's tracker. None for a private torrent (BEP 27: its
 * creator's trackers only), and a hidden one (private discovery) leaves out the built-in
 * tracker's own loopback URLs, as the node's add does.
 */
export function sharedTrackers(node: Partial<TrackerDoors>, t: TorrentHandle, hidden = false): string[] {
  if (!node.announceUrls || t.metainfo?.private) return [];
  const urls = node.announceUrls();
  if (!hidden || !node.ownTrackers) return urls;
  const own = new Set(node.ownTrackers());
  return urls.filter((u) => !own.has(u));
}

/** Its own trackers, then `shared` (sharedTrackers) not already among them. */
export function trackersOf(t: TorrentHandle, shared: readonly string[] = []): string[] {
  const own = t.metainfo ? t.metainfo.announce.flat() : t.trackers().map((x) => x.url);
  return shared.length === 0 ? own : [...new Set([...own, ...shared])];
}

export function magnetOf(t: TorrentHandle, shared: readonly string[] = []): string {
  const s = t.stats();
  const v2 = t.metainfo?.infoHashV2Hex;
  return toMagnet({
    infoHashHex: t.infoHashHex,
    // BEP 52: a hybrid's magnet carries both infohashes, a v2-only one only its v2 (toMagnet drops
    // the id that is merely the truncated v2).
    ...(v2 ? { infoHashV2Hex: v2 } : {}),
    ...(s.name ? { name: s.name } : {}),
    trackers: trackersOf(t, shared),
  });
}

export function fileViews(t: TorrentHandle, selected: number[] | null, restored?: Uint8Array): FileView[] | null {
  const meta = t.metainfo;
  if (!meta) return null;
  const x = t as TorrentHandle & TorrentExtras;
  // A paused torrent's resume record: counted as the engine counts a running torrent's files.
  const progress = restored ? fileProgress(meta, new Bitfield(meta.pieceCount, restored)) : typeof x.fileProgress === 'function' ? x.fileProgress() : undefined;
  const whole = t.stats().progress;
  const chosen = selected ? new Set(selected) : undefined;
  // BEP 47 padding files are zeros nobody stores or selects: hidden, while `index` stays the
  // metainfo's (selection and streaming address files by it).
  return meta.files.flatMap((f, index) => (f.pad ? [] : [{
    index,
    path: f.path.join('/'),
    length: f.length,
    progress: progress?.[index] ?? whole,
    selected: chosen ? chosen.has(index) : true,
  }]));
}

/** What a torrent's detail reads besides the listing: who its peers are, the model's words on
 *  stalls and sharing, whether relays are there, private shares and content ids. */
export type DetailNode = ListingNode & {
  readonly identified: { decorate(infoHashHex: string, peers: PeerStats[]): (PeerStats & Partial<IdentifiedPeer> & { reputation?: number })[] };
  readonly model: { stalledReason(t: TorrentHandle): string | null; shareWarning(trackers: readonly string[]): string | null };
  readonly onion?: unknown;
  readonly storage?: { where?(infoHash: string): TorrentDetail['storage'] } | undefined; // kept off the disk (issue 61)
} & FilesNode & Partial<TrackerDoors>;

/** What a torrent's file list reads: the state DB, private shares and content ids. */
export type FilesNode = Pick<ListingNode, 'db' | 'privateShares'> & {
  readonly content?: { readonly cids: { of(infoHash: string): ReadonlyMap<number, string>; unixfsOf?(infoHash: string): ReadonlyMap<number, string>; dirOf?(infoHash: string): string | undefined } } | undefined;
};

/** The detail of a torrent stored but not running here: one another member of a cluster holds, or
 *  one that failed to load. What the library knows of it. */
export function storedTorrentDetail(node: Pick<DetailNode, 'db' | 'onion'>, rec: TorrentRecord): TorrentDetail {
  return {
    ...offlineEntry(rec, node.db),
    magnet: rec.magnet?.startsWith('magnet:') ? rec.magnet : toMagnet({ infoHashHex: rec.infoHash, ...(rec.name ? { name: rec.name } : {}) }),
    version: null,
    seeds: 0,
    downloaded: 0,
    uploaded: 0,
    pieceLength: node.db.elsewhere?.metainfo(rec.infoHash)?.pieceLength ?? null,
    peersByTransport: countTransports([]),
    distributedCopies: null,
    peerList: [],
    sources: [],
    trackers: [],
    files: node.db.elsewhere?.files(rec.infoHash) ?? null,
    shareWarning: null,
    discovery: null,
    stalledReason: null,
    privateDiscovery: rec.privateDiscovery,
    privateDiscoveryAvailable: !!node.onion,
    sequential: rec.pieceOrder?.sequential ?? false,
    firstLastPiece: rec.pieceOrder?.firstLast ?? false,
  };
}

export function torrentDetail(node: DetailNode, t: TorrentHandle): TorrentDetail {
  const rec = node.db.records.get(t.infoHashHex);
  const peers = node.identified.decorate(t.infoHashHex, t.peers());
  const hidden = rec?.privateDiscovery ?? t.privateDiscovery === true;
  const shared = sharedTrackers(node, t, hidden);
  return {
    ...liveRow(node, t),
    magnet: magnetOf(t, shared),
    version: t.metainfo ? (t.metainfo.version ?? 'v1') : null,
    pieceLength: t.metainfo?.pieceLength ?? null,
    peersByTransport: countTransports(peers),
    distributedCopies: t.distributedCopies?.() ?? null,
    peerList: peers,
    sources: t.sources?.() ?? [],
    trackers: t.trackers(),
    discovery: t.discovery(),
    stalledReason: node.model.stalledReason(t),
    shareWarning: node.model.shareWarning(trackersOf(t, shared)),
    files: torrentFiles(node, t, rec?.selectedFiles ?? null),
    unixfsCid: node.content?.cids.dirOf?.(t.infoHashHex) ?? null,
    storage: node.storage?.where?.(t.infoHashHex) ?? null,
    privateDiscovery: hidden,
    privateDiscoveryAvailable: !!node.onion,
    ...orderOf(pieceOrder(t)),
  };
}

function orderOf(o: PieceOrderView): { sequential: boolean; firstLastPiece: boolean } {
  return { sequential: o.sequential, firstLastPiece: o.firstLast };
}

/** Its files with progress and selection (null before the metadata is known). */
export function torrentFiles(node: FilesNode, t: TorrentHandle, selected: number[] | null = node.db.records.get(t.infoHashHex)?.selectedFiles ?? null): FileView[] | null {
  // A private share's files are the ones inside it, for a node that can read them; none otherwise
  // (the ciphertext's one file says nothing, and its name must not look like content).
  const shared = node.privateShares?.view(t.infoHashHex);
  if (shared) {
    return shared.manifest?.files.map((f, index) => ({
      index,
      path: f.path.join('/'),
      length: f.length,
      progress: shared.fileProgress?.[index] ?? 0,
      selected: true,
    })) ?? [];
  }
  // Loaded paused, it has not checked its data yet: the resume record says what is verified.
  const s = t.stats();
  const views = fileViews(t, selected, s.state === 'paused' && s.verifiedPieces === 0 ? node.db.resumeHave(t.infoHashHex) : undefined);
  const cids = node.content?.cids.of(t.infoHashHex);
  const unixfs = node.content?.cids.unixfsOf?.(t.infoHashHex);
  return views && views.map((f) => ({ ...f, cid: cids?.get(f.index) ?? null, unixfsCid: unixfs?.get(f.index) ?? null }));
}
