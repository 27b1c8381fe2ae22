// The local-model path (--llm-gguf) through the real node-llama-cpp, with a tiny GGUF model written by
// the test: the prompt carries the findings and the sources, tokens stream, the answer keeps only
// citations it was given, and a missing runtime or a file that is no model says so plainly.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { installLlm } from '../../../scripts/install-llm.ts';
import { createAssistant } from '../src/answer/answer.ts';
import type { ChatMessage } from '../src/llm/llm.ts';
import { checkGgufFile, LocalLlmError, loadNodeLlamaCpp } from '../src/llm/local-llm.ts';
import { healthView, nodeView, sampleChecks, torrentView } from './helpers.ts';
import { writeTinyGguf } from './tiny-gguf.ts';

const helpDir = join(import.meta.dirname, 'fixtures', 'help');
const HASH = 'ab12cd34'.repeat(5);

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-gguf-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a local GGUF model answers: the prompt carries findings and sources, tokens stream, only given citations stay', async (t) => {
  installLlm(undefined, () => {});
  const dir = tmp(t);
  const gguf = join(dir, 'tiny.gguf');
  writeTinyGguf(gguf);
  const stuck = torrentView({
    infoHash: HASH, name: 'ubuntu.iso', stalledSeconds: 600,
    trackers: [{ url: 'udp://10.0.0.1:6969', status: 'error', peers: 0, lastError: 'timed out', failures: 5 }],
  });
  const prompts: ChatMessage[][] = [];
  const a = createAssistant({
    helpDir, node: nodeView([stuck], healthView({ dhtEnabled: false, dhtNodes: 0 })), checks: sampleChecks,
    llm: { gguf, threads: 2, maxTokens: 24 }, onPrompt: (m) => prompts.push(m),
  });
  t.after(() => a.close());
  assert.deepEqual(a.info().llm, { model: 'tiny.gguf', url: 'this node', local: true });
  const started = performance.now();
  await a.warm();
  const loadMs = performance.now() - started;

  const tokens: string[] = [];
  let answer;
  const genStart = performance.now();
  for await (const ev of a.askStream({ question: 'why is this stuck?', infoHash: HASH })) {
    if (ev.type === 'token') tokens.push(ev.text);
    else answer = ev.answer;
  }
  const genMs = performance.now() - genStart;
  console.log(`# tiny GGUF: loaded in ${loadMs.toFixed(0)} ms; ${tokens.length} pieces in ${genMs.toFixed(0)} ms on 2 threads`);
  assert.ok(tokens.length > 0, 'the model streamed text');
  assert.ok(answer);
  assert.equal(answer.answeredBy, 'tiny.gguf', answer.answer);
  assert.equal(answer.answer, tokens.join('').trim().replace(/\[(\d+)\]/g, (m, n: string) => (Number(n) >= 1 && Number(n) <= answer!.sources.length ? m : '')));
  // What the checks and retrieval found is what the model was given.
  assert.deepEqual(answer.findings.map((f) => f.id), ['tracker-unreachable', 'no-peers']);
  assert.ok(answer.sources.length > 0);
  const prompt = prompts.at(-1)!.map((m) => m.content).join('\n');
  assert.match(prompt, /udp:\/\/10\.0\.0\.1:6969 timed out 5 times/);
  for (const [i, s] of answer.sources.entries()) assert.ok(prompt.includes(`[${i + 1}] ${s.title}`), `source ${s.id} is in the prompt`);

  // A second question waits for the first, on the same context, and still streams.
  const again = await a.ask({ question: 'how do I open a port' });
  assert.equal(again.answeredBy, 'tiny.gguf');
});

test('--llm-gguf refuses what is not a model, and says how to install the runtime when it is missing', async (t) => {
  const dir = tmp(t);
  await assert.rejects(checkGgufFile(join(dir, 'nope.gguf')), (e: unknown) => e instanceof LocalLlmError && /no such file/.test(e.message));
  await assert.rejects(checkGgufFile(dir), /directory/);
  writeFileSync(join(dir, 'notes.txt'), 'not a model');
  await assert.rejects(checkGgufFile(join(dir, 'notes.txt')), /not a GGUF model file/);
  await assert.rejects(loadNodeLlamaCpp(join(dir, 'empty-cache')), (e: unknown) => e instanceof LocalLlmError && /npm run install:llm/.test(e.message));

  // A model that cannot load: the answer is the built-in one, with a note saying why.
  writeFileSync(join(dir, 'broken.gguf'), Buffer.concat([Buffer.from('GGUF'), Buffer.alloc(64, 7)]));
  installLlm(undefined, () => {});
  const a = createAssistant({ helpDir, node: nodeView([]), checks: sampleChecks, llm: { gguf: join(dir, 'broken.gguf'), threads: 2 } });
  t.after(() => a.close());
  const r = await a.ask({ question: 'how do I open a port' });
  assert.equal(r.answeredBy, 'built-in');
  assert.match(r.answer, /The language model broken\.gguf could not answer — .*cannot load it/);
});
