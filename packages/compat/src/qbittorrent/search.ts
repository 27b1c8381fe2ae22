// search/* (searchcontroller.cpp of qBittorrent 5.0) over Cascade's search: the node's library and
// the DHT's signed records, offered as one search plugin, "cascade". A search runs in the
// background as qBittorrent's do (start answers its id at once; status and results are polled),
// per WebUI session as there, at most 5 running at once. Plugins cannot be installed, uninstalled
// or updated: those answer 200 and change nothing, which is what qBittorrent answers when an
// install fails (the failure only reaches its log).
import type { SearchRow } from '../ops.ts';
import { type ActionContext, type ActionSpec, conflict, fromOps, intParam, notFound, param, parseBool, requireParams } from './http.ts';

export const PLUGIN = 'cascade';
const MAX_CONCURRENT_SEARCHES = 5;

interface Search {
  running: boolean;
  results: SearchRow[];
  /** Ends the DHT look-ups of a search still running (stop, delete). */
  abort?: AbortController;
}

/** Searches by session (qBittorrent's controllers are per session). */
const searchesOf = new WeakMap<object, Map<number, Search>>();
/** Whether the plugin is enabled, per node (qBittorrent's plugin manager is one per process). */
const disabled = new WeakSet<object>();

function searches(ctx: ActionContext): Map<number, Search> {
  let m = searchesOf.get(ctx.session);
  if (!m) searchesOf.set(ctx.session, (m = new Map()));
  return m;
}

function searchOf(ctx: ActionContext): [number, Search] {
  requireParams(ctx, 'id');
  const id = Number.parseInt(param(ctx, 'id')!, 10);
  const s = searches(ctx).get(id);
  if (!s) throw notFound();
  return [id, s];
}

function magnetOf(r: SearchRow): string {
  const xt = [...(r.infoHash ? [`xt=urn:btih:${r.infoHash}`] : []), ...(r.infoHashV2 ? [`xt=urn:btmh:1220${r.infoHashV2}`] : [])];
  const pe = r.providers.map((p) => `x.pe=${encodeURIComponent(p)}`);
  return `magnet:?${[...xt, `dn=${encodeURIComponent(r.name)}`, ...(r.length > 0 ? [`xl=${r.length}`] : []), ...pe].join('&')}`;
}

/** One result as qBittorrent's getResults() writes it. A row of the node's own library has no
 *  providers listed (the node itself serves it) and links to its page in the web app. */
function resultJson(r: SearchRow, origin: string): object {
  const hash = r.infoHash ?? r.infoHashV2?.slice(0, 40) ?? '';
  return {
    fileName: r.name,
    fileUrl: magnetOf(r),
    fileSize: r.length,
    nbSeeders: r.providers.length > 0 ? r.providers.length : -1,
    nbLeechers: -1,
    engineName: PLUGIN,
    siteUrl: origin,
    descrLink: r.providers.length === 0 && hash !== '' ? `${origin}/#/torrents/${hash}` : '',
    pubDate: -1,
  };
}

async function start(ctx: ActionContext): Promise<object> {
  requireParams(ctx, 'pattern', 'category', 'plugins');
  const pattern = param(ctx, 'pattern')!.trim();
  const category = param(ctx, 'category')!.trim();
  const asked = param(ctx, 'plugins')!.split('|').map((p) => p.trim());
  const one = asked.length === 1 ? asked[0]!.toLowerCase() : '';
  const enabled = !disabled.has(ctx.ops);
  const usePlugin = one === 'all' ? true : one === 'enabled' || one === 'multi' ? enabled : asked.includes(PLUGIN);
  const all = searches(ctx);
  if ([...all.values()].filter((s) => s.running).length >= MAX_CONCURRENT_SEARCHES) {
    throw conflict(`Unable to create more than ${MAX_CONCURRENT_SEARCHES} concurrent searches.`);
  }
  let id: number;
  do id = 1 + Math.floor(Math.random() * 0x7ffffffe);
  while (all.has(id));
  const s: Search = { running: false, results: [] };
  // The plugin searches every category at once ("all"): asked for another, it finds nothing, as a
  // plugin that does not support that category gives nothing in qBittorrent.
  if (!usePlugin || (category !== 'all' && category !== '')) {
    all.set(id, s);
    return { id };
  }
  s.running = true;
  s.abort = new AbortController();
  let failure: unknown;
  const run = ctx.ops.search(pattern, s.abort.signal).then(
    (rows) => {
      if (s.running) s.results = rows;
    },
    (err: unknown) => {
      failure = err;
    },
  ).finally(() => {
    s.running = false;
  });
  // A query with nothing to search for fails at once: answered as a 400 naming why, no search kept.
  await Promise.race([run, new Promise((r) => setImmediate(r))]);
  if (failure !== undefined && !s.running) {
    const e = fromOps(ctx.ops, failure);
    if (e.status === 400) throw e;
  }
  all.set(id, s);
  return { id };
}

