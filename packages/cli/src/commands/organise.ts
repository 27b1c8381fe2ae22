// Categories and tags from the command line: the node's categories.* / tags.list / torrent.set
// operations online; the same model on the state DB offline.

import { UsageError } from '../core/errors.ts';
import { offlineModel } from '../core/offline-model.ts';
import { short, withDb, type Verb } from './node-access.ts';
import { findEntry } from './staples.ts';
import type { Category } from '@cascade/shapes';

const CATEGORY_USAGE = 'usage: cascade category [list] | add <name> [--save-path DIR] | remove <name> | set <infohash> <name|"">';

export const category: Verb = async (inv, out, node) => {
  const [sub = 'list', ...args] = inv.positionals;
  const want = (n: number) => {
    if (args.length !== n) throw new UsageError(`category ${sub} takes ${n === 1 ? 'a name' : 'an infohash and a name'}\n${CATEGORY_USAGE}`);
  };
  const online = node !== undefined;
  switch (sub) {
    case 'list': {
      want(0);
      const { categories } = node
        ? await node.call<{ categories: Category[] }>('categories.list')
        : await withDb(inv, async (db) => ({ categories: (await offlineModel(db)).model.listCategories() }));
      out.result({ categories, online }, () =>
        categories.length === 0
          ? 'no categories (add one with `cascade category add NAME [--save-path DIR]`)'
          : categories.map((c: Category) => `${c.name}  ${c.savePath ?? "(the node's download directory)"}`).join('\n'),
      );
      return 0;
    }
    case 'add': {
      want(1);
      const input = { name: args[0]!, ...(inv.options.savePath !== undefined ? { savePath: inv.options.savePath } : {}) };
      const c = node
        ? await node.call<Category>('categories.add', input)
        : await withDb(inv, async (db) => (await offlineModel(db)).model.addCategory(input));
      out.result({ ...c, added: true, online }, () => `added category ${c.name}${c.savePath ? ` → ${c.savePath}` : ''}`);
      return 0;
    }
    case 'remove': {
      want(1);
      if (inv.options.savePath !== undefined) throw new UsageError('--save-path goes with `category add`');
      const name = args[0]!;
      if (node) await node.call('categories.remove', { name });
      else await withDb(inv, async (db) => (await offlineModel(db)).model.removeCategory(name));
      out.result({ name, removed: true, online }, () => `removed category ${name}`);
      return 0;
    }
    case 'set': {
      want(2);
      const [hash, name] = args as [string, string];
      const value = name === '' ? null : name;
      let infoHash: string;
      if (node) {
        infoHash = (await findEntry(node, hash)).infoHash;
        await node.call('torrent.set', { infoHash, category: value });
      } else infoHash = await withDb(inv, async (db) => (await offlineModel(db)).setTorrent(hash, { category: value }));
      out.result({ infoHash, category: value, online }, () =>
        value === null ? `${short(infoHash)} is in no category now` : `${short(infoHash)} is in category ${value}`,
      );
      return 0;
    }
    default:
      throw new UsageError(`unknown category action "${sub}"\n${CATEGORY_USAGE}`);
  }
};

const TAGS_USAGE = 'usage: cascade tags [<infohash> [add|remove <tag>...]]';

export const tags: Verb = async (inv, out, node) => {
  const [hash, action, ...given] = inv.positionals;
  const online = node !== undefined;
  if (hash === undefined) {
    const { tags: all } = node ? await node.call<{ tags: string[] }>('tags.list') : await withDb(inv, async (db) => ({ tags: (await offlineModel(db)).model.tags() }));
    out.result({ tags: all, online }, () => (all.length === 0 ? 'no tags' : all.join('\n')));
    return 0;
  }
  if (action !== undefined && action !== 'add' && action !== 'remove') throw new UsageError(`unknown tags action "${action}"\n${TAGS_USAGE}`);
  if (action !== undefined && given.length === 0) throw new UsageError(`tags ${action} wants at least one tag\n${TAGS_USAGE}`);
  // "a,b" is two tags, as in the API's multipart form.
  const names = given.flatMap((t) => t.split(',')).map((t) => t.trim());
  if (names.some((t) => t === '')) throw new UsageError('a tag cannot be empty');
  let infoHash: string;
  let current: string[];
  if (node) {
    const e = await findEntry(node, hash);
    infoHash = e.infoHash;
    current = e.tags;
    // One call that adds to (or takes from) the tags the node has now: another client's change in
    // between is kept.
    if (action !== undefined) {
      current = (await node.call<{ tags: string[] }>('torrent.tags', { infoHash, tags: names, ...(action === 'remove' ? { remove: true } : {}) })).tags;
    }
  } else {
    ({ infoHash, tags: current } = await withDb(inv, async (db) => (await offlineModel(db)).torrentTags(hash, action, names)));
  }
  out.result({ infoHash, tags: current, online }, () => `${short(infoHash)}  ${current.length === 0 ? '(no tags)' : current.join(', ')}`);
  return 0;
};
