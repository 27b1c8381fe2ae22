// Client of the node's RSS routes (/api/rss/…, packages/http/src/routes/rss.ts).
import { request } from './api.ts';
import type { RssFeed, RssItem, RssMatch, RssPreviewItem, RssRule, RssRuleFields, RssSettings } from '@cascade/shapes';

// The shapes the node sends and takes (@cascade/shapes).
export type { RssFeed, RssItem, RssMatch, RssPreviewItem, RssRule, RssRuleFields, RssSettings };

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
