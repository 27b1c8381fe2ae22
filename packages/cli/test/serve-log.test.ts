// What `cascade serve` tells of the node: in --json mode the node's notes (a copy that could not be
// deleted, a database write that failed, a move cut short at the last stop) are `note` events on
// stdout. They were silent there, so a service whose output is collected as JSON, and the crash
// harness reading its members' logs, never saw them. Without --json they stay on stderr.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { Output } from '../src/output/output.ts';
import { serveLog } from '../src/commands/serve.ts';

function collect(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.setEncoding('utf8').on('data', (c: string) => (text += c));
  return { stream, text: () => text };
}

test("serve's log: notes are events in --json mode, stderr lines otherwise", async () => {
  const [out, err] = [collect(), collect()];
  const json = serveLog(new Output(true, out.stream, err.stream));
  json.note('cluster: deleting the surplus copy of ab failed: EACCES');
  json.event('cluster', { state: 'copies trimmed' });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(out.text().trim().split('\n').map((l) => JSON.parse(l)), [
    { event: 'note', message: 'cluster: deleting the surplus copy of ab failed: EACCES' },
    { event: 'cluster', state: 'copies trimmed' },
  ]);
  assert.equal(err.text(), '');

  const [out2, err2] = [collect(), collect()];
  const human = serveLog(new Output(false, out2.stream, err2.stream));
  human.note('queue: starting ab failed');
  await new Promise((r) => setImmediate(r));
  assert.equal(err2.text(), 'queue: starting ab failed\n');
  assert.equal(out2.text(), '');
});
