// The framer must yield the same messages however the stream is chunked, including when the
// transport lends a buffer it overwrites after each push.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Wire, type WireHandler } from '../src/wire/wire.ts';
import { decodeHandshake, encodeBlockRef, encodeHandshake, encodeHashMessage, encodeIndex, encodePieceHeader, MSG } from '../src/wire/protocol.ts';
import { uncleCount } from '../src/hashing/merkle.ts';

function recorder(log: string[]): WireHandler {
  const rec = (name: string) => (...args: unknown[]) => log.push(`${name}:${args.map((a) => (a instanceof Uint8Array ? Buffer.from(a).toString('hex') : String(a))).join(',')}`);
  return {
    handshake: () => log.push('handshake'), choke: rec('choke'), unchoke: rec('unchoke'), interested: rec('interested'),
    notInterested: rec('notInterested'), have: rec('have'), bitfield: rec('bitfield'), request: rec('request'), piece: rec('piece'),
    cancel: rec('cancel'), port: rec('port'), haveAll: rec('haveAll'), haveNone: rec('haveNone'), reject: rec('reject'),
    allowedFast: rec('allowedFast'), extended: rec('extended'), error: (e) => log.push(`error:${e.message}`),
    hashRequest: (r) => log.push(`hashRequest:${JSON.stringify({ ...r, piecesRoot: Buffer.from(r.piecesRoot).toString('hex') })}`),
    hashReject: (r) => log.push(`hashReject:${JSON.stringify({ ...r, piecesRoot: Buffer.from(r.piecesRoot).toString('hex') })}`),
    hashes: (r, h) => log.push(`hashes:${r.index},${r.length},${r.proofLayers}:${Buffer.from(h).toString('hex')}`),
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

function afterHandshake(...messages: Uint8Array[]): string[] {
  const log: string[] = [];
  const wire = new Wire(recorder(log));
  wire.push(encodeHandshake(new Uint8Array(20), new Uint8Array(20), { extended: true, fast: true, dht: false, v2: true }));
  for (const m of messages) wire.push(m);
  return log;
}

test('BEP 52: the v2 bit is reserved byte 7 0x10, beside fast and DHT', () => {
  const hs = encodeHandshake(new Uint8Array(20), new Uint8Array(20), { extended: true, fast: true, dht: true, v2: true });
  assert.equal(hs[27], 0x15);
  assert.deepEqual(decodeHandshake(hs).flags, { extended: true, fast: true, dht: true, v2: true });
  assert.equal(decodeHandshake(encodeHandshake(new Uint8Array(20), new Uint8Array(20), { extended: true, fast: true, dht: true })).flags.v2, false);
});

test('BEP 52: hash request, hashes and hash reject round-trip; the hashes carry base hashes then uncles', () => {
  const root = randomBytes(32);
  const req = { piecesRoot: root, baseLayer: 8, index: 512, length: 512, proofLayers: 10 };
  // 512 base hashes span 9 layers by themselves: of 10 proof layers, 2 need an uncle.
  assert.equal(uncleCount({ ...req, length: 512, proofLayers: 10 }), 2);
  assert.equal(uncleCount({ ...req, length: 2, proofLayers: 3 }), 3);
  assert.equal(uncleCount({ ...req, length: 4, proofLayers: 0 }), 0);
  const hashes = randomBytes(32 * 514);
  const log = afterHandshake(encodeHashMessage(MSG.hashRequest, req), encodeHashMessage(MSG.hashes, req, hashes), encodeHashMessage(MSG.hashReject, req));
  const json = JSON.stringify({ ...req, piecesRoot: root.toString('hex') });
  assert.deepEqual(log, ['handshake', `hashRequest:${json}`, `hashes:512,512,10:${hashes.toString('hex')}`, `hashReject:${json}`]);
});

/** The same message framed one byte shorter (its last byte dropped). */
function shortened(m: Uint8Array): Uint8Array {
  const out = m.slice(0, m.length - 1);
  new DataView(out.buffer).setUint32(0, out.length - 4);
  return out;
}

test('BEP 52: hostile hash messages are protocol errors, not crashes', () => {
  const req = { piecesRoot: new Uint8Array(32), baseLayer: 0, index: 0, length: 4, proofLayers: 2 };
  const ok = uncleCount(req) + 4;
  const body = (n: number) => new Uint8Array(32 * n);
  const cases: [string, Uint8Array][] = [
    ['a request one byte short', shortened(encodeHashMessage(MSG.hashRequest, req))],
    ['a request with a trailing byte', encodeHashMessage(MSG.hashRequest, req, new Uint8Array(1))],
    ['a reject with hashes', encodeHashMessage(MSG.hashReject, req, body(1))],
    ['hashes one hash short', encodeHashMessage(MSG.hashes, req, body(ok - 1))],
    ['hashes one hash long', encodeHashMessage(MSG.hashes, req, body(ok + 1))],
    ['hashes with a partial hash', encodeHashMessage(MSG.hashes, req, new Uint8Array(32 * ok + 5))],
    ['a count of 0', encodeHashMessage(MSG.hashRequest, { ...req, length: 0 })],
    ['a count of 1', encodeHashMessage(MSG.hashRequest, { ...req, length: 1 })],
    ['a count that is no power of two', encodeHashMessage(MSG.hashRequest, { ...req, length: 6 })],
    ['an absurd count', encodeHashMessage(MSG.hashes, { ...req, length: 0x80000000 }, body(2))],
    ['an absurd proof depth', encodeHashMessage(MSG.hashRequest, { ...req, proofLayers: 0xffffffff })],
    ['an absurd base layer', encodeHashMessage(MSG.hashReject, { ...req, baseLayer: 40 })],
  ];
  for (const [what, bytes] of cases) {
    const log = afterHandshake(bytes);
    assert.equal(log.length, 2, `${what}: ${log.join(' | ')}`);
    assert.match(log[1]!, /^error:/, what);
  }
  assert.deepEqual(afterHandshake(encodeHashMessage(MSG.hashes, req, body(ok))).length, 2, 'the honest form of the same message passes');
  assert.match(afterHandshake(encodeHashMessage(MSG.hashes, req, body(ok)))[1]!, /^hashes:/);
});
