// The node's RSS reader: feeds refreshed on one timer, download rules applied to their unread
// items, what a rule took added through the node's add operation and recorded so it is never taken
// twice (across refreshes and restarts). The HTTP routes and control RPCs call this.

import { errorMessage } from '@cascade/node/basics';
import { fetchCapped, type PrivateAllowance } from '@cascade/node/features';
import { decodeFeed, parseFeed } from './parse-feed.ts';
import { compileFilter, matchTitles, MatchTimeout } from './match.ts';
import { episodeKey } from './episode.ts';
import { RssStore, type FeedRecord, type ItemRecord, type MatchRecord, type RssDatabase, type RssSettings, type RuleFields, type RuleRecord } from './store.ts';
import { feedInput, idOf, NEW_RULE, ruleInput, RssConflict, RssInputError, RssNotFound, settingsInput } from './validate.ts';
import type { RssFeed as FeedView, RssItem as ItemView, RssPreviewItem as PreviewItem } from '@cascade/shapes';

// The views are @cascade/shapes' (the API, the RPCs, the CLI and the web app read the same).
export type { FeedView, ItemView, PreviewItem };

/** A feed document may be at most this big: feeds are a few hundred KiB at most. */
export const MAX_FEED_BYTES = 5 * 1024 * 1024;
/** As for a .torrent URL; a read by hand (CLI, API) waits for it. */
export const FEED_TIMEOUT_MS = 20_000;
/** A failed add of a matched item is tried again on later refreshes, this many times in all. */
export const MAX_ADD_ATTEMPTS = 5;

/** What a rule's take asks of the node: the same add as the API's, with the rule's options. */
export interface RssAddRequest {
  /** A .torrent URL or a magnet. */
  uri: string;
  savePath: string | null;
  category: string | null;
  tags: string[];
  paused: boolean;
}
export type RssAdd = (req: RssAddRequest) => Promise<{ infoHash: string; existing: boolean }>;

export interface RssServiceOptions {
  /** The node's state (a StateDB, or any Store with the state dir rules may not save into). */
  db: { readonly store: RssDatabase; readonly stateDir: string };
  add: RssAdd;
  allowPrivateUrls?: PrivateAllowance;
  fetchTimeoutMs?: number;
  maxFeedBytes?: number;
  /** Something about feeds, items or matches changed (the live feed pokes its clients). */
  changed?: () => void;
  /** Whether this node's timer refreshes the feeds: in a cluster only the coordinator does (issue
   *  42), so a feed is fetched and its rules applied once per cluster, not once per member; call
   *  start() again when it becomes true. A refresh asked for (add, `refresh`) runs anywhere. */
  refreshesHere?: () => boolean;
  log?: (line: string) => void;
}

export class RssService {
  readonly store: RssStore;
  #add: RssAdd;
  #opts: RssServiceOptions;
  #timer: NodeJS.Timeout | undefined;
  #refreshing = new Map<number, Promise<void>>();
  #applying: Promise<void> = Promise.resolve();
  /** Counts the timer's re-arms: one that read the due times before a later one does not set it. */
  #arms = 0;
  #closed = false;

  constructor(opts: RssServiceOptions) {
    this.store = new RssStore(opts.db.store, opts.db.stateDir);
    this.#add = opts.add;
    this.#opts = opts;
  }

  /** Arms the refresh timer (feeds overdue after a restart are refreshed at once). */
  start(): void {
    this.#arm();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await Promise.allSettled([...this.#refreshing.values(), this.#applying]);
  }

  // ---- settings ----

  settings(): Promise<RssSettings> {
    return this.store.settings();
  }

  async setSettings(body: unknown): Promise<RssSettings> {
    const s = await this.store.saveSettings(settingsInput(body));
    this.#arm();
    return s;
  }

