// `cascade rss …`: feeds, download rules and the matches they took, on the running node (the RSS
// reader lives in `cascade serve`; its control RPCs are rss.*). Every form takes --json.

import { connectControl, NodeError, type ControlClient } from '@cascade/node';
import type { RssFeed, RssItem, RssMatch, RssPreviewItem, RssRule } from '@cascade/shapes';
import { CliError, UsageError } from '../core/errors.ts';
import type { Invocation } from '../parse/args.ts';
import type { Output } from '../output/output.ts';
import { formatBytes, formatDuration } from '../output/format.ts';
import { RSS_USAGE } from './rss-help.ts';

type Feed = RssFeed;
type Item = RssItem;
type Rule = RssRule;
type Match = RssMatch;

function since(ms: number | null): string {
  if (ms === null) return 'never';
  return `${formatDuration((Date.now() - ms) / 1000)} ago`;
}

function feedLine(f: Feed): string {
  const status = f.lastError ? `ERROR: ${f.lastError}` : f.lastRefreshAt === null ? 'not read yet' : 'ok';
  const every = f.refreshInterval === null ? `every ${f.effectiveInterval / 60} min (global)` : `every ${f.effectiveInterval / 60} min`;
  return (
    `${String(f.id).padStart(3)}  ${f.title ?? '(untitled)'}\n` +
    `     ${f.url}\n` +
    `     ${f.itemCount} items, ${f.unreadCount} unread; read ${since(f.lastRefreshAt)}, ${every}; ${status}`
  );
}

function ruleLine(r: Rule): string {
  const what = [
    r.mustContain && `${r.useRegex ? 'regex' : 'contains'} "${r.mustContain}"`,
    r.mustNotContain && `not "${r.mustNotContain}"`,
    r.episodeFilter && `episodes ${r.episodeFilter}`,
    r.smartFilter && 'smart filter',
    `feeds ${r.feeds.length === 0 ? 'all' : r.feeds.join(',')}`,
    `last match ${since(r.lastMatchAt)}`,
  ].filter(Boolean);
  const where = [r.category && `category ${r.category}`, r.savePath && `→ ${r.savePath}`, r.tags.length > 0 && `tags ${r.tags.join(',')}`, r.addPaused && 'paused']
    .filter(Boolean);
  return (
    `${String(r.id).padStart(3)}  ${r.name}${r.enabled ? '' : ' (disabled)'}\n     ${what.join('; ')}` +
    (where.length > 0 ? `\n     ${where.join('; ')}` : '') +
    (r.lastError ? `\n     ERROR: ${r.lastError}` : '')
  );
}

function matchLine(m: Match): string {
  const when = new Date(m.at).toISOString().replace('T', ' ').slice(0, 19);
  return `${when}  ${m.ruleName}: ${m.title}  ${m.error ? `FAILED: ${m.error}` : (m.infoHash ?? '').slice(0, 8)}`;
}

/** --interval MIN → seconds. */
function minutes(text: string): number {
  if (!/^\d{1,6}$/.test(text) || Number(text) < 1) throw new UsageError(`--interval wants whole minutes (1 or more), got "${text}"`);
  return Number(text) * 60;
}

/** A positional id, checked here so a typo is a usage error before the node is asked. */
function id(text: string | undefined, what: string): number {
  if (text === undefined) throw new UsageError(`missing ${what} id\nusage: cascade ${RSS_USAGE}`);
  if (!/^\d{1,15}$/.test(text) || Number(text) < 1) throw new UsageError(`${what} id must be a positive whole number, got "${text}"`);
  return Number(text);
}

type Values = Record<string, string | boolean | string[] | undefined>;

const RULE_ONLY = ['must-contain', 'must-not-contain', 'regex', 'episode', 'smart', 'feed', 'category', 'save-path', 'tag', 'paused'];

