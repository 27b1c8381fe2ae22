// Issue 65: the docs once described options the CLI did not have (and failover it did): every
// `cascade <command> --option` quoted in README.md, deploy/README.md and docs/ must name a command
// and options the CLI's own spec accepts for it (the parser takes exactly those), so the docs cannot
// drift from the CLI again. Only code is read (fenced blocks and `inline code`), never prose.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { globSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TRACKER_OPTIONS } from '@cascade/tracker';
import { COMMANDS, OPTION_DEFS, type OptName } from '../src/parse/spec.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const DOCS = ['README.md', 'deploy/README.md', 'docs/**/*.md', 'packages/*/README.md', 'bench/**/README.md'];

interface Quote {
  where: string;
  line: string;
}

/** Every quoted command line: each line of a fenced block, and each inline code span. */
export function quotedCode(text: string, file: string): Quote[] {
  const out: Quote[] = [];
  let fenced = false;
  text.split('\n').forEach((line, i) => {
    const where = `${file}:${i + 1}`;
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return;
    }
    if (fenced) out.push({ where, line: line.replace(/\s#.*$/, '') });
    else for (const m of line.matchAll(/`([^`\n]+)`/g)) out.push({ where, line: m[1]! });
  });
  return out;
}

type Accepts = (flag: string) => boolean;

/** `cascade` where a shell runs it — first on the line, after npx, `$(`, `--`, `&&`, `exec NAME`,
 *  `VAR=value`, a path's `bin/` — up to the end of that command (`)`, `;`, `&`). Not `-n cascade`
 *  (a namespace), `cascade.db`, `@cascade/x` or a name in a printed line. */
const PROGRAM = /(?:^\s*|^\s*\$\s+|npx\s+|sudo\s+|\$\(|--\s+|&&\s*|;\s*|bin\/|exec\s+[\w.-]+\s+|\b[A-Z_]+=\S*\s+)cascade\s+(?=([a-z][a-z0-9-]*)([^;&)]*))/g;

/** What a command accepts: its options long (booleans also as --no-X) and short, and --help. */
function acceptsOf(command: string): Accepts | undefined {
  if (command === 'tracker') {
    const defs = TRACKER_OPTIONS as Record<string, { type: string; short?: string }>;
    return (flag) => flag === '-h' || Object.hasOwn(defs, flag.replace(/^--/, ''));
  }
  if (command === 'help') return () => true;
  const spec = COMMANDS[command];
  if (!spec) return undefined;
  const names = new Set<string>();
  for (const name of spec.options as OptName[]) {
    const def = OPTION_DEFS[name];
    names.add(`--${name}`);
    if (def.type === 'boolean') names.add(`--no-${name}`);
    if (def.short) names.add(`-${def.short}`);
  }
  return (flag) => names.has(flag) || flag === '--help' || flag === '-h';
}

/** What is wrong with each `cascade …` in a quoted line: an unknown command, or an option its command does not take. */
export function problems(q: Quote): string[] {
  const found: string[] = [];
  for (const m of q.line.matchAll(PROGRAM)) {
    const command = m[1]!;
    const accepts = acceptsOf(command);
    const rest = m[2] ?? '';
    if (!accepts) {
      found.push(`${q.where}: \`cascade ${command}\` is not a command (${q.line.trim()})`);
      continue;
    }
    // The alternatives of one synopsis line ("peers | health | announce") are commands too.
    const alternatives = [...rest.matchAll(/\|\s*([a-z][a-z0-9-]*)/g)].map((a) => acceptsOf(a[1]!)).filter((a): a is Accepts => a !== undefined);
    for (const f of rest.matchAll(/(?<![\w-])(--?[a-z][a-z0-9-]*)/g)) {
      const flag = f[1]!;
      if (accepts(flag) || alternatives.some((a) => a(flag))) continue;
      found.push(`${q.where}: \`cascade ${command}\` takes no ${flag} (${q.line.trim()})`);
    }
  }
  return found;
}

test('every cascade command and option the docs quote is one the CLI accepts', () => {
  const files = globSync(DOCS, { cwd: ROOT }).sort();
  assert.ok(files.length > 20, `the docs were found (${files.length} files)`);
  const quotes = files.flatMap((f) => quotedCode(readFileSync(join(ROOT, f), 'utf8'), f));
  const commands = quotes.filter((q) => [...q.line.matchAll(PROGRAM)].length > 0);
  assert.ok(commands.length > 200, `the docs quote the CLI (${commands.length} lines)`);
  assert.deepEqual(quotes.flatMap(problems), []);
});

test('the check itself catches an unknown command, a wrong option and a misspelt negation', () => {
  const doc = [
    'Run `cascade serve --no-lsd --http-port 0` or `cascade serve --lsd-off`.',
    '```sh',
    'npx cascade list --sort name --limit 3   # fine',
    'npx cascade frobnicate --json',
    'cascade download <magnet> -o out --no-seed-ratio',
    'cascade tracker --http-port 6969 --ws --websocket',
    'cascade peers | health | announce [<hash>] | limits --down 4MiB',
    '```',
  ].join('\n');
  assert.deepEqual(quotedCode(doc, 'x.md').flatMap(problems), [
    'x.md:1: `cascade serve` takes no --lsd-off (cascade serve --lsd-off)',
    'x.md:4: `cascade frobnicate` is not a command (npx cascade frobnicate --json)',
    'x.md:5: `cascade download` takes no --no-seed-ratio (cascade download <magnet> -o out --no-seed-ratio)',
    'x.md:6: `cascade tracker` takes no --websocket (cascade tracker --http-port 6969 --ws --websocket)',
  ]);
});

test('the deployment guide does not call missing a cluster step that docs/cluster.md marks done', () => {
  const plan = readFileSync(join(ROOT, 'docs/cluster.md'), 'utf8');
  const done = [...plan.matchAll(/^(\d+)\. \*\*Done:\*\*/gm)].map((m) => Number(m[1]));
  assert.ok(done.includes(5), `docs/cluster.md marks its steps (${done.join(', ')})`);
  const guide = readFileSync(join(ROOT, 'deploy/README.md'), 'utf8').replace(/\s+/g, ' ');
  // A sentence that names a step and says it is not there (yet).
  const stale = guide.split(/(?<=[.!?])\s/).filter((s) => /\bnot\b[^.]*\b(yet|there)\b|\bnot yet\b/i.test(s))
    .filter((s) => done.some((n) => new RegExp(`\\bstep ${n}\\b|placement and repair`).test(s)));
  assert.deepEqual(stale, []);
});
