// torrents/* that read or change one torrent's pieces, names, trackers and peers (qBittorrent 5.0's
// WebUI API, wiki page "WebUI API (qBittorrent 5.0)"): each a CompatOps torrent edit, so they do
// to the torrent what Cascade's own API does. Status codes are the wiki's for each method.
import type { TorrentInfo } from '../ops.ts';
import { type ActionContext, type ActionSpec, badRequest, conflict, fromOps, notFound, param, parseBool, requireParams, selectTorrents, splitHashes } from './http.ts';
import { filePrefix, torrentInfo } from './torrents-read.ts';

/** Runs an edit; a node error becomes qBittorrent's answer (its 400s are 409s where the wiki says). */
async function edit(ctx: ActionContext, fn: () => unknown, badIs = 400): Promise<undefined> {
  try {
    await fn();
  } catch (err) {
    const e = fromOps(ctx.ops, err);
    throw e.status === 400 && badIs !== 400 ? conflict(e.message) : e;
  }
  return undefined;
}

/** pieceStates / pieceHashes: [] for a torrent without metadata, 404 for one it does not know. */
function pieceStates(ctx: ActionContext): number[] {
  const t = torrentInfo(ctx);
  if (t.pieceCount === null) return [];
  return Array.from(ctx.ops.pieces(t.infoHash).states);
}

/** qBittorrent 5.1 (WebAPI 2.11.x): how many connected peers have each piece. */
function pieceAvailability(ctx: ActionContext): number[] {
  const t = torrentInfo(ctx);
  if (t.pieceCount === null) return [];
  return Array.from(ctx.ops.pieces(t.infoHash).availability);
}

function pieceHashes(ctx: ActionContext): string[] {
  const t = torrentInfo(ctx);
  return t.pieceCount === null ? [] : ctx.ops.pieceHashes(t.infoHash);
}

/** A path as qBittorrent names it (with a multi-file torrent's folder) → below the folder; the
 *  folder itself → ''. Anything else is not this torrent's: a 409, as the wiki says. */
function belowFolder(t: TorrentInfo, p: string): string {
  const prefix = filePrefix(t);
  const clean = p.replace(/^\/+|\/+$/g, '');
  if (prefix === '') return clean;
  if (clean === prefix.slice(0, -1)) return '';
  if (!clean.startsWith(prefix)) throw conflict(`Invalid path: ${p}`);
  return clean.slice(prefix.length);
}

/** renameFile / renameFolder: paths as torrents/files names them. renameFolder on a multi-file
 *  torrent's own folder renames that folder ("pack" → "pack2"); files never leave it. */
function renamer(kind: 'file' | 'folder') {
  return async (ctx: ActionContext): Promise<undefined> => {
    requireParams(ctx, 'hash', 'oldPath', 'newPath');
    const t = torrentInfo(ctx);
    if (t.files === null) throw conflict("Torrent's metadata has not yet downloaded");
    const newPath = ctx.params.get('newPath')!.replace(/^\/+|\/+$/g, '');
    const from = belowFolder(t, ctx.params.get('oldPath')!);
    if (from === '' && kind === 'folder') {
      if (newPath === '' || newPath.includes('/')) throw conflict('Invalid newPath');
      return edit(ctx, () => ctx.ops.renameFolder(t.infoHash, newPath), 409);
    }
    const to = belowFolder(t, newPath);
    if (from === '' || to === '') throw conflict('Invalid newPath or oldPath');
    return edit(ctx, () => ctx.ops.renamePath(t.infoHash, from, to, kind), 409);
  };
}

async function rename(ctx: ActionContext): Promise<undefined> {
  requireParams(ctx, 'hash', 'name');
  const hash = ctx.params.get('hash')!.trim().toLowerCase();
  if (!ctx.ops.list().some((r) => r.infoHash === hash)) throw notFound('Torrent hash was not found');
  const name = ctx.params.get('name')!.trim();
  if (name === '') throw conflict('Incorrect torrent name');
  return edit(ctx, () => ctx.ops.setName(hash, name), 409);
}

