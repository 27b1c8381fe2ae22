// RSS rows in the node's state (tables made by the node's migrations, packages/node-state/src/
// migrations.ts: the schema is one list for every table of the state): feeds, items, rules, matches
// and the RSS settings, through the node's Store (SQLite or PostgreSQL). Plain data access;
// service.ts decides what to do with them.

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

/** What statements run on (the node's Store, or one of its transactions: its `Queryable`), in its
 *  one SQL dialect: `?` parameters, `ON CONFLICT` upserts, integers back as numbers. */
export interface RssQueryable {
  all(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
  get(sql: string, params?: readonly SqlValue[]): Promise<Row | undefined>;
  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }>;
}

/** The node's Store, as far as RSS uses it: statements, and a transaction run as one. */
export interface RssDatabase extends RssQueryable {
  transaction<T>(fn: (tx: RssQueryable) => Promise<T>): Promise<T>;
}

type SqlValue = string | number | bigint | Uint8Array | null;
type Row = Record<string, unknown>;

const FEED_TREE_KEY = 'feedTree';

export const DEFAULT_RSS_SETTINGS: RssSettings = { refreshInterval: 30 * 60, maxItemsPerFeed: 200 };

/** A match (an item a rule took) is what keeps that item from being taken twice, so it stays while
 *  its item is in its feed; once the item left it and the match is this old (ms), it goes with the
 *  item cap's pruning below (docs/retention.md). A feed republishing an item after a year may then
 *  have it taken again; before, every match of every feed ever was kept. */
