// search/* (searchcontroller.cpp of qBittorrent 5.0) over Cascade's search: the node's library and
// the DHT's signed records, offered as one search plugin, "cascade". A search runs in the
// background as qBittorrent's do (start answers its id at once; status and results are polled),
// per WebUI session as there, at most 5 running at once; kept in the adapters' memory (memory.ts:
// the node's state, so every member of a cluster answers for every search). Plugins cannot be installed, uninstalled
// or updated: those answer 200 and change nothing, which is what qBittorrent answers when an
// install fails (the failure only reaches its log).
import { createHash } from 'node:crypto';
import type { SearchRow } from '../ops.ts';
import { memoryOf } from '../memory.ts';
import { type ActionContext, type ActionSpec, conflict, fromOps, intParam, notFound, param, parseBool, requireParams } from './http.ts';

export const PLUGIN = 'cascade';
const MAX_CONCURRENT_SEARCHES = 5;
const API = 'qbittorrent';
/** Set while the plugin is turned off (qBittorrent's plugin manager is one per node). */
const PLUGIN_OFF = 'search-plugin-off';

/** A search as the adapters' memory keeps it (memory.ts: the node's state, so a search started
 *  through one member of a cluster is polled, stopped and deleted through any). */
interface Search {
  running: boolean;
  results: SearchRow[];
}

/** Ends the DHT look-ups of searches this process runs (stop, delete), by record name. */
const running = new Map<string, AbortController>();

/** Record names of a session's searches: its id hashed (the cookie itself is never stored). */
function prefixOf(ctx: ActionContext): string {
  return `search:${createHash('sha256').update(ctx.session.id).digest('hex').slice(0, 32)}:`;
}

async function searches(ctx: ActionContext): Promise<Map<number, Search>> {
  const prefix = prefixOf(ctx);
  const rows = await memoryOf(ctx.ops).list(API, prefix);
  return new Map(rows.map(([name, v]) => [Number(name.slice(prefix.length)), v as Search]));
}

async function searchOf(ctx: ActionContext): Promise<[string, Search]> {
  requireParams(ctx, 'id');
  const id = Number.parseInt(param(ctx, 'id')!, 10);
  const name = `${prefixOf(ctx)}${id}`;
  const s = Number.isSafeInteger(id) ? ((await memoryOf(ctx.ops).get(API, name)) as Search | undefined) : undefined;
  if (!s) throw notFound();
  return [name, s];
}

const pluginOn = async (ctx: ActionContext): Promise<boolean> => (await memoryOf(ctx.ops).get(API, PLUGIN_OFF)) !== true;

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
  const enabled = await pluginOn(ctx);
  const usePlugin = one === 'all' ? true : one === 'enabled' || one === 'multi' ? enabled : asked.includes(PLUGIN);
  const all = await searches(ctx);
  if ([...all.values()].filter((s) => s.running).length >= MAX_CONCURRENT_SEARCHES) {
    throw conflict(`Unable to create more than ${MAX_CONCURRENT_SEARCHES} concurrent searches.`);
  }
  let id: number;
  do id = 1 + Math.floor(Math.random() * 0x7ffffffe);
  while (all.has(id));
  const memory = memoryOf(ctx.ops);
  const name = `${prefixOf(ctx)}${id}`;
  // The plugin searches every category at once ("all"): asked for another, it finds nothing, as a
  // plugin that does not support that category gives nothing in qBittorrent.
  if (!usePlugin || (category !== 'all' && category !== '')) {
    await memory.set(API, name, { running: false, results: [] } satisfies Search);
    return { id };
  }
  const abort = new AbortController();
  running.set(name, abort);
  const stored = memory.set(API, name, { running: true, results: [] } satisfies Search);
  let failure: unknown;
  let ended = false;
  const run = ctx.ops.search(pattern, abort.signal).then(
    async (rows) => {
      ended = true;
      await stored;
      // Stopped meanwhile (through any member): what it had stays, as qBittorrent keeps it.
      const now = (await memory.get(API, name)) as Search | undefined;
      if (now?.running) await memory.set(API, name, { running: false, results: rows } satisfies Search);
    },
    async (err: unknown) => {
      ended = true;
      failure = err;
      await stored;
      const now = (await memory.get(API, name)) as Search | undefined;
      if (now?.running) await memory.set(API, name, { ...now, running: false } satisfies Search);
    },
  ).finally(() => running.delete(name));
  // A query with nothing to search for fails at once: answered as a 400 naming why, no search kept.
  await Promise.race([run, new Promise((r) => setImmediate(r))]);
  await stored;
  if (failure !== undefined && ended) {
    const e = fromOps(ctx.ops, failure);
    if (e.status === 400) {
      await run;
      await memory.delete(API, name);
      throw e;
    }
  }
  void run.catch(() => {});
  return { id };
}

