// Download-rule matching, with qBittorrent's semantics:
// - mustContain / mustNotContain without useRegex: "|" separates alternatives, each a set of
//   whitespace-separated wildcard words (* any run, ? one character) that must all appear, in any
//   order. mustContain passes when any alternative does (or it is empty); mustNotContain rejects
//   when any alternative does.
// - with useRegex, each field is one regular expression (JavaScript syntax).
// - always case-insensitive; then the episode filter (episode.ts).
// A user's regex may backtrack catastrophically ("(a+)+$"), so every evaluation runs in a vm context
// with a time budget: the watchdog stops the regex engine, and the rule reports the timeout.

import vm from 'node:vm';
import { EpisodeFilterError, matchesEpisodeFilter, parseEpisodeFilter, type EpisodeRange } from './episode.ts';

/** The most characters of one expression; long alternations are where backtracking hides. */
export const MAX_EXPRESSION = 500;
/** Time one rule may spend matching one batch of titles. */
export const MATCH_BUDGET_MS = 250;

export interface RuleFilter {
  mustContain: string;
  mustNotContain: string;
  useRegex: boolean;
  episodeFilter: string;
}

/** A rule field that cannot be used, and why; the API answers 400 naming `field`. */
export class RuleFieldError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'RuleFieldError';
    this.field = field;
  }
}

export interface CompiledFilter {
  /** OR of AND-groups; empty = everything. */
  must: RegExp[][];
  /** OR of AND-groups; empty = nothing. */
  mustNot: RegExp[][];
  episodes: EpisodeRange[];
}

function wildcard(word: string): RegExp {
  const body = word.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(body, 'i');
}

function compileExpression(field: string, text: string, useRegex: boolean): RegExp[][] {
  const t = text.trim();
  if (t === '') return [];
  if (t.length > MAX_EXPRESSION) throw new RuleFieldError(field, `longer than ${MAX_EXPRESSION} characters`);
  if (useRegex) {
    try {
      return [[new RegExp(t, 'i')]];
    } catch (err) {
      // "Invalid regular expression: /(a/i: Unterminated group" → the part after the pattern.
      const msg = err instanceof Error ? err.message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '') : String(err);
      throw new RuleFieldError(field, `invalid regular expression: ${msg}`);
    }
  }
  return t
    .split('|')
    .map((alt) => alt.split(/\s+/).filter((w) => w !== '').map(wildcard))
    .filter((group) => group.length > 0);
}

/** Checks and compiles a rule's filter; throws RuleFieldError naming the bad field. */
export function compileFilter(f: RuleFilter): CompiledFilter {
  let episodes: EpisodeRange[];
  try {
    episodes = parseEpisodeFilter(f.episodeFilter);
  } catch (err) {
    if (err instanceof EpisodeFilterError) throw new RuleFieldError('episodeFilter', err.message);
    throw err;
  }
  return {
    must: compileExpression('mustContain', f.mustContain, f.useRegex),
    mustNot: compileExpression('mustNotContain', f.mustNotContain, f.useRegex),
    episodes,
  };
}

// One context for every evaluation: a fresh one costs ~1 ms, a call into this one ~0.2 ms.
const context = vm.createContext(Object.create(null) as object);
const batch = new vm.Script(
  'titles.map((t) => (must.length === 0 || must.some((g) => g.every((r) => r.test(t)))) && !mustNot.some((g) => g.every((r) => r.test(t))))',
);

/** Thrown when a rule's expressions take longer than the budget on some title. */
export class MatchTimeout extends Error {
  constructor() {
    super(`matching took longer than ${MATCH_BUDGET_MS} ms: the regular expression backtracks too much; simplify it`);
    this.name = 'MatchTimeout';
  }
}

/** For each title: does the rule's filter take it? Throws MatchTimeout past the time budget. */
export function matchTitles(filter: CompiledFilter, titles: readonly string[], budgetMs = MATCH_BUDGET_MS): boolean[] {
  if (titles.length === 0) return [];
  let words: boolean[];
  if (filter.must.length === 0 && filter.mustNot.length === 0) words = titles.map(() => true);
  else {
    const c = context as Record<string, unknown>;
    c.titles = titles;
    c.must = filter.must;
    c.mustNot = filter.mustNot;
    try {
      words = batch.runInContext(context, { timeout: budgetMs }) as boolean[];
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw new MatchTimeout();
      throw err;
    } finally {
      c.titles = c.must = c.mustNot = undefined;
    }
  }
  return titles.map((t, i) => words[i]! && matchesEpisodeFilter(filter.episodes, t));
}
