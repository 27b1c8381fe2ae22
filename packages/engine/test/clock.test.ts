// The engine's clock (src/clock.ts) does not follow a step of the wall clock: a rate limit's next
// grant, a peer's next dial or a torrent's wake-up taken while the wall clock was an hour ahead
// would otherwise lie an hour ahead once it stepped back (a RateBucket that took bytes at such a
// time withholds its next grant for 3,600,000 ms: shown below with explicit times).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clock } from '../src/clock.ts';
import { RateBucket } from '../src/swarm/rate-limiter.ts';

test('the engine clock reads the epoch like Date.now(), and a wall-clock step of an hour moves Date.now() only', (t) => {
  const before = clock.now();
  assert.ok(Math.abs(before - Date.now()) < 50, 'epoch milliseconds, as Date.now() reads them');
  t.mock.timers.enable({ apis: ['Date'], now: Date.now() + 3_600_000 });
  assert.ok(Date.now() - before > 3_590_000, 'the wall clock stepped');
  assert.ok(clock.now() - before < 1000, `the engine clock did not (${clock.now() - before} ms)`);
  t.mock.timers.reset();
});

test('why: a rate bucket charged at a time an hour ahead withholds its next grant for that hour', () => {
  const b = new RateBucket(128 * 1024);
  const now = clock.now();
  b.take(16_384, now);
  assert.equal(b.waitFor(16_384, now + 1000), 0, 'a second later the next block may go');
  const stepped = new RateBucket(128 * 1024);
  stepped.take(16_384, now + 3_600_000);
  assert.ok(stepped.waitFor(16_384, now) > 3_599_000, 'charged an hour ahead: nothing for an hour');
});
