// The RSS part of CompatOps: the node's RssService, whose checks (rss/validate.ts) every door shares,
// so a feed or rule made through qBittorrent's API is the one Cascade's API and web app show.

import type { RssOps } from '@cascade/compat';
import type { RssService } from '@cascade/node/features';

export function compatRss(rss: RssService): RssOps {
  return {
    feeds: () => rss.feeds(),
    items: (feedId) => rss.items(feedId).items,
    addFeed: (url) => rss.addFeed({ url }),
    setFeedUrl: (feedId, url) => void rss.updateFeed(feedId, { url }),
    removeFeed: (feedId) => void rss.removeFeed(feedId),
    markRead: (feedId, guids) => void rss.markRead(feedId, guids === null ? {} : { guids }),
    // A remote's "refresh" answers at once, as qBittorrent's does; a failure shows on the feed.
    refresh: (feedId) => void rss.refresh(feedId).catch(() => undefined),
    rules: () => rss.rules(),
    addRule: (fields) => rss.addRule(fields),
    updateRule: (ruleId, fields) => rss.updateRule(ruleId, fields),
    removeRule: (ruleId) => void rss.removeRule(ruleId),
    preview: (ruleId) => rss.preview(ruleId, undefined).items,
    feedTree: () => rss.feedTree(),
    setFeedTree: (tree) => rss.setFeedTree(tree),
  };
}
