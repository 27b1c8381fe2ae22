// The link emulator (bench/link) does what its spec says: a round trip through it takes at least the
// configured rtt, it drops about the configured fraction of packets, and its rate cap holds a TCP
// transfer under the cap. Bounds are wide: they test the emulator's contract, not the machine's speed.
// Root only (network namespaces and TUN devices), as the NAT lab tests.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { test } from 'node:test';
import { createLink, parseLinkSpec, type Link } from '../../bench/link/link.ts';

const FLOW = join(import.meta.dirname, '../../bench/link/flow.ts');

/** Starts flow.ts in a namespace; `lines` yields its JSON lines in order. */
function flow(link: Link, side: 'a' | 'b', ...args: string[]): { proc: ChildProcess; next: () => Promise<Record<string, any>> } {
  const proc = link.spawn(side, process.execPath, [FLOW, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const queue: Record<string, any>[] = [];
  const waiting: ((e: Record<string, any>) => void)[] = [];
  createInterface({ input: proc.stdout! }).on('line', (l) => {
    const e = JSON.parse(l) as Record<string, any>;
    const w = waiting.shift();
    if (w) w(e);
    else queue.push(e);
  });
  return { proc, next: () => (queue.length ? Promise.resolve(queue.shift()!) : new Promise((r) => waiting.push(r))) };
}

test('parseLinkSpec reads the bench form and refuses what it cannot model', () => {
  const s = parseLinkSpec('rtt=50ms,loss=1%,rate=100mbit');
  assert.deepEqual(s, { delayMs: 25, jitterMs: 0, loss: 0.01, rateBps: 100e6, queueBytes: 2_500_000 });
  assert.equal(parseLinkSpec('delay=10ms,jitter=2ms,rate=8mbit,queue=64KiB').queueBytes, 65536);
  assert.throws(() => parseLinkSpec('rtt=50'), /not a time/);
  assert.throws(() => parseLinkSpec('delay=1ms,jitter=5ms'), /jitter/);
  assert.throws(() => parseLinkSpec('reorder=5%'), /unknown key/);
});

test('delay and loss: round trips take at least the rtt, and about the set fraction is lost', async (t) => {
  // 20 % each way: a probe and its echo both pass with probability 0.64.
  const link = await createLink(parseLinkSpec('rtt=60ms,jitter=5ms,loss=20%'), { seed: 1 });
  t.after(() => link.close());
  const echo = flow(link, 'b', 'udp-echo', link.addrB);
  t.after(() => echo.proc.kill());
  const { port } = await echo.next();
  const probe = flow(link, 'a', 'udp-probe', `${link.addrB}:${port}`, '400', '2');
  const r = await probe.next();
  const st = await link.stats();
  // Each way waits 30 ± 5 ms: no round trip can be shorter than 50 ms.
  assert.ok(Math.min(...r.rttMs) >= 50, `fastest round trip ${Math.min(...r.rttMs)} ms`);
  const frac = r.received / r.sent;
  assert.ok(frac > 0.5 && frac < 0.78, `${r.received}/${r.sent} round trips passed, expected about 64 %`);
  const lostAB = st.ab.lost / st.ab.packets;
  assert.ok(lostAB > 0.12 && lostAB < 0.28, `A→B lost ${st.ab.lost}/${st.ab.packets}`);
  assert.equal(st.ab.overflow, 0);
});

test('rate cap: a TCP transfer through an 8 Mbit/s link moves no faster than 1 MB/s', async (t) => {
  const link = await createLink(parseLinkSpec('rtt=10ms,rate=8mbit,queue=50ms'));
  t.after(() => link.close());
  const sink = flow(link, 'b', 'tcp-sink', link.addrB);
  t.after(() => sink.proc.kill());
  const { port } = await sink.next();
  const total = 2_000_000;
  const source = flow(link, 'a', 'tcp-source', `${link.addrB}:${port}`, String(total));
  t.after(() => source.proc.kill());
  let first: Record<string, any> | undefined;
  let last: Record<string, any>;
  do {
    last = await sink.next();
    first ??= last;
  } while (last.bytes < total);
  const seconds = (last.t - first.t) / 1000;
  const rate = (last.bytes - first.bytes) / seconds;
  // 8 Mbit/s is 1 MB/s of IP packets, less with headers; 1.1 allows for the 100 ms sampling.
  assert.ok(rate < 1.1e6, `${(rate / 1e6).toFixed(2)} MB/s through an 8 Mbit/s cap`);
  assert.ok(rate > 0.3e6, `${(rate / 1e6).toFixed(2)} MB/s: the link barely passes data`);
  const st = await link.stats();
  assert.ok(st.ab.maxQueueBytes <= 50_000, `buffer held ${st.ab.maxQueueBytes} bytes, over its 50 ms (50,000 bytes)`);
});
