// UDP tracker amplification (issue 19, item 6): a UDP source address is unproven until it echoes a
// BEP 15 connection id, so a spoofed packet must never earn a reply larger than itself; error
// replies are never larger than their request, proven sender or not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { startTracker } from '../../packages/tracker/index.ts';
import { id, udpAnnounce, udpScrape } from '../../packages/tracker/test/helpers.ts';

/** A client socket that proved its address (a connect exchange), and a way to fire many packets
 * at once and match replies to requests by transaction id. */
async function client(port: number) {
  const s = dgram.createSocket('udp4');
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  const hello = Buffer.alloc(16);
  hello.writeBigUInt64BE(0x41727101980n, 0);
  hello.writeUInt32BE(0xc0ffee, 12);
  s.send(hello, port, '127.0.0.1');
  const [r] = (await once(s, 'message', { signal: AbortSignal.timeout(2000) })) as [Buffer];
  const conn = Buffer.from(r.subarray(8, 16));
  return {
    conn,
    async exchange(packets: Buffer[]): Promise<{ request: Buffer; reply: Buffer | undefined }[]> {
      const replies = new Map<number, Buffer>();
      s.on('message', (m: Buffer) => {
        if (m.length >= 8) replies.set(m.readUInt32BE(4), m);
      });
      packets.forEach((p, i) => {
        p.writeUInt32BE(i, 12);
        s.send(p, port, '127.0.0.1');
      });
      let last = -1;
      while (last !== replies.size) {
        last = replies.size;
        await new Promise((res) => setTimeout(res, 300));
      }
      return packets.map((request, i) => ({ request, reply: replies.get(i) }));
    },
    close: () => s.close(),
  };
}

function header(conn: Buffer, action: number, length: number): Buffer {
  const b = randomBytes(length);
  conn.copy(b, 0);
  b.writeUInt32BE(action, 8);
  return b;
}

for (const mode of ['public', 'private'] as const) {
  test(`UDP tracker (${mode}): no error reply is larger than its request; unproven senders never get more than they sent`, async (t) => {
    const tracker = await startTracker({ host: '127.0.0.1', private: mode === 'private', rateLimit: false });
    t.after(() => tracker.close());
    const c = await client(tracker.udpPort);
    t.after(() => c.close());
    const conn = c.conn;
    const wrong = Buffer.alloc(8, 0x5a);

    const packets: Buffer[] = [];
    // Every action (connect, announce, scrape, error, unknown) at every short length, with a
    // proven connection id and with a wrong one: the ways a hostile packet reaches an error path.
    for (const action of [0, 1, 2, 3, 7, 0xffffffff]) {
      for (let len = 16; len <= 140; len += 1) {
        packets.push(header(conn, action, len));
        if (len % 4 === 0) packets.push(header(wrong, action, len));
      }
    }
    // Well-formed announces that fail: bad event, port 0, unregistered torrent / missing passkey.
    const bad = udpAnnounce(conn, id(9), id(1), 6881, 0n, 9);
    const port0 = udpAnnounce(conn, id(9), id(1), 0, 0n, 2);
    const unknown = udpAnnounce(conn, id(9), id(1), 6881, 0n, 2, { urlData: '/nope/announce' });
    packets.push(bad, port0, unknown, udpScrape(conn, []), Buffer.concat([udpScrape(conn, [id(1)]), Buffer.alloc(3)]));

    const results = await c.exchange(packets);
    let errors = 0;
    let worst = 0;
    for (const { request, reply } of results) {
      if (!reply) continue;
      const proven = request.subarray(0, 8).equals(conn);
      const isError = reply.readUInt32BE(0) === 3;
      if (isError) errors++;
      worst = Math.max(worst, reply.length / request.length);
      const what = `action ${request.readUInt32BE(8)}, ${request.length}-byte request (${proven ? 'proven' : 'unproven'} sender) got a ${reply.length}-byte ${isError ? 'error' : 'reply'}: ${reply.subarray(8).toString()}`;
      if (isError || !proven) assert.ok(reply.length <= request.length, what);
    }
    assert.ok(errors > 50, `the hostile packets were answered with errors (${errors})`);
    t.diagnostic(`${packets.length} hostile packets, ${errors} error replies, largest reply/request of those ${worst.toFixed(2)}×`);
  });
}
