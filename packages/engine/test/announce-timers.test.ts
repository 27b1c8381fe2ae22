// The session's one timer heap for next announces (issue 64: no Node timer per idle torrent):
// entries come due in order, a cancelled or rescheduled one does not run, one failing does not stop
// the rest, a thousand waiting entries keep a single Node timer armed, and a tracker client stopped
// (a torrent removed) leaves nothing in the heap and never announces again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AnnounceTimers, type TimedAnnounce } from '../src/discovery/announce-timers.ts';
import { AnnouncePacer } from '../src/discovery/announce-pacer.ts';
import { TrackerClient } from '../src/discovery/tracker-client.ts';

function entry(name: string, log: string[], then?: () => void): TimedAnnounce {
  return {
    dueAt: Infinity,
    heapAt: -1,
    due() {
      log.push(name);
      then?.();
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('entries come due in the order of their times, whatever the order they were scheduled in', async () => {
  const timers = new AnnounceTimers();
  const log: string[] = [];
  const delays = [120, 20, 80, 60, 5, 100, 40];
  for (const d of delays) timers.at(entry(`e${d}`, log), d);
  assert.equal(timers.size, delays.length);
  await sleep(200);
  assert.deepEqual(log, [...delays].sort((a, b) => a - b).map((d) => `e${d}`));
  assert.equal(timers.size, 0);
});

test('a cancelled entry never runs; a rescheduled one runs once, at its new time', async () => {
  const timers = new AnnounceTimers();
  const log: string[] = [];
  const a = entry('a', log);
  const b = entry('b', log);
  const c = entry('c', log);
  timers.at(a, 10);
  timers.at(b, 20);
  timers.at(c, 30);
  timers.cancel(b);
  timers.cancel(b); // twice is harmless
  timers.at(a, 60); // later than c now
  assert.equal(timers.size, 2);
  await sleep(100);
  assert.deepEqual(log, ['c', 'a']);
});

test('an entry due in the same round as another that cancels or reschedules it does not run', async () => {
  const timers = new AnnounceTimers();
  const log: string[] = [];
  const victim = entry('victim', log);
  const moved = entry('moved', log);
  // Same due time: all three are taken out together, then called in turn.
  const first = entry('first', log, () => {
    timers.cancel(victim);
    timers.at(moved, 40);
  });
  timers.at(first, 10);
  timers.at(victim, 10);
  timers.at(moved, 10);
  await sleep(30);
  assert.deepEqual(log, ['first']);
  await sleep(50);
  assert.deepEqual(log, ['first', 'moved']);
});

test('one entry throwing does not keep the others from running', async () => {
  const timers = new AnnounceTimers();
  const log: string[] = [];
  timers.at(entry('bad', log, () => {
    throw new Error('boom');
  }), 5);
  timers.at(entry('good', log), 5);
  timers.at(entry('later', log), 25);
  await sleep(60);
  assert.deepEqual(log, ['bad', 'good', 'later']);
});

test('an entry that schedules itself at once waits for the next round instead of spinning', async () => {
  const timers = new AnnounceTimers();
  let runs = 0;
  const self: TimedAnnounce = { dueAt: Infinity, heapAt: -1, due: () => void (++runs < 1000 && timers.at(self, 0)) };
  timers.at(self, 0);
  await sleep(0);
  assert.ok(runs <= 2, `ran ${runs} times in one turn of the event loop`);
  await sleep(50);
  assert.ok(runs > 2);
  timers.cancel(self);
});

test('a thousand waiting entries arm one Node timer, not a thousand', async () => {
  const realSetTimeout = globalThis.setTimeout;
  let armed = 0;
  globalThis.setTimeout = ((fn: () => void, ms?: number) => (armed++, realSetTimeout(fn, ms))) as typeof setTimeout;
  try {
    const timers = new AnnounceTimers();
    const log: string[] = [];
    // As seeds answered one after another: each due a little later than the one before.
    for (let i = 0; i < 1000; i++) timers.at(entry(`e${i}`, log), 1_800_000 + i);
    assert.equal(armed, 1);
    assert.equal(timers.size, 1000);
    // An earlier one re-arms it once.
    timers.at(entry('soon', log), 10);
    assert.equal(armed, 2);
    await sleep(40);
    assert.deepEqual(log, ['soon']);
    assert.equal(timers.size, 1000);
  } finally {
    globalThis.setTimeout = realSetTimeout;
  }
});

test('a cancelled entry reads as not waiting (dueAt Infinity), a waiting one says when', () => {
  let t = 1_000;
  const timers = new AnnounceTimers(() => t);
  const e = entry('e', []);
  assert.equal(timers.at(e, 250), 1_250);
  assert.equal(e.dueAt, 1_250);
  t = 1_100;
  timers.at(e, 500); // rescheduled: one entry, the new time
  assert.equal(e.dueAt, 1_600);
  assert.equal(timers.size, 1);
  timers.cancel(e);
  assert.equal(e.dueAt, Infinity);
  assert.equal(e.heapAt, -1);
  assert.equal(timers.size, 0);
  timers.clear();
});

test('a stopped tracker client (a removed torrent) leaves the heap and never announces again', async () => {
  const pacer = new AnnouncePacer();
  const announced: (string | undefined)[] = [];
  const local = {
    urls: ['http://127.0.0.1:1/announce'],
    announce: (req: { event?: string }) => {
      announced.push(req.event);
      // An interval of 0.05 s (min-interval floor lowered below): the next one is due at once.
      return { interval: 0.05, complete: 1, incomplete: 0, peers: [] };
    },
  };
  const client = new TrackerClient({
    infoHash: new Uint8Array(20).fill(1), peerId: new Uint8Array(20).fill(2), port: 6881, tiers: [local.urls],
    getStats: () => ({ uploaded: 0, downloaded: 0, left: 0 }), onPeers: () => {}, local, pacer, minInterval: 0.05,
  });
  client.start();
  await until(() => announced.length >= 3);
  assert.equal(announced[0], 'started');
  assert.equal(announced[1], undefined, 'later announces carry no event');
  assert.equal(pacer.timers.size, 1, 'one tier waiting: one entry');
  await client.stop();
  const after = announced.length;
  assert.equal(pacer.timers.size, 0, 'nothing left in the heap');
  await sleep(200);
  // Only the `stopped` announce came after stop() was called.
  assert.deepEqual(announced.slice(after - 1), ['stopped']);
});

async function until(cond: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(10);
  }
}
