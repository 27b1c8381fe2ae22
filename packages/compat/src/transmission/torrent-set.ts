// torrent-set for one torrent: Transmission's keys onto Cascade's per-torrent patch, file selection
// and priorities, tags/category, trackers, location and queue place. What Cascade cannot do
// (bandwidth priority, a per-torrent peer limit…) is accepted while it asks for what Cascade already
// does (a properties dialog sends every key back as it read them) and is reported as the result's
// error otherwise, after the rest is applied.

import type { CompatOps, TorrentPatch, TorrentRow } from '../ops.ts';
import { RpcError, bool, has, indexes, int, messageOf, num, str, strings, type Args } from './args.ts';
import { KB, PEER_LIMIT_PER_TORRENT, type ViewContext } from './torrent-view.ts';
import { trackerRows } from '../shared-views/tracker-rows.ts';
import type { FilePriority } from '../ops.ts';

/** Labels → Cascade: a label naming an existing category is the category (one per torrent; the
 *  current one is kept when still given), every other label a tag. */
export function splitLabels(labels: string[], categories: string[], current: string | null): { category: string | null; tags: string[] } {
  for (const l of labels) {
    if (l.trim() === '') throw new RpcError('labels must not be empty');
    if (l.includes(',')) throw new RpcError('labels cannot contain comma (,) character');
  }
  const known = new Set(categories);
  const category = current !== null && labels.includes(current) ? current : (labels.find((l) => known.has(l)) ?? null);
  return { category, tags: [...new Set(labels.filter((l) => l !== category))] };
}

/** Per-torrent limit "enabled + kB/s" → bytes/s (0 = none); remembers a value set while off. */
function limitOf(args: Args, valueKey: string, onKey: string, currentBytes: number, remembered: Map<string, number>, hash: string): number | undefined {
  const value = int(args, valueKey);
  const on = bool(args, onKey);
  if (value === undefined && on === undefined) return undefined;
  if (value !== undefined && value < 0) throw new RpcError(`"${valueKey}" must be 0 or more kB/s`);
  if (value !== undefined) remembered.set(hash, value);
  const kbps = value ?? (currentBytes > 0 ? Math.round(currentBytes / KB) : (remembered.get(hash) ?? 100));
  const enabled = on ?? currentBytes > 0;
  if (enabled && kbps === 0) throw new RpcError(`"${valueKey}" 0 would stop the torrent's transfer; stop the torrent instead`);
  return enabled ? kbps * KB : 0;
}

/** A goal in Transmission's mode (0 global, 1 own value, 2 unlimited) → Cascade's null / value / -1. */
function goalOf(mode: number | undefined, value: number | undefined, current: number | null, key: string): number | null | undefined {
  if (mode === undefined) return value !== undefined && current !== null && current >= 0 ? value : undefined;
  if (mode === 0) return null;
  if (mode === 2) return -1;
  if (mode === 1) {
    const v = value ?? (current !== null && current >= 0 ? current : undefined);
    if (v === undefined) throw new RpcError(`"${key}" is needed with mode 1 (this torrent's own limit)`);
    return v;
  }
  throw new RpcError(`"${key.replace('Limit', 'Mode')}" must be 0 (global), 1 (this torrent's own) or 2 (unlimited)`);
}

export async function setTorrent(ops: CompatOps, ctx: ViewContext, row: TorrentRow, args: Args, problems: string[]): Promise<void> {
  const hash = row.infoHash;
  const patch: TorrentPatch = {};
  const down = limitOf(args, 'downloadLimit', 'downloadLimited', row.downloadLimit, ctx.remembered.down, hash);
  if (down !== undefined) patch.downloadLimit = down;
  const up = limitOf(args, 'uploadLimit', 'uploadLimited', row.uploadLimit, ctx.remembered.up, hash);
  if (up !== undefined) patch.uploadLimit = up;

  const ratio = num(args, 'seedRatioLimit');
  if (ratio !== undefined && ratio < 0) throw new RpcError('"seedRatioLimit" must be 0 or more');
  const ratioGoal = goalOf(int(args, 'seedRatioMode'), ratio, row.ratioLimit, 'seedRatioLimit');
  if (ratioGoal !== undefined) patch.ratioLimit = ratioGoal;
  const idle = int(args, 'seedIdleLimit');
  if (idle !== undefined && idle < 0) throw new RpcError('"seedIdleLimit" must be 0 or more minutes');
  const timeGoal = goalOf(int(args, 'seedIdleMode'), idle === undefined ? undefined : idle * 60, row.seedingTimeLimit, 'seedIdleLimit');
  if (timeGoal !== undefined) patch.seedingTimeLimit = timeGoal;

  const labels = strings(args, 'labels');
  if (labels !== undefined) {
    const split = splitLabels(labels, ops.categories().map((c) => c.name), row.category);
    patch.category = split.category;
    patch.tags = split.tags;
  }

  if (bool(args, 'honorsSessionLimits') === false) problems.push('Cascade’s node-wide limits always apply (honorsSessionLimits)');
  const prio = int(args, 'bandwidthPriority');
  if (prio !== undefined && prio !== 0) problems.push('Cascade has no bandwidth priority');
  const peerLimit = int(args, 'peer-limit');
  if (peerLimit !== undefined && peerLimit !== PEER_LIMIT_PER_TORRENT) problems.push('the peer limit is the node’s, not per torrent');
  const group = str(args, 'group');
  if (group !== undefined) ctx.groups?.join(hash, group, patch);
  const location = str(args, 'location');
  if (location !== undefined) {
    if (!location.startsWith('/')) throw new RpcError('location path is not absolute');
    patch.savePath = location; // the data moves there, as torrent-set-location with "move"
  }
  const wanted = indexes(args, 'files-wanted');
  const unwanted = indexes(args, 'files-unwanted');
  if (wanted !== undefined || unwanted !== undefined) await selectFiles(ops, hash, wanted, unwanted);

  await setPriorities(ops, hash, args);
  await setTrackers(ops, hash, args);

  if (Object.keys(patch).length > 0) await ops.setTorrent(hash, patch);

  const position = int(args, 'queuePosition');
  if (position !== undefined) await moveTo(ops, row, position);
}

