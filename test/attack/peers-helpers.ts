// Scripted hostile peers for test/attack/peers.test.ts: raw TCP connections from chosen loopback
// addresses that hold a slot and do nothing, and a BEP 9 peer that lies about the metadata.
import net from 'node:net';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { decode, encode, isDict } from '../../packages/engine/src/encoding/bencode.ts';
import { encodeExtended, encodeHandshake, MSG } from '../../packages/engine/src/wire/protocol.ts';
import type { TorrentHandle } from '../../packages/engine/index.ts';

type T = { after: (fn: () => unknown) => void };
const scopes = new WeakMap<T, { closers: (() => Promise<unknown>)[]; dirs: string[] }>();

/** Cleanup in one hook, in the right order: sessions and sockets first, then their directories
 *  (removed while a session still writes, the rm fails and the session outlives the test). */
function scope(t: T) {
  let s = scopes.get(t);
  if (!s) {
    const fresh = { closers: [] as (() => Promise<unknown>)[], dirs: [] as string[] };
    scopes.set(t, (s = fresh));
    t.after(async () => {
      await Promise.allSettled(fresh.closers.reverse().map((fn) => fn()));
      for (const d of fresh.dirs) await fs.rm(d, { recursive: true, force: true, maxRetries: 5 });
    });
  }
  return s;
}

export async function tmp(t: T): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cascade-attack-peers-'));
  scope(t).dirs.push(dir);
  return dir;
}

/** Closes `x` when the test ends, before its directories go. */
export function closeAfter<X extends { close(): Promise<unknown> | void }>(t: T, x: X): X {
  scope(t).closers.push(async () => x.close());
  return x;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function waitFor<T>(h: TorrentHandle, event: string, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${event}' within ${ms} ms: ${JSON.stringify(h.stats())}`)), ms);
    if (event === 'done' && h.stats().state === 'seeding') return clearTimeout(timer), resolve(undefined as T);
    h.once(event, (v: T) => (clearTimeout(timer), resolve(v)));
  });
}

export interface RawConn {
  readonly from: string;
  /** ms from connect to the remote closing it; undefined while open. */
  closedAfter: number | undefined;
  closed: Promise<number>;
  destroy(): void;
}

/** Opens a TCP connection from `localAddress`, writes `first` once connected, then sits there. */
export function connectFrom(port: number, localAddress: string, first?: Uint8Array): Promise<RawConn> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port, localAddress });
    let openedAt = performance.now();
    let done: (ms: number) => void = () => {};
    const conn: RawConn = {
      from: localAddress,
      closedAfter: undefined,
      closed: new Promise<number>((r) => (done = r)),
      destroy: () => sock.destroy(),
    };
    sock.on('error', () => {});
    sock.on('data', () => {}); // whatever the node says, we never answer
    sock.once('close', () => {
      conn.closedAfter = performance.now() - openedAt;
      done(conn.closedAfter);
    });
    sock.once('connect', () => {
      openedAt = performance.now();
      if (first) sock.write(first);
      resolve(conn);
    });
    // Refused before 'connect' (reset at once by a node at its limit): closed after 0 ms.
    sock.once('close', () => resolve(conn));
  });
}

export function handshakeFor(infoHash: Uint8Array, n: number): Uint8Array {
  const id = Buffer.from(`-XX0001-idle${String(n).padStart(8, '0')}`);
  return encodeHandshake(infoHash, id, { extended: true, fast: true, dht: false });
}

export interface MetadataLiar {
  port: number;
  /** ut_metadata requests received. */
  requests: number;
  /** Our answers written (garbage data or rejects). */
  answered: number;
  close(): Promise<void>;
}

/**
 * A peer that advertises ut_metadata with `size` and answers every piece request with `answer`:
 * 'garbage' (random bytes of the advertised size, so each message is well-formed) or 'reject'.
 */
export async function startMetadataLiar(opts: { infoHash: Uint8Array; size: number; answer: 'garbage' | 'reject' }): Promise<MetadataLiar> {
  const sockets = new Set<net.Socket>();
  const state = { requests: 0, answered: 0 };
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    let buf = Buffer.alloc(0);
    let shook = false;
    let theirMetadataId = 0;
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!shook) {
        if (buf.length < 68) return;
        buf = buf.subarray(68);
        shook = true;
        sock.write(encodeHandshake(opts.infoHash, Buffer.from('-XX0001-metadataliar'), { extended: true, fast: true, dht: false }));
        sock.write(encodeExtended(0, encode({ m: { ut_metadata: 3 }, metadata_size: opts.size })));
      }
      while (buf.length >= 4) {
        const len = buf.readUInt32BE(0);
        if (buf.length < 4 + len) break;
        const m = buf.subarray(4, 4 + len);
        buf = buf.subarray(4 + len);
        if (len < 2 || m[0] !== MSG.extended) continue;
        const body = m.subarray(2);
        if (m[1] === 0) {
          const h = decode(body).value;
          if (isDict(h) && isDict(h.m) && typeof h.m.ut_metadata === 'number') theirMetadataId = h.m.ut_metadata;
          continue;
        }
        if (m[1] !== 3) continue;
        const req = decode(body, { allowTrailing: true }).value;
        if (!isDict(req) || req.msg_type !== 0 || typeof req.piece !== 'number') continue;
        state.requests++;
        const piece = req.piece;
        const length = Math.min(16384, opts.size - piece * 16384);
        const head = opts.answer === 'reject'
          ? encode({ msg_type: 2, piece })
          : encode({ msg_type: 1, piece, total_size: opts.size });
        const data = opts.answer === 'reject' ? new Uint8Array(0) : Buffer.alloc(Math.max(0, length), 0x5a);
        sock.write(encodeExtended(theirMetadataId, Buffer.concat([head, data])));
        state.answered++;
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    get requests() {
      return state.requests;
    },
    get answered() {
      return state.answered;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
