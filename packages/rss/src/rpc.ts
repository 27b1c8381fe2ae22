// The control RPCs `rss.*` (the CLI's `cascade rss …`): the same operations as the HTTP routes.

import type { RssService } from './service.ts';

/** Methods for the node's control endpoint (`ControlServer.extend`): name → handler of its params. */
export type RpcHandlers = Record<string, (params: Record<string, unknown>) => unknown>;

export function rssRpc(rss: RssService): RpcHandlers {
  return {
    'rss.feeds': async () => ({ feeds: await rss.feeds() }),
    'rss.addFeed': (p) => rss.addFeed({ url: p.url, ...(p.refreshInterval !== undefined ? { refreshInterval: p.refreshInterval } : {}) }),
    'rss.updateFeed': (p) => {
      const { id, ...rest } = p;
      return rss.updateFeed(id, rest);
    },
    'rss.removeFeed': (p) => rss.removeFeed(p.id),
    'rss.refresh': async (p) => ({ feeds: await rss.refresh(p.id) }),
    'rss.items': (p) => rss.items(p.id),
    'rss.rules': async () => ({ rules: await rss.rules() }),
    'rss.addRule': (p) => rss.addRule(p),
    'rss.updateRule': (p) => {
      const { id, ...rest } = p;
      return rss.updateRule(id, rest);
    },
    'rss.removeRule': (p) => rss.removeRule(p.id),
    'rss.preview': (p) => {
      const { id, ...rest } = p;
      return rss.preview(id, rest);
    },
    'rss.matches': () => rss.matches(),
    'rss.settings': (p) => (Object.keys(p).length > 0 ? rss.setSettings(p) : rss.settings()),
  };
}
