// The RSS part of CompatOps: the node's RssService (@cascade/rss), whose checks (its validate.ts)
// every door shares, so a feed or rule made through qBittorrent's API is the one Cascade's API and
// web app show.

import type { RssOps } from '@cascade/compat';
import type { RssService } from '@cascade/rss';

export function compatRss(rss: RssService): RssOps {
  return {
    feeds: () => rss.feeds(),
    items: async (feedId) => (await rss.items(feedId)).items,
    addFeed: (url) => rss.addFeed({ url }),
    setFeedUrl: async (feedId, url) => void (await rss.updateFeed(feedId, { url })),
    removeFeed: async (feedId) => void (await rss.removeFeed(feedId)),
    markRead: async (feedId, guids) => void (await rss.markRead(feedId, guids === null ? {} : { guids })),
    // A remote's "refresh" answers at once, as qBittorrent's does; a failure shows on the feed.
    refresh: (feedId) => void rss.refresh(feedId).catch(() => undefined),
    rules: () => rss.rules(),
    addRule: (fields) => rss.addRule(fields),
    updateRule: (ruleId, fields) => rss.updateRule(ruleId, fields),
    removeRule: async (ruleId) => void (await rss.removeRule(ruleId)),
    preview: async (ruleId) => (await rss.preview(ruleId, undefined)).items,
    feedTree: () => rss.feedTree(),
    setFeedTree: (tree) => rss.setFeedTree(tree),
  };
}
