// The LLM path against a small OpenAI-compatible server started here: it records the request and
// streams a canned completion in real SSE chunks (or answers 500 / 401, or never answers).
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { createAssistant } from '../src/answer/answer.ts';
import { llmBaseUrl } from '../src/llm/llm.ts';
import { healthView, nodeView, sampleChecks, torrentView } from './helpers.ts';

const helpDir = join(import.meta.dirname, 'fixtures', 'help');
const HASH = 'ab12cd34'.repeat(5);
const PIECES = ['Your tracker ', 'udp://10.0.0.1:6969 ', 'does not answer and the DHT is off', '. Re-announce or turn the DHT on [1][7].'];

interface Recorded { path: string; headers: IncomingMessage['headers']; body: any }

async function standIn(mode: 'stream' | 'error500' | 'error401' | 'silent' | 'cut') {
  const requests: Recorded[] = [];
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    for await (const c of req) raw += c;
    requests.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(raw) });
    if (mode === 'error500') { res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"message":"model crashed"}}'); return; }
    if (mode === 'error401') { res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":{"message":"bad key"}}'); return; }
    if (mode === 'silent') return; // never answers: the client's timeout must end it
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const chunk = (delta: object, finish: string | null = null) =>
      `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'stand-in', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    res.write(chunk({ role: 'assistant', content: '' }));
    for (const [i, p] of PIECES.entries()) {
      if (mode === 'cut' && i === 2) { res.socket?.destroy(); return; } // the model's server dies mid-answer
      res.write(chunk({ content: p }));
      await new Promise((r) => setTimeout(r, 5)); // separate TCP writes: real chunked streaming
    }
    res.write(chunk({}, 'stop'));
    res.end('data: [DONE]\n\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, requests, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

function brokenNode() {
  return nodeView([torrentView({
    infoHash: HASH, name: 'ubuntu.iso', stalledSeconds: 600,
    trackers: [{ url: 'udp://10.0.0.1:6969', status: 'error', peers: 0, lastError: 'timed out', failures: 5 }],
  })], healthView({ dhtEnabled: false, dhtNodes: 0 }));
}

test('streams the model\'s tokens in order; the prompt holds the findings\' evidence and the sources\' titles', async (t) => {
  const llm = await standIn('stream');
  t.after(llm.close);
  const a = createAssistant({ helpDir, node: brokenNode(), checks: sampleChecks, llm: { url: llm.url, model: 'stand-in-7b', key: 'sk-test' } });
  assert.deepEqual(a.info(), { llm: { model: 'stand-in-7b', url: new URL(llm.url).host, local: false }, entries: 8 });
  const events = [];
  for await (const ev of a.askStream({ question: 'why is it stuck at 0%?', infoHash: HASH })) events.push(ev);
  const tokens = events.filter((e) => e.type === 'token').map((e) => (e as { text: string }).text);
  assert.deepEqual(tokens, PIECES);
  const last = events.at(-1)!;
  assert.equal(last.type, 'answer');
  const answer = (last as { answer: any }).answer;
  assert.equal(answer.answer, PIECES.join('').replace('[7]', '').trim(), 'the answer keeps [1], drops [7] (no such source)');
  assert.equal(answer.answeredBy, 'stand-in-7b');
  assert.deepEqual(answer.findings.map((f: any) => f.id), ['tracker-unreachable', 'no-peers']);
  assert.equal(answer.sources[0].id, 'stalled-download');
  assert.equal(answer.actions[0].id, 'reannounce');

  assert.equal(llm.requests.length, 1);
  const req = llm.requests[0]!;
  assert.equal(req.path, '/v1/chat/completions');
  assert.equal(req.headers.authorization, 'Bearer sk-test');
  assert.equal(req.body.model, 'stand-in-7b');
  assert.equal(req.body.stream, true);
  const [system, user] = req.body.messages;
  assert.equal(system.role, 'system');
  assert.match(system.content, /ONLY from the findings .* and the help entries/);
  assert.match(system.content, /Never invent a setting/);
  assert.match(system.content, /Cite .* \[1\]/);
  assert.match(user.content, /udp:\/\/10\.0\.0\.1:6969 timed out 5 times; DHT off/);
  assert.match(user.content, /\[problem\] Your only tracker does not answer/);
  for (const [i, s] of answer.sources.entries()) assert.ok(user.content.includes(`[${i + 1}] ${s.title}`), s.title);
  assert.match(user.content, /Question: why is it stuck at 0%\?$/);
});

for (const [mode, note] of [['error500', /it answered HTTP 500/], ['error401', /it answered HTTP 401/]] as const) {
  test(`an LLM that answers ${mode.slice(5)} falls back to the built-in answer with a note`, async (t) => {
    const llm = await standIn(mode);
    t.after(llm.close);
    const a = createAssistant({ helpDir, node: brokenNode(), checks: sampleChecks, llm: { url: `${llm.url}/v1`, model: 'stand-in' } });
    const r = await a.ask({ question: 'why is it stuck?', infoHash: HASH });
    assert.equal(llm.requests.length, 1, 'no retries');
    assert.equal(r.answeredBy, 'built-in');
    assert.match(r.answer, /^Checked "ubuntu\.iso" just now:\n- \*\*Problem:\*\* Your only tracker/);
    assert.match(r.answer, new RegExp(`The language model stand-in could not answer — ${note.source}\\. This is the built-in answer\\.`));
    assert.doesNotMatch(r.answer, /model crashed|bad key/);
    assert.equal(r.findings[0]!.id, 'tracker-unreachable');
  });
}

test('an LLM that never answers times out; one that is down is "could not be reached"', async (t) => {
  const llm = await standIn('silent');
  t.after(llm.close);
  const slow = createAssistant({ helpDir, node: brokenNode(), checks: sampleChecks, llm: { url: llm.url, model: 'm' }, llmTimeoutMs: 300 });
  assert.match((await slow.ask({ question: 'stuck', infoHash: HASH })).answer, /could not answer — it timed out/);
  const down = await standIn('stream');
  await down.close();
  const gone = createAssistant({ helpDir, node: brokenNode(), checks: sampleChecks, llm: { url: down.url, model: 'm' } });
  const r = await gone.ask({ question: 'stuck', infoHash: HASH });
  assert.match(r.answer, /could not answer — it could not be reached/);
  assert.equal(r.answeredBy, 'built-in');
});

test('the base URL from what users type', () => {
  assert.equal(llmBaseUrl('http://127.0.0.1:8080'), 'http://127.0.0.1:8080/v1');
  assert.equal(llmBaseUrl('http://127.0.0.1:11434/v1/'), 'http://127.0.0.1:11434/v1');
  assert.equal(llmBaseUrl('https://api.example.com/v1/chat/completions'), 'https://api.example.com/v1');
  assert.equal(llmBaseUrl('https://host/openai/v1'), 'https://host/openai/v1');
});

test('a stream cut mid-answer: the tokens already sent, then the built-in answer with a note', async (t) => {
  const llm = await standIn('cut');
  t.after(llm.close);
  const a = createAssistant({ helpDir, node: brokenNode(), checks: sampleChecks, llm: { url: llm.url, model: 'm' } });
  const events = [];
  for await (const ev of a.askStream({ question: 'stuck', infoHash: HASH })) events.push(ev);
  assert.deepEqual(events.filter((e) => e.type === 'token').map((e) => (e as { text: string }).text), PIECES.slice(0, 2));
  const last = events.at(-1) as { type: string; answer: { answer: string; answeredBy: string } };
  assert.equal(last.type, 'answer');
  assert.equal(last.answer.answeredBy, 'built-in');
  assert.match(last.answer.answer, /^Checked "ubuntu\.iso" just now:[\s\S]*The language model m could not answer/);
});

test('without an LLM, askStream gives the answer alone (no tokens)', async () => {
  const a = createAssistant({ helpDir, node: brokenNode(), checks: sampleChecks });
  const events = [];
  for await (const ev of a.askStream({ question: 'stuck at 0%', infoHash: HASH })) events.push(ev);
  assert.deepEqual(events.map((e) => e.type), ['answer']);
});
