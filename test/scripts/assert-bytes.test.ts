// assertSameBytes: what a download test says when the file it checks is wrong. assert.deepEqual said
// nothing for minutes on a 1.2 MB file with one block of zeros (its diff grew to gigabytes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { assertSameBytes } from '../../scripts/assert-bytes.ts';

const payload = randomBytes(1_234_567);

test('a download missing one 16 KiB block fails at once, naming the block', () => {
  const got = Buffer.from(payload);
  got.fill(0, 10 * 32768, 10 * 32768 + 16384);
  assert.throws(() => assertSameBytes(got, payload, 'data.bin'), (err: Error) => {
    assert.equal(err.name, 'AssertionError');
    assert.match(err.message, /^data\.bin: 1234567 bytes, expected 1234567; first difference at byte 32768\d/);
    assert.match(err.message, /1 of 76 16 KiB blocks differ, at 327680 \(all zeros\)$/);
    return true;
  });
});

test('equal bytes pass, whatever views hold them; a short file says how short', () => {
  const inner = new Uint8Array(payload.length + 10);
  inner.set(payload, 5);
  assertSameBytes(inner.subarray(5, 5 + payload.length), payload);
  assert.throws(() => assertSameBytes(payload.subarray(0, 1000), payload), /1000 bytes, expected 1234567; the first 1000 bytes agree/);
  const many = Buffer.from(payload);
  for (let off = 0; off < many.length; off += 16384) many[off] ^= 0xff;
  assert.throws(() => assertSameBytes(many, payload), /first difference at byte 0 .*76 of 76 16 KiB blocks differ, at 0, 16384, .*, …$/);
});
