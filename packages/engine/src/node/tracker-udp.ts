// BEP 15 UDP tracker client. One instance (one socket per address family) can serve every torrent
// of a session; it is handed to TrackerClient through its `udp` factory so the core stays platform-free.

import dgram from 'node:dgram';
import { isIP } from 'node:net';
import { lookup } from 'node:dns/promises';
import { randomInt } from 'node:crypto';
import { TrackerError, parseCompactPeers, toHex } from '../discovery/tracker-types.ts';
import type { AnnounceParams, AnnounceResult, ScrapeEntry, TrackerTransport } from '../discovery/tracker-types.ts';
import { resolveHost, systemResolve, type Resolve } from './resolve-host.ts';

const PROTOCOL_ID = 0x41727101980n;
const CONNECT = 0;
const ANNOUNCE = 1;
const SCRAPE = 2;
const ERROR = 3;
const EVENTS = { completed: 1, started: 2, stopped: 3 } as const;
// BEP 15: a connection id is good for one minute after the tracker hands it out.
const CONNECTION_TTL_MS = 60_000;
const MAX_SCRAPE_HASHES = 74;

export interface UdpTrackerOptions {
  /** Local address the requests leave from (the session's concrete --host); its family's socket
   *  binds to it. Default: any. */
  bindAddress?: string;
  /** First wait before retransmitting; BEP 15 says 15 s and doubles it each time. */
  timeoutMs?: number;
  /** Retransmissions after the first try (BEP 15: 8). */
  maxRetries?: number;
  /** Tracker names to addresses (tracker-families.ts); default the system's resolver. */
  resolve?: Resolve;
}

interface Target {
  address: string;
  port: number;
  family: 4 | 6;
}

interface Pending {
  action: number;
  target: Target;
  resolve: (msg: Buffer) => void;
  reject: (err: Error) => void;
}

export class UdpTracker implements TrackerTransport {
  private readonly timeoutMs: number;
  private readonly bindAddress: string | undefined;
  private readonly maxRetries: number;
  private readonly resolver: Resolve | undefined;
  private readonly sockets = new Map<4 | 6, dgram.Socket>();
  private readonly pending = new Map<number, Pending>();
  private readonly connections = new Map<string, { id: Buffer; at: number }>();
  private closed = false;

  constructor(opts: UdpTrackerOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 15_000;
    this.bindAddress = opts.bindAddress;
    this.maxRetries = opts.maxRetries ?? 8;
    this.resolver = opts.resolve;
  }

  /** family: over that family only (a dual-stack session announces over each, tracker-families.ts). */
  async announce(url: string, p: AnnounceParams, family?: 4 | 6): Promise<AnnounceResult> {
    const target = await resolve(url, family, this.resolver);
    const msg = await this.transact(target, ANNOUNCE, p.signal, (conn, tid) => {
      const b = Buffer.alloc(98);
      conn.copy(b, 0);
      b.writeUInt32BE(ANNOUNCE, 8);
      b.writeUInt32BE(tid, 12);
      b.set(p.infoHash, 16);
      b.set(p.peerId, 36);
      b.writeBigUInt64BE(u64(p.downloaded), 56);
      b.writeBigUInt64BE(u64(p.left), 64);
      b.writeBigUInt64BE(u64(p.uploaded), 72);
      b.writeUInt32BE(p.event ? EVENTS[p.event] : 0, 80);
      b.writeUInt32BE(0, 84); // ip: let the tracker use the packet's source
      b.writeUInt32BE((p.key ?? 0) >>> 0, 88);
      b.writeInt32BE(p.numwant ?? -1, 92);
      b.writeUInt16BE(p.port, 96);
      return b;
    });
    if (msg.length < 20) throw new Error('short UDP announce response');
    return {
      interval: msg.readUInt32BE(8) || 1800,
      incomplete: msg.readUInt32BE(12),
      complete: msg.readUInt32BE(16),
      // The peer list's family follows the family the tracker was reached over.
      peers: parseCompactPeers(msg.subarray(20), target.family),
    };
  }

  /** `family`: over that one (a dual-stack session scrapes a name with both over each). */
  async scrape(url: string, infoHashes: Uint8Array[], signal?: AbortSignal, family?: 4 | 6): Promise<Map<string, ScrapeEntry>> {
    const hashes = infoHashes.slice(0, MAX_SCRAPE_HASHES);
    const target = await resolve(url, family, this.resolver);
    const msg = await this.transact(target, SCRAPE, signal, (conn, tid) => {
      const b = Buffer.alloc(16 + 20 * hashes.length);
      conn.copy(b, 0);
      b.writeUInt32BE(SCRAPE, 8);
      b.writeUInt32BE(tid, 12);
      hashes.forEach((h, i) => b.set(h, 16 + 20 * i));
      return b;
    });
    const out = new Map<string, ScrapeEntry>();
    hashes.forEach((h, i) => {
      const off = 8 + 12 * i;
      if (off + 12 > msg.length) return;
      out.set(toHex(h), {
        complete: msg.readUInt32BE(off),
        downloaded: msg.readUInt32BE(off + 4),
        incomplete: msg.readUInt32BE(off + 8),
      });
    });
    return out;
  }

