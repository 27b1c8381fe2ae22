// Small long-lived byte arrays cut from shared chunks (issue 64): each is its own zeroed window,
// writes to one never show in another, copies hold the source's bytes, larger ones get a buffer of
// their own, and a torrent's bitfield and infohash come from them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lastingBytes, lastingCopy } from '../src/encoding/lasting-bytes.ts';
import { Bitfield } from '../src/pieces/bitfield.ts';

test('views do not overlap, start zeroed, and stay 8-byte aligned across chunks', () => {
  const views: Uint8Array[] = [];
  // Enough to fill several 8 KiB chunks.
  for (let i = 0; i < 3000; i++) views.push(lastingBytes(1 + (i % 64)));
  for (const [i, v] of views.entries()) {
    assert.equal(v.length, 1 + (i % 64));
    assert.equal(v.byteOffset % 8, 0);
    assert.ok(v.every((b) => b === 0), `view ${i} starts zeroed`);
    v.fill(i % 251 + 1);
  }
  for (const [i, v] of views.entries()) assert.ok(v.every((b) => b === i % 251 + 1), `view ${i} kept its own bytes`);
  assert.ok(new Set(views.map((v) => v.buffer)).size > 1, 'several chunks were used');
  assert.ok(views.some((v, i) => i > 0 && v.buffer === views[i - 1]!.buffer), 'views share a chunk');
});

test('copies hold the bytes; large or empty arrays get a buffer of their own', () => {
  const src = Uint8Array.from({ length: 20 }, (_, i) => i * 7);
  const c = lastingCopy(src);
  assert.deepEqual([...c], [...src]);
  src[0] = 99;
  assert.equal(c[0], 0, 'a copy, not a view of the source');
  const big = lastingBytes(65);
  assert.equal(big.byteOffset, 0);
  assert.equal(big.buffer.byteLength, 65);
  assert.equal(lastingBytes(0).length, 0);
});

test("a torrent's own bitfield (lasting) counts and sets as any other", () => {
  const b = new Bitfield(10, Uint8Array.of(0xff, 0xff), true);
  assert.equal(b.count, 10, 'spare bits past the length are not counted');
  assert.equal(b.bytes[1], 0xc0);
  b.set(3, false);
  assert.equal(b.count, 9);
  assert.equal(b.get(3), false);
  const other = new Bitfield(10, undefined, true);
  assert.equal(other.count, 0);
  assert.equal(b.bytes[0], 0xef, 'a neighbour in the chunk left it alone');
});
