// RSS rows in the state DB (tables made by the migration in state-schema.ts): feeds, items, rules,
// matches and the RSS settings. Plain data access; rss/service.ts decides what to do with them.

import type { StateDB } from '../state/state-db.ts';
import type {
  RssFeedRecord as FeedRecord,
  RssItemRecord as ItemRecord,
  RssMatch as MatchRecord,
  RssParsedItem as ParsedItem,
  RssRule as RuleRecord,
  RssRuleFields as RuleFields,
  RssSettings,
} from '@cascade/shapes';

// The rows' shapes are @cascade/shapes' (the API, the RPCs, the CLI and the web app read the same).
export type { FeedRecord, ItemRecord, MatchRecord, RssSettings, RuleFields, RuleRecord };

const FEED_TREE_KEY = 'feedTree';

export const DEFAULT_RSS_SETTINGS: RssSettings = { refreshInterval: 30 * 60, maxItemsPerFeed: 200 };

type Row = Record<string, unknown>;
const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));
const s = (v: unknown) => (v === null || v === undefined ? null : String(v));

function feed(r: Row): FeedRecord {
  return {
    id: Number(r.id),
    url: String(r.url),
    title: s(r.title),
    refreshInterval: n(r.refresh_interval),
    lastRefreshAt: n(r.last_refresh_at),
    lastSuccessAt: n(r.last_success_at),
    lastError: s(r.last_error),
    createdAt: Number(r.created_at),
  };
}

function item(r: Row): ItemRecord {
  return {
    feedId: Number(r.feed_id),
    guid: String(r.guid),
    title: String(r.title),
    torrentUrl: s(r.torrent_url),
    link: s(r.link),
    publishedAt: n(r.published_at),
    size: n(r.size),
    read: r.read === 1,
    firstSeenAt: Number(r.first_seen_at),
  };
}

function rule(r: Row): RuleRecord {
  return {
    id: Number(r.id),
    name: String(r.name),
    enabled: r.enabled === 1,
    mustContain: String(r.must_contain),
    mustNotContain: String(r.must_not_contain),
    useRegex: r.use_regex === 1,
    episodeFilter: String(r.episode_filter),
    smartFilter: r.smart_filter === 1,
    feeds: JSON.parse(String(r.feeds)) as number[],
    category: s(r.category),
    savePath: s(r.save_path),
    tags: JSON.parse(String(r.tags)) as string[],
    addPaused: r.add_paused === 1,
    lastError: s(r.last_error),
    createdAt: Number(r.created_at),
    lastMatchAt: n(r.last_match_at),
  };
}

function match(r: Row): MatchRecord {
  return {
    id: Number(r.id),
    feedId: Number(r.feed_id),
    guid: String(r.guid),
    ruleId: Number(r.rule_id),
    ruleName: String(r.rule_name),
    title: String(r.title),
    source: String(r.source),
    infoHash: s(r.info_hash),
    episode: s(r.episode),
    error: s(r.error),
    attempts: Number(r.attempts),
    at: Number(r.at),
  };
}

const b = (v: boolean) => (v ? 1 : 0);
/** A rule's last successful take, as a column of a query over rss_rules aliased r. */
const LAST_MATCH = '(SELECT max(at) FROM rss_matches m WHERE m.rule_id = r.id AND m.error IS NULL) AS last_match_at';

export class RssStore {
  readonly db: StateDB;
  constructor(db: StateDB) {
    this.db = db;
  }

  // ---- settings ----

  settings(): RssSettings {
    const out = { ...DEFAULT_RSS_SETTINGS };
    for (const r of this.db.prepare('SELECT key, value FROM rss_settings').all() as Row[]) {
      const key = String(r.key) as keyof RssSettings;
      if (Object.hasOwn(out, key)) out[key] = JSON.parse(String(r.value)) as number;
    }
    return out;
  }