  close(): Promise<void> {
    this.closed = true;
    for (const p of this.pending.values()) p.reject(new Error('UDP tracker client closed'));
    this.pending.clear();
    const sockets = [...this.sockets.values()];
    this.sockets.clear();
    return Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r())))).then(() => {});
  }

  // Connect (when no fresh connection id) then send, retransmitting on the BEP 15 schedule.
  private async transact(
    target: Target,
    action: number,
    signal: AbortSignal | undefined,
    build: (conn: Buffer, tid: number) => Buffer,
  ): Promise<Buffer> {
    const key = `${target.address}:${target.port}`;
    let lastErr: Error = new Error('UDP tracker timed out');
    for (let n = 0; n <= this.maxRetries; n++) {
      const wait = this.timeoutMs * 2 ** n;
      try {
        let conn = this.connections.get(key);
        if (!conn || Date.now() - conn.at > CONNECTION_TTL_MS) {
          const res = await this.send(target, CONNECT, wait, signal, (tid) => {
            const b = Buffer.alloc(16);
            b.writeBigUInt64BE(PROTOCOL_ID, 0);
            b.writeUInt32BE(CONNECT, 8);
            b.writeUInt32BE(tid, 12);
            return b;
          });
          if (res.length < 16) throw new Error('short UDP connect response');
          conn = { id: Buffer.from(res.subarray(8, 16)), at: Date.now() };
          this.connections.set(key, conn);
        }
        const id = conn.id;
        return await this.send(target, action, wait, signal, (tid) => build(id, tid));
      } catch (err) {
        if (!(err instanceof TimeoutError)) {
          // The error may well be "bad connection id"; don't keep reusing it.
          this.connections.delete(key);
          throw err;
        }
        lastErr = err;
      }
    }
    throw lastErr;
  }

  private send(
    target: Target,
    action: number,
    waitMs: number,
    signal: AbortSignal | undefined,
    build: (tid: number) => Buffer,
  ): Promise<Buffer> {
    if (this.closed) return Promise.reject(new Error('UDP tracker client closed'));
    signal?.throwIfAborted();
    let tid = randomInt(0x1_0000_0000);
    while (this.pending.has(tid)) tid = randomInt(0x1_0000_0000);
    const socket = this.socket(target.family);
    return new Promise<Buffer>((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.pending.delete(tid);
      };
      const onAbort = () => {
        finish();
        reject(signal!.reason instanceof Error ? signal!.reason : new Error('aborted'));
      };
      const timer = setTimeout(() => {
        finish();
        reject(new TimeoutError(`UDP tracker ${target.address}:${target.port} timed out`));
      }, waitMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(tid, {
        action,
        target,
        resolve: (m) => (finish(), resolve(m)),
        reject: (e) => (finish(), reject(e)),
      });
      socket.send(build(tid), target.port, target.address, (err) => {
        if (err) this.pending.get(tid)?.reject(err);
      });
    });
  }

  private socket(family: 4 | 6): dgram.Socket {
    let s = this.sockets.get(family);
    if (s) return s;
    s = dgram.createSocket(family === 4 ? 'udp4' : 'udp6');
    s.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    s.on('error', () => {}); // per-request failures surface through send callbacks and timeouts
    s.unref(); // pending requests hold their own timers; an idle client must not keep the process up
    // Sends wait for the bind; a socket of the other family keeps any address.
    if (this.bindAddress && isIP(this.bindAddress) === family) s.bind({ address: this.bindAddress, port: 0 });
    this.sockets.set(family, s);
    return s;
  }

  private onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (msg.length < 8) return;
    const action = msg.readUInt32BE(0);
    const p = this.pending.get(msg.readUInt32BE(4));
    // Matching the source stops an off-path host from answering with a guessed transaction id.
    if (!p || rinfo.address !== p.target.address || rinfo.port !== p.target.port) return;
    if (action === ERROR) p.reject(new TrackerError(msg.subarray(8).toString('utf8') || 'tracker error'));
    else if (action !== p.action) p.reject(new Error(`UDP tracker answered action ${action}, expected ${p.action}`));
    else p.resolve(msg);
  }
}

class TimeoutError extends Error {}

async function resolve(url: string, family?: 4 | 6, resolver?: Resolve): Promise<Target> {
  const u = new URL(url);
  if (u.protocol !== 'udp:') throw new Error(`not a UDP tracker URL: ${url}`);
  const port = Number(u.port);
  if (!(port > 0 && port < 65536)) throw new Error(`UDP tracker URL has no port: ${url}`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (!family && !resolver) {
    const a = await lookup(host);
    return { address: a.address, port, family: a.family === 6 ? 6 : 4 };
  }
  const a = (await resolveHost(resolver ?? systemResolve, host)).find((x) => !family || x.family === family);
  if (!a) throw new Error(`${host} has no IPv${family} address`);
  return { address: a.address, port, family: a.family };
}

function u64(n: number): bigint {
  return BigInt(Math.max(0, Math.floor(n)));
}
