// The pure uTP core (src/utp/) on a simulated link with a fake clock: two connections move data
// both ways through loss, reordering and duplication, across the 16-bit sequence wrap; the codec
// round-trips headers and refuses malformed ones; a zero window is probed, not waited on forever.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { UtpConnection, type UtpEnv } from '../src/utp/connection.ts';
import { ST_DATA, ST_STATE, ST_SYN, decodePacket, encodePacket, seqLess, type UtpPacket } from '../src/utp/packet.ts';

/** A deterministic link: each datagram may be dropped, duplicated or delayed (reordered). */
class Link {
  now = 0;
  private queue: { at: number; to: 'a' | 'b'; data: Uint8Array }[] = [];
  private seed: number;
  a: UtpConnection | undefined;
  b: UtpConnection | undefined;
  readonly loss: number;
  readonly delayMs: number;
  readonly jitter: boolean;
  constructor(seed: number, loss: number, delayMs = 5, jitter = true) {
    this.seed = seed;
    this.loss = loss;
    this.delayMs = delayMs;
    this.jitter = jitter;
  }
  rand(): number {
    this.seed = (Math.imul(this.seed, 1103515245) + 12345) >>> 0;
    return this.seed / 2 ** 32;
  }
  env(to: 'a' | 'b'): UtpEnv {
    return {
      now: () => this.now,
      micros: () => (this.now * 1000) >>> 0,
      send: (data) => {
        if (this.rand() < this.loss) return;
        const copies = this.rand() < this.loss ? 2 : 1;
        for (let i = 0; i < copies; i++) this.queue.push({ at: this.now + this.delayMs + (this.jitter ? this.rand() * this.delayMs * 2 : 0), to, data: data.slice() });
      },
    };
  }
  /** Runs the clock until `done` or `limitMs`. */
  run(done: () => boolean, limitMs = 120_000): void {
    while (!done() && this.now < limitMs) {
      this.queue.sort((x, y) => x.at - y.at);
      const next = this.queue[0];
      const tickAt = Math.floor(this.now / 10) * 10 + 10;
      if (next && next.at <= tickAt) {
        this.queue.shift();
        this.now = Math.max(this.now, next.at);
        const p = decodePacket(next.data) as UtpPacket;
        const conn = next.to === 'a' ? this.a : this.b;
        if (!conn && p.type === ST_SYN && next.to === 'b') {
          this.b = UtpConnection.accept(this.env('a'), p, 0xfff0);
          this.onAccept?.(this.b);
        } else conn?.receive(p);
        this.a?.sendPendingAck();
        this.b?.sendPendingAck();
      } else {
        this.now = tickAt;
        this.a?.tick();
        this.b?.tick();
      }
    }
  }
  onAccept: ((c: UtpConnection) => void) | undefined;
}