export const MATCH_RETENTION_MS = 365 * 86_400_000;

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
  readonly #store: RssDatabase;
  /** Where the node's state lives on disk: rules may not save into it. */
  readonly stateDir: string;

  constructor(store: RssDatabase, stateDir: string) {
    this.#store = store;
    this.stateDir = stateDir;
  }

  // ---- settings ----

  async settings(): Promise<RssSettings> {
    const out = { ...DEFAULT_RSS_SETTINGS };
    for (const r of await this.#store.all('SELECT key, value FROM rss_settings')) {
      const key = String(r.key) as keyof RssSettings;
      if (Object.hasOwn(out, key)) out[key] = JSON.parse(String(r.value)) as number;
    }
    return out;
  }

  async saveSettings(patch: Partial<RssSettings>): Promise<RssSettings> {
    await this.#store.transaction(async (tx) => {
      for (const [k, v] of Object.entries(patch)) if (v !== undefined) await putSetting(tx, k, JSON.stringify(v));
    });
    return this.settings();
  }

  /** How remotes arrange the feeds (qBittorrent's folders and feed names): a JSON document kept
   *  beside the settings under its own key, which settings() does not read. null = none yet. */
  async feedTree(): Promise<string | null> {
    const r = await this.#store.get('SELECT value FROM rss_settings WHERE key = ?', [FEED_TREE_KEY]);
    return r ? String(r.value) : null;
  }

  async saveFeedTree(json: string): Promise<void> {
    await putSetting(this.#store, FEED_TREE_KEY, json);
  }

  // ---- feeds ----

  async feeds(): Promise<FeedRecord[]> {
    return (await this.#store.all('SELECT * FROM rss_feeds ORDER BY id')).map(feed);
  }

  async feed(id: number): Promise<FeedRecord | undefined> {
    const r = await this.#store.get('SELECT * FROM rss_feeds WHERE id = ?', [id]);
    return r && feed(r);
  }

  async feedByUrl(url: string): Promise<FeedRecord | undefined> {
    const r = await this.#store.get('SELECT * FROM rss_feeds WHERE url = ?', [url]);
    return r && feed(r);
  }

  /** The new feed, or undefined when one of this URL exists (two adds of it at once: one wins). */
  async addFeed(url: string, refreshInterval: number | null): Promise<FeedRecord | undefined> {
    const r = await this.#store.get('INSERT INTO rss_feeds (url, refresh_interval, created_at) VALUES (?, ?, ?) ON CONFLICT (url) DO NOTHING RETURNING *', [url, refreshInterval, Date.now()]);
    return r && feed(r);
  }

  async updateFeed(id: number, patch: { url?: string; refreshInterval?: number | null }): Promise<void> {
    await this.#store.transaction(async (tx) => {
      if (patch.url !== undefined) await tx.run('UPDATE rss_feeds SET url = ? WHERE id = ?', [patch.url, id]);
      if (patch.refreshInterval !== undefined) await tx.run('UPDATE rss_feeds SET refresh_interval = ? WHERE id = ?', [patch.refreshInterval, id]);
    });
  }

  async removeFeed(id: number): Promise<void> {
    await this.#store.transaction(async (tx) => {
      await tx.run('DELETE FROM rss_items WHERE feed_id = ?', [id]);
      await tx.run('DELETE FROM rss_feeds WHERE id = ?', [id]);
    });
  }

  /** Records a refresh that failed: the items stay as they were. */
  async feedFailed(id: number, error: string, at: number): Promise<void> {
    await this.#store.run('UPDATE rss_feeds SET last_refresh_at = ?, last_error = ? WHERE id = ?', [at, error, id]);
  }

  /**
   * Records a successful refresh: new items are inserted (unread), known ones keep their read flag,
   * and only the newest `keep` items stay; matches past MATCH_RETENTION_MS whose item left go. Returns
   * the guids that were new.
   */
  async feedRefreshed(id: number, title: string | null, items: ParsedItem[], keep: number, at: number): Promise<Set<string>> {
    // Built inside: PostgreSQL may run the transaction again after a conflict.
    return this.#store.transaction(async (tx) => {
      const fresh = new Set<string>();
      await tx.run('UPDATE rss_feeds SET title = COALESCE(?, title), last_refresh_at = ?, last_success_at = ?, last_error = NULL WHERE id = ?', [title, at, at, id]);
      const known = new Set((await tx.all('SELECT guid FROM rss_items WHERE feed_id = ?', [id])).map((r) => String(r.guid)));
      // A feed lists newest first; first_seen_at steps down so that order survives as a tiebreak.
      for (const [k, i] of items.entries()) {
        if (!known.has(i.guid)) fresh.add(i.guid);
        await tx.run(
          `INSERT INTO rss_items (feed_id, guid, title, torrent_url, link, published_at, size, first_seen_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (feed_id, guid) DO UPDATE SET title = excluded.title, torrent_url = excluded.torrent_url,
             link = excluded.link, published_at = excluded.published_at, size = excluded.size`,
          [id, i.guid, i.title, i.torrentUrl, i.link, i.publishedAt, i.size, at - k],
        );
      }
      await tx.run(
        `DELETE FROM rss_items WHERE feed_id = ? AND guid NOT IN (
           SELECT guid FROM rss_items WHERE feed_id = ? ORDER BY COALESCE(published_at, first_seen_at) DESC, first_seen_at DESC LIMIT ?)`,
        [id, id, keep],
      );
      // Of every feed (a removed feed's matches too): the refresh is the one sweep RSS has.
      await tx.run(
        'DELETE FROM rss_matches WHERE at < ? AND NOT EXISTS (SELECT 1 FROM rss_items i WHERE i.feed_id = rss_matches.feed_id AND i.guid = rss_matches.guid)',
        [at - MATCH_RETENTION_MS],
      );
      return fresh;
    });
  }

  // ---- items ----

  async items(feedId: number): Promise<ItemRecord[]> {
    return (await this.#store.all('SELECT * FROM rss_items WHERE feed_id = ? ORDER BY COALESCE(published_at, first_seen_at) DESC, first_seen_at DESC', [feedId])).map(item);
  }

  async allItems(): Promise<ItemRecord[]> {
    return (await this.#store.all('SELECT * FROM rss_items ORDER BY feed_id, COALESCE(published_at, first_seen_at) DESC, first_seen_at DESC')).map(item);
  }

  async counts(feedId: number): Promise<{ items: number; unread: number }> {
    const r = await this.#store.get('SELECT count(*) AS items, coalesce(sum(CASE WHEN read = 0 THEN 1 ELSE 0 END), 0) AS unread FROM rss_items WHERE feed_id = ?', [feedId]);
    return { items: Number(r!.items), unread: Number(r!.unread) };
  }

  async markRead(feedId: number, guids: string[] | 'all', read = true): Promise<number> {
    if (guids === 'all') return (await this.#store.run('UPDATE rss_items SET read = ? WHERE feed_id = ?', [b(read), feedId])).changes;
    return this.#store.transaction(async (tx) => {
      let changed = 0;
      for (const g of guids) changed += (await tx.run('UPDATE rss_items SET read = ? WHERE feed_id = ? AND guid = ?', [b(read), feedId, g])).changes;
      return changed;
    });
  }

  // ---- rules ----

  async rules(): Promise<RuleRecord[]> {
    return (await this.#store.all(`SELECT *, ${LAST_MATCH} FROM rss_rules r ORDER BY id`)).map(rule);
  }

  async rule(id: number): Promise<RuleRecord | undefined> {
    const r = await this.#store.get(`SELECT *, ${LAST_MATCH} FROM rss_rules r WHERE id = ?`, [id]);
    return r && rule(r);
  }

  async addRule(f: RuleFields): Promise<RuleRecord> {
    const r = await this.#store.get(
      `INSERT INTO rss_rules (name, enabled, must_contain, must_not_contain, use_regex, episode_filter, smart_filter,
                              feeds, category, save_path, tags, add_paused, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *, NULL AS last_match_at`,
      [
        f.name, b(f.enabled), f.mustContain, f.mustNotContain, b(f.useRegex), f.episodeFilter, b(f.smartFilter),
        JSON.stringify(f.feeds), f.category, f.savePath, JSON.stringify(f.tags), b(f.addPaused), Date.now(),
      ],
    );
    return rule(r!);
  }

  async updateRule(id: number, f: RuleFields): Promise<void> {
    await this.#store.run(
      `UPDATE rss_rules SET name = ?, enabled = ?, must_contain = ?, must_not_contain = ?, use_regex = ?, episode_filter = ?,
         smart_filter = ?, feeds = ?, category = ?, save_path = ?, tags = ?, add_paused = ?, last_error = NULL WHERE id = ?`,
      [
        f.name, b(f.enabled), f.mustContain, f.mustNotContain, b(f.useRegex), f.episodeFilter, b(f.smartFilter),
        JSON.stringify(f.feeds), f.category, f.savePath, JSON.stringify(f.tags), b(f.addPaused), id,
      ],
    );
  }

  async setRuleError(id: number, error: string | null): Promise<void> {
    await this.#store.run('UPDATE rss_rules SET last_error = ? WHERE id = ?', [error, id]);
  }

  async removeRule(id: number): Promise<void> {
    await this.#store.run('DELETE FROM rss_rules WHERE id = ?', [id]);
  }

  // ---- matches ----

  async matches(limit = 500): Promise<MatchRecord[]> {
    return (await this.#store.all('SELECT * FROM rss_matches ORDER BY at DESC, id DESC LIMIT ?', [limit])).map(match);
  }

  async matchOf(feedId: number, guid: string): Promise<MatchRecord | undefined> {
    const r = await this.#store.get('SELECT * FROM rss_matches WHERE feed_id = ? AND guid = ?', [feedId, guid]);
    return r && match(r);
  }

  /** A successful take of the same .torrent URL or magnet (another feed may list the same torrent). */
  async takenSource(source: string): Promise<MatchRecord | undefined> {
    const r = await this.#store.get('SELECT * FROM rss_matches WHERE source = ? AND error IS NULL ORDER BY at LIMIT 1', [source]);
    return r && match(r);
  }

  /** The episodes a rule has taken (successful matches only), for the smart episode filter. */
  async takenEpisodes(ruleId: number): Promise<Set<string>> {
    const rows = await this.#store.all('SELECT episode FROM rss_matches WHERE rule_id = ? AND episode IS NOT NULL AND error IS NULL', [ruleId]);
    return new Set(rows.map((r) => String(r.episode)));
  }

  /** Records a take (or a failed attempt, retried later): one row per feed item, ever. */
  async recordMatch(m: Omit<MatchRecord, 'id' | 'attempts'>): Promise<MatchRecord> {
    // The stored row's count is named by its table: PostgreSQL finds a bare `attempts` ambiguous
    // beside `excluded`'s.
    const r = await this.#store.get(
      `INSERT INTO rss_matches (feed_id, guid, rule_id, rule_name, title, source, info_hash, episode, error, at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (feed_id, guid) DO UPDATE SET rule_id = excluded.rule_id, rule_name = excluded.rule_name,
         source = excluded.source, info_hash = excluded.info_hash, episode = excluded.episode, error = excluded.error,
         attempts = rss_matches.attempts + 1, at = excluded.at
       RETURNING *`,
      [m.feedId, m.guid, m.ruleId, m.ruleName, m.title, m.source, m.infoHash, m.episode, m.error, m.at],
    );
    return match(r!);
  }
}

function putSetting(q: RssQueryable, key: string, value: string): Promise<unknown> {
  return q.run('INSERT INTO rss_settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, value]);
}
