// RSS: feeds, their items, download rules and what the rules took, as the state DB keeps them and as
// the API (/api/rss/…), the `rss.*` RPCs, `cascade rss` and the web app show them.

/** A feed item as read from the document. */
export interface RssParsedItem {
  /** Stable identity within the feed: guid/id, else the torrent URL, else the link, else the title. */
  guid: string;
  title: string;
  /** The .torrent URL or magnet to add; null when the item names none. */
  torrentUrl: string | null;
  /** The item's web page, when it has one besides the torrent. */
  link: string | null;
  /** ms since epoch, null when absent or unreadable. */
  publishedAt: number | null;
  /** Bytes, from the enclosure or `<torrent:contentLength>`; null when unknown. */
  size: number | null;
}

/** A feed as stored. */
export interface RssFeedRecord {
  id: number;
  url: string;
  title: string | null;
  /** Seconds; null = the global interval. */
  refreshInterval: number | null;
  lastRefreshAt: number | null;
  lastSuccessAt: number | null;
  lastError: string | null;
  createdAt: number;
}

/** A feed as shown: the stored one and its state now. */
export interface RssFeed extends RssFeedRecord {
  /** The interval in force: the feed's own, or the global one. */
  effectiveInterval: number;
  nextRefreshAt: number;
  refreshing: boolean;
  itemCount: number;
  unreadCount: number;
}

/** An item as stored. */
export interface RssItemRecord extends RssParsedItem {
  feedId: number;
  read: boolean;
  firstSeenAt: number;
}

/** An item as shown: with the take of it, when a rule took it. */
export interface RssItem extends RssItemRecord {
  /** The take of this item, when a rule took it. */
  match: { ruleId: number; ruleName: string; infoHash: string | null; error: string | null; at: number } | null;
}

/** What a download rule says: what it takes, from which feeds, and how it adds it. */
export interface RssRuleFields {
  name: string;
  enabled: boolean;
  mustContain: string;
  mustNotContain: string;
  useRegex: boolean;
  episodeFilter: string;
  smartFilter: boolean;
  /** Feed ids the rule reads; empty = every feed. */
  feeds: number[];
  category: string | null;
  savePath: string | null;
  tags: string[];
  addPaused: boolean;
}

/** A download rule as stored and shown. */
export interface RssRule extends RssRuleFields {
  id: number;
  lastError: string | null;
  createdAt: number;
  /** When it last took an item (ms), null = never. */
  lastMatchAt: number | null;
}

/** What a rule took (or tried to: `error`, `attempts`). */
export interface RssMatch {
  id: number;
  feedId: number;
  guid: string;
  ruleId: number;
  ruleName: string;
  title: string;
  source: string;
  infoHash: string | null;
  episode: string | null;
  error: string | null;
  attempts: number;
  at: number;
}

/** What a rule (saved, or a draft) would take among the current items. */
export interface RssPreviewItem {
  feedId: number;
  guid: string;
  title: string;
  torrentUrl: string | null;
  episode: string | null;
  /** Already taken (by this rule or another). */
  taken: boolean;
  /** The smart episode filter would skip it: this episode was taken before. */
  duplicateEpisode: boolean;
}

export interface RssSettings {
  /** Seconds between refreshes of a feed without its own interval. */
  refreshInterval: number;
  /** Items kept per feed (newest first); older ones are forgotten. */
  maxItemsPerFeed: number;
}
