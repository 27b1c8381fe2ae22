// torrents/* that change things (torrentscontroller.cpp), each a CompatOps call per torrent named by
// `hashes` ("h1|h2" or "all"; unknown hashes are skipped, as qBittorrent does).
import type { QueueMove, TorrentPatch, TorrentRow } from '../ops.ts';
import {
  type ActionContext,
  type ActionSpec,
  badRequest,
  conflict,
  fromOps,
  intParam,
  numberParam,
  param,
  parseBool,
  requireParams,
  selectTorrents,
} from './http.ts';
import { torrentInfo } from './torrents-read.ts';

/** Runs `fn` on each torrent; an error from the node becomes qBittorrent's answer. */
async function each(ctx: ActionContext, rows: TorrentRow[], fn: (r: TorrentRow) => unknown, statusFor?: (s: number) => number): Promise<undefined> {
  for (const r of rows) {
    try {
      await fn(r);
    } catch (err) {
      throw fromOps(ctx.ops, err, statusFor);
    }
  }
  return undefined;
}

const pause = (ctx: ActionContext) => each(ctx, selectTorrents(ctx), (r) => ctx.ops.pause(r.infoHash));
const resume = (ctx: ActionContext) => each(ctx, selectTorrents(ctx), (r) => ctx.ops.resume(r.infoHash));

async function remove(ctx: ActionContext): Promise<undefined> {
  // qBittorrent 4.6 requires deleteFiles; Sonarr sends it only when data goes too, so absent = false.
  const deleteFiles = parseBool(param(ctx, 'deleteFiles')) ?? false;
  return each(ctx, selectTorrents(ctx), (r) => ctx.ops.remove(r.infoHash, deleteFiles));
}

const patchEach = (ctx: ActionContext, rows: TorrentRow[], patch: TorrentPatch, statusFor?: (s: number) => number) =>
  each(ctx, rows, (r) => ctx.ops.setTorrent(r.infoHash, patch), statusFor);

async function setCategory(ctx: ActionContext): Promise<undefined> {
  requireParams(ctx, 'hashes', 'category');
  const category = ctx.params.get('category')!.trim();
  if (category !== '' && !ctx.ops.categories().some((c) => c.name === category)) throw conflict('Incorrect category name');
  return patchEach(ctx, selectTorrents(ctx), { category: category === '' ? null : category });
}

async function createCategory(ctx: ActionContext): Promise<undefined> {
  requireParams(ctx, 'category');
  const name = ctx.params.get('category')!.trim();
  if (name === '') throw badRequest('Category cannot be empty');
  const savePath = (param(ctx, 'savePath') ?? '').trim();
  try {
    await ctx.ops.addCategory({ name, savePath: savePath === '' ? null : savePath });
  } catch (err) {
    const e = fromOps(ctx.ops, err);
    // qBittorrent: an invalid name or an existing category is a 409.
    throw e.status === 400 || e.status === 409 ? conflict(`Unable to create category: ${e.message}`) : e;
  }
  return undefined;
}

async function editCategory(ctx: ActionContext): Promise<undefined> {
  requireParams(ctx, 'category', 'savePath');
  const name = ctx.params.get('category')!.trim();
  if (name === '') throw badRequest('Category cannot be empty');
  const savePath = ctx.params.get('savePath')!.trim();
  try {
    await ctx.ops.updateCategory({ name, savePath: savePath === '' ? null : savePath });
  } catch (err) {
    const e = fromOps(ctx.ops, err);
    throw e.status === 400 || e.status === 404 || e.status === 409 ? conflict(`Unable to edit category: ${e.message}`) : e;
  }
  return undefined;
}

async function removeCategories(ctx: ActionContext): Promise<undefined> {
  requireParams(ctx, 'categories');
  const known = new Set(ctx.ops.categories().map((c) => c.name));
  for (const name of ctx.params.get('categories')!.split('\n').map((c) => c.trim())) {
    // Names it does not know are skipped, as qBittorrent's removeCategory does.
    if (!known.has(name)) continue;
    try {
      await ctx.ops.removeCategory(name);
    } catch (err) {
      throw fromOps(ctx.ops, err);
    }
  }
  return undefined;
}

