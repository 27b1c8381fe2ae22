// The page's assistant client without a browser: Server-Sent Events read off a body that arrives in
// arbitrary pieces (split inside lines, CRLF split across reads, several data lines, comments), and
// the GET /api/assistant info the privacy line is made from (a host, or a URL cut to its host).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normaliseAnswer, normaliseInfo, readEvents, type SseEvent } from '../src/api/assistant-api.ts';

function bodyOf(pieces: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(c) {
      for (const p of pieces) c.enqueue(enc.encode(p));
      c.close();
    },
  });
}

async function collect(pieces: string[]): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  for await (const ev of readEvents(bodyOf(pieces))) out.push(ev);
  return out;
}

const STREAM = 'event: token\ndata: {"text":"Hel"}\n\n: a comment\n\nevent: token\ndata: {"text":"lo [1]"}\n\nevent: answer\ndata: {"answer":"Hello [1]",\ndata: "sources":[]}\n\n';

test('SSE: events come out whole however the body is cut', async () => {
  const expected: SseEvent[] = [
    { event: 'token', data: '{"text":"Hel"}' },
    { event: 'token', data: '{"text":"lo [1]"}' },
    { event: 'answer', data: '{"answer":"Hello [1]",\n"sources":[]}' },
  ];
  assert.deepEqual(await collect([STREAM]), expected);
  // Every cut point, one character at a time, and CRLF line ends split between reads.
  for (let i = 1; i < STREAM.length; i++) assert.deepEqual(await collect([STREAM.slice(0, i), STREAM.slice(i)]), expected, `cut at ${i}`);
  const crlf = STREAM.replace(/\n/g, '\r\n');
  for (let i = 1; i < crlf.length; i += 3) assert.deepEqual(await collect([crlf.slice(0, i), crlf.slice(i)]), expected, `CRLF cut at ${i}`);
  assert.deepEqual(await collect([...STREAM]), expected, 'one character per read');
});

test('SSE: a last event without its blank line still counts; data-less blocks do not', async () => {
  assert.deepEqual(await collect(['event: answer\ndata: {}']), [{ event: 'answer', data: '{}' }]);
  assert.deepEqual(await collect(['event: ping\n\n', 'data: x\n\n']), [{ event: 'message', data: 'x' }]);
});

test('privacy info: no LLM, a host, or a URL cut to its host; answers filled in', () => {
  assert.deepEqual(normaliseInfo({ llm: null, entries: 70 }), { llm: null, entries: 70 });
  assert.deepEqual(normaliseInfo({ llm: { model: 'llama3', url: '127.0.0.1:11434' }, entries: 70 }), { llm: { model: 'llama3', host: '127.0.0.1:11434', local: false }, entries: 70 });
  assert.deepEqual(normaliseInfo({ llm: { model: 'gpt', url: 'https://api.example.com/v1' }, entries: 1 }).llm, { model: 'gpt', host: 'api.example.com', local: false });
  assert.deepEqual(normaliseInfo({ llm: { model: 'm', host: 'h:1' } }).llm, { model: 'm', host: 'h:1', local: false });
  assert.deepEqual(normaliseInfo({ llm: { model: 'tiny.gguf', url: 'this node', local: true } }).llm, { model: 'tiny.gguf', host: 'this node', local: true });
  assert.deepEqual(normaliseInfo(undefined), { llm: null, entries: 0 });
  const a = normaliseAnswer({ answer: 'x', findings: [{ id: 'paused', severity: 'problem', title: 't', evidence: 'e' }] });
  assert.deepEqual(a.findings[0]!.entries, []);
  assert.deepEqual(a.findings[0]!.actions, []);
  assert.deepEqual([a.sources, a.actions, a.answeredBy], [[], [], 'built-in']);
});
