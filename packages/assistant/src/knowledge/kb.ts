// The knowledge base: docs/help/<id>.md files, each a YAML front matter block (id, title, ui,
// keywords) and a Markdown body. Loaded once at start; every problem names the file it is in, so a
// broken entry fails review (and the test run) instead of silently vanishing from answers.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type { HelpEntry } from '../types.ts';

/** yaml's parse, loaded when the first entry is read (synchronously: the entries are read so): a
 *  node that is never asked anything does not load its ~70 modules at start (issue 64 item 4). */
let yamlParse: ((text: string) => unknown) | undefined;
function parseYaml(text: string): unknown {
  yamlParse ??= (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse;
  return yamlParse(text);
}

export class HelpEntryError extends Error {
  readonly file: string;
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'HelpEntryError';
    this.file = file;
  }
}

const ID = /^[a-z0-9]+(-[a-z0-9]+)*$/;
// The web app's views (packages/web/src/state/router.ts, plus the assistant's own): a hash route, optionally
// with one more segment (#/torrents/<hash>) and a query (#/settings?section=network).
export const UI_VIEWS = ['torrents', 'share', 'add', 'rss', 'chat', 'network', 'rewards', 'settings', 'assistant'];
const UI_ROUTE = new RegExp(`^#/(${UI_VIEWS.join('|')})(/[A-Za-z0-9<>:_.-]+)?(\\?[A-Za-z0-9=&_.-]+)?$`);
const KNOWN_KEYS = new Set(['id', 'title', 'ui', 'keywords']);

/** Parses one entry's text; `file` is its path (for messages), its name must be `<id>.md`. */
export function parseHelpEntry(text: string, file: string): HelpEntry {
  const m = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?([\s\S]*)$/.exec(text);
  if (!m) throw new HelpEntryError(file, 'no front matter (the file must start with a "---" line, then id/title/ui/keywords, then "---")');
  let meta: unknown;
  try {
    meta = parseYaml(m[1]!);
  } catch (err) {
    throw new HelpEntryError(file, `front matter is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) throw new HelpEntryError(file, 'front matter must be "key: value" lines');
  const fm = meta as Record<string, unknown>;
  for (const key of Object.keys(fm)) if (!KNOWN_KEYS.has(key)) throw new HelpEntryError(file, `unknown front matter key "${key}" (allowed: id, title, ui, keywords)`);

  const base = file.replace(/\\/g, '/').split('/').pop()!;
  const fileId = base.replace(/\.md$/, '');
  const id = fm.id ?? fileId;
  if (typeof id !== 'string' || !ID.test(id)) throw new HelpEntryError(file, `id ${JSON.stringify(id)} is not kebab-case (a-z, 0-9, single dashes)`);
  if (id !== fileId) throw new HelpEntryError(file, `id "${id}" does not match the file name (expected "${fileId}")`);
  if (typeof fm.title !== 'string' || fm.title.trim() === '') throw new HelpEntryError(file, 'title is missing or empty');
  const ui = fm.ui ?? null;
  if (ui !== null && (typeof ui !== 'string' || !UI_ROUTE.test(ui))) {
    throw new HelpEntryError(file, `ui ${JSON.stringify(ui)} is not a route of the web app (#/${UI_VIEWS.join(', #/')}, optionally /<param>) or null`);
  }
  const keywords = fm.keywords ?? [];
  if (!Array.isArray(keywords)) throw new HelpEntryError(file, 'keywords must be a list: keywords: [a, b, c]');
  const words = keywords.map((k, i) => {
    // YAML reads bare numbers and booleans as such ("keywords: [404, no]"): keep them as the words they are.
    if (typeof k === 'string' || typeof k === 'number' || typeof k === 'boolean') return String(k).trim();
    throw new HelpEntryError(file, `keyword #${i + 1} is not a word (${JSON.stringify(k)})`);
  }).filter((k) => k !== '');
  const body = m[2]!.trim();
  if (body === '') throw new HelpEntryError(file, 'the body (after the front matter) is empty');
  return { id, title: fm.title.trim(), ui, keywords: words, body };
}

/** Loads every *.md of a folder (sorted by name); throws on the first broken file or a duplicate id. */
export function loadHelpDir(dir: string): HelpEntry[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.md') && n.toLowerCase() !== 'readme.md').sort();
  } catch (err) {
    throw new Error(`help folder ${dir} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const entries = names.map((n) => {
    const file = join(dir, n);
    return parseHelpEntry(readFileSync(file, 'utf8'), file);
  });
  validateEntries(entries);
  return entries;
}

/** Checks a set handed in directly (createAssistant({ entries })): unique ids, titles, ui routes. */
export function validateEntries(entries: HelpEntry[]): void {
  const seen = new Set<string>();
  for (const e of entries) {
    const where = `help entry "${e.id}"`;
    if (typeof e.id !== 'string' || !ID.test(e.id)) throw new HelpEntryError(where, 'id is not kebab-case');
    if (seen.has(e.id)) throw new HelpEntryError(where, 'id is used twice');
    seen.add(e.id);
    if (typeof e.title !== 'string' || e.title.trim() === '') throw new HelpEntryError(where, 'title is missing');
    if (e.ui !== null && !UI_ROUTE.test(e.ui)) throw new HelpEntryError(where, `ui "${e.ui}" is not a hash route or null`);
    if (!Array.isArray(e.keywords)) throw new HelpEntryError(where, 'keywords must be a list');
  }
}
