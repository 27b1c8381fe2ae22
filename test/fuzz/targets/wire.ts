// Peer wire framing (Wire in packages/engine/src/wire/wire.ts). Clean error: a ProtocolError the
// framer raised on purpose, reported through handler.error. Input: 4 bytes that seed the chunking,
// then the byte stream a peer sends. The stream is framed twice, once whole and once in random
// chunks the way the TCP layer hands them over (buffers reused after push returns, tails handed
// back with `redeliver`); both must yield the same events, every field must be in range, and
// nothing may throw out of push().

import { Wire, ProtocolError, type WireHandler } from '../../../packages/engine/src/wire/wire.ts';
import { encodeHandshake, encodeHashMessage, MAX_BLOCK, MAX_HASH_COUNT, MSG, type HashRequest } from '../../../packages/engine/src/wire/protocol.ts';
import { uncleCount } from '../../../packages/engine/src/hashing/merkle.ts';
import { MAX_REDELIVER } from '../../../packages/engine/src/platform.ts';
import { encode } from '../../../packages/engine/src/encoding/bencode.ts';
import { Rng } from '../lib/rng.ts';
import { concat } from '../lib/mutate.ts';
import { check, judge, ACCEPTED, REJECTED, unexpected, type Target } from '../lib/target.ts';

const u32 = (n: number) => (n >>> 0) < 2 ** 32 && Number.isInteger(n) && n >= 0;

function sum(b: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return `${b.length}/${(h >>> 0).toString(16)}`;
}

/** Records events as strings, checking each field as it arrives (a handler must not throw: the
 *  framer would report that as a ProtocolError, so violations are kept aside instead). */
function recorder(): { handler: WireHandler; log: string[]; violation: () => string | undefined; failed: () => boolean } {
  const log: string[] = [];
  let error: ProtocolError | undefined;
  let violation: string | undefined;
  const ok = (cond: boolean, what: string) => {
    if (!cond) violation ??= what;
  };
  const ev = (s: string) => {
    ok(error === undefined, `event ${s.slice(0, 40)} after the error`);
    log.push(s);
  };
  const block = (what: string, i: number, b: number, l: number) => {
    ok(u32(i) && u32(b) && l >= 1 && l <= MAX_BLOCK, `${what} fields out of range: ${i} ${b} ${l}`);
    ev(`${what} ${i} ${b} ${l}`);
  };
  const hash = (what: string, r: HashRequest, bytes: number, digest = '') => {
    const count = r.length;
    ok(r.piecesRoot.length === 32 && count >= 2 && count <= MAX_HASH_COUNT && (count & (count - 1)) === 0, `${what} count ${count} out of range`);
    ok(what !== 'hashes' || bytes === (count + uncleCount(r)) * 32, `${what} carries ${bytes} bytes for ${count} hashes`);
    ev(`${what} ${sum(r.piecesRoot)} ${r.baseLayer} ${r.index} ${count} ${r.proofLayers} ${digest}`);
  };
  const handler: WireHandler = {
    handshake: (h) => {
      ok(h.infoHash.length === 20 && h.peerId.length === 20, 'handshake ids are not 20 bytes');
      ev(`hs ${sum(h.infoHash)} ${sum(h.peerId)} ${JSON.stringify(h.flags)}`);
    },
    choke: () => ev('choke'),
    unchoke: () => ev('unchoke'),
    interested: () => ev('interested'),
    notInterested: () => ev('notInterested'),
    have: (i) => (ok(u32(i), 'have index out of range'), ev(`have ${i}`)),
    bitfield: (bits) => ev(`bitfield ${sum(bits)}`),
    request: (i, b, l) => block('request', i, b, l),
    cancel: (i, b, l) => block('cancel', i, b, l),
    reject: (i, b, l) => block('reject', i, b, l),
    piece: (i, b, data) => (block('piece', i, b, data.length), ev(`data ${sum(data)}`)),
    port: (p) => (ok(Number.isInteger(p) && p >= 0 && p <= 65535, 'port out of range'), ev(`port ${p}`)),
    haveAll: () => ev('haveAll'),
    haveNone: () => ev('haveNone'),
    allowedFast: (i) => (ok(u32(i), 'allowedFast index out of range'), ev(`allowedFast ${i}`)),
    extended: (id, payload) => (ok(id >= 0 && id <= 255, 'extended id out of range'), ev(`ext ${id} ${sum(payload)}`)),
    hashRequest: (r) => hash('hashRequest', r, 0),
    hashReject: (r) => hash('hashReject', r, 0),
    hashes: (r, hashes) => hash('hashes', r, hashes.length, sum(hashes)),
    error: (e) => {
      ok(error === undefined, 'second error');
      ok(e instanceof ProtocolError, 'error is not a ProtocolError');
      // push() wraps anything the framer did not throw on purpose; such a wrapper is made in push.
      const top = (e.stack ?? '').split('\n')[1] ?? '';
      ok(!/Wire\.push/.test(top), `internal error surfaced as ProtocolError: ${e.message}`);
      error = e;
      log.push(`error ${e.message}`);
    },
  };
  return { handler, log, violation: () => violation, failed: () => error !== undefined };
}

