// Input checks for feeds, rules and RSS settings, shared by the HTTP routes and the control RPCs:
// a bad value is a RssInputError naming the field (HTTP 400, CLI exit 2), an unknown id a
// RssNotFound (HTTP 404, CLI exit 1).

import { isAbsolute } from 'node:path';
import { NodeError, InvalidInput } from '@cascade/node/basics';
import { saveDir, shortName, tagList } from '@cascade/node/features';
import { compileFilter, RuleFieldError } from './match.ts';
import type { RssSettings, RuleFields, RuleRecord } from './store.ts';

export class RssInputError extends InvalidInput {
  readonly statusCode = 400;
  readonly field: string;
  constructor(field: string, message: string) {
    super(message.startsWith(`${field}:`) ? message : `${field}: ${message}`);
    this.name = 'RssInputError';
    this.field = field;
  }
}

export class RssNotFound extends NodeError {
  readonly statusCode = 404;
  constructor(message: string) {
    super('not-found', message);
    this.name = 'RssNotFound';
  }
}

export class RssConflict extends NodeError {
  readonly statusCode = 409;
  constructor(message: string) {
    super('conflict', message);
    this.name = 'RssConflict';
  }
}

export const MIN_INTERVAL = 60;
export const MAX_INTERVAL = 7 * 24 * 3600;
const MAX_URL = 2048;

type Input = Record<string, unknown>;

export function asObject(v: unknown, what: string): Input {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new RssInputError(what, 'expected a JSON object');
  return v as Input;
}

function refuseUnknown(input: Input, known: readonly string[]): void {
  const extra = Object.keys(input).find((k) => !known.includes(k));
  if (extra !== undefined) throw new RssInputError(extra, `unknown field (known: ${known.join(', ')})`);
}