async function status(ctx: ActionContext): Promise<object[]> {
  const id = Number.parseInt(param(ctx, 'id') ?? '0', 10) || 0;
  const all = await searches(ctx);
  if (id !== 0 && !all.has(id)) throw notFound();
  const ids = id === 0 ? [...all.keys()] : [id];
  return ids.map((i) => ({ id: i, status: all.get(i)!.running ? 'Running' : 'Stopped', total: all.get(i)!.results.length }));
}

async function results(ctx: ActionContext): Promise<object> {
  const [, s] = await searchOf(ctx);
  const limit = intParam(ctx, 'limit') ?? 0;
  let offset = intParam(ctx, 'offset') ?? 0;
  const size = s.results.length;
  if (offset > size) throw conflict('Offset is out of range');
  if (offset < 0) offset = size + offset;
  if (offset < 0) throw conflict('Offset is out of range');
  const page = limit > 0 || offset > 0 ? s.results.slice(offset, limit > 0 ? offset + limit : undefined) : s.results;
  return { status: s.running ? 'Running' : 'Stopped', results: page.map((r) => resultJson(r, ctx.origin)), total: size };
}

async function plugins(ctx: ActionContext): Promise<object[]> {
  return [{
    name: PLUGIN,
    version: '1.0',
    fullName: 'Cascade (this node’s library and the DHT’s signed records)',
    url: ctx.origin,
    supportedCategories: [{ id: 'all', name: 'All categories' }],
    enabled: await pluginOn(ctx),
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

async function enablePlugin(ctx: ActionContext): Promise<undefined> {
  requireParams(ctx, 'names', 'enable');
  const names = param(ctx, 'names')!.split('|').map((n) => n.trim());
  const enable = parseBool(param(ctx, 'enable')) ?? false;
  if (names.includes(PLUGIN)) {
    if (enable) await memoryOf(ctx.ops).delete(API, PLUGIN_OFF);
    else await memoryOf(ctx.ops).set(API, PLUGIN_OFF, true);
  }
  return undefined;
}

/** Ends a search (stop: what it found stays; delete: it goes too). A look-up this process runs
 *  asks no more DHT nodes; one another member runs finishes there and keeps nothing. */
async function end(ctx: ActionContext, remove: boolean): Promise<undefined> {
  const [name, s] = await searchOf(ctx);
  running.get(name)?.abort();
  if (remove) await memoryOf(ctx.ops).delete(API, name);
  else if (s.running) await memoryOf(ctx.ops).set(API, name, { ...s, running: false } satisfies Search);
  return undefined;
}

export const searchActions: Record<string, ActionSpec> = {
  start: { method: 'POST', run: start },
  stop: { method: 'POST', run: (ctx) => end(ctx, false) },
  status: { method: 'any', run: status },
  results: { method: 'any', run: results },
  delete: { method: 'POST', run: (ctx) => end(ctx, true) },
  downloadTorrent: { method: 'any', run: downloadTorrent },
  plugins: { method: 'any', run: plugins },
  installPlugin: { method: 'POST', run: (ctx) => (requireParams(ctx, 'sources'), undefined) },
  uninstallPlugin: { method: 'POST', run: (ctx) => (requireParams(ctx, 'names'), undefined) },
  enablePlugin: { method: 'POST', run: enablePlugin },
  updatePlugins: { method: 'POST', run: () => undefined },
  // WebAPI before 2.6 (qBittorrent 4.1/4.2) listed the categories of a plugin ("all" for every one).
  categories: { method: 'any', run: () => ['All categories'] },
};