  /** The feeds' arrangement as a remote keeps it (folders, names): opaque here, null = none. */
  async feedTree(): Promise<unknown> {
    const json = await this.store.feedTree();
    if (json === null) return null;
    try {
      return JSON.parse(json) as unknown;
    } catch {
      return null;
    }
  }

  async setFeedTree(tree: unknown): Promise<void> {
    await this.store.saveFeedTree(JSON.stringify(tree));
  }

  // ---- feeds ----

  async #view(f: FeedRecord, settings?: RssSettings): Promise<FeedView> {
    const effectiveInterval = f.refreshInterval ?? (settings ?? (await this.store.settings())).refreshInterval;
    const c = await this.store.counts(f.id);
    return {
      ...f,
      effectiveInterval,
      nextRefreshAt: (f.lastRefreshAt ?? 0) + effectiveInterval * 1000,
      refreshing: this.#refreshing.has(f.id),
      itemCount: c.items,
      unreadCount: c.unread,
    };
  }

  async #feed(id: unknown): Promise<FeedRecord> {
    const n = idOf(id, 'feedId');
    const f = await this.store.feed(n);
    if (!f) throw new RssNotFound(`no feed with id ${n}`);
    return f;
  }

  async feeds(): Promise<FeedView[]> {
    const settings = await this.store.settings();
    return Promise.all((await this.store.feeds()).map((f) => this.#view(f, settings)));
  }

  async feed(id: unknown): Promise<FeedView> {
    return this.#view(await this.#feed(id));
  }

  /** Adds a feed and starts its first refresh (not awaited: refresh() waits for one). */
  async addFeed(body: unknown): Promise<FeedView> {
    const input = feedInput(body, true);
    const known = await this.store.feedByUrl(input.url!);
    if (known) throw new RssConflict(`that feed is already added (id ${known.id})`);
    const f = await this.store.addFeed(input.url!, input.refreshInterval ?? null);
    // Added by another request between the look-up and the insert.
    if (!f) throw new RssConflict('that feed is already added');
    void this.#refreshOne(f.id);
    return this.#view(f);
  }

  async updateFeed(id: unknown, body: unknown): Promise<FeedView> {
    const f = await this.#feed(id);
    const input = feedInput(body, false);
    if (input.url !== undefined && input.url !== f.url) {
      const other = await this.store.feedByUrl(input.url);
      if (other) throw new RssConflict(`that feed is already added (id ${other.id})`);
    }
    await this.store.updateFeed(f.id, input);
    this.#arm();
    if (input.url !== undefined && input.url !== f.url) void this.#refreshOne(f.id);
    return this.feed(f.id);
  }

  async removeFeed(id: unknown): Promise<{ id: number; removed: true }> {
    const f = await this.#feed(id);
    await this.store.removeFeed(f.id);
    // Rules that named it read the others; a rule left with none would read every feed, so it stops.
    for (const r of await this.store.rules()) {
      if (!r.feeds.includes(f.id)) continue;
      const feeds = r.feeds.filter((x) => x !== f.id);
      await this.store.updateRule(r.id, { ...r, feeds, enabled: feeds.length > 0 && r.enabled });
    }
    this.#opts.changed?.();
    return { id: f.id, removed: true };
  }

  /** Refreshes one feed (or every feed) now and answers once done, with the feeds' state. */
  async refresh(id?: unknown): Promise<FeedView[]> {
    const ids = id === undefined || id === null ? (await this.store.feeds()).map((f) => f.id) : [(await this.#feed(id)).id];
    await this.#refreshMany(ids);
    await this.#applying;
    const feeds = (await Promise.all(ids.map((i) => this.store.feed(i)))).filter((f): f is FeedRecord => f !== undefined);
    return Promise.all(feeds.map((f) => this.#view(f)));
  }

  async items(id: unknown): Promise<{ feed: FeedView; items: ItemView[] }> {
    const f = await this.#feed(id);
    const items: ItemView[] = [];
    for (const i of await this.store.items(f.id)) {
      const m = await this.store.matchOf(f.id, i.guid);
      items.push({ ...i, match: m ? { ruleId: m.ruleId, ruleName: m.ruleName, infoHash: m.infoHash, error: m.error, at: m.at } : null });
    }
    return { feed: await this.#view(f), items };
  }

  async markRead(id: unknown, body: unknown): Promise<{ feedId: number; changed: number }> {
    const f = await this.#feed(id);
    const input = body === undefined || body === null ? {} : (body as Record<string, unknown>);
    const guids = input.guids;
    if (guids !== undefined && (!Array.isArray(guids) || guids.some((g) => typeof g !== 'string'))) {
      throw new RssInputError('guids', 'a list of item guids (omit for all items)');
    }
    const read = input.read === undefined ? true : input.read;
    if (typeof read !== 'boolean') throw new RssInputError('read', 'expected true or false');
    return { feedId: f.id, changed: await this.store.markRead(f.id, (guids as string[] | undefined) ?? 'all', read) };
  }

  // ---- rules ----

  rules(): Promise<RuleRecord[]> {
    return this.store.rules();
  }

  async #rule(id: unknown): Promise<RuleRecord> {
    const n = idOf(id, 'ruleId');
    const r = await this.store.rule(n);
    if (!r) throw new RssNotFound(`no rule with id ${n}`);
    return r;
  }

  rule(id: unknown): Promise<RuleRecord> {
    return this.#rule(id);
  }

  /** Whether a feed id is known, as the rule checks ask it (synchronously). */
  async #feedExists(): Promise<(id: number) => boolean> {
    const ids = new Set((await this.store.feeds()).map((f) => f.id));
    return (id) => ids.has(id);
  }

  async addRule(body: unknown): Promise<RuleRecord> {
    const r = await this.store.addRule(ruleInput(body, NEW_RULE, await this.#feedExists(), this.store.stateDir));
    this.#applyAll();
    return r;
  }

  async updateRule(id: unknown, body: unknown): Promise<RuleRecord> {
    const r = await this.#rule(id);
    await this.store.updateRule(r.id, ruleInput(body, r, await this.#feedExists(), this.store.stateDir));
    this.#applyAll();
    return this.#rule(r.id);
  }

  async removeRule(id: unknown): Promise<{ id: number; removed: true }> {
    const r = await this.#rule(id);
    await this.store.removeRule(r.id);
    return { id: r.id, removed: true };
  }

  /**
   * The current items a rule matches: the stored rule (`id`), a draft laid over it (`body`), or a
   * draft alone (id undefined) — what the rule editor shows as the user types.
   */
  async preview(id: unknown, body: unknown): Promise<{ items: PreviewItem[] }> {
    const base: RuleFields | RuleRecord = id === undefined ? { ...NEW_RULE, name: 'preview' } : await this.#rule(id);
    const draft = body === undefined || body === null ? {} : body;
    const rule = ruleInput({ name: base.name || 'preview', ...(draft as object) }, base, await this.#feedExists(), this.store.stateDir);
    const ruleId = id === undefined ? undefined : (base as RuleRecord).id;
    const items = (await this.store.allItems()).filter((i) => rule.feeds.length === 0 || rule.feeds.includes(i.feedId));
    let hits: boolean[];
    try {
      hits = matchTitles(compileFilter(rule), items.map((i) => i.title));
    } catch (err) {
      if (err instanceof MatchTimeout) throw new RssInputError(rule.useRegex ? 'mustContain' : 'mustNotContain', err.message);
      throw err;
    }
    const taken = ruleId === undefined ? new Set<string>() : await this.store.takenEpisodes(ruleId);
    const out: PreviewItem[] = [];
    for (const i of items.filter((_, k) => hits[k])) {
      const episode = episodeKey(i.title);
      const m = await this.store.matchOf(i.feedId, i.guid);
      out.push({
        feedId: i.feedId,
        guid: i.guid,
        title: i.title,
        torrentUrl: i.torrentUrl,
        episode,
        taken: m !== undefined && m.error === null,
        duplicateEpisode: rule.smartFilter && episode !== null && taken.has(episode) && m?.episode !== episode,
      });
    }
    return { items: out };
  }

  async matches(): Promise<{ matches: MatchRecord[] }> {
    return { matches: await this.store.matches() };
  }

  // ---- refreshing ----

  /** One timer for the node: it fires when the next feed is due (set once the due times are read). */
  #arm(): void {
    const arm = ++this.#arms;
    this.#dueTimes().then(
      (due) => {
        if (arm !== this.#arms) return; // a later re-arm read newer due times
        this.#setTimer(due);
      },
      (err: unknown) => {
        if (!this.#closed) this.#retry(`cannot read the feeds' due times: ${errorMessage(err)}`);
      },
    );
  }

  /** The state could not be read (a database restarting): says so, and tries again in a minute. */
  #retry(why: string): void {
    this.#opts.log?.(`rss: ${why}; trying again in a minute`);
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#arm(), 60_000);
    this.#timer.unref();
  }

  async #dueTimes(): Promise<number[]> {
    const settings = await this.store.settings();
    return (await this.store.feeds()).map((f) => (f.lastRefreshAt ?? 0) + (f.refreshInterval ?? settings.refreshInterval) * 1000);
  }

  #setTimer(due: number[]): void {
    clearTimeout(this.#timer);
    if (this.#closed || due.length === 0 || !this.#refreshesHere()) return;
    // setTimeout takes at most 2^31-1 ms; a later due time just re-arms then.
    const wait = Math.min(Math.max(0, Math.min(...due) - Date.now()), 2 ** 31 - 1);
    this.#timer = setTimeout(() => this.#tick().catch((err: unknown) => this.#closed || this.#retry(`refreshing feeds failed: ${errorMessage(err)}`)), wait);
    this.#timer.unref();
  }

  #refreshesHere(): boolean {
    return this.#opts.refreshesHere?.() ?? true;
  }

  async #tick(): Promise<void> {
    // The coordinator's lease moved on while the timer ran: the new coordinator refreshes.
    if (!this.#refreshesHere()) return;
    const settings = await this.store.settings();
    const now = Date.now();
    const due = (await this.store.feeds()).filter((f) => (f.lastRefreshAt ?? 0) + (f.refreshInterval ?? settings.refreshInterval) * 1000 <= now);
    await this.#refreshMany(due.map((f) => f.id));
    this.#arm();
  }

  /** A few at a time: a node with many feeds should not open them all at once. */
  async #refreshMany(ids: number[]): Promise<void> {
    for (let i = 0; i < ids.length && !this.#closed; i += 4) await Promise.all(ids.slice(i, i + 4).map((id) => this.#refreshOne(id)));
  }

  #refreshOne(id: number): Promise<void> {
    const running = this.#refreshing.get(id);
    if (running) return running;
    const p = this.#fetchAndStore(id).finally(() => {
      this.#refreshing.delete(id);
      this.#arm();
      this.#opts.changed?.();
    });
    this.#refreshing.set(id, p);
    return p;
  }

  async #fetchAndStore(id: number): Promise<void> {
    const f = await this.store.feed(id);
    if (!f || this.#closed) return;
    let parsed;
    try {
      const bytes = await fetchCapped(f.url, {
        maxBytes: this.#opts.maxFeedBytes ?? MAX_FEED_BYTES,
        timeoutMs: this.#opts.fetchTimeoutMs ?? FEED_TIMEOUT_MS,
        allowPrivate: this.#opts.allowPrivateUrls ?? false,
        what: 'a feed',
        accept: 'application/rss+xml, application/atom+xml, application/xml, text/xml;q=0.9, */*;q=0.5',
      });
      parsed = parseFeed(decodeFeed(bytes), f.url);
    } catch (err) {
      if (!(await this.store.feed(id))) return;
      const message = errorMessage(err).replace(/This operation was aborted|The operation was aborted.*$/, 'timed out');
      await this.store.feedFailed(id, message, Date.now());
      this.#opts.log?.(`rss: feed ${f.url} failed: ${message}`);
      return;
    }
    if (!(await this.store.feed(id))) return; // removed meanwhile
    await this.store.feedRefreshed(id, parsed.title, parsed.items, (await this.store.settings()).maxItemsPerFeed, Date.now());
    this.#applyAll();
    await this.#applying;
  }

  // ---- rules at work ----

  /** Applies the rules to every unread item; runs are queued so two never add the same item. */
  #applyAll(): void {
    this.#applying = this.#applying.then(() => this.#apply()).catch((err: unknown) => this.#opts.log?.(`rss: applying rules failed: ${errorMessage(err)}`));
  }

  async #apply(): Promise<void> {
    if (this.#closed) return;
    const rules = (await this.store.rules()).filter((r) => r.enabled);
    if (rules.length === 0) return;
    const items: ItemRecord[] = [];
    for (const i of await this.store.allItems()) {
      if (i.read || i.torrentUrl === null) continue;
      const m = await this.store.matchOf(i.feedId, i.guid);
      if (m === undefined || (m.error !== null && m.attempts < MAX_ADD_ATTEMPTS)) items.push(i);
    }
    // Oldest first, so that a series' episodes are taken in order.
    items.reverse();
    if (items.length === 0) return;
    const claimed = new Set<ItemRecord>();
    for (const rule of rules) {
      const candidates = items.filter((i) => !claimed.has(i) && (rule.feeds.length === 0 || rule.feeds.includes(i.feedId)));
      let hits: boolean[];
      try {
        hits = matchTitles(compileFilter(rule), candidates.map((i) => i.title));
        if (rule.lastError) await this.store.setRuleError(rule.id, null);
      } catch (err) {
        await this.store.setRuleError(rule.id, errorMessage(err));
        continue;
      }
      const episodes = rule.smartFilter ? await this.store.takenEpisodes(rule.id) : new Set<string>();
      for (const [k, item] of candidates.entries()) {
        if (!hits[k] || this.#closed) continue;
        const episode = episodeKey(item.title);
        if (rule.smartFilter && episode !== null && episodes.has(episode)) continue;
        claimed.add(item);
        if (await this.#take(rule, item, episode)) {
          if (episode !== null) episodes.add(episode);
        }
      }
    }
    this.#opts.changed?.();
  }

  async #take(rule: RuleRecord, item: ItemRecord, episode: string | null): Promise<boolean> {
    const base = { feedId: item.feedId, guid: item.guid, ruleId: rule.id, ruleName: rule.name, title: item.title, source: item.torrentUrl!, episode };
    // Listed again (another feed, a new guid): taken already, even if the torrent was removed since.
    const before = await this.store.takenSource(item.torrentUrl!);
    if (before) {
      await this.store.recordMatch({ ...base, infoHash: before.infoHash, error: null, at: Date.now() });
      await this.store.markRead(item.feedId, [item.guid]);
      return true;
    }
    try {
      const r = await this.#add({ uri: item.torrentUrl!, savePath: rule.savePath, category: rule.category, tags: rule.tags, paused: rule.addPaused });
      await this.store.recordMatch({ ...base, infoHash: r.infoHash, error: null, at: Date.now() });
      await this.store.markRead(item.feedId, [item.guid]);
      this.#opts.log?.(`rss: rule "${rule.name}" took "${item.title}" (${r.infoHash}${r.existing ? ', already in the node' : ''})`);
      return true;
    } catch (err) {
      const message = errorMessage(err);
      await this.store.recordMatch({ ...base, infoHash: null, error: message, at: Date.now() });
      this.#opts.log?.(`rss: rule "${rule.name}" could not add "${item.title}": ${message}`);
      return false;
    }
  }
}