export function feedUrl(v: unknown): string {
  if (typeof v !== 'string' || v.trim() === '') throw new RssInputError('url', 'a feed URL (http or https) is required');
  const text = v.trim();
  if (text.length > MAX_URL) throw new RssInputError('url', `longer than ${MAX_URL} characters`);
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new RssInputError('url', `not a URL: ${text.slice(0, 200)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new RssInputError('url', `only http and https feeds can be read, not ${u.protocol}`);
  return u.href;
}

/** Seconds between refreshes: an integer from 60 to 7 days; null (where allowed) = the global one. */
export function interval(field: string, v: unknown, nullable: boolean): number | null {
  if (v === null && nullable) return null;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new RssInputError(field, `seconds as a whole number${nullable ? ' (or null for the global interval)' : ''}`);
  if (v < MIN_INTERVAL || v > MAX_INTERVAL) throw new RssInputError(field, `must be between ${MIN_INTERVAL} s (1 min) and ${MAX_INTERVAL} s (7 days), got ${v}`);
  return v;
}

export function feedInput(body: unknown, creating: boolean): { url?: string; refreshInterval?: number | null } {
  const input = asObject(body, 'body');
  refuseUnknown(input, ['url', 'refreshInterval']);
  const out: { url?: string; refreshInterval?: number | null } = {};
  if (creating || input.url !== undefined) out.url = feedUrl(input.url);
  if (input.refreshInterval !== undefined) out.refreshInterval = interval('refreshInterval', input.refreshInterval, true);
  return out;
}

export function settingsInput(body: unknown): Partial<RssSettings> {
  const input = asObject(body, 'body');
  refuseUnknown(input, ['refreshInterval', 'maxItemsPerFeed']);
  const out: Partial<RssSettings> = {};
  if (input.refreshInterval !== undefined) out.refreshInterval = interval('refreshInterval', input.refreshInterval, false)!;
  if (input.maxItemsPerFeed !== undefined) {
    const v = input.maxItemsPerFeed;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 10_000) throw new RssInputError('maxItemsPerFeed', 'a whole number from 1 to 10000');
    out.maxItemsPerFeed = v;
  }
  return out;
}

const RULE_FIELDS = [
  'name', 'enabled', 'mustContain', 'mustNotContain', 'useRegex', 'episodeFilter', 'smartFilter',
  'feeds', 'category', 'savePath', 'tags', 'addPaused',
] as const;

export const NEW_RULE: RuleFields = {
  name: '',
  enabled: true,
  mustContain: '',
  mustNotContain: '',
  useRegex: false,
  episodeFilter: '',
  smartFilter: false,
  feeds: [],
  category: null,
  savePath: null,
  tags: [],
  addPaused: false,
};

function text(field: string, v: unknown, max: number): string {
  if (typeof v !== 'string') throw new RssInputError(field, 'expected a string');
  if (v.length > max) throw new RssInputError(field, `longer than ${max} characters`);
  return v;
}

function flag(field: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new RssInputError(field, 'expected true or false');
  return v;
}

/** The node model's own check (the node's model/validate.ts), its InvalidInput turned into one naming `field`. */
function modelCheck<T>(field: string, check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof InvalidInput) throw new RssInputError(field, err.message.replace(/^"[^"]*" /, ''));
    throw err;
  }
}

/**
 * A rule's fields: `base` (the stored rule, or NEW_RULE) with the input laid over it, checked as a
 * whole (a regex is compiled, an episode filter parsed) and as the node's add will check its
 * options (category, tags, save path — not inside `stateDir`). `feedExists` checks the affected feeds.
 */
export function ruleInput(body: unknown, base: RuleFields | RuleRecord, feedExists: (id: number) => boolean, stateDir: string): RuleFields {
  const input = asObject(body, 'body');
  refuseUnknown(input, RULE_FIELDS);
  const r: RuleFields = {
    name: base.name, enabled: base.enabled, mustContain: base.mustContain, mustNotContain: base.mustNotContain,
    useRegex: base.useRegex, episodeFilter: base.episodeFilter, smartFilter: base.smartFilter, feeds: [...base.feeds],
    category: base.category, savePath: base.savePath, tags: [...base.tags], addPaused: base.addPaused,
  };
  if (input.name !== undefined) r.name = text('name', input.name, 200).trim();
  if (r.name === '') throw new RssInputError('name', 'a rule needs a name');
  for (const f of ['enabled', 'useRegex', 'smartFilter', 'addPaused'] as const) if (input[f] !== undefined) r[f] = flag(f, input[f]);
  for (const f of ['mustContain', 'mustNotContain', 'episodeFilter'] as const) if (input[f] !== undefined) r[f] = text(f, input[f], 2000);
  if (input.feeds !== undefined) {
    if (!Array.isArray(input.feeds) || input.feeds.some((x) => typeof x !== 'number' || !Number.isInteger(x))) {
      throw new RssInputError('feeds', 'a list of feed ids (empty = every feed)');
    }
    const ids = [...new Set(input.feeds as number[])];
    const unknown = ids.find((id) => !feedExists(id));
    if (unknown !== undefined) throw new RssInputError('feeds', `no feed with id ${unknown}`);
    r.feeds = ids;
  }
  if (input.category !== undefined) {
    const c = input.category;
    r.category = c === null || (typeof c === 'string' && c.trim() === '') ? null : modelCheck('category', () => shortName('category', c));
  }
  if (input.savePath !== undefined) {
    const p = input.savePath;
    if (p === null || p === '') r.savePath = null;
    else {
      if (typeof p !== 'string' || !isAbsolute(p)) throw new RssInputError('savePath', `an absolute path on the node's machine, got ${JSON.stringify(p).slice(0, 200)}`);
      r.savePath = modelCheck('savePath', () => saveDir('savePath', p, '/', stateDir));
    }
  }
  if (input.tags !== undefined) {
    const tags = Array.isArray(input.tags) ? input.tags.map((t) => (typeof t === 'string' ? t.trim() : t)).filter((t) => t !== '') : input.tags;
    r.tags = modelCheck('tags', () => tagList('tags', tags));
  }
  try {
    compileFilter(r);
  } catch (err) {
    if (err instanceof RuleFieldError) throw new RssInputError(err.field, err.message);
    throw err;
  }
  return r;
}

/** A positive integer id from a route parameter or an RPC argument. */
export function idOf(v: unknown, what: string): number {
  const n = typeof v === 'string' && /^\d{1,15}$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) throw new RssInputError(what, `expected a ${what.replace(/Id$/, '')} id (a positive whole number), got ${JSON.stringify(v)?.slice(0, 60)}`);
  return n;
}