/** The rule fields the options give (only those: `rule edit` changes just them). */
function ruleBody(inv: Invocation, v: Values): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const s = (k: string) => v[k] as string | undefined;
  if (s('must-contain') !== undefined) body.mustContain = s('must-contain');
  if (s('must-not-contain') !== undefined) body.mustNotContain = s('must-not-contain');
  // --no-regex, --no-smart, --no-paused turn them off (rule edit).
  if (v.regex !== undefined) body.useRegex = v.regex === true;
  if (s('episode') !== undefined) body.episodeFilter = s('episode');
  if (v.smart !== undefined) body.smartFilter = v.smart === true;
  const feeds = (v.feed as string[] | undefined) ?? [];
  // --feed all: every feed again.
  if (feeds.length > 0) body.feeds = feeds.includes('all') ? [] : feeds.map((f) => id(f, 'feed'));
  if (s('category') !== undefined) body.category = s('category');
  if (inv.options.savePath !== undefined) body.savePath = inv.options.savePath;
  const tags = ((v.tag as string[] | undefined) ?? []).flatMap((t) => t.split(',')).map((t) => t.trim()).filter((t) => t !== '');
  if (tags.length > 0) body.tags = tags;
  if (v.paused !== undefined) body.addPaused = v.paused === true;
  return body;
}

/** `rss refresh` waits for every feed (20 s each at worst, 4 at a time): longer than a verb's usual 30 s. */
const RSS_CALL_MS = 5 * 60_000;

