// Client of the node's RSS routes (/api/rss/…, packages/http/src/routes/rss.ts).
import { request } from './api.ts';

export interface RssFeed {
  id: number;
  url: string;
  title: string | null;
  /** Seconds; null = the node's global interval. */
  refreshInterval: number | null;
  effectiveInterval: number;
  lastRefreshAt: number | null;
  lastSuccessAt: number | null;
  lastError: string | null;
  nextRefreshAt: number;
  refreshing: boolean;
  itemCount: number;
  unreadCount: number;
}

export interface RssItem {
  feedId: number;
  guid: string;
  title: string;
  torrentUrl: string | null;
  link: string | null;
  publishedAt: number | null;
  size: number | null;
  read: boolean;
  match: { ruleId: number; ruleName: string; infoHash: string | null; error: string | null; at: number } | null;
}

export interface RssRuleFields {
  name: string;
  enabled: boolean;
  mustContain: string;
  mustNotContain: string;
  useRegex: boolean;
  episodeFilter: string;
  smartFilter: boolean;
  feeds: number[];
  category: string | null;
  savePath: string | null;
  tags: string[];
  addPaused: boolean;
}

export interface RssRule extends RssRuleFields {
  id: number;
  lastError: string | null;
  createdAt: number;
  /** When it last took an item; null = never. */
  lastMatchAt: number | null;
}

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

export interface RssPreviewItem {
  feedId: number;
  guid: string;
  title: string;
  torrentUrl: string | null;
  episode: string | null;
  taken: boolean;
  duplicateEpisode: boolean;
}

export interface RssSettings {
  /** Seconds between reads of a feed without its own interval. */
  refreshInterval: number;
  maxItemsPerFeed: number;
}

export const rssApi = {
  feeds: async () => (await request<{ feeds: RssFeed[] }>('GET', '/api/rss/feeds')).feeds,
  addFeed: (url: string, refreshInterval?: number) =>
    request<RssFeed>('POST', '/api/rss/feeds', refreshInterval === undefined ? { url } : { url, refreshInterval }),
  updateFeed: (id: number, patch: { url?: string; refreshInterval?: number | null }) => request<RssFeed>('PATCH', `/api/rss/feeds/${id}`, patch),
  removeFeed: (id: number) => request<unknown>('DELETE', `/api/rss/feeds/${id}`),
  refreshFeed: (id: number) => request<RssFeed>('POST', `/api/rss/feeds/${id}/refresh`),
  refreshAll: () => request<{ feeds: RssFeed[] }>('POST', '/api/rss/refresh'),
  items: async (id: number) => (await request<{ items: RssItem[] }>('GET', `/api/rss/feeds/${id}/items`)).items,
  rules: async () => (await request<{ rules: RssRule[] }>('GET', '/api/rss/rules')).rules,
  addRule: (fields: RssRuleFields) => request<RssRule>('POST', '/api/rss/rules', fields),
  updateRule: (id: number, fields: Partial<RssRuleFields>) => request<RssRule>('PATCH', `/api/rss/rules/${id}`, fields),
  removeRule: (id: number) => request<unknown>('DELETE', `/api/rss/rules/${id}`),
  /** What a rule (saved: `id`; or a draft alone) would take among the current items. */
  preview: async (id: number | undefined, draft: Partial<RssRuleFields>) =>
    (await request<{ items: RssPreviewItem[] }>('POST', id === undefined ? '/api/rss/rules/preview' : `/api/rss/rules/${id}/preview`, draft)).items,
  settings: () => request<RssSettings>('GET', '/api/rss/settings'),
  setSettings: (patch: Partial<RssSettings>) => request<RssSettings>('PATCH', '/api/rss/settings', patch),
  /** Marks a feed's items read (all, or those guids). */
  markRead: (id: number, guids?: string[]) => request<unknown>('POST', `/api/rss/feeds/${id}/read`, guids ? { guids } : {}),
  matches: async () => (await request<{ matches: RssMatch[] }>('GET', '/api/rss/matches')).matches,
};
