// rss/* (rsscontroller.cpp of qBittorrent 5.0) over Cascade's RSS reader: the items tree (folders
// and feed paths, rss-tree.ts), feeds added, moved, renamed, removed, read and refreshed, and the
// download rules, which qBittorrent names by name and Cascade by id. Failures are qBittorrent's: a
// 409 with Session's message for the tree; markAsRead, refreshItem, renameRule and removeRule of
// something that is not there do nothing (200), as there.
import type { RssFeed, RssItemRecord, RssRule, RssRuleFields } from '../ops.ts';
import { type ActionContext, type ActionSpec, badRequest, conflict, fromOps, notFound, param, parseBool, requireParams } from './http.ts';
import { RssTree, nameOf, type TreeItem } from './rss-tree.ts';
import { rfc2822, ruleFieldsOf, ruleJson } from './rss-rules.ts';

type Obj = Record<string, unknown>;

/** A 4xx from the node as qBittorrent's Conflict (every tree failure is one there), its message kept. */
function asConflict(ctx: ActionContext, err: unknown): Error {
  const e = fromOps(ctx.ops, err);
  return e.status >= 400 && e.status < 500 ? conflict(e.message) : e;
}

/** A stable QUuid-looking id per Cascade feed id (qBittorrent's `uid`, braces included). */
export function uidOf(id: number): string {
  return `{00000000-0000-4000-8000-${id.toString(16).padStart(12, '0')}}`;
}

function articleJson(i: RssItemRecord): Obj {
  return {
    id: i.guid,
    date: rfc2822(i.publishedAt ?? i.firstSeenAt),
    title: i.title,
    ...(i.torrentUrl !== null ? { torrentURL: i.torrentUrl } : {}),
    ...(i.link !== null ? { link: i.link } : {}),
    isRead: i.read,
  };
}

async function feedJson(ctx: ActionContext, feed: RssFeed, withData: boolean): Promise<Obj> {
  const out: Obj = { uid: uidOf(feed.id), url: feed.url };
  if (!withData) return out;
  return {
    ...out,
    title: feed.title ?? '',
    // Cascade keeps the time of the last good refresh, not the document's lastBuildDate.
    lastBuildDate: rfc2822(feed.lastSuccessAt),
    isLoading: feed.refreshing,
    hasError: feed.lastError !== null,
    articles: (await ctx.ops.rss.items(feed.id)).map(articleJson),
  };
}

async function folderJson(ctx: ActionContext, tree: RssTree, folder: string, withData: boolean): Promise<Obj> {
  const out: Obj = {};
  for (const child of tree.children(folder)) {
    out[nameOf(child.path)] = child.kind === 'folder' ? await folderJson(ctx, tree, child.path, withData) : await feedJson(ctx, child.feed, withData);
  }
  return out;
}

function feedsOf(tree: RssTree, item: TreeItem): RssFeed[] {
  return item.kind === 'feed' ? [item.feed] : tree.feedsUnder(item.path);
}

async function addFeed(ctx: ActionContext): Promise<undefined> {
  requireParams(ctx, 'url', 'path');
  const url = param(ctx, 'url')!;
  const given = param(ctx, 'path')!;
  const path = given === '' ? url : given;
  const tree = await RssTree.load(ctx.ops.rss);
  if (tree.feedByUrl(url) || tree.feedByUrl(url.trim())) throw conflict(`RSS feed with given URL already exists: ${url}.`);
  tree.checkDest(path);
  let feed: RssFeed;
  try {
    feed = await ctx.ops.rss.addFeed(url);
  } catch (err) {
    throw asConflict(ctx, err);
  }
  await tree.placeFeed(path, feed);
  return undefined;
}

async function setFeedURL(ctx: ActionContext): Promise<undefined> {
  requireParams(ctx, 'path', 'url');
  const path = param(ctx, 'path')!;
  const url = param(ctx, 'url')!;
  const tree = await RssTree.load(ctx.ops.rss);
  const item = tree.item(path);
  if (item?.kind !== 'feed') throw conflict(`Feed doesn't exist: ${path}.`);
  if (url === item.feed.url) return undefined;
  if (tree.feedByUrl(url)) throw conflict(`RSS feed with given URL already exists: ${url}.`);
  try {
    await ctx.ops.rss.setFeedUrl(item.feed.id, url);
  } catch (err) {
    throw asConflict(ctx, err);
  }
  return undefined;
}

async function removeItem(ctx: ActionContext): Promise<undefined> {
  requireParams(ctx, 'path');
  const path = param(ctx, 'path')!;
  if (path === '') throw conflict('Cannot delete root folder.');
  const tree = await RssTree.load(ctx.ops.rss);
  const item = tree.item(path);
  if (!item) throw conflict(`Item doesn't exist: ${path}.`);
  for (const f of feedsOf(tree, item)) await ctx.ops.rss.removeFeed(f.id);
  await tree.forget(path);
  return undefined;
}

async function markAsRead(ctx: ActionContext): Promise<undefined> {
  requireParams(ctx, 'itemPath');
  const tree = await RssTree.load(ctx.ops.rss);
  const item = tree.item(param(ctx, 'itemPath')!);
  if (!item) return undefined;
  const articleId = param(ctx, 'articleId');
  if (articleId !== undefined) {
    // An article is named within a feed; with a folder, nothing happens (as qBittorrent).
    if (item.kind === 'feed') await ctx.ops.rss.markRead(item.feed.id, [articleId]);
  } else for (const f of feedsOf(tree, item)) await ctx.ops.rss.markRead(f.id, null);
  return undefined;
}

