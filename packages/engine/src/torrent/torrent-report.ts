// What a torrent reports about itself (stats, peer listings, per-file progress), computed from the
// state torrent.ts keeps: pure functions, so the torrent's file holds its life and its data path.
import type { PeerStats, TorrentState, TorrentStats } from '../api.ts';
import type { EtaEstimator, SpeedMeter } from '../swarm/speed.ts';
import type { Bitfield } from '../pieces/bitfield.ts';
import { piecesOfFiles } from '../pieces/piece-map.ts';
import type { Peer } from '../swarm/peer.ts';
import type { Picker } from '../swarm/picker.ts';
import type { WebSeed } from '../swarm/webseed.ts';
import type { Metainfo } from '../types.ts';

/** Bytes of wanted pieces not verified yet (what trackers call `left`). */
export function bytesLeft(picker: Picker | undefined, meta: Metainfo | undefined): number {
  if (!picker || !meta) return meta?.length ?? 0;
  let left = 0;
  for (let i = 0; i < picker.pieceCount; i++) if (picker.isWanted(i)) left += picker.pieceSize(i);
  return left;
}

/** 0..1 of the selected files' pieces that are verified (all files when `selected` is undefined). */
export function selectedProgress(picker: Picker | undefined, meta: Metainfo | undefined, selected: number[] | undefined): number {
  let wanted = 0, verifiedWanted = 0;
  if (picker && meta) {
    const sel = selected ? piecesOfFiles(meta, selected) : undefined;
    for (let i = 0; i < picker.pieceCount; i++) {
      if (sel && !sel[i]) continue;
      wanted++;
      if (picker.have.get(i)) verifiedWanted++;
    }
  }
  return wanted ? verifiedWanted / wanted : 0;
}

/** Connected peers, then the web seeds that ran or delivered something. */
export function peerListing(peers: Iterable<Peer>, webSeeds: readonly WebSeed[], pieceCount: number): PeerStats[] {
  return [...peers].map((p) => ({
    address: p.address,
    client: p.client,
    transport: p.conn.transport,
    relayed: p.conn.relayed === true,
    downloaded: p.down.total,
    uploaded: p.up.total,
    downloadSpeed: p.down.rate(),
    uploadSpeed: p.up.rate(),
    progress: p.seed ? 1 : p.bits && pieceCount ? p.bits.count / pieceCount : 0,
    choked: p.peerChoking,
    interested: p.peerInterested,
    amChoking: p.amChoking,
    amInterested: p.amInterested,
    optimistic: p.optimistic,
    source: p.source,
  }) as PeerStats).concat(webSeeds.filter((w) => w.running || w.down.total > 0).map((w) => ({
    address: w.url,
    client: 'web seed',
    transport: 'webseed' as const,
    relayed: false,
    downloaded: w.down.total,
    uploaded: 0,
    downloadSpeed: w.down.rate(),
    uploadSpeed: 0,
    progress: 1,
    choked: false,
    interested: w.running,
    amChoking: true,
    amInterested: w.running,
    optimistic: false,
    source: 'webseed',
  })));
}

/** Distributed copies, as libtorrent counts them: the fewest copies any piece has among the
 *  connected peers, plus the share of pieces that have more than that. */
export function distributedCopiesOf(availability: Uint16Array | undefined, pieceCount: number): number | null {
  if (!availability || pieceCount === 0) return null;
  let min = Infinity;
  for (let i = 0; i < pieceCount; i++) if (availability[i]! < min) min = availability[i]!;
  let above = 0;
  for (let i = 0; i < pieceCount; i++) if (availability[i]! > min) above++;
  return min + above / pieceCount;
}

/** Per file, 0..1 of its bytes inside verified pieces (the web UI's per-file bars); [] without metadata. */
export function fileProgress(meta: Metainfo | undefined, have: Bitfield | undefined): number[] {
  if (!meta) return [];
  return meta.files.map((f) => {
    if (f.length === 0 || f.pad) return 1; // padding is never downloaded: nothing is missing
    if (!have) return 0;
    const first = Math.floor(f.offset / meta.pieceLength);
    const last = Math.floor((f.offset + f.length - 1) / meta.pieceLength);
    let bytes = 0;
    for (let p = first; p <= last; p++) {
      if (!have.get(p)) continue;
      bytes += Math.min(f.offset + f.length, (p + 1) * meta.pieceLength) - Math.max(f.offset, p * meta.pieceLength);
    }
    return bytes / f.length;
  });
}

/** What stats() reads off a torrent. */
export interface StatsSource {
  infoHashHex: string;
  name: string | undefined;
  state: TorrentState;
  picker: Picker | undefined;
  meta: Metainfo | undefined;
  selected: number[] | undefined;
  downloaded: number;
  uploaded: number;
  down: SpeedMeter;
  up: SpeedMeter;
  eta: EtaEstimator;
  peers: Iterable<Peer>;
  error: string | undefined;
}

export function torrentStats(t: StatsSource): TorrentStats {
  // A torrent that does not move data has no rate, whatever its meters last saw.
  const moving = t.state === 'downloading' || t.state === 'seeding';
  const downloadSpeed = moving ? t.down.rate() : 0;
  const left = bytesLeft(t.picker, t.meta);
  let peers = 0, seeds = 0;
  for (const p of t.peers) peers++, (seeds += p.seed ? 1 : 0);
  return {
    infoHashHex: t.infoHashHex,
    name: t.name,
    state: t.state,
    progress: selectedProgress(t.picker, t.meta, t.selected),
    length: t.meta?.length,
    pieceCount: t.meta?.pieceCount,
    verifiedPieces: t.picker?.have.count ?? 0,
    downloaded: t.downloaded,
    uploaded: t.uploaded,
    downloadSpeed,
    uploadSpeed: moving ? t.up.rate() : 0,
    eta: left === 0 && t.meta ? 0 : t.eta.eta(left, downloadSpeed),
    peers,
    seeds,
    error: t.error,
  };
}
