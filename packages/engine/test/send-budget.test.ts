// How much the uploader lets queue unsent on one connection (swarm/uploader.ts sendAllowance):
// half a second of what the link drains, so a slow uplink does not hold a minute of blocks that
// their peer may cancel or stop wanting meanwhile, while a fast link keeps its 1 MiB batches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sendAllowance } from '../src/swarm/uploader.ts';
import type { Peer } from '../src/swarm/peer.ts';

/** A connection whose queue drains at `rate` B/s; `write` queues bytes as the uploader would. */
function link(rate: number) {
  let unsent = 0;
  const peer = { up: { total: 0 }, sendBudget: 0, sendSample: undefined, conn: { unsent: () => unsent } };
  return {
    peer: peer as unknown as Peer,
    write(n: number) {
      unsent += n;
      peer.up.total += n;
    },
    pass(ms: number) {
      unsent = Math.max(0, unsent - (rate * ms) / 1000);
    },
  };
}

test('a 32 KB/s uplink is given 32 KiB at most, a fast one grows to 1 MiB', () => {
  for (const [rate, most, least] of [[32_000, 32 * 1024, 0], [200e6, 1024 * 1024, 1024 * 1024]] as const) {
    const l = link(rate);
    let now = 0;
    let largest = 0;
    for (let i = 0; i < 100; i++) {
      const allow = sendAllowance(l.peer, now);
      if (allow > 0) l.write(allow);
      now += 150;
      l.pass(150);
      if (i > 50) largest = Math.max(largest, l.peer.sendBudget);
    }
    assert.ok(largest <= most && largest >= least, `${rate} B/s: budget ${largest}`);
  }
});

test('a transport that cannot say what it holds keeps the old 1 MiB', () => {
  const peer = { up: { total: 0 }, sendBudget: 0, conn: {} } as unknown as Peer;
  assert.equal(sendAllowance(peer, 0), 1024 * 1024);
});

test('a connection that has drained nothing yet may queue 32 KiB, not a quarter of a MiB', () => {
  // Eight first slots on a 32 KB/s uplink queued 2 MiB before any was measured: a minute of the
  // link, with the node's requests and HAVEs behind it (swarm lab, slow scenario).
  const l = link(32_000);
  assert.equal(sendAllowance(l.peer, 0), 32 * 1024);
  l.write(32 * 1024);
  assert.ok(sendAllowance(l.peer, 50) <= 0, 'nothing more before some of it drained');
});