function tagList(ctx: ActionContext): string[] {
  return (param(ctx, 'tags') ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
}

async function addTags(ctx: ActionContext): Promise<undefined> {
  requireParams(ctx, 'hashes', 'tags');
  const tags = tagList(ctx);
  if (tags.length === 0) return undefined;
  return each(ctx, selectTorrents(ctx), (r) => ctx.ops.addTags(r.infoHash, tags));
}

async function removeTags(ctx: ActionContext): Promise<undefined> {
  const rows = selectTorrents(ctx);
  const tags = tagList(ctx);
  // No tags given = remove every tag, as qBittorrent does.
  return each(ctx, rows, (r) => ctx.ops.removeTags(r.infoHash, tags.length > 0 ? tags : r.tags));
}

/** A node-wide tag change; a bad tag is qBittorrent's 400 with the node's reason. */
async function tagsChange(ctx: ActionContext, fn: () => Promise<void>): Promise<undefined> {
  try {
    await fn();
  } catch (err) {
    throw fromOps(ctx.ops, err);
  }
  return undefined;
}

async function deleteTags(ctx: ActionContext): Promise<undefined> {
  requireParams(ctx, 'tags');
  const tags = tagList(ctx);
  return tagsChange(ctx, () => ctx.ops.deleteTags(tags));
}

async function createTags(ctx: ActionContext): Promise<undefined> {
  requireParams(ctx, 'tags');
  const tags = tagList(ctx);
  return tagsChange(ctx, () => ctx.ops.createTags(tags));
}

async function setShareLimits(ctx: ActionContext): Promise<undefined> {
  requireParams(ctx, 'hashes', 'ratioLimit', 'seedingTimeLimit');
  const ratio = numberParam(ctx, 'ratioLimit');
  const minutes = numberParam(ctx, 'seedingTimeLimit');
  if (ratio === undefined || (ratio < 0 && ratio !== -1 && ratio !== -2)) throw badRequest("'ratioLimit' must be -2 (global), -1 (none) or a ratio ≥ 0");
  if (minutes === undefined || !Number.isInteger(minutes) || (minutes < 0 && minutes !== -1 && minutes !== -2)) {
    throw badRequest("'seedingTimeLimit' must be -2 (global), -1 (none) or whole minutes ≥ 0");
  }
  // inactiveSeedingTimeLimit (4.6) has no Cascade counterpart: accepted and ignored.
  return patchEach(ctx, selectTorrents(ctx), {
    ratioLimit: ratio === -2 ? null : ratio,
    seedingTimeLimit: minutes === -2 ? null : minutes === -1 ? -1 : minutes * 60,
  });
}

/** BEP 16 (the engine's swarm/super-seed.ts), kept across restarts; torrents/info's super_seeding shows it. */
async function setSuperSeeding(ctx: ActionContext): Promise<undefined> {
  requireParams(ctx, 'hashes', 'value');
  return patchEach(ctx, selectTorrents(ctx), { superSeeding: parseBool(param(ctx, 'value')) ?? false });
}

async function setForceStart(ctx: ActionContext): Promise<undefined> {
  requireParams(ctx, 'hashes', 'value');
  const value = parseBool(param(ctx, 'value')) ?? false;
  return each(ctx, selectTorrents(ctx), async (r) => {
    await ctx.ops.setTorrent(r.infoHash, { forceStart: value });
    // qBittorrent resumes a torrent it force-starts.
    if (value && (r.state === 'paused' || r.state === 'stopped')) await ctx.ops.resume(r.infoHash);
  });
}

function queueMove(move: QueueMove) {
  return async (ctx: ActionContext): Promise<undefined> => {
    requireParams(ctx, 'hashes');
    const s = ctx.ops.settings();
    // Cascade's queue is off when no maximum is set; qBittorrent then answers 409 (Sonarr expects it).
    if (!(s.maxActiveDownloads > 0 || s.maxActiveUploads > 0 || s.maxActiveTorrents > 0)) throw conflict('Torrent queueing must be enabled');
    const rows = selectTorrents(ctx);
    if (rows.length === 0) return undefined;
    try {
      await ctx.ops.moveInQueue(rows.map((r) => r.infoHash), move);
    } catch (err) {
      throw fromOps(ctx.ops, err);
    }
    return undefined;
  };
}

function setLimit(key: 'downloadLimit' | 'uploadLimit') {
  return async (ctx: ActionContext): Promise<undefined> => {
    requireParams(ctx, 'hashes', 'limit');
    const limit = intParam(ctx, 'limit');
    if (limit === undefined) throw badRequest("'limit' must be an integer (bytes/s)");
    return patchEach(ctx, selectTorrents(ctx), { [key]: Math.max(0, limit) });
  };
}

async function setLocation(ctx: ActionContext): Promise<undefined> {
  requireParams(ctx, 'hashes', 'location');
  const location = ctx.params.get('location')!.trim();
  if (location === '') throw badRequest('Save path cannot be empty');
  return patchEach(ctx, selectTorrents(ctx), { savePath: location }, (s) => (s === 400 ? 409 : s));
}

async function filePrio(ctx: ActionContext): Promise<undefined> {
  requireParams(ctx, 'hash', 'id', 'priority');
  const priority = intParam(ctx, 'priority');
  if (priority === undefined) throw badRequest('Priority must be an integer');
  if (![0, 1, 6, 7].includes(priority)) throw badRequest('Priority is not valid');
  const t = torrentInfo(ctx);
  if (!t.files) throw conflict("Torrent's metadata has not yet downloaded");
  const indexes = new Set(t.files.map((f) => f.index));
  const ids = ctx.params.get('id')!.split('|').map((s) => {
    if (!/^\d+$/.test(s.trim())) throw badRequest('File IDs must be integers');
    const id = Number(s.trim());
    if (!indexes.has(id)) throw conflict('File ID is not valid');
    return id;
  });
  // Cascade selects or skips files: priority 0 skips, any other priority downloads.
  const selected = new Set(t.files.filter((f) => f.selected).map((f) => f.index));
  for (const id of ids) {
    if (priority === 0) selected.delete(id);
    else selected.add(id);
  }
  try {
    await ctx.ops.selectFiles(t.infoHash, selected.size === indexes.size ? null : [...selected].sort((a, b) => a - b));
  } catch (err) {
    throw fromOps(ctx.ops, err);
  }
  return undefined;
}

export const torrentsWriteActions: Record<string, ActionSpec> = {
  pause: { method: 'POST', run: pause },
  stop: { method: 'POST', run: pause },
  resume: { method: 'POST', run: resume },
  start: { method: 'POST', run: resume },
  delete: { method: 'POST', run: remove },
  recheck: { method: 'POST', run: (ctx) => each(ctx, selectTorrents(ctx), (r) => ctx.ops.recheck(r.infoHash)) },
  reannounce: { method: 'POST', run: (ctx) => each(ctx, selectTorrents(ctx), (r) => ctx.ops.reannounce(r.infoHash)) },
  setCategory: { method: 'POST', run: setCategory },
  createCategory: { method: 'POST', run: createCategory },
  editCategory: { method: 'POST', run: editCategory },
  removeCategories: { method: 'POST', run: removeCategories },
  addTags: { method: 'POST', run: addTags },
  removeTags: { method: 'POST', run: removeTags },
  createTags: { method: 'POST', run: createTags },
  deleteTags: { method: 'POST', run: deleteTags },
  setShareLimits: { method: 'POST', run: setShareLimits },
  setForceStart: { method: 'POST', run: setForceStart },
  setSuperSeeding: { method: 'POST', run: setSuperSeeding },
  topPrio: { method: 'POST', run: queueMove('top') },
  bottomPrio: { method: 'POST', run: queueMove('bottom') },
  increasePrio: { method: 'POST', run: queueMove('up') },
  decreasePrio: { method: 'POST', run: queueMove('down') },
  setDownloadLimit: { method: 'POST', run: setLimit('downloadLimit') },
  setUploadLimit: { method: 'POST', run: setLimit('uploadLimit') },
  setLocation: { method: 'POST', run: setLocation },
  filePrio: { method: 'POST', run: filePrio },
};
