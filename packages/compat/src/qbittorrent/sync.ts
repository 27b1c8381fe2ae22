// sync/maindata?rid=N (synccontroller.cpp): the first answer (rid 0, or a rid this session no longer
// knows) is a full_update with every torrent, category, tag and the server state; each later one
// carries only what changed since the answer the client names — new torrents whole, changed ones
// with their changed fields only, torrents_removed, categories_removed, tags_removed — and a new rid.
// Each session keeps its last few answers (a client may retry an older rid), never more.
import type { CompatOps } from '../ops.ts';
import { type ActionContext, type ActionSpec } from './http.ts';
import { mapContext } from './torrents-read.ts';
import { qbTorrents, settingsKeyOf } from './torrent-map.ts';
import { transferInfo } from './transfer.ts';
import type { Snapshot } from './session-state.ts';

type Obj = Record<string, unknown>;

/** Answers kept per session to diff against: the last one, and the one before for a client that
 *  retries (qBittorrent keeps the last sent and the last accepted). */
const KEPT_SNAPSHOTS = 2;

/** Free space is read at most this often per node (qBittorrent's own checker runs on a timer). */
const FREE_SPACE_MS = 5000;
const freeSpaceOf = new WeakMap<object, { at: number; path: string; free: number }>();

async function freeSpace(ops: CompatOps, path: string): Promise<number> {
  const known = freeSpaceOf.get(ops);
  if (known && known.path === path && Date.now() - known.at < FREE_SPACE_MS) return known.free;
  let free = -1;
  try {
    free = (await ops.freeSpace(path)).free;
  } catch {
    // A download dir that is gone reports -1 rather than failing the whole sync.
  }
  freeSpaceOf.set(ops, { at: Date.now(), path, free });
  return free;
}

/** How old server_state's peer and DHT counts may be: qBittorrent refreshes them on a timer too. */
const COUNTS_MS = 1000;

async function serverState(ops: CompatOps): Promise<Obj> {
  const t = ops.transfer(COUNTS_MS);
  const s = ops.settings();
  const free = await freeSpace(ops, s.downloadDir);
  return {
    ...transferInfo(ops, t),
    alltime_dl: t.totalDownloaded,
    alltime_ul: t.totalUploaded,
    global_ratio: t.totalDownloaded > 0 && t.totalUploaded > 0 ? (t.totalUploaded / t.totalDownloaded).toFixed(2) : '-',
    total_peer_connections: t.peers,
    total_wasted_session: 0,
    free_space_on_disk: free,
    queueing: s.maxActiveDownloads > 0 || s.maxActiveUploads > 0 || s.maxActiveTorrents > 0,
    use_alt_speed_limits: s.altSpeedEnabled,
    refresh_interval: 1500,
    use_subcategories: false,
  };
}

type Torrents = Pick<Snapshot, 'torrents' | 'generation' | 'settingsKey' | 'orders'> & {
  /** The keys that may differ from the previous snapshot's; undefined = any (compare them all). */
  touched?: string[];
};

/**
 * The torrents as this poll maps them. Nothing changed since `prev` (same generation, settings
 * and piece orders): prev's map itself, no row read. A few rows changed and none went: prev's map
 * with those rows mapped again. Otherwise (the first poll, removals, new settings): every row.
 */
function torrentsNow(ctx: ActionContext, prev: Snapshot | undefined): Torrents {
  const { generation, size } = ctx.ops.listState();
  const m = mapContext(ctx);
  const stamp = { generation, settingsKey: settingsKeyOf(m.settings), orders: ctx.ops.pieceOrderVersion() };
  if (prev && prev.settingsKey === stamp.settingsKey && prev.orders === stamp.orders) {
    if (prev.generation === generation) return { ...stamp, torrents: prev.torrents, touched: [] };
    const rows = ctx.ops.listChangedSince(prev.generation);
    const added = rows.reduce((n, r) => n + (prev.torrents.has(r.infoHash) ? 0 : 1), 0);
    if (prev.torrents.size + added === size) {
      const torrents = new Map(prev.torrents);
      const touched: string[] = [];
      for (const t of qbTorrents(ctx.ops, rows, m, false)) {
        torrents.set(String(t.hash), t);
        touched.push(String(t.hash));
      }
      return { ...stamp, torrents, touched };
    }
  }
  const torrents = new Map<string, Obj>();
  // The hash is the key; qBittorrent leaves it out of the objects (sent without it below).
  for (const t of qbTorrents(ctx.ops, ctx.ops.list(), m)) torrents.set(String(t.hash), t);
  return { ...stamp, torrents };
}

