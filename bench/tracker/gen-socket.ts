// The load generator's UDP sockets (loadgen.ts). Each is one simulated NAT of many peers towards
// the tracker under test. The generator must spend less per announce than the trackers it loads,
// or the rate measures it: where the tracker's addon is built (packages/tracker/native), a socket
// reads and writes the addon's rings itself, in batches (recvmmsg/sendmmsg), with no string,
// object or Buffer per datagram; elsewhere it is node:dgram (about 11–15 µs per announce).

import dgram from 'node:dgram';
import { mmsgAddon } from '../../packages/tracker/src/udp/transport-mmsg.ts';
import type { MmsgAddon } from '../../packages/tracker/src/udp/transport-mmsg.ts';

/** Called per reply with its bytes at buf[off, off + len). */
export type ReplyHandler = (buf: Buffer, off: number, len: number) => void;

export interface GenSocket {
  readonly io: 'mmsg' | 'dgram';
  /** Where requests are written (the same buffer for the socket's life). */
  readonly buf: Buffer;
  /** Room for one request: write it at buf[returned offset…], then commit(length). */
  reserve(): number;
  commit(length: number): void;
  /** Sends what was committed (also done after every batch of replies). */
  flush(): void;
  onReply(fn: ReplyHandler): void;
  close(): Promise<void>;
}

const HOST = '127.0.0.1';

export async function openGenSocket(port: number, io: 'auto' | 'mmsg' | 'dgram'): Promise<GenSocket> {
  const addon = io === 'dgram' ? undefined : mmsgAddon();
  if (io === 'mmsg' && !addon) throw new Error('BENCH_LOADGEN_IO=mmsg: the tracker addon is not built');
  return addon ? rawSocket(addon, port) : dgramSocket(port);
}

function rawSocket(a: MmsgAddon, port: number): GenSocket {
  const sb = a.slotBytes;
  const mb = a.metaBytes;
  const rings = { rx: Buffer.alloc(a.slots * sb), rxMeta: new Uint8Array(a.slots * mb), tx: Buffer.alloc(a.slots * sb), txMeta: new Uint8Array(a.slots * mb) };
  const rx32 = new Int32Array(rings.rxMeta.buffer);
  const rx16 = new Uint16Array(rings.rxMeta.buffer);
  const tx32 = new Int32Array(rings.txMeta.buffer);
  const tx16 = new Uint16Array(rings.txMeta.buffer);
  // Every request goes to 127.0.0.1:port: the address half of each send slot is written once.
  for (let k = 0; k < a.slots; k++) {
    const m = k * mb;
    tx16[(m + 8) >> 1] = port;
    rings.txMeta[m + 22] = rings.txMeta[m + 23] = 0xff;
    rings.txMeta.set([127, 0, 0, 1], m + 24);
  }
  let held = 0;
  let handler: ReplyHandler = () => {};
  let handle: object | undefined;
  const flush = () => {
    if (held > 0 && handle) a.send(handle, held);
    held = 0;
  };
  const [fd] = a.open(HOST, 0, false, 4 << 20, 4 << 20);
  handle = a.start(fd, false, rings, (n: number) => {
    for (let i = 0; i < n; i++) {
      if (rx16[(i * mb + 8) >> 1] !== port) continue;
      handler(rings.rx, i * sb, Math.min(rx32[(i * mb) >> 2]!, sb));
    }
    flush();
  });
  return {
    io: 'mmsg',
    buf: rings.tx,
    reserve: () => {
      if (held === a.slots) flush();
      return held * sb;
    },
    commit: (length: number) => {
      tx32[(held * mb) >> 2] = length;
      held++;
    },
    flush,
    onReply: (fn) => (handler = fn),
    close: async () => {
      flush();
      if (handle) a.close(handle);
      handle = undefined;
      await new Promise((r) => setImmediate(r));
    },
  };
}

async function dgramSocket(port: number): Promise<GenSocket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, HOST, () => resolve()));
  const scratch = Buffer.alloc(1500);
  let handler: ReplyHandler = () => {};
  s.on('message', (msg, from) => {
    if (from.port === port) handler(msg, 0, msg.length);
  });
  return {
    io: 'dgram',
    buf: scratch,
    reserve: () => 0,
    commit: (length: number) => s.send(Buffer.from(scratch.subarray(0, length)), port, HOST),
    flush: () => {},
    onReply: (fn) => (handler = fn),
    close: () => new Promise<void>((resolve) => s.close(() => resolve())),
  };
}
