import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { ReplyBatcher } from '../src/udp/udp-replies.ts';
import { waitFor } from './helpers.ts';

async function socketPair() {
  const from = dgram.createSocket('udp4');
  const to = dgram.createSocket('udp4');
  from.bind(0, '127.0.0.1');
  to.bind(0, '127.0.0.1');
  await Promise.all([once(from, 'listening'), once(to, 'listening')]);
  return { from, to, port: to.address().port };
}

test('replies are copied when queued and all leave at the end of the loop turn', async () => {
  const { from, to, port } = await socketPair();
  const got: string[] = [];
  to.on('message', (m: Buffer) => got.push(m.toString()));
  try {
    const batcher = new ReplyBatcher(from);
    const scratch = Buffer.alloc(64);
    // The same scratch rewritten for each reply, as udp.ts does; lengths shared and not.
    for (const text of ['first', 'other', 'third!', 'fifth']) {
      scratch.write(text);
      batcher.send(scratch, text.length, port, '127.0.0.1');
    }
    await new Promise((r) => setTimeout(r, 20));
    await waitFor(() => got.length === 4, 2000, 'four replies');
    assert.deepEqual(got.sort(), ['fifth', 'first', 'other', 'third!']);
    // Once sent, the buffers are reused: a second round is as right as the first.
    got.length = 0;
    for (const text of ['again', 'twice']) {
      scratch.write(text);
      batcher.send(scratch, text.length, port, '127.0.0.1');
    }
    await waitFor(() => got.length === 2, 2000, 'two more replies');
    assert.deepEqual(got.sort(), ['again', 'twice']);
  } finally {
    from.close();
    to.close();
  }
});

test('replies still held when the socket closes are dropped without an error', async () => {
  const { from, to, port } = await socketPair();
  const errors: unknown[] = [];
  const onError = (e: unknown) => errors.push(e);
  process.on('uncaughtException', onError);
  try {
    const batcher = new ReplyBatcher(from);
    batcher.send(Buffer.from('late'), 4, port, '127.0.0.1');
    from.close();
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(errors, []);
  } finally {
    process.off('uncaughtException', onError);
    to.close();
  }
});