async function snapshot(ctx: ActionContext, prev: Snapshot | undefined): Promise<{ now: Snapshot; touched?: string[] }> {
  const { touched, ...t } = torrentsNow(ctx, prev);
  const categories = new Map<string, Obj>(ctx.ops.categories().map((c) => [c.name, { name: c.name, savePath: c.savePath ?? '' }]));
  return { now: { ...t, categories, tags: new Set(ctx.ops.tags()), serverState: await serverState(ctx.ops) }, ...(touched ? { touched } : {}) };
}

function withoutHash(o: Obj): Obj {
  const { hash: _hash, ...rest } = o;
  return rest;
}

function changedFields(prev: Obj, next: Obj): Obj | undefined {
  const out: Obj = {};
  for (const [k, v] of Object.entries(next)) if (prev[k] !== v) out[k] = v;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** What differs from `prev` to `next`; `touched`: the only keys that may differ (none went). */
function diffMaps(prev: Map<string, Obj>, next: Map<string, Obj>, touched?: string[]): { changed: Obj; removed: string[] } {
  const changed: Obj = {};
  for (const key of touched ?? next.keys()) {
    const obj = next.get(key)!;
    const before = prev.get(key);
    if (before === obj) continue; // the same mapped object: nothing in it changed (qbTorrents)
    if (!before) changed[key] = withoutHash(obj);
    else {
      const d = changedFields(before, obj);
      if (d) changed[key] = d;
    }
  }
  return { changed, removed: touched ? [] : [...prev.keys()].filter((k) => !next.has(k)) };
}

async function maindata(ctx: ActionContext): Promise<Obj> {
  const state = (ctx.session.sync ??= { lastRid: 0, snapshots: new Map() });
  const asked = Number.parseInt(ctx.params.get('rid') ?? '0', 10);
  const prev = Number.isInteger(asked) && asked > 0 ? state.snapshots.get(asked) : undefined;
  const { now, touched } = await snapshot(ctx, prev);
  // Cycles 1..1000000 like qBittorrent's.
  const rid = (state.lastRid % 1_000_000) + 1;
  state.lastRid = rid;
  state.snapshots.set(rid, now);
  while (state.snapshots.size > KEPT_SNAPSHOTS) state.snapshots.delete(state.snapshots.keys().next().value as number);

  if (!prev) {
    return {
      rid,
      full_update: true,
      torrents: Object.fromEntries(Array.from(now.torrents, ([k, v]) => [k, withoutHash(v)])),
      categories: Object.fromEntries(now.categories),
      tags: [...now.tags],
      server_state: now.serverState,
    };
  }
  const out: Obj = { rid };
  const t = diffMaps(prev.torrents, now.torrents, touched);
  if (Object.keys(t.changed).length > 0) out.torrents = t.changed;
  if (t.removed.length > 0) out.torrents_removed = t.removed;
  const c = diffMaps(prev.categories, now.categories);
  if (Object.keys(c.changed).length > 0) out.categories = c.changed;
  if (c.removed.length > 0) out.categories_removed = c.removed;
  const addedTags = [...now.tags].filter((x) => !prev.tags.has(x));
  const removedTags = [...prev.tags].filter((x) => !now.tags.has(x));
  if (addedTags.length > 0) out.tags = addedTags;
  if (removedTags.length > 0) out.tags_removed = removedTags;
  const s = changedFields(prev.serverState, now.serverState);
  if (s) out.server_state = s;
  return out;
}

export const syncActions: Record<string, ActionSpec> = {
  maindata: { method: 'any', run: maindata },
};
