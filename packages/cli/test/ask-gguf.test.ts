// `cascade serve --llm-gguf FILE` as a user runs it, with a tiny GGUF model the test writes (no
// weights can be downloaded here) and the real node-llama-cpp (`npm run install:llm`): the web page
// learns the model is local, answers stream over SSE and reach `cascade ask`; a file that is no
// model stops the start with a plain message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installLlm } from '../../../scripts/install-llm.ts';
import { writeTinyGguf } from '../../assistant/test/tiny-gguf.ts';
import { cascade, startServe } from './node-process.ts';
import { tempDir } from './helpers.ts';

test('serve --llm-gguf: the assistant answers with the local model over SSE and through cascade ask', async (t) => {
  installLlm(undefined, () => {});
  const dir = tempDir(t);
  const gguf = join(dir, 'tiny.gguf');
  writeTinyGguf(gguf);
  const node = await startServe(t, { args: ['--llm-gguf', gguf, '--llm-threads', '2', '--llm-max-tokens', '16'] });
  t.after(() => node.stop());

  const info = (await (await node.api('/api/assistant')).json()) as { llm: unknown };
  assert.deepEqual(info.llm, { model: 'tiny.gguf', url: 'this node', local: true });

  const res = await node.api('/api/assistant', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ question: 'my download is slow' }),
  });
  assert.equal(res.status, 200);
  const events = (await res.text()).split('\n\n').filter((b) => b.trim() !== '').map((b) => ({
    event: /^event: (.*)$/m.exec(b)?.[1],
    data: JSON.parse(/^data: (.*)$/m.exec(b)?.[1] ?? 'null'),
  }));
  assert.ok(events.filter((e) => e.event === 'token').length > 0, 'tokens streamed');
  const answer = events.at(-1)!;
  assert.equal(answer.event, 'answer');
  assert.equal(answer.data.answeredBy, 'tiny.gguf');
  assert.ok(answer.data.sources.length > 0, 'the answer still lists its sources');

  const asked = await node.run(['ask', 'how do I open a port', '--json']);
  assert.equal(asked.code, 0, asked.stderr);
  assert.equal(asked.json.answeredBy, 'tiny.gguf');
  assert.ok(asked.json.sources.length > 0);
});

test('serve --llm-gguf with a file that is no model, or with --llm-url too, stops with a plain message', async (t) => {
  const dir = tempDir(t);
  const notes = join(dir, 'notes.txt');
  writeFileSync(notes, 'not a model');
  const bad = await cascade(['serve', '--llm-gguf', notes, '--http-port', '0', '--port', '0', '--tracker-port', '0', '--no-dht', '--state-dir', join(dir, 's')]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /not a GGUF model file/);
  const both = await cascade(['serve', '--llm-gguf', notes, '--llm-url', 'http://127.0.0.1:1/v1', '--llm-model', 'x', '--state-dir', join(dir, 's')]);
  assert.notEqual(both.code, 0);
  assert.match(both.stderr, /give one/);
});