async function refreshItem(ctx: ActionContext): Promise<undefined> {
  requireParams(ctx, 'itemPath');
  const tree = await RssTree.load(ctx.ops.rss);
  const item = tree.item(param(ctx, 'itemPath')!);
  if (item) for (const f of feedsOf(tree, item)) ctx.ops.rss.refresh(f.id);
  return undefined;
}

async function ruleNamed(ctx: ActionContext, name: string): Promise<RssRule | undefined> {
  return (await ctx.ops.rss.rules()).find((r) => r.name === name);
}

async function setRule(ctx: ActionContext): Promise<undefined> {
  requireParams(ctx, 'ruleName', 'ruleDef');
  const name = param(ctx, 'ruleName')!;
  let def: unknown;
  try {
    def = JSON.parse(param(ctx, 'ruleDef')!);
  } catch {
    throw badRequest('ruleDef is not JSON');
  }
  if (!def || typeof def !== 'object' || Array.isArray(def)) throw badRequest('ruleDef must be a JSON object');
  const fields: Partial<RssRuleFields> = { ...ruleFieldsOf(def as Obj, await ctx.ops.rss.feeds()), name };
  const known = await ruleNamed(ctx, name);
  try {
    if (known) await ctx.ops.rss.updateRule(known.id, fields);
    else await ctx.ops.rss.addRule(fields);
  } catch (err) {
    throw fromOps(ctx.ops, err);
  }
  return undefined;
}

async function renameRule(ctx: ActionContext): Promise<undefined> {
  requireParams(ctx, 'ruleName', 'newRuleName');
  const rule = await ruleNamed(ctx, param(ctx, 'ruleName')!);
  const to = param(ctx, 'newRuleName')!;
  // AutoDownloader::renameRule: nothing to rename, or the new name taken: nothing happens.
  if (!rule || (await ruleNamed(ctx, to))) return undefined;
  try {
    await ctx.ops.rss.updateRule(rule.id, { name: to });
  } catch (err) {
    throw fromOps(ctx.ops, err);
  }
  return undefined;
}

/** WebUI API 2.15.4's cloneRule (what @ctrl/qbittorrent's cloneRssRule sends): a copy of a rule
 *  under a new name, with its filters, feeds and torrent options, not its match history. Unlike
 *  renameRule's silent no-ops, a client asked to clone wants to know why nothing was made. */
async function cloneRule(ctx: ActionContext): Promise<undefined> {
  requireParams(ctx, 'sourceName', 'cloneName');
  const to = param(ctx, 'cloneName')!.trim();
  if (to === '') throw badRequest('cloneName must not be empty');
  const source = await ruleNamed(ctx, param(ctx, 'sourceName')!);
  if (!source) throw notFound(`Rule doesn't exist: ${param(ctx, 'sourceName')!}`);
  if (await ruleNamed(ctx, to)) throw conflict(`A rule with this name already exists: ${to}`);
  const { id: _id, name: _name, lastError: _error, createdAt: _created, lastMatchAt: _last, ...fields } = source;
  try {
    await ctx.ops.rss.addRule({ ...fields, name: to });
  } catch (err) {
    throw fromOps(ctx.ops, err);
  }
  return undefined;
}

async function removeRule(ctx: ActionContext): Promise<undefined> {
  requireParams(ctx, 'ruleName');
  const rule = await ruleNamed(ctx, param(ctx, 'ruleName')!);
  if (rule) await ctx.ops.rss.removeRule(rule.id);
  return undefined;
}

async function rules(ctx: ActionContext): Promise<Obj> {
  const feeds = await ctx.ops.rss.feeds();
  const out: Obj = {};
  for (const r of await ctx.ops.rss.rules()) if (!Object.hasOwn(out, r.name)) out[r.name] = ruleJson(r, feeds);
  return out;
}

async function matchingArticles(ctx: ActionContext): Promise<Obj> {
  requireParams(ctx, 'ruleName');
  const rule = await ruleNamed(ctx, param(ctx, 'ruleName')!);
  // An unknown rule reads no feed: an empty answer, as qBittorrent's default rule gives.
  if (!rule) return {};
  const tree = await RssTree.load(ctx.ops.rss);
  const out: Record<string, string[]> = {};
  for (const item of await ctx.ops.rss.preview(rule.id)) {
    if (item.duplicateEpisode) continue;
    const path = tree.pathOfFeed(item.feedId);
    if (path === undefined) continue;
    (out[nameOf(path)] ??= []).push(item.title);
  }
  return out;
}

export const rssActions: Record<string, ActionSpec> = {
  addFolder: { method: 'POST', run: async (ctx) => (requireParams(ctx, 'path'), await (await RssTree.load(ctx.ops.rss)).addFolder(param(ctx, 'path')!), undefined) },
  addFeed: { method: 'POST', run: addFeed },
  setFeedURL: { method: 'POST', run: setFeedURL },
  removeItem: { method: 'POST', run: removeItem },
  moveItem: {
    method: 'POST',
    run: async (ctx) => (requireParams(ctx, 'itemPath', 'destPath'), await (await RssTree.load(ctx.ops.rss)).move(param(ctx, 'itemPath')!, param(ctx, 'destPath')!), undefined),
  },
  items: { method: 'any', run: async (ctx) => folderJson(ctx, await RssTree.load(ctx.ops.rss), '', parseBool(param(ctx, 'withData')) ?? false) },
  markAsRead: { method: 'POST', run: markAsRead },
  refreshItem: { method: 'POST', run: refreshItem },
  setRule: { method: 'POST', run: setRule },
  renameRule: { method: 'POST', run: renameRule },
  cloneRule: { method: 'POST', run: cloneRule },
  removeRule: { method: 'POST', run: removeRule },
  rules: { method: 'any', run: rules },
  matchingArticles: { method: 'any', run: matchingArticles },
};
