// The back-off after WebRTC attempts that died before their data channel opened (tracker-ws-retry.ts):
// bounded per peer, doubling, the lower peer id first, and the per-URL retry wish it sets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttemptRetries, retryNotNeeded, wantRetry } from '../src/discovery/tracker-ws-retry.ts';
import type { UrlState } from '../src/discovery/tracker-ws-state.ts';

const within = (s: number | undefined, lo: number, hi: number) => assert.ok(s !== undefined && s >= lo && s <= hi, `${s} in [${lo}, ${hi}]`);

test('each end backs off per peer, the lower peer id always before the other, four quick retries at most', () => {
  const low = new AttemptRetries('01');
  const high = new AttemptRetries('02');
  const now = 1_000_000;
  for (const [i, first] of [1, 2, 4, 8].entries()) {
    within(low.failed('02', now + i), first, first * 1.2);
    within(high.failed('01', now + i), first * 2.5, first * 3);
  }
  assert.equal(low.failed('02', now + 5), undefined, 'quick retries used up: the ordinary schedule again');
  // Another peer has its own count; a connection resets one's; old failures are forgotten.
  within(low.failed('03', now), 1, 1.2);
  low.connected('03');
  within(low.failed('03', now), 1, 1.2);
  within(low.failed('02', now + 6 * 60_000), 1, 1.2);
});

test('a torrent\'s quick retries are bounded whichever peers fail, so new peer ids cannot make it announce every second', () => {
  const r = new AttemptRetries('01');
  const now = 1_000_000;
  for (let i = 0; i < 8; i++) within(r.failed(`1${i}`, now + i), 1, 1.2);
  assert.equal(r.failed('20', now + 8), undefined);
  within(r.failed('20', now + 6 * 60_000), 1, 1.2);
});

test('a retry wish: sooner timers are kept, the same peer\'s next failure puts it off, a connection cancels it', () => {
  const u = { dueAt: Infinity, retryTimer: false, retry: undefined } as unknown as UrlState;
  const now = 1_000_000;
  assert.equal(wantRetry(u, 'aa', 1, now), true, 'no timer before it: set one');
  assert.deepEqual(u.retry, { at: now + 1000, peer: 'aa' });
  u.dueAt = now + 1000;
  u.retryTimer = true;
  // Another peer failing later is covered by the sooner retry.
  assert.equal(wantRetry(u, 'bb', 5, now), false);
  assert.equal(u.retry!.peer, 'aa');
  // The same peer failing again backs its retry off: the timer is set again, later.
  assert.equal(wantRetry(u, 'aa', 2, now + 500), true);
  assert.deepEqual(u.retry, { at: now + 2500, peer: 'aa' });
  // A timer of the ordinary schedule that comes sooner stays.
  u.retryTimer = false;
  u.dueAt = now + 100;
  assert.equal(wantRetry(u, 'aa', 4, now), false);
  // Connected to another peer: nothing changes; to this one: the wish goes.
  assert.equal(retryNotNeeded(u, 'bb'), false);
  assert.notEqual(u.retry, undefined);
  u.retryTimer = true;
  assert.equal(retryNotNeeded(u, 'aa'), true, 'the timer was the retry\'s: set it again');
  assert.equal(u.retry, undefined);
});
