// Bare-bones BitTorrent peers for tests: a raw seeder that speaks just enough BEP 3 to seed from a
// buffer (and can be told to corrupt blocks or send arbitrary bytes), a raw fast-extension leecher
// that records what it hears, and a real Cascade seed to point them at.
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Session, createTorrent } from '../index.ts';
import { decodeHashMessage, encodeHandshake, encodeHashMessage, encodePieceHeader, encodeSimple, MSG, type HashRequest } from '../src/wire/protocol.ts';

export interface RawSeeder {
  port: number;
  served: number;
  /** With `pace`: requests waiting at each tick (what the downloader had outstanding). */
  pending: number[];
  close(): Promise<void>;
}

/**
 * Seeds `payload` to whoever connects; `corrupt(index)` decides which pieces get flipped bytes.
 * Requests are answered at once, or with `pace` only every `everyMs`, at most `blocks` at a time
 * (a slow peer, or one that answers in bursts).
 */
export async function startRawSeeder(opts: {
  infoHash: Uint8Array;
  payload: Uint8Array;
  pieceLength: number;
  corrupt: (index: number) => boolean;
  pace?: { everyMs: number; blocks: number };
  /** The first this-many connections are told "have none" (fast extension) and hear nothing more:
   *  a seeder that was still checking and never announces what it found. */
  silentConnections?: number;
  /** Only this block of this piece gets a flipped byte (the rest is served intact). */
  corruptBlock?: (index: number, begin: number) => boolean;
  /** BEP 52: set the v2 bit and answer hash requests with this (undefined = hash reject). */
  v2?: { answer(req: HashRequest): Uint8Array | undefined };
  /** Hash requests received (BEP 52). */
  hashRequests?: HashRequest[];
}): Promise<RawSeeder> {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const state = { served: 0, pending: [] as number[] };
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    let buf = Buffer.alloc(0);
    let shook = false;
    const peerId = Buffer.from('-XX0001-' + 'r'.repeat(12));
    const silent = ++connections <= (opts.silentConnections ?? 0);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!shook) {
        if (buf.length < 68) return;
        buf = buf.subarray(68);
        shook = true;
        sock.write(encodeHandshake(opts.infoHash, peerId, { extended: false, fast: silent, dht: false, v2: !!opts.v2 }));
        if (silent) {
          sock.write(Buffer.from([0, 0, 0, 1, MSG.haveNone]));
          return;
        }
        const pieces = Math.ceil(opts.payload.length / opts.pieceLength);
        const bits = Buffer.alloc(Math.ceil(pieces / 8));
        for (let i = 0; i < pieces; i++) bits[i >> 3]! |= 0x80 >> (i & 7);
        const msg = Buffer.alloc(5 + bits.length);
        msg.writeUInt32BE(1 + bits.length);
        msg[4] = MSG.bitfield;
        bits.copy(msg, 5);
        sock.write(msg);
        sock.write(Buffer.from([0, 0, 0, 1, MSG.unchoke]));
      }
      while (buf.length >= 4) {
        const len = buf.readUInt32BE(0);
        if (buf.length < 4 + len) break;
        const m = buf.subarray(4, 4 + len);
        buf = buf.subarray(4 + len);
        if (len > 0 && m[0] === MSG.hashRequest && opts.v2) {
          const { req } = decodeHashMessage(m);
          opts.hashRequests?.push(req);
          const hashes = opts.v2.answer(req);
          sock.write(hashes ? encodeHashMessage(MSG.hashes, req, hashes) : encodeHashMessage(MSG.hashReject, req));
          continue;
        }
        if (len === 0 || m[0] !== MSG.request) continue;
        queue.push([m.readUInt32BE(1), m.readUInt32BE(5), m.readUInt32BE(9)]);
      }
      if (!opts.pace) serve(Infinity);
    });
    const queue: [number, number, number][] = [];
    const serve = (max: number) => {
      for (let n = 0; n < max && queue.length > 0 && !sock.destroyed; n++) {
        const [index, begin, length] = queue.shift()!;
        const start = index * opts.pieceLength + begin;
        const block = Buffer.from(opts.payload.subarray(start, start + length));
        if (opts.corrupt(index) || opts.corruptBlock?.(index, begin)) block[0]! ^= 0xff;
        sock.write(encodePieceHeader(index, begin, length));
        sock.write(block);
        state.served += length;
      }
    };
    if (opts.pace) {
      const pace = opts.pace;
      const timer = setInterval(() => {
        if (queue.length > 0) state.pending.push(queue.length);
        serve(pace.blocks);
      }, pace.everyMs);
      timers.add(timer);
      sock.on('close', () => clearInterval(timer));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    get served() {
      return state.served;
    },
    pending: state.pending,
    close: () =>
      new Promise<void>((r) => {
        for (const t of timers) clearInterval(t);
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** Connects, handshakes for `infoHash`, sends `bytes`, and resolves with whether the remote hung up. */
export function sendHostile(port: number, infoHash: Uint8Array, bytes: Uint8Array, waitMs = 3000): Promise<'closed' | 'open'> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      sock.destroy();
      resolve('open');
    }, waitMs);
    sock.on('error', () => {});
    sock.on('close', () => {
      clearTimeout(timer);
      resolve('closed');
    });
    sock.on('connect', () => {
      sock.write(encodeHandshake(infoHash, Buffer.from('-XX0001-hostilepeer!'), { extended: true, fast: true, dht: false }));
      sock.write(bytes);
    });
  });
}

