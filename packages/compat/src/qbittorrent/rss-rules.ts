// qBittorrent's auto-download rule JSON (AutoDownloadRule::toJsonObject / fromJsonObject of 5.0)
// and Cascade's rule fields. Read as 5.0 reads it: `torrentParams` when present, else the older
// savePath / assignedCategory / addPaused. What Cascade's rules have no place for (priority,
// ignoreDays, content layout, limits in torrentParams) is not kept; affectedFeeds name feeds by URL,
// Cascade by id (URLs it does not have are dropped). Cascade's empty feed list means every feed,
// qBittorrent's none: a rule naming no feed Cascade has is kept disabled, and a Cascade rule over
// every feed lists them all.
import type { RssFeed, RssRule, RssRuleFields } from '../ops.ts';

type Obj = Record<string, unknown>;

/** Qt's RFC 2822 form ("Wed, 26 Nov 2026 08:00:00 +0000"), as qBittorrent writes dates; '' = none. */
export function rfc2822(ms: number | null): string {
  if (ms === null) return '';
  return new Date(ms).toUTCString().replace(/GMT$/, '+0000');
}

const bool = (v: unknown, fallback: boolean): boolean => (typeof v === 'boolean' ? v : fallback);
const text = (v: unknown): string => (typeof v === 'string' ? v : '');

export function ruleFieldsOf(def: Obj, feeds: RssFeed[]): Partial<RssRuleFields> {
  const urls = typeof def.affectedFeeds === 'string' ? [def.affectedFeeds] : Array.isArray(def.affectedFeeds) ? def.affectedFeeds.filter((u): u is string => typeof u === 'string') : [];
  const ids = [...new Set(urls.flatMap((u) => feeds.filter((f) => f.url === u).map((f) => f.id)))];
  const params = def.torrentParams && typeof def.torrentParams === 'object' && !Array.isArray(def.torrentParams) ? (def.torrentParams as Obj) : undefined;
  const savePath = params ? text(params.save_path) : text(def.savePath);
  const category = params ? text(params.category) : text(def.assignedCategory);
  const paused = params ? params.stopped : def.addPaused;
  const tags = params && Array.isArray(params.tags) ? params.tags.filter((t): t is string => typeof t === 'string') : [];
  return {
    enabled: bool(def.enabled, true) && ids.length > 0,
    useRegex: bool(def.useRegex, false),
    mustContain: text(def.mustContain),
    mustNotContain: text(def.mustNotContain),
    episodeFilter: text(def.episodeFilter),
    smartFilter: bool(def.smartFilter, false),
    feeds: ids,
    savePath: savePath === '' ? null : savePath,
    category: category === '' ? null : category,
    tags,
    addPaused: bool(paused, false),
  };
}

export function ruleJson(r: RssRule, feeds: RssFeed[]): Obj {
  const affected = (r.feeds.length === 0 ? feeds : feeds.filter((f) => r.feeds.includes(f.id))).map((f) => f.url);
  return {
    enabled: r.enabled,
    priority: 0,
    useRegex: r.useRegex,
    mustContain: r.mustContain,
    mustNotContain: r.mustNotContain,
    episodeFilter: r.episodeFilter,
    affectedFeeds: affected,
    lastMatch: rfc2822(r.lastMatchAt),
    ignoreDays: 0,
    smartFilter: r.smartFilter,
    previouslyMatchedEpisodes: [],
    addPaused: r.addPaused,
    torrentContentLayout: null,
    savePath: r.savePath ?? '',
    assignedCategory: r.category ?? '',
    torrentParams: {
      category: r.category ?? '',
      tags: r.tags,
      save_path: r.savePath ?? '',
      download_path: '',
      operating_mode: 'AutoManaged',
      skip_checking: false,
      upload_limit: -1,
      download_limit: -1,
      seeding_time_limit: -2,
      inactive_seeding_time_limit: -2,
      share_limit_action: 'Default',
      ratio_limit: -2,
      ssl_certificate: '',
      ssl_private_key: '',
      ssl_dh_params: '',
      stopped: r.addPaused,
    },
  };
}
