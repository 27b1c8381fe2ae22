// The tracker's UDP front end (BEP 15 + BEP 41 in packages/tracker/src/udp/udp.ts), called in-process:
// datagrams go straight to its handler through a transport of our own, which captures replies
// instead of sending them. The handler swallows exceptions (a bad packet must not kill the
// socket), so a packet that should have been answered but was dropped is how an internal error
// shows; replies must carry the request's transaction id and a well-formed body.
// Input: one flags byte (bit 0: overwrite bytes 0-7 with a valid connection id at run time, as
// ids are keyed per process; bits 1-2: the source address), then the datagram.

import type dgram from 'node:dgram';
import { createUdpServer } from '../../../packages/tracker/src/udp/udp.ts';
import type { UdpServer } from '../../../packages/tracker/src/udp/udp.ts';
import type { UdpHandler } from '../../../packages/tracker/src/udp/transport.ts';
import type { Metrics } from '../../../packages/tracker/src/core/metrics.ts';
import { Rng } from '../lib/rng.ts';
import { concat } from '../lib/mutate.ts';
import { HOT_HASHES, PASSKEYS, trackerParts, type Parts } from '../lib/tracker-parts.ts';
import { ACCEPTED, REJECTED, check, finding, type Outcome, type Target } from '../lib/target.ts';

const SOURCES = ['127.0.0.1', '::ffff:127.0.0.1', '203.0.113.5', '2001:db8::5'];
const MAX_PACKET = 16 + 74 * 20;
let socket: UdpServer | undefined;
let deliver: UdpHandler = () => {};
let parts: Parts | undefined;
let replies: Buffer[] = [];

function connectId(source: dgram.RemoteInfo): Buffer {
  const req = Buffer.alloc(16);
  req.writeBigUInt64BE(0x41727101980n, 0);
  req.writeUInt32BE(0xc0ffee, 12);
  replies = [];
  deliver(req, source);
  return replies[0]!.subarray(8, 16);
}

async function run(input: Uint8Array): Promise<Outcome> {
  if (input.length === 0) return REJECTED;
  const flags = input[0]!;
  const msg = Buffer.from(input.subarray(1));
  const address = SOURCES[(flags >> 1) & 3]!;
  const source = { address, port: 40001, family: address.includes(':') ? 'IPv6' : 'IPv4', size: msg.length } as dgram.RemoteInfo;
  if (flags & 1 && msg.length >= 8) connectId(source).copy(msg, 0);
  const metrics: Metrics = parts!.core.metrics;
  const dropped = metrics.udpDropped;
  replies = [];
  deliver(msg, source);
  await new Promise(setImmediate);

  const action = msg.length >= 12 ? msg.readUInt32BE(8) : -1;
  const tid = msg.length >= 16 ? msg.readUInt32BE(12) : -1;
  const silent = metrics.udpDropped > dropped;
  // When the handler may drop a packet unanswered (and nothing else is legitimate silence).
  const mayDrop = msg.length < 16 || msg.length > MAX_PACKET || action === 0 || (!(flags & 1) && msg.length < 29);
  if (replies.length === 0) {
    if (silent && mayDrop) return REJECTED;
    const why = silent ? `packet swallowed (action ${action}, ${msg.length} bytes): an exception inside the handler` : 'no reply and not counted as dropped';
    return finding(why, `udp silent action=${Math.min(action >>> 0, 4)}`);
  }
  check(replies.length === 1, `${replies.length} replies to one packet`);
  const r = replies[0]!;
  check(r.length >= 8 && r.readUInt32BE(4) === tid, 'reply does not carry the transaction id');
  const got = r.readUInt32BE(0);
  if (got === 3) return REJECTED;
  check(got === action, `reply action ${got} for request action ${action}`);
  if (action === 0) check(r.length === 16, 'connect reply is not 16 bytes');
  if (action === 1) {
    const v6 = address.includes(':') && !address.startsWith('::ffff:');
    check(r.length >= 20 && (r.length - 20) % (v6 ? 18 : 6) === 0, `announce reply of ${r.length} bytes`);
  }
  if (action === 2) check(r.length === 8 + 12 * ((msg.length - 16) / 20), 'scrape reply size does not match the hashes asked');
  return ACCEPTED;
}