  saveSettings(patch: Partial<RssSettings>): RssSettings {
    const stmt = this.db.prepare('INSERT INTO rss_settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
    this.db.transaction(() => {
      for (const [k, v] of Object.entries(patch)) if (v !== undefined) stmt.run(k, JSON.stringify(v));
    });
    return this.settings();
  }

  /** How remotes arrange the feeds (qBittorrent's folders and feed names): a JSON document kept
   *  beside the settings under its own key, which settings() does not read. null = none yet. */
  feedTree(): string | null {
    const r = this.db.prepare('SELECT value FROM rss_settings WHERE key = ?').get(FEED_TREE_KEY) as Row | undefined;
    return r ? String(r.value) : null;
  }

  saveFeedTree(json: string): void {
    this.db.prepare('INSERT INTO rss_settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(FEED_TREE_KEY, json);
  }

  // ---- feeds ----

  feeds(): FeedRecord[] {
    return (this.db.prepare('SELECT * FROM rss_feeds ORDER BY id').all() as Row[]).map(feed);
  }

  feed(id: number): FeedRecord | undefined {
    const r = this.db.prepare('SELECT * FROM rss_feeds WHERE id = ?').get(id) as Row | undefined;
    return r && feed(r);
  }

  feedByUrl(url: string): FeedRecord | undefined {
    const r = this.db.prepare('SELECT * FROM rss_feeds WHERE url = ?').get(url) as Row | undefined;
    return r && feed(r);
  }

  addFeed(url: string, refreshInterval: number | null): FeedRecord {
    const r = this.db
      .prepare('INSERT INTO rss_feeds (url, refresh_interval, created_at) VALUES (?, ?, ?) RETURNING *')
      .get(url, refreshInterval, Date.now()) as Row;
    return feed(r);
  }

  updateFeed(id: number, patch: { url?: string; refreshInterval?: number | null }): void {
    if (patch.url !== undefined) this.db.prepare('UPDATE rss_feeds SET url = ? WHERE id = ?').run(patch.url, id);
    if (patch.refreshInterval !== undefined) this.db.prepare('UPDATE rss_feeds SET refresh_interval = ? WHERE id = ?').run(patch.refreshInterval, id);
  }

  removeFeed(id: number): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM rss_items WHERE feed_id = ?').run(id);
      this.db.prepare('DELETE FROM rss_feeds WHERE id = ?').run(id);
    });
  }

  /** Records a refresh that failed: the items stay as they were. */
  feedFailed(id: number, error: string, at: number): void {
    this.db.prepare('UPDATE rss_feeds SET last_refresh_at = ?, last_error = ? WHERE id = ?').run(at, error, id);
  }

  /**
   * Records a successful refresh: new items are inserted (unread), known ones keep their read flag,
   * and only the newest `keep` items stay. Returns the guids that were new.
   */
  feedRefreshed(id: number, title: string | null, items: ParsedItem[], keep: number, at: number): Set<string> {
    const fresh = new Set<string>();
    this.db.transaction(() => {
      this.db.prepare('UPDATE rss_feeds SET title = COALESCE(?, title), last_refresh_at = ?, last_success_at = ?, last_error = NULL WHERE id = ?').run(title, at, at, id);
      const insert = this.db.prepare(
        `INSERT INTO rss_items (feed_id, guid, title, torrent_url, link, published_at, size, first_seen_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(feed_id, guid) DO UPDATE SET title = excluded.title, torrent_url = excluded.torrent_url,
           link = excluded.link, published_at = excluded.published_at, size = excluded.size`,
      );
      const known = new Set((this.db.prepare('SELECT guid FROM rss_items WHERE feed_id = ?').all(id) as Row[]).map((r) => String(r.guid)));
      // A feed lists newest first; first_seen_at steps down so that order survives as a tiebreak.
      items.forEach((i, k) => {
        if (!known.has(i.guid)) fresh.add(i.guid);
        insert.run(id, i.guid, i.title, i.torrentUrl, i.link, i.publishedAt, i.size, at - k);
      });
      this.db
        .prepare(
          `DELETE FROM rss_items WHERE feed_id = ? AND guid NOT IN (
             SELECT guid FROM rss_items WHERE feed_id = ? ORDER BY COALESCE(published_at, first_seen_at) DESC, first_seen_at DESC LIMIT ?)`,
        )
        .run(id, id, keep);
    });
    return fresh;
  }

  // ---- items ----

  items(feedId: number): ItemRecord[] {
    return (
      this.db
        .prepare('SELECT * FROM rss_items WHERE feed_id = ? ORDER BY COALESCE(published_at, first_seen_at) DESC, first_seen_at DESC')
        .all(feedId) as Row[]
    ).map(item);
  }

  allItems(): ItemRecord[] {
    return (this.db.prepare('SELECT * FROM rss_items ORDER BY feed_id, COALESCE(published_at, first_seen_at) DESC, first_seen_at DESC').all() as Row[]).map(item);
  }

  counts(feedId: number): { items: number; unread: number } {
    const r = this.db.prepare('SELECT count(*) AS items, coalesce(sum(read = 0), 0) AS unread FROM rss_items WHERE feed_id = ?').get(feedId) as Row;
    return { items: Number(r.items), unread: Number(r.unread) };
  }

  markRead(feedId: number, guids: string[] | 'all', read = true): number {
    if (guids === 'all') return Number(this.db.prepare('UPDATE rss_items SET read = ? WHERE feed_id = ?').run(b(read), feedId).changes);
    const stmt = this.db.prepare('UPDATE rss_items SET read = ? WHERE feed_id = ? AND guid = ?');
    let changed = 0;
    this.db.transaction(() => {
      for (const g of guids) changed += Number(stmt.run(b(read), feedId, g).changes);
    });
    return changed;
  }

  // ---- rules ----

  rules(): RuleRecord[] {
    return (this.db.prepare(`SELECT *, ${LAST_MATCH} FROM rss_rules r ORDER BY id`).all() as Row[]).map(rule);
  }

  rule(id: number): RuleRecord | undefined {
    const r = this.db.prepare(`SELECT *, ${LAST_MATCH} FROM rss_rules r WHERE id = ?`).get(id) as Row | undefined;
    return r && rule(r);
  }

  addRule(f: RuleFields): RuleRecord {
    const r = this.db
      .prepare(
        `INSERT INTO rss_rules (name, enabled, must_contain, must_not_contain, use_regex, episode_filter, smart_filter,
                                feeds, category, save_path, tags, add_paused, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *, NULL AS last_match_at`,
      )
      .get(
        f.name, b(f.enabled), f.mustContain, f.mustNotContain, b(f.useRegex), f.episodeFilter, b(f.smartFilter),
        JSON.stringify(f.feeds), f.category, f.savePath, JSON.stringify(f.tags), b(f.addPaused), Date.now(),
      ) as Row;
    return rule(r);
  }

  updateRule(id: number, f: RuleFields): void {
    this.db
      .prepare(
        `UPDATE rss_rules SET name = ?, enabled = ?, must_contain = ?, must_not_contain = ?, use_regex = ?, episode_filter = ?,
           smart_filter = ?, feeds = ?, category = ?, save_path = ?, tags = ?, add_paused = ?, last_error = NULL WHERE id = ?`,
      )
      .run(
        f.name, b(f.enabled), f.mustContain, f.mustNotContain, b(f.useRegex), f.episodeFilter, b(f.smartFilter),
        JSON.stringify(f.feeds), f.category, f.savePath, JSON.stringify(f.tags), b(f.addPaused), id,
      );
  }

  setRuleError(id: number, error: string | null): void {
    this.db.prepare('UPDATE rss_rules SET last_error = ? WHERE id = ?').run(error, id);
  }

  removeRule(id: number): void {
    this.db.prepare('DELETE FROM rss_rules WHERE id = ?').run(id);
  }

  // ---- matches ----

  matches(limit = 500): MatchRecord[] {
    return (this.db.prepare('SELECT * FROM rss_matches ORDER BY at DESC, id DESC LIMIT ?').all(limit) as Row[]).map(match);
  }

  matchOf(feedId: number, guid: string): MatchRecord | undefined {
    const r = this.db.prepare('SELECT * FROM rss_matches WHERE feed_id = ? AND guid = ?').get(feedId, guid) as Row | undefined;
    return r && match(r);
  }

  /** A successful take of the same .torrent URL or magnet (another feed may list the same torrent). */
  takenSource(source: string): MatchRecord | undefined {
    const r = this.db.prepare('SELECT * FROM rss_matches WHERE source = ? AND error IS NULL ORDER BY at LIMIT 1').get(source) as Row | undefined;
    return r && match(r);
  }

  /** The episodes a rule has taken (successful matches only), for the smart episode filter. */
  takenEpisodes(ruleId: number): Set<string> {
    const rows = this.db.prepare('SELECT episode FROM rss_matches WHERE rule_id = ? AND episode IS NOT NULL AND error IS NULL').all(ruleId) as Row[];
    return new Set(rows.map((r) => String(r.episode)));
  }

  /** Records a take (or a failed attempt, retried later): one row per feed item, ever. */
  recordMatch(m: Omit<MatchRecord, 'id' | 'attempts'>): MatchRecord {
    const r = this.db
      .prepare(
        `INSERT INTO rss_matches (feed_id, guid, rule_id, rule_name, title, source, info_hash, episode, error, at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(feed_id, guid) DO UPDATE SET rule_id = excluded.rule_id, rule_name = excluded.rule_name,
           source = excluded.source, info_hash = excluded.info_hash, episode = excluded.episode, error = excluded.error,
           attempts = attempts + 1, at = excluded.at
         RETURNING *`,
      )
      .get(m.feedId, m.guid, m.ruleId, m.ruleName, m.title, m.source, m.infoHash, m.episode, m.error, m.at) as Row;
    return match(r);
  }
}
