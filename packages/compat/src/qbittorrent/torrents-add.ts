// torrents/add (multipart or form): `urls` (newline-separated magnets, infohashes, http(s) .torrent
// URLs) and uploaded .torrent files under any field name (Sonarr sends "torrents", @ctrl "file"),
// with savepath, category (an unknown one is created first, as qBittorrent does), tags, paused or
// stopped, upLimit/dlLimit, ratioLimit, seedingTimeLimit. Answers "Ok." when at least one torrent
// was added, "Fails." otherwise (qBittorrent 4.6: both 200); a file that is no torrent is a 415.
import type { AddRequest, TorrentPatch } from '../ops.ts';
import { type ActionContext, type ActionSpec, QbError, badRequest, fromOps, intParam, numberParam, param, parseBool } from './http.ts';

async function add(ctx: ActionContext): Promise<string> {
  const urls = (param(ctx, 'urls') ?? '')
    .split('\n')
    .map((u) => u.trim())
    .filter((u) => u !== '');
  const savePath = (param(ctx, 'savepath') ?? '').trim();
  const category = (param(ctx, 'category') ?? '').trim();
  const tags = (param(ctx, 'tags') ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  // 5.x renamed paused to stopped; either is understood.
  const paused = parseBool(param(ctx, 'stopped')) ?? parseBool(param(ctx, 'paused'));
  const upLimit = intParam(ctx, 'upLimit');
  const dlLimit = intParam(ctx, 'dlLimit');
  const ratio = numberParam(ctx, 'ratioLimit');
  const minutes = intParam(ctx, 'seedingTimeLimit');
  if (ratio !== undefined && ratio < 0 && ratio !== -1 && ratio !== -2) throw badRequest("'ratioLimit' must be -2 (global), -1 (none) or ≥ 0");
  if (minutes !== undefined && minutes < 0 && minutes !== -1 && minutes !== -2) throw badRequest("'seedingTimeLimit' must be -2 (global), -1 (none) or ≥ 0");

  if (category !== '' && !ctx.ops.categories().some((c) => c.name === category)) {
    try {
      await ctx.ops.addCategory({ name: category, savePath: null });
    } catch (err) {
      const e = fromOps(ctx.ops, err);
      // A race with another add that created it is fine; a bad name is the caller's mistake.
      if (!ctx.ops.categories().some((c) => c.name === category)) throw e.status === 400 ? badRequest(`'category': ${e.message}`) : e;
    }
  }

  const common: AddRequest = {
    ...(savePath !== '' ? { savePath } : {}),
    ...(category !== '' ? { category } : {}),
    ...(tags.length > 0 ? { tags } : {}),
    ...(paused !== undefined ? { paused } : {}),
  };
  // Limits the add itself cannot carry: applied right after (-1/0/absent = none or global).
  const patch: TorrentPatch = {};
  if (upLimit !== undefined && upLimit > 0) patch.uploadLimit = upLimit;
  if (dlLimit !== undefined && dlLimit > 0) patch.downloadLimit = dlLimit;
  if (ratio !== undefined && ratio !== -2) patch.ratioLimit = ratio;
  if (minutes !== undefined && minutes !== -2) patch.seedingTimeLimit = minutes === -1 ? -1 : minutes * 60;

  let added = 0;
  const addOne = async (req: AddRequest, isFile: string | undefined) => {
    let infoHash: string;
    try {
      const r = await ctx.ops.add({ ...common, ...req });
      // qBittorrent refuses a torrent it already has.
      if (r.existing) return;
      infoHash = r.infoHash;
    } catch (err) {
      const e = fromOps(ctx.ops, err);
      // A .torrent file that does not parse: qBittorrent's 415 with its text.
      if (isFile !== undefined && e.status === 400) throw new QbError(415, `Error: '${isFile}' is not a valid torrent file.`);
      // A bad save path or category is the request's fault: said once, not hidden behind "Fails.".
      if (e.status === 400 && /savePath|category|tags/i.test(e.message)) throw e;
      return;
    }
    added++;
    if (Object.keys(patch).length > 0) {
      try {
        await ctx.ops.setTorrent(infoHash, patch);
      } catch (err) {
        throw fromOps(ctx.ops, err);
      }
    }
  };
  for (const uri of urls) await addOne({ uri }, undefined);
  for (const f of ctx.files) await addOne({ torrent: f.data }, f.filename || f.field);
  return added > 0 ? 'Ok.' : 'Fails.';
}

export const torrentsAddActions: Record<string, ActionSpec> = {
  add: { method: 'POST', run: add },
};
