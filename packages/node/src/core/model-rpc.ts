// Control RPC methods of the node model (the CLI's `settings`, `limits`, `category`, `tags`, `move`
// verbs): the same operations as the HTTP routes, with the same checks and messages. Errors keep
// their exit codes: a bad value is a InvalidInput (exit 2), an unknown torrent or category exit 1.

import { InvalidInput } from '@cascade/node-state/errors';
import type { RpcHandlers, RpcParams } from './control.ts';
import type { InfoHashResolver } from './node-parts.ts';
import type { NodeModel } from '../model/index.ts';
import { torrentDetail, type DetailNode } from '../listing/torrent-view.ts';

function hashArg(p: RpcParams): string {
  const v = p.infoHash;
  if (typeof v !== 'string' || v === '') throw new InvalidInput('missing "infoHash"');
  return v;
}

export function modelRpcs(node: DetailNode & InfoHashResolver & { readonly model: NodeModel }): RpcHandlers {
  const { model } = node;

  /** The row as `list` shows it, or the detail when the torrent is loaded. */
  const view = (ih: string) => {
    const t = node.session.get(ih);
    return t ? torrentDetail(node, t) : { infoHash: ih };
  };

  return {
    'settings.get': () => model.getSettings(),

    /** params: any subset of the settings (the same keys as PATCH /api/settings). */
    'settings.set': (p) => model.setSettings(p),

    /** params: {infoHash (full or a unique prefix), ...the PATCH /api/torrents/:infoHash fields}. */
    'torrent.set': async (p) => {
      const ih = node.resolve(hashArg(p));
      const { infoHash: _ih, ...patch } = p;
      await model.setTorrent(ih, patch);
      return view(ih);
    },

    /** params: {infoHash, tags: string[], remove?: true}: adds (or removes) tags, keeping the others. */
    'torrent.tags': async (p) => {
      const ih = node.resolve(hashArg(p));
      return { infoHash: ih, tags: await model.changeTags(ih, p.tags, p.remove === true ? 'remove' : 'add') };
    },

    'categories.list': () => ({ categories: model.listCategories() }),

    /** params: {name, savePath?} */
    'categories.add': (p) => model.addCategory(p),

    /** params: {name, savePath (null = the download dir)} */
    'categories.set': (p) => {
      const { name, ...rest } = p;
      return model.updateCategory(name, rest);
    },

    /** params: {name} */
    'categories.remove': async (p) => {
      await model.removeCategory(p.name);
      return { name: typeof p.name === 'string' ? p.name.trim() : p.name, removed: true };
    },

    'tags.list': () => ({ tags: model.tags() }),
  };
}
