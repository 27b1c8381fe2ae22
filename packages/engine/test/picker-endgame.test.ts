// Regression: when one pick() call takes every remaining block and so enters endgame, its endgame
// step must not hand the same peer those blocks a second time (found with WebTorrent, which answers
// duplicate requests twice and then stalls).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bitfield } from '../src/pieces/bitfield.ts';
import { Picker } from '../src/swarm/picker.ts';

test('one pick() that covers the rest of the torrent requests each block once', () => {
  const pieceCount = 129;
  const picker = new Picker({ pieceCount, pieceLength: 16384, totalLength: 128 * 16384 + 99, have: new Bitfield(pieceCount) });
  picker.peerHasAll(1);
  const requested = new Set<number>();
  const peer = { key: 'p', has: () => true, isRequested: (i: number, b: number) => requested.has(i * 8192 + b / 16384) };
  const blocks = picker.pick(peer, 250);
  const keys = blocks.map((r) => r.index * 8192 + r.begin / 16384);
  assert.equal(blocks.length, pieceCount);
  assert.equal(new Set(keys).size, keys.length, 'no block twice');
  for (const k of keys) requested.add(k);
  // A second peer may still get endgame duplicates; the same peer never.
  assert.deepEqual(picker.pick(peer, 250), []);
  const other = { key: 'q', has: () => true, isRequested: () => false };
  assert.ok(picker.pick(other, 250).length > 0);
});
