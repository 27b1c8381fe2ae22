// The labelled question set against the knowledge base: every label names an entry, and retrieval's
// top-3 accuracy stays above a floor set a little under what bench:assistant measures, so a change
// that makes answers worse fails here. (Until docs/help and test/questions exist, the fixtures stand in.)
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { accuracy, loadQuestions, unknownLabels } from '../src/knowledge/evaluate.ts';
import { loadHelpDir } from '../src/knowledge/kb.ts';
import { createRetriever } from '../src/knowledge/retrieval.ts';

const root = join(import.meta.dirname, '..', '..', '..');
const realHelp = join(root, 'docs', 'help');
const realQuestions = join(import.meta.dirname, 'questions');
const haveReal = existsSync(realHelp) && existsSync(realQuestions) && readdirSync(realQuestions).some((n) => n.endsWith('.json'));
const helpDir = haveReal ? realHelp : join(import.meta.dirname, 'fixtures', 'help');
const questionsPath = haveReal ? realQuestions : join(import.meta.dirname, 'fixtures', 'questions.json');
// Measured by bench:assistant (see bench/assistant/README.md); floors sit under it by a margin.
const TOP3_FLOOR = haveReal ? 0.95 : 1;
const TOP1_FLOOR = haveReal ? 0.85 : 0.9;

test(`${haveReal ? 'docs/help and test/questions' : 'the fixtures'}: every entry loads, every label names one`, () => {
  const entries = loadHelpDir(helpDir);
  const questions = loadQuestions([questionsPath]);
  if (haveReal) {
    assert.ok(entries.length >= 60, `the issue asks for at least 60 entries, docs/help has ${entries.length}`);
    assert.ok(questions.length >= 80, `the issue asks for at least 80 questions, there are ${questions.length}`);
  }
  assert.deepEqual(unknownLabels(questions, entries), []);
});

test(`retrieval accuracy stays above its floors (top-3 ≥ ${TOP3_FLOOR * 100}%, top-1 ≥ ${TOP1_FLOOR * 100}%)`, () => {
  const retriever = createRetriever(loadHelpDir(helpDir));
  const acc = accuracy(loadQuestions([questionsPath]), (q) => retriever.search(q, 3).map((r) => r.entry.id));
  const misses = acc.misses.map((m) => `"${m.q}" want ${m.expected.join('|')} got ${m.got.join(', ')}`).join('\n');
  assert.ok(acc.top3 >= TOP3_FLOOR, `top-3 ${(acc.top3 * 100).toFixed(1)}% is under ${TOP3_FLOOR * 100}%; top-1 misses:\n${misses}`);
  assert.ok(acc.top1 >= TOP1_FLOOR, `top-1 ${(acc.top1 * 100).toFixed(1)}% is under ${TOP1_FLOOR * 100}%; misses:\n${misses}`);
});

// The checks (src/diagnostics, another part's) cite entries by id and the questions name findings by
// id: both must match, or a finding's explanation silently drops out of the answer. Read from the
// checks' source, since a check only produces its finding when its condition holds.
const diagnostics = join(import.meta.dirname, '..', 'src', 'diagnostics');
const haveDiagnostics = haveReal && existsSync(diagnostics);
test(`${haveDiagnostics ? 'src/diagnostics' : 'the sample checks'}: every entry a check cites exists, every finding a question names is a check's`, () => {
  const dir = haveDiagnostics ? diagnostics : import.meta.dirname;
  const files = readdirSync(dir).filter((n) => n.endsWith('.ts') && (haveDiagnostics || n === 'helpers.ts'));
  const source = files.map((n) => readFileSync(join(dir, n), 'utf8')).join('\n');
  const cited = new Set([...source.matchAll(/entries: \[([^\]]*)\]/g)].flatMap((m) => [...m[1]!.matchAll(/'([a-z0-9-]+)'/g)].map((x) => x[1]!)));
  const findingIds = new Set([...source.matchAll(/\bid: '([a-z0-9-]+)'/g)].map((m) => m[1]!));
  assert.ok(cited.size > 0, 'no entries: [...] found in the checks');
  const ids = new Set(loadHelpDir(helpDir).map((e) => e.id));
  assert.deepEqual([...cited].filter((id) => !ids.has(id)).sort(), [], 'entries the checks cite that the knowledge base lacks');
  const named = loadQuestions([questionsPath]).flatMap((q) => (q.findings ?? []).map((f) => `${f} ("${q.q}")`));
  assert.deepEqual(named.filter((f) => !findingIds.has(f.split(' ')[0]!)), [], 'findings the questions name that no check produces');
});
