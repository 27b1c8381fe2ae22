// torrents/* that only read (torrentscontroller.cpp): the list with its filters and sorting, one
// torrent's properties, files and trackers, categories, tags and per-torrent limits.
import { isV2Only, type TorrentInfo, type TrackerRow } from '../ops.ts';
import { trackerRows } from '../shared-views/tracker-rows.ts';
import { type ActionContext, type ActionSpec, JsonText, badRequest, conflict, fromOps, notFound, param, parseBool, requireParams, splitHashes } from './http.ts';
import { MAX_ETA, type MapContext, contentPathOf, isComplete, jsonArray, matchesFilter, qbState, qbTorrents, savePathOf, secs } from './torrent-map.ts';

export function mapContext(ctx: ActionContext): MapContext {
  return { settings: ctx.ops.settings(), now: Date.now(), pieceOrder: (ih) => ctx.ops.pieceOrder(ih), pieces: (ih) => ctx.ops.pieces(ih) };
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

function info(ctx: ActionContext): JsonText {
  const m = mapContext(ctx);
  const filter = (param(ctx, 'filter') ?? 'all').trim() || 'all';
  const category = param(ctx, 'category');
  const tag = param(ctx, 'tag');
  const hashes = param(ctx, 'hashes');
  const wanted = hashes !== undefined && hashes.trim() !== '' ? new Set(splitHashes(hashes)) : undefined;
  const all = ctx.ops.list();
  const rows = all
    .filter((r) => !wanted || wanted.has(r.infoHash.toLowerCase()))
    // "" = without category/tag; absent = any.
    .filter((r) => category === undefined || (r.category ?? '') === category)
    .filter((r) => tag === undefined || (tag === '' ? r.tags.length === 0 : r.tags.includes(tag)))
    .filter((r) => filter === 'all' || matchesFilter(filter, qbState(r), r));
  let list = qbTorrents(ctx.ops, rows, m, rows.length === all.length);
  const sort = param(ctx, 'sort');
  if (sort && list.length > 0) {
    if (!(sort in list[0]!)) throw badRequest("'sort' parameter is invalid");
    const reverse = parseBool(param(ctx, 'reverse')) ?? false;
    list.sort((a, b) => (reverse ? -1 : 1) * compare(a[sort], b[sort]));
  }
  // qBittorrent: a negative offset counts from the end; out of range = 0; limit ≤ 0 = all.
  const size = list.length;
  let offset = Number.parseInt(param(ctx, 'offset') ?? '0', 10) || 0;
  const limit = Number.parseInt(param(ctx, 'limit') ?? '0', 10) || 0;
  if (offset < 0) offset = size + offset;
  if (offset >= size || offset < 0) offset = 0;
  if (limit > 0 || offset > 0) list = list.slice(offset, limit > 0 ? offset + limit : undefined);
  return new JsonText(jsonArray(list));
}

/** The torrent a `hash` parameter names, with files and trackers; 404 for an unknown one. */
export function torrentInfo(ctx: ActionContext): TorrentInfo {
  requireParams(ctx, 'hash');
  const hash = ctx.params.get('hash')!.trim().toLowerCase();
  if (!/^[0-9a-f]{40}$/.test(hash)) throw notFound('Torrent hash was not found');
  try {
    return ctx.ops.info(hash);
  } catch (err) {
    const e = fromOps(ctx.ops, err);
    throw e.status === 404 ? notFound('Torrent hash was not found') : e;
  }
}

function properties(ctx: ActionContext): object {
  const t = torrentInfo(ctx);
  const s = ctx.ops.settings();
  const now = Date.now();
  const size = t.length ?? 0;
  const activeTime = t.addedAt !== null ? Math.max(0, Math.round((now - t.addedAt) / 1000)) : 0;
  const downloadTime = Math.max(0, activeTime - Math.round(t.seedingTime));
  const hasMeta = t.pieceCount !== null;
  return {
    infohash_v1: isV2Only(t) ? '' : t.infoHash,
    infohash_v2: t.infoHashV2 ?? '',
    hash: t.infoHash,
    name: t.name ?? t.infoHash,
    save_path: savePathOf(t, s),
    download_path: '',
    creation_date: hasMeta && t.creationDate !== null ? secs(t.creationDate) : -1,
    piece_size: t.pieceLength ?? -1,
    comment: t.comment ?? '',
    total_wasted: 0,
    total_uploaded: t.totalUploaded,
    total_uploaded_session: t.uploaded,
    total_downloaded: t.totalDownloaded,
    total_downloaded_session: t.downloaded,
    // Unlimited is -1 here (0 in torrents/info), as qBittorrent answers.
    up_limit: t.uploadLimit > 0 ? t.uploadLimit : -1,
    dl_limit: t.downloadLimit > 0 ? t.downloadLimit : -1,
    time_elapsed: activeTime,
    seeding_time: Math.round(t.seedingTime),
    nb_connections: t.peers,
    nb_connections_limit: -1,
    share_ratio: t.ratio > 9999 ? -1 : t.ratio,
    addition_date: t.addedAt === null ? -1 : secs(t.addedAt),
    completion_date: hasMeta && isComplete(t) ? secs(t.completedAt) : -1,
    created_by: t.createdBy ?? '',
    dl_speed_avg: downloadTime > 0 ? Math.round(t.totalDownloaded / downloadTime) : 0,
    dl_speed: t.downloadSpeed,
    eta: isComplete(t) || t.eta === null ? MAX_ETA : Math.min(MAX_ETA, Math.round(t.eta)),
    last_seen: hasMeta && (isComplete(t) || t.seeds > 0) ? secs(now) : -1,
    peers: Math.max(0, t.peers - t.seeds),
    // Totals: the most any tracker counted in its last reply, never fewer than are connected.
    peers_total: Math.max(0, t.peers - t.seeds, ...t.trackers.map((tr) => tr.leechers ?? 0)),
    pieces_have: t.verifiedPieces,
    pieces_num: t.pieceCount ?? -1,
    // Cascade's tracker rows carry no next-announce time.
    reannounce: 0,
    seeds: t.seeds,
    seeds_total: Math.max(t.seeds, ...t.trackers.map((tr) => tr.seeders ?? 0)),
    total_size: size,
    up_speed_avg: activeTime > 0 ? Math.round(t.totalUploaded / activeTime) : 0,
    up_speed: t.uploadSpeed,
    is_private: t.isPrivate,
    content_path: contentPathOf(t, s),
  };
}

/** A multi-file torrent's files are shown under its folder, as qBittorrent's filePath() does. */
export function filePrefix(t: TorrentInfo): string {
  if (t.folder !== undefined) return t.folder ? `${t.folder}/` : '';
  const files = t.files ?? [];
  const single = files.length === 1 && files[0]!.path === t.name;
  return single || !t.name ? '' : `${t.name}/`;
}

function files(ctx: ActionContext): object[] {
  const t = torrentInfo(ctx);
  if (!t.files) return [];
  const all = t.files;
  const byIndex = new Map(all.map((f) => [f.index, f]));
  let chosen = all;
  const indexes = param(ctx, 'indexes');
  if (indexes !== undefined) {
    chosen = indexes.split('|').map((s) => {
      if (!/^\d+$/.test(s.trim())) throw conflict(`"${s}" is not a valid file index.`);
      const f = byIndex.get(Number(s.trim()));
      if (!f) throw conflict(`Index ${s} is out of bounds.`);
      return f;
    });
  }
  const prefix = filePrefix(t);
  const pieceLength = t.pieceLength ?? 1;
  // Piece ranges need each file's offset in the torrent: files in metainfo order.
  const offsets = new Map<number, number>();
  let offset = 0;
  for (const f of [...all].sort((a, b) => a.index - b.index)) {
    offsets.set(f.index, offset);
    offset += f.length;
  }
  const done = isComplete(t);
  return chosen.map((f, i) => {
    const start = offsets.get(f.index) ?? 0;
    const first = Math.floor(start / pieceLength);
    const last = Math.max(first, Math.floor((start + Math.max(f.length, 1) - 1) / pieceLength));
    return {
      index: f.index,
      name: prefix + f.path,
      size: f.length,
      progress: f.progress,
      priority: f.selected ? 1 : 0,
      // qBittorrent puts is_seed on the first entry only.
      ...(i === 0 ? { is_seed: done } : {}),
      piece_range: [first, last],
      // The fraction of the file to be had: all of it from a seed or from our own copy.
      availability: f.progress === 1 || t.seeds > 0 ? 1 : f.progress,
    };
  });
}

/** qBittorrent's tracker status: 0 disabled, 1 not contacted, 2 working, 3 updating, 4 not working. */
const TRACKER_STATUS: Record<TrackerRow['status'], number> = { idle: 1, working: 3, ok: 2, error: 4 };

function trackers(ctx: ActionContext): object[] {
  const t = torrentInfo(ctx);
  const dht = ctx.ops.transfer().dhtEnabled;
  const privateMsg = t.isPrivate ? 'This torrent is private' : '';
  const count = (source: string) => {
    const peers = t.peerList.filter((p) => p.source === source);
    const seeds = peers.filter((p) => p.progress === 1).length;
    return { num_seeds: seeds, num_leeches: peers.length - seeds };
  };
  // The DHT, PeX and LSD rows qBittorrent always lists first (tier -1).
  const sticky = [
    { url: '** [DHT] **', on: dht, source: 'dht' },
    { url: '** [PeX] **', on: true, source: 'pex' },
    { url: '** [LSD] **', on: false, source: 'lsd' },
  ].map((x) => ({
    url: x.url,
    tier: -1,
    msg: privateMsg,
    status: x.on && !t.isPrivate ? 2 : 0,
    num_peers: 0,
    num_downloaded: 0,
    ...count(x.source),
  }));
  const rows = trackerRows(ctx.ops, t.infoHash, t.trackers);
  return [
    ...sticky,
    ...rows.map((tr) => ({
      url: tr.url,
      tier: tr.tier,
      status: TRACKER_STATUS[tr.status] ?? 1,
      msg: tr.status === 'error' ? tr.lastError ?? tr.message ?? '' : tr.message ?? '',
      num_peers: tr.peers,
      // Swarm counts from the tracker's last announce reply; -1 until it gave them, as qBittorrent
      // shows before a reply. Cascade does not scrape, so no completed-downloads count (-1).
      num_seeds: tr.seeders ?? -1,
      num_leeches: tr.leechers ?? -1,
      num_downloaded: -1,
    })),
  ];
}

function categories(ctx: ActionContext): Record<string, object> {
  const out: Record<string, object> = {};
  for (const c of ctx.ops.categories()) out[c.name] = { name: c.name, savePath: c.savePath ?? '' };
  return out;
}

/** torrents/downloadLimit|uploadLimit: {hash: bytes/s}, 0 = none, -1 for a hash it does not know. */
function limits(which: 'downloadLimit' | 'uploadLimit') {
  return (ctx: ActionContext): Record<string, number> => {
    requireParams(ctx, 'hashes');
    const rows = ctx.ops.list();
    const raw = ctx.params.get('hashes')!;
    const ids = raw.trim().toLowerCase() === 'all' ? rows.map((r) => r.infoHash) : raw.split('|').map((h) => h.trim()).filter(Boolean);
    const byHash = new Map(rows.map((r) => [r.infoHash.toLowerCase(), r]));
    const out: Record<string, number> = {};
    for (const id of ids) out[id] = byHash.get(id.toLowerCase())?.[which] ?? -1;
    return out;
  };
}

export const torrentsReadActions: Record<string, ActionSpec> = {
  info: { method: 'any', run: info },
  count: { method: 'any', run: (ctx) => String(ctx.ops.list().length) },
  properties: { method: 'any', run: properties },
  files: { method: 'any', run: files },
  trackers: { method: 'any', run: trackers },
  webseeds: { method: 'any', run: (ctx) => (torrentInfo(ctx), []) },
  categories: { method: 'any', run: categories },
  tags: { method: 'any', run: (ctx) => ctx.ops.tags() },
  downloadLimit: { method: 'any', run: limits('downloadLimit') },
  uploadLimit: { method: 'any', run: limits('uploadLimit') },
};
