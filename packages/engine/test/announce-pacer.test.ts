// The session's announce pacer: turns at the configured rate, wanting torrents before seeds, a cap on
// announces in flight, aborted waits leave the line; whenTurn() callbacks share the same line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AnnouncePacer } from '../src/discovery/announce-pacer.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('turns go at the rate given, high priority first, callbacks and promises in one line', async () => {
  // The clock stands still while the line is queued: on a loaded machine a stall of 100 ms between
  // spending the burst and queuing 'wanting' refills a token, and seed0 goes before 'wanting' is
  // even in the line (CI, load 12, failed so). Once all are queued, time runs as it does.
  let still: number | undefined = Date.now();
  const pacer = new AnnouncePacer({ perSecond: 10, concurrent: 100, now: () => still ?? Date.now() });
  pacer.join(100_000); // enough sources that seeds may use the full rate
  const order: string[] = [];
  const t0 = performance.now();
  const times: number[] = [];
  // Spend the first second's burst so that what follows is paced.
  for (let i = 0; i < 10; i++) pacer.whenTurn(true, (release) => release());
  for (let i = 0; i < 3; i++) {
    pacer.whenTurn(false, (release) => {
      // Noted a microtask later, as a promise's turn is (its then runs after the pump that granted
      // it): when a late timer finds several tokens, one pump grants 'wanting' and then seed0, and
      // noting seed0 at once would put it first in the list although it was granted second.
      queueMicrotask(() => {
        order.push(`seed${i}`);
        times.push(performance.now() - t0);
      });
      release();
    });
  }
  const wanting = pacer.turn(true).then((release) => {
    order.push('wanting');
    times.push(performance.now() - t0);
    release();
  });
  assert.equal(pacer.waiting, 4);
  still = undefined;
  await wanting;
  while (order.length < 4) await sleep(20);
  assert.deepEqual(order, ['wanting', 'seed0', 'seed1', 'seed2'], 'a torrent that wants data goes before seeds queued earlier');
  // 10 a second: the four after the burst take about 0.4 s, not all at once.
  assert.ok(times[3]! >= 250, `paced: ${times.map((t) => t.toFixed(0)).join(', ')} ms`);
  assert.equal(pacer.waiting, 0);
});

test('no more in flight than allowed: a callback turn holds its place until released', async () => {
  const pacer = new AnnouncePacer({ perSecond: 1000, concurrent: 2 });
  pacer.join(1_000_000);
  const releases: (() => void)[] = [];
  for (let i = 0; i < 5; i++) pacer.whenTurn(true, (release) => releases.push(release));
  await sleep(20);
  assert.equal(releases.length, 2);
  assert.equal(pacer.waiting, 3);
  releases[0]!();
  releases[0]!(); // a second release of the same turn counts once
  await sleep(20);
  assert.equal(releases.length, 3);
  for (const r of releases.slice(1)) r();
  await sleep(20);
  assert.equal(releases.length, 5);
  for (const r of releases) r();
  assert.equal(pacer.waiting, 0);
});

test('an aborted wait leaves the line and rejects with the reason', async () => {
  const pacer = new AnnouncePacer({ perSecond: 1, concurrent: 1 });
  const first = await pacer.turn(true); // holds the only slot
  const ac = new AbortController();
  const waiting = pacer.turn(true, ac.signal);
  let called = false;
  pacer.whenTurn(true, (release) => {
    called = true;
    release();
  });
  assert.equal(pacer.waiting, 2);
  ac.abort(new Error('stopped'));
  await assert.rejects(waiting, /stopped/);
  assert.equal(pacer.waiting, 1);
  first();
  while (!called) await sleep(20);
  assert.equal(pacer.waiting, 0);
});