function announce(rng: Rng): Buffer {
  const paths = [`/${rng.pick(PASSKEYS)}/announce`, `/announce/${rng.pick(PASSKEYS)}`, '/announce?x=1', '/a/b/c/announce', '%zz'];
  const url = rng.chance(0.4) ? Buffer.from(rng.pick(paths)) : undefined;
  const b = Buffer.alloc(98 + (url ? url.length + 3 : 0));
  b.writeUInt32BE(1, 8);
  b.writeUInt32BE(rng.u32(), 12);
  (rng.chance(0.7) ? Buffer.from(rng.pick(HOT_HASHES), 'hex') : Buffer.from(rng.bytes(20))).copy(b, 16);
  Buffer.from(rng.bytes(20)).copy(b, 36);
  for (const off of [56, 64, 72]) b.writeBigUInt64BE(rng.chance(0.8) ? BigInt(rng.small(1e9)) : rng.pick([0n, 2n ** 63n, 2n ** 64n - 1n, 2n ** 53n + 1n]), off);
  b.writeUInt32BE(rng.chance(0.9) ? rng.int(4) : rng.pick([4, 0xffffffff]), 80);
  b.writeUInt32BE(rng.chance(0.8) ? 0 : rng.pick([0x0a010203, 0x7f000001, 0xffffffff]), 84);
  b.writeUInt32BE(rng.u32(), 88);
  b.writeInt32BE(rng.pick([-1, 0, 1, 50, 74, 75, 200, 0x7fffffff]), 92);
  b.writeUInt16BE(rng.chance(0.9) ? rng.range(1, 65535) : 0, 96);
  if (url) {
    // BEP 41: NOP, then URLData (type 2, length, bytes), then end of options.
    b[98] = 1;
    b[99] = 2;
    b[100] = rng.chance(0.9) ? url.length : rng.pick([0, 255]);
    url.copy(b, 101, 0, url.length - 1);
  }
  return b;
}

function fresh(rng: Rng): Uint8Array {
  const src = rng.int(4) << 1;
  const kind = rng.int(10);
  if (kind < 2) {
    const b = Buffer.alloc(16);
    b.writeBigUInt64BE(rng.chance(0.9) ? 0x41727101980n : BigInt(rng.u32()), 0);
    b.writeUInt32BE(rng.u32(), 12);
    return concat(new Uint8Array([src]), b);
  }
  if (kind < 7) return concat(new Uint8Array([src | (rng.chance(0.95) ? 1 : 0)]), announce(rng));
  if (kind < 9) {
    const n = rng.chance(0.05) ? rng.pick([0, 75]) : rng.small(74) + 1;
    const b = Buffer.alloc(16 + 20 * n + (rng.chance(0.05) ? rng.int(20) : 0));
    b.writeUInt32BE(2, 8);
    b.writeUInt32BE(rng.u32(), 12);
    for (let i = 0; i < n; i++) Buffer.from(rng.chance(0.5) ? Buffer.from(rng.pick(HOT_HASHES), 'hex') : rng.bytes(20)).copy(b, 16 + 20 * i);
    return concat(new Uint8Array([src | 1]), b);
  }
  const b = Buffer.from(rng.bytes(rng.small(1600)));
  if (b.length >= 12) b.writeUInt32BE(rng.int(5), 8);
  return concat(new Uint8Array([src | (rng.chance(0.5) ? 1 : 0)]), b);
}

export const target: Target = {
  name: 'tracker-udp',
  mutateOptions: { binary: true, protectPrefix: 9, maxLen: 2048 },
  seeds: () => {
    const rng = new Rng(15);
    return Array.from({ length: 12 }, () => fresh(rng));
  },
  fresh,
  setup: async () => {
    parts = await trackerParts(false);
    // Replies are captured here, never sent: nothing leaves the process.
    socket = createUdpServer({
      core: parts.core,
      limiter: parts.limiter,
      transport: (onMessage) => {
        deliver = onMessage;
        return {
          io: 'dgram',
          reusesBuffers: false,
          listen: async () => {},
          address: () => ({ address: '127.0.0.1', port: 0 }),
          send: (b, length) => void replies.push(Buffer.from(b.subarray(0, length))),
          close: async () => {},
        };
      },
    });
  },
  teardown: async () => {
    await socket?.close();
    await parts?.store.close();
    socket = undefined;
  },
  run,
};
