import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChangeLog } from '../src/events/change-log.ts';

const torrent = (name: string) => ({ name, changeEpoch: 0 });

test('each feed gets every torrent that changed since its own last take, once', () => {
  const log = new ChangeLog<ReturnType<typeof torrent>>();
  const a = log.feed();
  const b = log.feed();
  const [x, y, z] = [torrent('x'), torrent('y'), torrent('z')];
  log.note(x);
  log.note(x);
  log.note(y);
  assert.deepEqual([...a.take()].map((t) => t.name), ['x', 'y']);
  assert.equal(a.take().size, 0, 'nothing changed since');
  // x changes again after a's take: both feeds must hear of it; b still holds x and y.
  log.note(x);
  log.note(z);
  assert.deepEqual([...a.take()].map((t) => t.name), ['x', 'z']);
  assert.deepEqual([...b.take()].map((t) => t.name).sort(), ['x', 'y', 'z']);
  assert.equal(b.take().size, 0);
});

test('a feed opened later hears of torrents noted before it in the same epoch', () => {
  const log = new ChangeLog<ReturnType<typeof torrent>>();
  const a = log.feed();
  const x = torrent('x');
  log.note(x); // x is now in a, marked with this epoch
  const late = log.feed();
  log.note(x);
  assert.deepEqual([...late.take()].map((t) => t.name), ['x']);
  assert.deepEqual([...a.take()].map((t) => t.name), ['x']);
});

test('a closed feed hears nothing more', () => {
  const log = new ChangeLog<ReturnType<typeof torrent>>();
  const a = log.feed();
  a.close();
  log.note(torrent('x'));
  assert.equal(a.take().size, 0);
});
