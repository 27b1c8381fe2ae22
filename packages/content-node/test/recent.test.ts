// Recent (what NodeContent knows it published less than 5 minutes ago) holds only what the window
// still covers: before, a Map kept one entry per torrent ever published for the node's life
// (issue 63: a soak's churn adds and removes hundreds of torrents an hour).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Recent } from '../src/recent.ts';

test('Recent: a key is known within its window, and what the window no longer covers is dropped', () => {
  let now = 0;
  const recent = new Recent(300_000, () => now);
  recent.note('a');
  now += 299_999;
  assert.equal(recent.has('a'), true);
  now += 1;
  assert.equal(recent.has('a'), false, 'the window is over');
  assert.equal(recent.has('never'), false);

  // A day of torrents published one a minute: only the last 5 minutes' are held.
  for (let i = 0; i < 1440; i++, now += 60_000) recent.note(`t${i}`);
  assert.equal(recent.size, 5);
  assert.equal(recent.has('t1439'), true);
  assert.equal(recent.has('t1434'), false);

  // Noted again: it moves to the newest end and is kept for a whole window more.
  recent.note('t1436');
  now += 240_000;
  recent.note('late');
  assert.equal(recent.has('t1436'), true);
  assert.equal(recent.has('t1437'), false);

  recent.forget('late');
  assert.equal(recent.has('late'), false, 'a removed torrent is forgotten at once');
});
