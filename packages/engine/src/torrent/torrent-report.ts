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
import { clock } from '../clock.ts';

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

/** A request of ours this old, unanswered while the peer unchokes us, marks it snubbed (libtorrent's
 *  flag, qBittorrent's S). The pipeline gives a request up at 20 s (swarm/pipeline.ts); three
 *  quarters of that, with nothing received meanwhile, is a peer sitting on what it was asked. */
const SNUB_MS = 15_000;
/** MSE's crypto_select (node/mse.ts): RC4 for the whole stream, or plaintext after an encrypted handshake. */
const MSE_PLAINTEXT = 0x01;
const MSE_RC4 = 0x02;

/** What the listing reads off a peer's host (the torrent) beyond PeerHost: our pieces and the files.
 *  Read through the peer so the torrent's own file need not change; absent members leave the
 *  fields they feed out. */
interface ReportHost {
  havePiece?(index: number): boolean;
  metainfo?: Metainfo;
}

/** Our pieces as a bitfield's bytes (BEP 3 order), once per listing; undefined without metadata. */
function ourPieces(host: ReportHost | undefined, pieceCount: number): Uint8Array | undefined {
  if (!host?.havePiece || pieceCount === 0) return undefined;
  const bytes = new Uint8Array(Math.ceil(pieceCount / 8));
  for (let i = 0; i < pieceCount; i++) if (host.havePiece(i)) bytes[i >> 3]! |= 0x80 >> (i & 7);
  return bytes;
}

const POPCOUNT = new Uint8Array(256);
for (let i = 1; i < 256; i++) POPCOUNT[i] = (i & 1) + POPCOUNT[i >> 1]!;

/** qBittorrent's relevance: the share of the pieces we lack that the peer has (0 when we lack none). */
function relevanceOf(p: Peer, ours: Uint8Array, pieceCount: number): number {
  let ourCount = 0;
  for (const b of ours) ourCount += POPCOUNT[b]!;
  const missing = pieceCount - ourCount;
  if (missing <= 0) return 0;
  if (p.seed) return 1;
  const theirs = p.bits?.bytes;
  if (!theirs) return 0;
  let useful = 0;
  for (let i = 0; i < ours.length; i++) useful += POPCOUNT[theirs[i]! & ~ours[i]! & 0xff]!;
  return useful / missing;
}

/** The piece we are downloading from the peer now (libtorrent's downloading_piece_index): that of
 *  our oldest outstanding request; and the oldest request's age. */
function requestsOf(p: Peer, now: number): { piece: number | undefined; oldest: number } {
  let piece: number | undefined, at = Infinity;
  for (const r of p.requests.values()) if (r.at < at) (at = r.at), (piece = r.index);
  return { piece, oldest: piece === undefined ? 0 : now - at };
}

/** Metainfo indices of the (non-padding) files a piece holds bytes of. */
function filesOfPiece(meta: Metainfo | undefined, piece: number | undefined): number[] {
  if (!meta || piece === undefined) return [];
  const start = piece * meta.pieceLength, end = start + meta.pieceLength;
  const out: number[] = [];
  meta.files.forEach((f, i) => {
    if (!f.pad && f.length > 0 && f.offset < end && f.offset + f.length > start) out.push(i);
  });
  return out;
}

/** Connected peers, then the web seeds that ran or delivered something. */
export function peerListing(peers: Iterable<Peer>, webSeeds: readonly WebSeed[], pieceCount: number): PeerStats[] {
  const list = [...peers];
  const host = list.find((p) => p.host)?.host as ReportHost | undefined;
  const ours = ourPieces(host, pieceCount);
  const now = clock.now();
  return list.map((p) => {
    const req = requestsOf(p, now);
    const select = (p.conn as { select?: unknown }).select;
    const encryption = select === MSE_RC4 ? 'rc4' : select === MSE_PLAINTEXT ? 'handshake' : undefined;
    return {
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
      incoming: !p.outgoing,
      ...(encryption ? { encryption } : {}),
      snubbed: p.amInterested && !p.peerChoking && req.oldest > SNUB_MS && p.down.rate() === 0,
      ...(ours ? { relevance: relevanceOf(p, ours, pieceCount) } : {}),
      downloadingFiles: filesOfPiece(host?.metainfo, req.piece),
      ...(p.remoteIdHex ? { peerId: p.remoteIdHex } : {}),
    } as PeerStats;
  }).concat(webSeeds.filter((w) => w.running || w.down.total > 0).map((w) => ({
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

/** Distributed copies: the fewest copies any piece has among the connected peers, plus the share
 *  of pieces that have more than that. libtorrent (and so qBittorrent's availability) counts this
 *  node's own copy of each piece it has too: pass `have` for that count (the web's Peers tab and
 *  the qBittorrent API count so from the piece map, @cascade/compat's distributedCopies). */
export function distributedCopiesOf(availability: Uint16Array | undefined, pieceCount: number, have?: Bitfield): number | null {
  if (!availability || pieceCount === 0) return null;
  const copies = (i: number) => availability[i]! + (have?.get(i) ? 1 : 0);
  let min = Infinity;
  for (let i = 0; i < pieceCount; i++) if (copies(i) < min) min = copies(i);
  let above = 0;
  for (let i = 0; i < pieceCount; i++) if (copies(i) > min) above++;
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
