// Streaming: pieces a reader waits on (a player fetching a file with Range) come first, in order
// from its position, a window at a time; the rest of the torrent stays random/rarest-first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bitfield } from '../src/pieces/bitfield.ts';
import { Picker } from '../src/swarm/picker.ts';

const pieceLength = 16384;

function picker(pieceCount: number): Picker {
  const p = new Picker({ pieceCount, pieceLength, totalLength: pieceCount * pieceLength, have: new Bitfield(pieceCount) });
  p.peerHasAll(1);
  return p;
}

const peer = { key: 'p', has: () => true, isRequested: () => false };

test('a reader’s pieces are picked first, in order from its position, skipping those held', () => {
  const p = picker(200);
  p.verified(51); // already held: skipped
  p.setUrgent([{ first: 50, last: 199 }]);
  const order = p.pick(peer, 5).map((r) => r.index);
  assert.deepEqual(order, [50, 52, 53, 54, 55]);
});

test('beyond the window of missing pieces ahead of the reader, the usual order takes over', (t) => {
  // The usual order starts at a random piece: pin it to the middle.
  t.mock.method(Math, 'random', () => 0.5);
  const p = picker(400);
  p.setUrgent([{ first: 0, last: 399 }]);
  assert.deepEqual(p.pick(peer, 16).map((r) => r.index), [...Array(16).keys()]);
  // The window's 16 pieces are under way: the next one comes from the usual order.
  assert.deepEqual(p.pick(peer, 1).map((r) => r.index), [200]);
  // One of the window arrives and is verified: the window slides on to piece 16.
  p.received(0, 0, new Uint8Array(pieceLength), 'p'); // one block: a piece is one 16 KiB block here
  p.verified(0);
  assert.deepEqual(p.pick(peer, 1).map((r) => r.index), [16]);
});

test('without readers nothing changes: the usual order', (t) => {
  t.mock.method(Math, 'random', () => 0.5);
  const p = picker(400);
  assert.deepEqual(p.pick(peer, 3).map((r) => r.index), [200, 201, 202]);
});