function status(ctx: ActionContext): object[] {
  const id = Number.parseInt(param(ctx, 'id') ?? '0', 10) || 0;
  const all = searches(ctx);
  if (id !== 0 && !all.has(id)) throw notFound();
  const ids = id === 0 ? [...all.keys()] : [id];
  return ids.map((i) => ({ id: i, status: all.get(i)!.running ? 'Running' : 'Stopped', total: all.get(i)!.results.length }));
}

function results(ctx: ActionContext): object {
  const [, s] = searchOf(ctx);
  const limit = intParam(ctx, 'limit') ?? 0;
  let offset = intParam(ctx, 'offset') ?? 0;
  const size = s.results.length;
  if (offset > size) throw conflict('Offset is out of range');
  if (offset < 0) offset = size + offset;
  if (offset < 0) throw conflict('Offset is out of range');
  const page = limit > 0 || offset > 0 ? s.results.slice(offset, limit > 0 ? offset + limit : undefined) : s.results;
  return { status: s.running ? 'Running' : 'Stopped', results: page.map((r) => resultJson(r, ctx.origin)), total: size };
}

function plugins(ctx: ActionContext): object[] {
  return [{
    name: PLUGIN,
    version: '1.0',
    fullName: 'Cascade (this node’s library and the DHT’s signed records)',
    url: ctx.origin,
    supportedCategories: [{ id: 'all', name: 'All categories' }],
    enabled: !disabled.has(ctx.ops),
  }];
}

async function downloadTorrent(ctx: ActionContext): Promise<undefined> {
  requireParams(ctx, 'torrentUrl', 'pluginName');
  try {
    await ctx.ops.add({ uri: param(ctx, 'torrentUrl')!.trim() });
  } catch (err) {
    throw fromOps(ctx.ops, err);
  }
  return undefined;
}

function enablePlugin(ctx: ActionContext): undefined {
  requireParams(ctx, 'names', 'enable');
  const names = param(ctx, 'names')!.split('|').map((n) => n.trim());
  const enable = parseBool(param(ctx, 'enable')) ?? false;
  if (names.includes(PLUGIN)) {
    if (enable) disabled.delete(ctx.ops);
    else disabled.add(ctx.ops);
  }
  return undefined;
}

export const searchActions: Record<string, ActionSpec> = {
  start: { method: 'POST', run: start },
  stop: {
    method: 'POST',
    run: (ctx) => {
      const [, s] = searchOf(ctx);
      // What was found so far stays; a look-up still under way asks no more DHT nodes.
      s.running = false;
      s.abort?.abort();
      return undefined;
    },
  },
  status: { method: 'any', run: status },
  results: { method: 'any', run: results },
  delete: {
    method: 'POST',
    run: (ctx) => {
      const [id, s] = searchOf(ctx);
      s.running = false;
      s.abort?.abort();
      searches(ctx).delete(id);
      return undefined;
    },
  },
  downloadTorrent: { method: 'any', run: downloadTorrent },
  plugins: { method: 'any', run: plugins },
  installPlugin: { method: 'POST', run: (ctx) => (requireParams(ctx, 'sources'), undefined) },
  uninstallPlugin: { method: 'POST', run: (ctx) => (requireParams(ctx, 'names'), undefined) },
  enablePlugin: { method: 'POST', run: enablePlugin },
  updatePlugins: { method: 'POST', run: () => undefined },
  // WebAPI before 2.6 (qBittorrent 4.1/4.2) listed the categories of a plugin ("all" for every one).
  categories: { method: 'any', run: () => ['All categories'] },
};
