// The dial book's back-off (swarm/candidates.ts): failed dials and lost connections wait longer each
// time; two seeds forget each other; a peer let go for having nothing to trade yet is dialled again
// after a short fixed wait however often that happened (a swarm waiting for its seed is all such
// peers, and a back-off grown while waiting kept its downloaders apart once the seed came).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Candidates } from '../src/swarm/candidates.ts';
import { clock } from '../src/clock.ts';

const addr = { host: '127.0.0.2', port: 6881 };

test('candidates: lost connections back off, seeds forget each other, peers with nothing to trade come back soon', () => {
  const c = new Candidates();
  c.add('a', addr, 'tracker');
  c.add('b', addr, 'tracker');
  c.add('s', addr, 'tracker');
  const wait = (key: string) => {
    const e = [...c.entries()].find(([k]) => k === key)?.[1];
    return e ? e.nextTry - clock.now() : undefined;
  };
  // A connection lost for any other reason: 5 s, then 10, 20, 40…
  const lost = [];
  for (let i = 0; i < 4; i++) {
    c.closed('a', 'other');
    lost.push(Math.round(wait('a')! / 1000));
  }
  assert.deepEqual(lost, [5, 10, 20, 40]);
  // Nothing to trade, six times over (two minutes of waiting for a seed): never more than the fixed wait.
  for (let i = 0; i < 6; i++) c.closed('b', 'nothing to trade');
  const b = wait('b')!;
  assert.ok(b > 0 && b <= 5_000, `waits ${b} ms`);
  assert.equal([...c.entries()].find(([k]) => k === 'b')![1].failures, 0, 'not counted as a failure');
  c.closed('s', 'both seeding');
  assert.equal(c.has('s'), false, 'two seeds forget each other');
  c.retryNow();
  assert.equal(wait('a')! <= 0, true);
});
