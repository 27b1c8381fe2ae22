// The framer must yield the same messages however the stream is chunked, including when the
// transport lends a buffer it overwrites after each push.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Wire, type WireHandler } from '../src/wire/wire.ts';
import { encodeBlockRef, encodeHandshake, encodeIndex, encodePieceHeader, MSG } from '../src/wire/protocol.ts';

function recorder(log: string[]): WireHandler {
  const rec = (name: string) => (...args: unknown[]) => log.push(`${name}:${args.map((a) => (a instanceof Uint8Array ? Buffer.from(a).toString('hex') : String(a))).join(',')}`);
  return {
    handshake: () => log.push('handshake'), choke: rec('choke'), unchoke: rec('unchoke'), interested: rec('interested'),
    notInterested: rec('notInterested'), have: rec('have'), bitfield: rec('bitfield'), request: rec('request'), piece: rec('piece'),
    cancel: rec('cancel'), port: rec('port'), haveAll: rec('haveAll'), haveNone: rec('haveNone'), reject: rec('reject'),
    allowedFast: rec('allowedFast'), extended: rec('extended'), error: (e) => log.push(`error:${e.message}`),
  };
}

function stream(): Buffer {
  const parts: Uint8Array[] = [encodeHandshake(new Uint8Array(20).fill(1), new Uint8Array(20).fill(2), { extended: true, fast: true, dht: false })];
  for (let i = 0; i < 200; i++) {
    const block = randomBytes(1 + Math.floor(Math.random() * 20000));
    parts.push(encodePieceHeader(i, i * 16384, block.length), block);
    parts.push(encodeIndex(MSG.have, i), encodeBlockRef(MSG.request, i, 0, 16384), new Uint8Array(4));
  }
  return Buffer.concat(parts);
}

test('any chunking, owned or borrowed buffers, yields the same messages', () => {
  const data = stream();
  const expected: string[] = [];
  new Wire(recorder(expected)).push(data);
  assert.ok(expected.length > 600 && !expected.some((e) => e.startsWith('error')));
  for (const borrowed of [false, true]) {
    for (let trial = 0; trial < 20; trial++) {
      const got: string[] = [];
      const wire = new Wire(recorder(got));
      const lent = Buffer.alloc(70000);
      for (let off = 0; off < data.length; ) {
        const n = Math.min(data.length - off, 1 + Math.floor(Math.random() * (trial % 2 ? 100 : 70000)));
        if (borrowed) {
          data.copy(lent, 0, off, off + n);
          wire.push(lent.subarray(0, n), true);
          lent.fill(0xee); // the transport reuses its buffer
        } else {
          wire.push(data.subarray(off, off + n));
        }
        off += n;
      }
      assert.deepEqual(got, expected);
    }
  }
});

test('a redelivering transport gets unfinished messages handed back, and the messages are the same', () => {
  const data = stream();
  const expected: string[] = [];
  new Wire(recorder(expected)).push(data);
  for (let trial = 0; trial < 20; trial++) {
    const got: string[] = [];
    const wire = new Wire(recorder(got));
    // Like tcp.ts: the handed-back tail stays in the buffer, new bytes are read in behind it.
    const lent = Buffer.alloc(200_000);
    let kept = 0;
    let handedBack = 0;
    for (let off = 0; off < data.length; ) {
      const n = Math.min(data.length - off, 1 + Math.floor(Math.random() * (trial % 2 ? 100 : 70000)));
      data.copy(lent, kept, off, off + n);
      const chunk = lent.subarray(0, kept + n);
      const back = wire.push(chunk, true, true);
      assert.ok(back <= chunk.length && back <= 64 * 1024);
      lent.copyWithin(0, chunk.length - back, chunk.length);
      lent.fill(0xee, back); // everything not handed back is reused
      kept = back;
      handedBack += back > 0 ? 1 : 0;
      off += n;
    }
    assert.equal(kept, 0, 'nothing left over at the end of the stream');
    assert.ok(handedBack > 0, 'tails were handed back rather than copied');
    assert.deepEqual(got, expected);
  }
});

test('oversized and malformed messages are protocol errors', () => {
  for (const bad of [Buffer.from([0xff, 0xff, 0xff, 0xff]), Buffer.from([0, 0, 0, 2, MSG.have, 0]), Buffer.from([0, 0, 0, 13, MSG.request, ...new Array(8).fill(0), 0, 0, 0, 0])]) {
    const log: string[] = [];
    const wire = new Wire(recorder(log));
    wire.push(encodeHandshake(new Uint8Array(20), new Uint8Array(20), { extended: false, fast: false, dht: false }));
    wire.push(bad);
    assert.ok(log.some((e) => e.startsWith('error')), `no error for ${bad.toString('hex')}`);
  }
});