/** files-wanted / files-unwanted, by Transmission's file index (Cascade's list, padding files left out); [] = every file. */
async function selectFiles(ops: CompatOps, hash: string, wanted: number[] | undefined, unwanted: number[] | undefined): Promise<void> {
  const files = ops.info(hash).files;
  if (files === null) throw new RpcError('the torrent’s files are not known yet (its metadata is still being fetched)');
  const all = files.map((_, i) => i);
  for (const i of [...(wanted ?? []), ...(unwanted ?? [])]) if (i >= files.length) throw new RpcError('file index out of range');
  const chosen = new Set(files.flatMap((f, i) => (f.selected ? [i] : [])));
  if (wanted !== undefined) for (const i of wanted.length === 0 ? all : wanted) chosen.add(i);
  if (unwanted !== undefined) for (const i of unwanted.length === 0 ? all : unwanted) chosen.delete(i);
  const selected = files.filter((_, i) => chosen.has(i)).map((f) => f.index);
  await ops.selectFiles(hash, selected.length === files.length ? null : selected);
}

/** Transmission's queue position (0-based) → moves in Cascade's download queue; complete torrents have no place. */
async function moveTo(ops: CompatOps, row: TorrentRow, target: number): Promise<void> {
  if (row.queuePosition === null) return;
  // The download queue comes first in Transmission's numbering, so its places are 0 … queued-1.
  const current = row.queuePosition - 1;
  const queued = ops.list().filter((r) => r.queuePosition !== null).length;
  const to = Math.max(0, Math.min(target, queued - 1));
  if (to === current) return;
  if (to === 0) return ops.moveInQueue([row.infoHash], 'top');
  if (to === queued - 1) return ops.moveInQueue([row.infoHash], 'bottom');
  for (let i = 0; i < Math.abs(to - current); i++) {
    try {
      await ops.moveInQueue([row.infoHash], to < current ? 'up' : 'down');
    } catch (err) {
      throw new RpcError(messageOf(err));
    }
  }
}

const PRIORITY_KEYS: [string, FilePriority][] = [['priority-high', 'high'], ['priority-normal', 'normal'], ['priority-low', 'low']];

/** priority-high / -normal / -low by Transmission's file index ([] = every file): Cascade fetches a
 *  high-priority file's pieces first; low is kept for display and fetched as normal. */
async function setPriorities(ops: CompatOps, hash: string, args: Args): Promise<void> {
  const given = PRIORITY_KEYS.map(([key, priority]) => [indexes(args, key), priority] as const).filter(([list]) => list !== undefined);
  if (given.length === 0) return;
  const files = ops.files(hash);
  if (files === null) throw new RpcError('the torrent’s files are not known yet (its metadata is still being fetched)');
  for (const [list, priority] of given) {
    for (const i of list!) if (i >= files.length) throw new RpcError('file index out of range');
    const chosen = list!.length === 0 ? files : list!.map((i) => files[i]!);
    await ops.setPieceOrder(hash, { priorities: { files: chosen.map((f) => f.index), priority } });
  }
}

/** trackerList (tiers: one URL a line, a blank line between tiers) and the older trackerAdd
 *  (URLs), trackerRemove (ids) and trackerReplace ([id, URL, …]) that transmission-remote 3.00 sends;
 *  ids are positions in torrent-get's `trackers`. */
async function setTrackers(ops: CompatOps, hash: string, args: Args): Promise<void> {
  const list = str(args, 'trackerList');
  if (list !== undefined) {
    const tiers = list.split(/\r?\n\s*\r?\n/).map((t) => t.split(/\r?\n/).map((u) => u.trim()).filter((u) => u !== '')).filter((t) => t.length > 0);
    await ops.setTrackerTiers(hash, tiers);
  }
  const add = strings(args, 'trackerAdd');
  const remove = args.trackerRemove;
  const replace = args.trackerReplace;
  if (remove === undefined && replace === undefined && add === undefined) return;
  const rows = trackerRows(ops, hash, ops.info(hash).trackers);
  const urlOf = (id: unknown) => {
    const row = typeof id === 'number' ? rows[id] : undefined;
    if (!row) throw new RpcError(`no tracker with id ${JSON.stringify(id)}`);
    return row.url;
  };
  if (replace !== undefined) {
    if (!Array.isArray(replace) || replace.length % 2 !== 0) throw new RpcError('"trackerReplace" must be a list of id, URL pairs');
    for (let i = 0; i < replace.length; i += 2) {
      if (typeof replace[i + 1] !== 'string') throw new RpcError('"trackerReplace" must be a list of id, URL pairs');
      await ops.editTracker(hash, urlOf(replace[i]), replace[i + 1] as string);
    }
  }
  if (remove !== undefined) {
    if (!Array.isArray(remove)) throw new RpcError('"trackerRemove" must be a list of tracker ids');
    await ops.removeTrackers(hash, remove.map(urlOf));
  }
  if (add !== undefined && add.length > 0) await ops.addTrackers(hash, add);
}