function sha(parts: Uint8Array[]): string {
  const h = createHash('sha1');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

function transfer(loss: number, seed: number, jitter = true) {
  const link = new Link(seed, loss, 5, jitter);
  const payloadA = new Uint8Array(600_000).map((_, i) => (i * 7 + seed) & 0xff);
  const payloadB = new Uint8Array(200_000).map((_, i) => (i * 13 + seed) & 0xff);
  const gotA: Uint8Array[] = [];
  const gotB: Uint8Array[] = [];
  let bytesA = 0;
  let bytesB = 0;
  // a starts near the wrap too: both directions cross 0xffff -> 0.
  link.a = UtpConnection.connect(link.env('b'), 4242, 0xffc0);
  link.a.onData = (c) => (gotA.push(c.slice()), (bytesA += c.length));
  link.onAccept = (b) => {
    b.onData = (c) => (gotB.push(c.slice()), (bytesB += c.length));
    b.write(payloadB);
  };
  link.a.onConnect = () => link.a!.write(payloadA);
  link.run(() => bytesB === payloadA.length && bytesA === payloadB.length);
  if (bytesA !== payloadB.length || bytesB !== payloadA.length) console.log(link.now, link.a!.state, link.b!.state, link.a!.debug(), link.b!.debug());
  assert.equal(bytesB, payloadA.length, `a->b moved ${bytesB} of ${payloadA.length} (loss ${loss})`);
  assert.equal(bytesA, payloadB.length, `b->a moved ${bytesA} of ${payloadB.length} (loss ${loss})`);
  assert.equal(sha(gotB), sha([payloadA]));
  assert.equal(sha(gotA), sha([payloadB]));
  return link;
}

test('data crosses a clean link both ways, through the sequence wrap', () => {
  const link = transfer(0, 1, false);
  assert.equal(link.a!.stats.resent, 0);
});

test('loss, duplication and reordering: selective ACKs and timeouts recover every byte', () => {
  for (const seed of [2, 3, 7, 8]) {
    const link = transfer(seed > 6 ? 0.15 : 0.05, seed);
    assert.ok(link.a!.stats.resent > 0, 'a lossy link made no resends');
  }
});

test('headers round-trip; malformed datagrams are refused with a reason', () => {
  const h = { type: ST_STATE, connectionId: 0xffff, timestamp: 0xfffffff0, timestampDiff: 5, window: 0xffffffff, seq: 0xffff, ack: 0, sack: new Uint8Array([1, 2, 3, 4]) } as const;
  const p = decodePacket(encodePacket(h)) as UtpPacket;
  assert.equal(typeof p, 'object');
  assert.deepEqual([p.type, p.connectionId, p.timestamp, p.timestampDiff, p.window, p.seq, p.ack, [...p.sack!]], [ST_STATE, 0xffff, 0xfffffff0, 5, 0xffffffff, 0xffff, 0, [1, 2, 3, 4]]);
  const good = encodePacket({ ...h, type: ST_DATA }, new Uint8Array(3));
  assert.equal(decodePacket(good.subarray(0, 19)), 'short header');
  const v2 = good.slice();
  v2[0] = (ST_DATA << 4) | 2;
  assert.equal(decodePacket(v2), 'wrong version');
  const t9 = good.slice();
  t9[0] = (9 << 4) | 1;
  assert.equal(decodePacket(t9), 'unknown type');
  // The chain says a 4-byte selective ACK follows; only 2 bytes do.
  assert.equal(decodePacket(good.subarray(0, 24)), 'truncated extension');
  // libtorrent's masks are not always a multiple of 4 bytes (BEP 29 says they are): read them.
  const oddSack = encodePacket({ ...h, sack: new Uint8Array([0xff, 0xff, 0xff, 0xff]) });
  oddSack[21] = 3;
  assert.deepEqual([...(decodePacket(oddSack.subarray(0, 25)) as UtpPacket).sack!], [0xff, 0xff, 0xff]);
  // A chain of unknown extensions longer than any real one.
  const chain = new Uint8Array(20 + 2 * 20);
  chain.set(encodePacket({ ...h, sack: undefined } as never).subarray(0, 20));
  chain[1] = 9;
  for (let i = 0; i < 20; i++) chain[20 + 2 * i] = 9;
  assert.equal(decodePacket(chain), 'too many extensions');
  assert.ok(seqLess(0xfffe, 1) && !seqLess(1, 0xfffe) && !seqLess(5, 5));
});

test('a peer advertising a zero window is probed, and the stream resumes when it opens', () => {
  const link = new Link(9, 0);
  let got = 0;
  let reader: UtpConnection | undefined;
  link.a = UtpConnection.connect(link.env('b'), 77, 10);
  link.onAccept = (b) => {
    reader = b;
    b.onData = (c) => void (got += c.length);
    b.pause(); // the reader stops: b's window shrinks to zero once its buffer fills
  };
  link.a.onConnect = () => link.a!.write(new Uint8Array(3 << 20));
  link.run(() => false, 20_000);
  assert.ok(got === 0 && link.a.bufferedBytes > 0, 'nothing is delivered while the reader is paused');
  assert.equal(link.a.state, 'connected', 'a closed window is not a dead peer');
  reader!.resume();
  link.run(() => got === 3 << 20, 200_000);
  assert.equal(got, 3 << 20);
});

test("a receiver's window follows the queuing delay of the packets it gets (receiver-side LEDBAT), and it echoes each one's delay", () => {
  // The sender's clock runs 7 s ahead of ours; the path takes 20 ms plus whatever queue there is.
  let now = 1000;
  const states: UtpPacket[] = [];
  const env: UtpEnv = { now: () => now, micros: () => (now * 1000) >>> 0, send: (d) => void states.push(decodePacket(d) as UtpPacket) };
  const none = new Uint8Array(0);
  const syn: UtpPacket = { type: ST_SYN, connectionId: 300, timestamp: 1, timestampDiff: 0, window: 1 << 20, seq: 40, ack: 0, payload: none };
  const rx = UtpConnection.accept(env, syn, 900);
  rx.onData = () => {};
  let seq = 40;
  const payload = new Uint8Array(1400);
  /** `n` DATA packets 1 ms apart that each waited `queueMs` in a queue; the window the last ACK advertised. */
  const receive = (n: number, queueMs: number): number => {
    for (let i = 0; i < n; i++) {
      now += 1;
      seq = (seq + 1) & 0xffff;
      const timestamp = ((now - 20 - queueMs + 7000) * 1000) >>> 0;
      rx.receive({ type: ST_DATA, connectionId: 301, timestamp, timestampDiff: 0, window: 1 << 20, seq, ack: 900, payload });
      rx.sendPendingAck();
      const ack = states.at(-1)!;
      assert.equal(ack.ack, seq);
      // BEP 29: our receive time less the sender's timestamp, on one clock for every packet.
      assert.equal(ack.timestampDiff, ((now * 1000) - timestamp) >>> 0);
    }
    return states.at(-1)!.window;
  };
  const open = receive(300, 0);
  assert.equal(open, 1 << 20, 'no queue: the whole buffer is offered');
  // 250 ms of queue, 2.5 times the target: the window comes down to a few packets, not 1 MiB.
  const queued = receive(1500, 250);
  assert.ok(queued < 16 * 1024, `with 250 ms of queue the window is still ${queued} bytes`);
  // Under the target again: it grows back.
  const drained = receive(600, 10);
  assert.ok(drained > 4 * queued, `the queue drained, the window only went from ${queued} to ${drained}`);
});