export async function rssCommand(inv: Invocation, out: Output, connect: (dir: string) => Promise<ControlClient | undefined> = (d) => connectControl(d, RSS_CALL_MS)): Promise<number> {
  const [sub = 'list', ...args] = inv.positionals;
  const v = inv.values;
  const isRuleWrite = sub === 'rule' && (args[0] === 'add' || args[0] === 'edit');
  const stray = RULE_ONLY.find((k) => v[k] !== undefined && !isRuleWrite);
  if (stray) throw new UsageError(`--${stray} belongs to \`cascade rss rule add\` or \`rule edit\``);
  if (v.interval !== undefined && sub !== 'add' && sub !== 'settings') throw new UsageError('--interval belongs to `cascade rss add URL` or `cascade rss settings`');
  if (v['max-items'] !== undefined && sub !== 'settings') throw new UsageError('--max-items belongs to `cascade rss settings`');
  const known = ['list', 'add', 'remove', 'refresh', 'items', 'rules', 'rule', 'matches', 'settings'];
  if (!known.includes(sub)) throw new UsageError(`unknown rss command "${sub}"\nusage: cascade ${RSS_USAGE}`);

  const node = await connect(inv.options.stateDir);
  if (!node) throw new CliError('no running node (start one with `cascade serve`; the RSS reader runs there)');
  const call = async <T>(method: string, params: Record<string, unknown> = {}): Promise<T> => {
    try {
      return await node.call<T>(method, params);
    } catch (err) {
      if (err instanceof NodeError && /^unknown method "rss\./.test(err.message)) {
        throw new CliError('the running node has no RSS reader: it runs in `cascade serve`, not in `download`/`seed`');
      }
      throw err;
    }
  };
  const exact = (n: number) => {
    if (args.length > n) throw new UsageError(`unexpected argument "${args[n]}"\nusage: cascade ${RSS_USAGE}`);
  };

  switch (sub) {
    case 'list': {
      exact(0);
      const r = await call<{ feeds: Feed[] }>('rss.feeds');
      out.result(r, () => (r.feeds.length === 0 ? 'no feeds; add one with `cascade rss add URL`' : r.feeds.map(feedLine).join('\n')));
      return 0;
    }
    case 'add': {
      exact(1);
      const url = args[0];
      if (url === undefined) throw new UsageError(`missing the feed URL\nusage: cascade ${RSS_USAGE}`);
      const params: Record<string, unknown> = { url };
      if (v.interval !== undefined) params.refreshInterval = minutes(v.interval as string);
      const f = await call<Feed>('rss.addFeed', params);
      out.result(f, () => `added feed ${f.id}: ${f.url} (read every ${f.effectiveInterval / 60} min; reading it now)`);
      return 0;
    }
    case 'remove': {
      exact(1);
      const r = await call<{ id: number }>('rss.removeFeed', { id: id(args[0], 'feed') });
      out.result(r, () => `removed feed ${r.id}`);
      return 0;
    }
    case 'refresh': {
      exact(1);
      const r = await call<{ feeds: Feed[] }>('rss.refresh', args[0] === undefined ? {} : { id: id(args[0], 'feed') });
      out.result(r, () => (r.feeds.length === 0 ? 'no feeds' : r.feeds.map(feedLine).join('\n')));
      // A feed that failed is the command failing, for scripts.
      return r.feeds.some((f) => f.lastError) ? 1 : 0;
    }
    case 'items': {
      exact(1);
      const r = await call<{ feed: Feed; items: Item[] }>('rss.items', { id: id(args[0], 'feed') });
      out.result(r, () =>
        [
          `${r.feed.title ?? r.feed.url}: ${r.items.length} items`,
          ...r.items.map(
            (i) =>
              `  ${i.read ? ' ' : '*'} ${i.title}${i.size ? `  (${formatBytes(i.size)})` : ''}` +
              (i.match ? `  [${i.match.error ? `failed: ${i.match.error}` : `taken by "${i.match.ruleName}"`}]` : '') +
              (i.torrentUrl ? '' : '  (no torrent)'),
          ),
        ].join('\n'),
      );
      return 0;
    }
    case 'rules': {
      exact(0);
      const r = await call<{ rules: Rule[] }>('rss.rules');
      out.result(r, () => (r.rules.length === 0 ? 'no rules; add one with `cascade rss rule add NAME --must-contain …`' : r.rules.map(ruleLine).join('\n')));
      return 0;
    }
    case 'settings': {
      exact(0);
      const patch: Record<string, unknown> = {};
      if (v.interval !== undefined) patch.refreshInterval = minutes(v.interval as string);
      if (v['max-items'] !== undefined) {
        const text = v['max-items'] as string;
        if (!/^\d{1,6}$/.test(text)) throw new UsageError(`--max-items wants a whole number, got "${text}"`);
        patch.maxItemsPerFeed = Number(text);
      }
      const s = await call<{ refreshInterval: number; maxItemsPerFeed: number }>('rss.settings', patch);
      out.result(s, () => `feeds are read every ${s.refreshInterval / 60} min (unless a feed has its own interval); ${s.maxItemsPerFeed} items kept per feed`);
      return 0;
    }
    case 'matches': {
      exact(0);
      const r = await call<{ matches: Match[] }>('rss.matches');
      out.result(r, () => (r.matches.length === 0 ? 'no matches taken yet' : r.matches.map(matchLine).join('\n')));
      return 0;
    }
    case 'rule': {
      const [verb, arg] = args;
      exact(2);
      if (verb === 'add') {
        if (arg === undefined || arg.trim() === '') throw new UsageError(`missing the rule's NAME\nusage: cascade ${RSS_USAGE}`);
        const r = await call<Rule>('rss.addRule', { name: arg, ...ruleBody(inv, v) });
        out.result(r, () => `added rule ${r.id}\n${ruleLine(r)}`);
        return 0;
      }
      if (verb === 'edit' || verb === 'enable' || verb === 'disable') {
        const patch = verb === 'edit' ? ruleBody(inv, v) : { enabled: verb === 'enable' };
        if (Object.keys(patch).length === 0) throw new UsageError('`cascade rss rule edit ID` needs an option to change (--must-contain, --episode, --no-regex, …)');
        const r = await call<Rule>('rss.updateRule', { id: id(arg, 'rule'), ...patch });
        out.result(r, () => `${verb === 'edit' ? 'changed' : `${verb}d`} rule ${r.id}\n${ruleLine(r)}`);
        return 0;
      }
      if (verb === 'remove') {
        const r = await call<{ id: number }>('rss.removeRule', { id: id(arg, 'rule') });
        out.result(r, () => `removed rule ${r.id}`);
        return 0;
      }
      if (verb === 'preview') {
        const r = await call<{ items: RssPreviewItem[] }>('rss.preview', { id: id(arg, 'rule') });
        out.result(r, () =>
          r.items.length === 0
            ? 'no current item matches'
            : r.items.map((i) => `  ${i.title}${i.taken ? '  (taken)' : i.duplicateEpisode ? '  (episode already taken)' : ''}`).join('\n'),
        );
        return 0;
      }
      throw new UsageError(`\`cascade rss rule\` takes add, edit, enable, disable, remove or preview, got "${verb ?? ''}"\nusage: cascade ${RSS_USAGE}`);
    }
  }
  return 0;
}
