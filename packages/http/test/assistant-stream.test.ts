// POST /api/assistant with an LLM configured: a small OpenAI-compatible server started here streams
// its completion; the route passes it on as Server-Sent Events (token… then answer), and the prompt
// the model got carries the node's findings. Without `Accept: text/event-stream` the answer is JSON.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { addMagnet, bareServer, closedPort, magnetWith, until } from './assistant-helpers.ts';

const HASH = '4c'.repeat(20);

async function standInLlm(t: { after: (fn: () => unknown) => void }) {
  const prompts: unknown[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) return void res.writeHead(404).end();
      prompts.push(JSON.parse(body));
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const pieces = ['Your tracker ', 'does not answer ', 'and the DHT is off [1].'];
      for (const [i, text] of pieces.entries()) {
        const chunk = { id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'stand-in', choices: [{ index: 0, delta: i === 0 ? { role: 'assistant', content: text } : { content: text }, finish_reason: null }] };
        res.write(`data: ${JSON.stringify(chunk)}\n\n`);
      }
      res.end('data: [DONE]\n\n');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`, prompts };
}

function parseSse(text: string): { event: string; data: any }[] {
  return text
    .split('\n\n')
    .filter((b) => b.trim() !== '')
    .map((b) => {
      const event = /^event: (.*)$/m.exec(b)?.[1] ?? 'message';
      const data = JSON.parse(/^data: (.*)$/m.exec(b)?.[1] ?? 'null');
      return { event, data };
    });
}

test('with an LLM: tokens stream as SSE, then the answer with findings; the prompt carries the evidence', async (t) => {
  const llm = await standInLlm(t);
  const s = await bareServer(t, { llm: { url: llm.url, model: 'stand-in' } });
  assert.deepEqual((await s.json('/api/assistant')).body.llm, { model: 'stand-in', url: new URL(llm.url).host, local: false });
  const tracker = `http://127.0.0.1:${await closedPort()}/announce`;
  await addMagnet(s, magnetWith(HASH, 'streamed', tracker));
  await until('the failed announce', () => (s.node.session.get(HASH)?.trackers().some((x) => x.status === 'error') ? true : undefined));

  const res = await s.request('/api/assistant', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ question: 'why is it stuck', infoHash: HASH }),
  });
  assert.equal(res.status, 200, res.status === 200 ? '' : await res.text());
  assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
  const events = parseSse(await res.text());
  const tokens = events.filter((e) => e.event === 'token').map((e) => e.data.text);
  assert.deepEqual(tokens, ['Your tracker ', 'does not answer ', 'and the DHT is off [1].']);
  const last = events.at(-1)!;
  assert.equal(last.event, 'answer');
  assert.equal(last.data.answeredBy, 'stand-in');
  assert.equal(last.data.answer, 'Your tracker does not answer and the DHT is off [1].');
  assert.ok(last.data.findings.some((f: { id: string }) => f.id === 'tracker-unreachable'));
  const prompt = JSON.stringify(llm.prompts.at(-1));
  assert.ok(prompt.includes(tracker), 'the finding’s evidence went into the prompt');
  assert.match(prompt, /ECONNREFUSED/);

  // Without the Accept header: the same answer as JSON.
  const plain = await s.json('/api/assistant', { method: 'POST', json: { question: 'why is it stuck', infoHash: HASH } });
  assert.equal(plain.status, 200);
  assert.equal(plain.body.answeredBy, 'stand-in');
  // Bad input asked for a stream is still a plain 400 / 404.
  const bad = await s.request('/api/assistant', { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream' }, body: JSON.stringify({ question: ' ' }) });
  assert.equal(bad.status, 400);
  const unknown = await s.request('/api/assistant', { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream' }, body: JSON.stringify({ question: 'hi', infoHash: 'ef'.repeat(20) }) });
  assert.equal(unknown.status, 404);
});