/** Trackers in `urls`: one a line (addTrackers) or "|"-separated (removeTrackers). */
function urlList(v: string, sep: RegExp): string[] {
  return v.split(sep).map((u) => u.trim()).filter((u) => u !== '');
}

async function addTrackers(ctx: ActionContext): Promise<undefined> {
  requireParams(ctx, 'hash', 'urls');
  const t = torrentInfo(ctx);
  const urls = urlList(ctx.params.get('urls')!, /\r?\n/);
  // qBittorrent skips what is not a URL and answers 200; the node refuses the whole list.
  const valid = urls.filter((u) => {
    try {
      return !!new URL(u).hostname;
    } catch {
      return false;
    }
  });
  if (valid.length === 0) return undefined;
  return edit(ctx, () => ctx.ops.addTrackers(t.infoHash, valid));
}

async function editTracker(ctx: ActionContext): Promise<undefined> {
  requireParams(ctx, 'hash', 'origUrl', 'newUrl');
  const t = torrentInfo(ctx);
  const newUrl = ctx.params.get('newUrl')!.trim();
  try {
    if (!new URL(newUrl).hostname) throw new Error();
  } catch {
    throw badRequest(`New tracker URL is invalid`);
  }
  return edit(ctx, () => ctx.ops.editTracker(t.infoHash, ctx.params.get('origUrl')!.trim(), newUrl));
}

async function removeTrackers(ctx: ActionContext): Promise<undefined> {
  requireParams(ctx, 'hash', 'urls');
  const t = torrentInfo(ctx);
  return edit(ctx, () => ctx.ops.removeTrackers(t.infoHash, urlList(ctx.params.get('urls')!, /\|/)));
}

async function addPeers(ctx: ActionContext): Promise<undefined> {
  requireParams(ctx, 'hashes', 'peers');
  const peers = urlList(ctx.params.get('peers')!, /\|/);
  const valid = peers.filter((p) => /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/.test(p) && Number(p.slice(p.lastIndexOf(':') + 1)) > 0 && Number(p.slice(p.lastIndexOf(':') + 1)) < 65536);
  if (valid.length === 0) throw badRequest('No valid peers were specified');
  const raw = ctx.params.get('hashes')!;
  const rows = raw.trim().toLowerCase() === 'all' ? ctx.ops.list() : ctx.ops.list().filter((r) => splitHashes(raw).includes(r.infoHash));
  for (const r of rows) await edit(ctx, () => ctx.ops.addPeers(r.infoHash, valid));
  return undefined;
}

function toggle(which: 'sequential' | 'firstLast') {
  return async (ctx: ActionContext): Promise<undefined> => {
    for (const r of selectTorrents(ctx)) {
      // A torrent without metadata (or not loaded) keeps its setting: qBittorrent answers 200 for all.
      try {
        const now = ctx.ops.pieceOrder(r.infoHash)[which];
        await ctx.ops.setPieceOrder(r.infoHash, { [which]: !now });
      } catch {
        // nothing to toggle on this one
      }
    }
    return undefined;
  };
}

export const torrentsEditActions: Record<string, ActionSpec> = {
  pieceStates: { method: 'any', run: pieceStates },
  pieceHashes: { method: 'any', run: pieceHashes },
  rename: { method: 'POST', run: rename },
  renameFile: { method: 'POST', run: renamer('file') },
  renameFolder: { method: 'POST', run: renamer('folder') },
  addTrackers: { method: 'POST', run: addTrackers },
  editTracker: { method: 'POST', run: editTracker },
  // WebAPI 2.13's name (what @ctrl/qbittorrent 9 calls): the same edit; `tier` is not moved.
  editTrackers: { method: 'POST', run: editTracker },
  pieceAvailability: { method: 'any', run: pieceAvailability },
  removeTrackers: { method: 'POST', run: removeTrackers },
  addPeers: { method: 'POST', run: addPeers },
  toggleSequentialDownload: { method: 'POST', run: toggle('sequential') },
  toggleFirstLastPiecePrio: { method: 'POST', run: toggle('firstLast') },
};
