// bench:assistant — retrieval accuracy (top-1, top-3) over the labelled question set, and the
// latency of a whole ask() without an LLM (checks + retrieval + composition) on a node of 50
// torrents. Options (repeatable): --help-dir DIR, --questions FILE|DIR; --misses lists the misses;
// --rounds N (default 5), --torrents N (default 50). Defaults: docs/help and packages/assistant/test/questions.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createAssistant, type Checks } from '../../packages/assistant/src/answer/answer.ts';
import { accuracy, loadQuestions, unknownLabels } from '../../packages/assistant/src/knowledge/evaluate.ts';
import { loadHelpDir, validateEntries } from '../../packages/assistant/src/knowledge/kb.ts';
import { createRetriever } from '../../packages/assistant/src/knowledge/retrieval.ts';
import { benchChecks, benchNode } from './node-stub.ts';

const root = join(import.meta.dirname, '..', '..');
const { values } = parseArgs({
  options: {
    'help-dir': { type: 'string', multiple: true },
    questions: { type: 'string', multiple: true },
    misses: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '5' },
    torrents: { type: 'string', default: '50' },
  },
});
const helpDirs = values['help-dir'] ?? [join(root, 'docs', 'help')];
const questionPaths = values.questions ?? [join(root, 'packages', 'assistant', 'test', 'questions')];
for (const p of [...helpDirs, ...questionPaths]) if (!existsSync(p)) throw new Error(`${p} does not exist`);

const entries = helpDirs.flatMap((d) => loadHelpDir(d));
validateEntries(entries);
const questions = loadQuestions(questionPaths);
console.log(`${entries.length} entries (${helpDirs.join(', ')}), ${questions.length} questions`);
const unknown = unknownLabels(questions, entries);
if (unknown.length > 0) console.log(`labels naming no entry (${unknown.length}):\n  ${unknown.join('\n  ')}`);

// ---- accuracy ----
let t0 = performance.now();
const retriever = createRetriever(entries);
const indexMs = performance.now() - t0;
t0 = performance.now();
const acc = accuracy(questions, (q) => retriever.search(q, 3).map((r) => r.entry.id));
const searchMs = (performance.now() - t0) / Math.max(1, questions.length);
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
console.log(`retrieval: top-1 ${pct(acc.top1)} (best label first: ${pct(acc.top1Best)}), top-3 ${pct(acc.top3)}; index ${indexMs.toFixed(1)} ms, ${searchMs.toFixed(2)} ms a query`);
if (values.misses) for (const m of acc.misses) console.log(`  miss: "${m.q}" want ${m.expected.join('|')} got ${m.got.join(', ')}`);

// ---- latency of ask() without an LLM ----
const torrentCount = Number(values.torrents);
const node = benchNode(torrentCount);
let checks: Checks = benchChecks;
let checksName = 'the bench\'s own checks';
const diagPath = join(root, 'packages', 'assistant', 'src', 'diagnostics', 'index.ts');
if (existsSync(diagPath)) {
  const mod = (await import(diagPath)) as { runChecks?: Checks };
  if (typeof mod.runChecks === 'function') {
    checks = mod.runChecks;
    checksName = 'runChecks from src/diagnostics';
  }
}
t0 = performance.now();
const assistant = createAssistant({ entries, node, checks });
const createMs = performance.now() - t0;
const hashes = (await node.torrents()).map((t) => t.infoHash);
const times: number[] = [];
const rounds = Number(values.rounds);
t0 = performance.now();
await assistant.ask({ question: questions[0]?.q ?? 'my download is stuck' });
const firstMs = performance.now() - t0;
for (let r = 0; r < rounds; r++) {
  for (const [i, q] of questions.entries()) {
    // Half the questions asked from a torrent's detail panel: its checks run too.
    const req = i % 2 === 0 ? { question: q.q, infoHash: hashes[i % hashes.length] } : { question: q.q };
    const s = performance.now();
    await assistant.ask(req);
    times.push(performance.now() - s);
  }
}
times.sort((a, b) => a - b);
const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))]!;
console.log(`ask() without an LLM, ${times.length} asks over ${torrentCount} torrents (${checksName}): p50 ${q(0.5).toFixed(2)} ms, p95 ${q(0.95).toFixed(2)} ms, max ${times.at(-1)!.toFixed(2)} ms; first ask ${firstMs.toFixed(1)} ms, createAssistant ${createMs.toFixed(1)} ms`);
console.log(`targets: top-1 >= 85% ${acc.top1 >= 0.85 ? 'met' : 'NOT met'}, p95 < 300 ms ${q(0.95) < 300 ? 'met' : 'NOT met'}`);