/** Calls `fn` with each message (id byte first, length prefix stripped; keep-alives skipped) the
 *  remote sends after its 68-byte handshake. */
export function onMessages(sock: net.Socket, fn: (m: Buffer) => void): void {
  let buf = Buffer.alloc(0);
  let shook = false;
  sock.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    if (!shook) {
      if (buf.length < 68) return;
      buf = buf.subarray(68);
      shook = true;
    }
    while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
      const len = buf.readUInt32BE(0);
      const m = buf.subarray(4, 4 + len);
      buf = buf.subarray(4 + len);
      if (len > 0) fn(m);
    }
  });
}
/** A raw fast-extension leecher: says "have none" and interested, and records what it hears. */
export interface RawLeecher {
  messages: Buffer[];
  haves(): number[];
  send(data: Uint8Array): void;
  /** Resolves with the first message after `from` (an index into messages) that `match` takes. */
  next(match: (m: Buffer) => boolean, from?: number): Promise<Buffer>;
}

export function rawLeecher(t: { after: (fn: () => unknown) => void }, port: number, infoHash: Uint8Array, name: string): RawLeecher {
  const sock = net.connect(port, '127.0.0.1');
  t.after(() => sock.destroy());
  sock.on('error', () => {});
  const messages: Buffer[] = [];
  const waiters = new Set<() => void>();
  onMessages(sock, (m) => {
    messages.push(Buffer.from(m));
    for (const w of waiters) w();
  });
  sock.write(encodeHandshake(infoHash, Buffer.from(`-XX0001-${name.padEnd(12, '!')}`), { extended: false, fast: true, dht: false }));
  sock.write(encodeSimple(MSG.haveNone));
  sock.write(encodeSimple(MSG.interested));
  return {
    messages,
    haves: () => messages.filter((m) => m[0] === MSG.have).map((m) => m.readUInt32BE(1)),
    send: (data) => sock.write(data),
    next: (match, from = 0) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => (waiters.delete(look), reject(new Error(`${name}: timed out; got ${messages.map((m) => m[0]).join(',')}`))), 10_000);
        const look = () => {
          const m = messages.slice(from).find(match);
          if (m) (clearTimeout(timer), waiters.delete(look), resolve(m));
        };
        waiters.add(look);
        look();
      }),
  };
}


/** A real Cascade seed of `payload` (one file, `data.bin`) on 127.0.0.1, seeding when this returns;
 *  removed with its folder after the test. */
export async function startCascadeSeed(
  t: { after: (fn: () => unknown) => void },
  payload: Uint8Array,
  pieceLength: number,
  opts: { superSeeding?: boolean } = {},
) {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'cascade-seed-'));
  t.after(() => fs.rm(root, { recursive: true, force: true }));
  await fs.mkdir(path.join(root, 'seed'));
  await fs.writeFile(path.join(root, 'seed', 'data.bin'), payload);
  const { torrent, metainfo } = await createTorrent(path.join(root, 'seed', 'data.bin'), { pieceLength });
  const seeder = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false });
  t.after(() => seeder.close());
  const handle = await seeder.add(torrent, { savePath: path.join(root, 'seed'), ...opts });
  while (handle.stats().state !== 'seeding') await new Promise((r) => setTimeout(r, 20));
  return { root, torrent, metainfo, seeder, handle };
}