// The socket layer's read buffer: reused for every chunk, as the TCP code reuses its buffer.
const scratch = new Uint8Array(1 << 20);

function runOne(input: Uint8Array): boolean {
  if (input.length < 4) return false;
  const stream = input.subarray(4);
  const rng = new Rng(new DataView(input.buffer, input.byteOffset).getUint32(0));
  const whole = recorder();
  new Wire(whole.handler).push(stream.slice());
  check(whole.violation() === undefined, whole.violation()!);

  const chunked = recorder();
  const w = new Wire(chunked.handler);
  const borrowed = rng.chance(0.5);
  const redeliver = borrowed && rng.chance(0.5);
  let back = 0;
  for (let pos = 0; pos < stream.length; ) {
    const left = stream.length - pos;
    if (back > 0 && back === left) break; // an unfinished message at the end: nothing more comes
    const want = rng.chance(0.3) ? rng.range(1, 8) : rng.small(scratch.length - 1) + 1;
    const n = Math.min(left, Math.max(want, back + 1));
    const chunk = borrowed ? scratch.subarray(0, n) : stream.slice(pos, pos + n);
    if (borrowed) chunk.set(stream.subarray(pos, pos + n));
    back = w.push(chunk, borrowed, redeliver);
    check(back >= 0 && back <= n && back <= MAX_REDELIVER && (redeliver || back === 0), `push returned ${back} for a ${n}-byte chunk`);
    // A borrowed chunk lives in the socket's buffer, which the next read overwrites.
    if (borrowed) chunk.fill(0xaa);
    pos += n - back;
  }
  check(chunked.violation() === undefined, chunked.violation()!);
  check(chunked.log.join('\n') === whole.log.join('\n'), 'events depend on how the stream was chunked');
  return !whole.failed();
}

const HS = encodeHandshake(new Uint8Array(20).fill(7), new Uint8Array(20).fill(9), { extended: true, fast: true, dht: true });

function frame(id: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + payload.length);
  new DataView(out.buffer).setUint32(0, 1 + payload.length);
  out[4] = id;
  out.set(payload, 5);
  return out;
}

function be(...nums: number[]): Uint8Array {
  const out = new Uint8Array(nums.length * 4);
  nums.forEach((n, i) => new DataView(out.buffer).setUint32(i * 4, n >>> 0));
  return out;
}

function message(rng: Rng): Uint8Array {
  const int = () => rng.pick([0, 1, 5, 16383, 16384, 0x7fffffff, 0xffffffff, rng.u32()]);
  const len = () => rng.pick([1, 16384, MAX_BLOCK, MAX_BLOCK + 1, 0, 0xffffffff]);
  switch (rng.int(15)) {
    case 14: {
      const req = { piecesRoot: rng.bytes(32), baseLayer: rng.pick([0, 1, 8, 31, 32, rng.u32()]), index: int(), length: rng.pick([0, 1, 2, 512, 8192, 8193, 3, rng.u32()]), proofLayers: rng.pick([0, 1, 10, 31, 32, rng.u32()]) };
      const id = rng.pick([MSG.hashRequest, MSG.hashes, MSG.hashReject]);
      const honest = (req.length + (req.length >= 2 && req.length <= 8192 ? uncleCount({ ...req, proofLayers: Math.min(req.proofLayers, 40) }) : 0)) * 32;
      return encodeHashMessage(id, req, id === MSG.hashes ? new Uint8Array(rng.chance(0.7) && honest < 1 << 20 ? honest : rng.small(2000)) : rng.chance(0.1) ? rng.bytes(1) : undefined);
    }
    case 0: return new Uint8Array(4); // keep-alive
    case 1: return frame(rng.pick([MSG.choke, MSG.unchoke, MSG.interested, MSG.notInterested, MSG.haveAll, MSG.haveNone]), new Uint8Array(0));
    case 2: return frame(rng.pick([MSG.have, MSG.suggest, MSG.allowedFast]), be(int()));
    case 3: return frame(MSG.bitfield, rng.bytes(rng.small(600)));
    case 4: return frame(rng.pick([MSG.request, MSG.cancel, MSG.reject]), be(int(), int(), len()));
    case 5: {
      const size = rng.chance(0.05) ? rng.pick([0, MAX_BLOCK, MAX_BLOCK + 1]) : rng.small(20000) + 1;
      return frame(MSG.piece, concat(be(int(), int()), new Uint8Array(size).fill(rng.int(256))));
    }
    case 6: return frame(MSG.port, rng.bytes(2));
    case 7: return frame(MSG.extended, concat(new Uint8Array([rng.int(4)]), encode({ m: { ut_metadata: 1, ut_pex: 2 }, metadata_size: rng.small(1e6) })));
    case 8: return frame(rng.range(21, 255), rng.bytes(rng.small(64)));
    case 9: return frame(rng.int(21), rng.bytes(rng.small(16))); // any id, wrong length likely
    case 10: return concat(be(rng.pick([4 * 1024 * 1024, 4 * 1024 * 1024 + 1, 0xffffffff, 2])), rng.bytes(rng.small(8)));
    case 11: return frame(MSG.extended, new Uint8Array(0));
    case 12: return frame(MSG.piece, rng.bytes(rng.small(9)));
    default: return frame(MSG.have, be(int()));
  }
}

function fresh(rng: Rng): Uint8Array {
  const parts = [be(rng.u32())];
  if (!rng.chance(0.03)) parts.push(rng.chance(0.95) ? HS : HS.subarray(0, rng.int(68)));
  const n = rng.small(40);
  for (let i = 0; i < n; i++) parts.push(message(rng));
  return concat(...parts);
}

export const target: Target = {
  name: 'wire',
  minimize: true,
  mutateOptions: {
    binary: true,
    protectPrefix: 24,
    maxLen: 1 << 20,
    // Length prefixes of common messages, and the handshake's first byte.
    dict: ['\x00\x00\x00\x01', '\x00\x00\x00\x05\x04', '\x00\x00\x00\x0d\x06', '\x00\x00\x40\x09\x07', '\x13'],
  },
  seeds: () => {
    const rng = new Rng(1);
    return [fresh(rng), fresh(rng), concat(be(1), HS, ...Array.from({ length: 14 }, (_, i) => message(new Rng(i))))];
  },
  fresh,
  run: (input) => {
    let clean = false;
    const out = judge(() => (clean = runOne(input)), () => false);
    if (out.kind !== 'accepted') return out.kind === 'finding' ? out : unexpected(new Error('impossible'));
    return clean ? ACCEPTED : REJECTED;
  },
};
