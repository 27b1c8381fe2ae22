// Load generator for BitTorrent trackers: UDP (BEP 15) and HTTP announces from many simulated
// peers across many torrents. Every run is bounded in both request count and wall time, and only
// ever talks to 127.0.0.1.

import { createTransport } from '../../packages/tracker/src/udp/udp.ts';
import type { UdpIo } from '../../packages/tracker/src/udp/transport.ts';
import { once } from 'node:events';
import http from 'node:http';

export const HOST = '127.0.0.1';

export interface Population {
  /** Infohashes, one per torrent. */
  hashes: Buffer[];
  peersPerTorrent: number;
}

export interface LoadResult {
  requests: number;
  errors: number;
  lost: number;
  seconds: number;
  perSecond: number;
  p50ms: number;
  p99ms: number;
  /** CPU the generator itself used, to tell a generator-bound run from a tracker-bound one. */
  generatorCpuSeconds: number;
  /** How the generator's UDP sockets move datagrams (UDP runs only). */
  generatorIo?: 'mmsg' | 'dgram';
}

export interface LoadOptions {
  port: number;
  pop: Population;
  /** `populate` announces every peer once (event started) in order; `steady` re-announces random peers. */
  mode: 'populate' | 'steady';
  maxRequests: number;
  maxSeconds: number;
  /** Requests in flight at once. */
  concurrency: number;
  /** The generator's UDP io (BENCH_LOADGEN_IO): 'auto' (batched where the tracker's addon is built). */
  udpIo?: UdpIo;
}

/** Peer number i: torrent i mod T, slot i div T. Distinct ports per torrent, since some trackers key peers by ip:port. */
function peerOf(pop: Population, i: number) {
  const t = i % pop.hashes.length;
  const slot = Math.floor(i / pop.hashes.length);
  const peerId = Buffer.alloc(20);
  peerId.write('-BN0001-', 0, 'latin1');
  peerId.writeUInt32BE(i, 16);
  // A quarter seeds, the rest leechers.
  return { hash: pop.hashes[t]!, peerId, port: 10_000 + slot, left: slot % 4 === 0 ? 0 : 1_000_000 };
}

function total(pop: Population): number {
  return pop.hashes.length * pop.peersPerTorrent;
}

class Latencies {
  private readonly ms: Float64Array;
  n = 0;
  constructor(max: number) {
    this.ms = new Float64Array(max);
  }
  add(v: number) {
    if (this.n < this.ms.length) this.ms[this.n++] = v;
  }
  pct(p: number): number {
    if (this.n === 0) return NaN;
    const sorted = this.ms.subarray(0, this.n).sort();
    return sorted[Math.min(this.n - 1, Math.floor((p / 100) * this.n))]!;
  }
}

// --- UDP ------------------------------------------------------------------------------------

const SOCKETS = 8;
const LOST_AFTER_MS = 1000;

export async function udpLoad(o: LoadOptions): Promise<LoadResult> {
  const cpu0 = process.cpuUsage();
  const lat = new Latencies(o.maxRequests);
  const n = total(o.pop);
  let next = 0;
  let sent = 0;
  let done = 0;
  let errors = 0;
  let lost = 0;
  const started = performance.now();
  const deadline = started + o.maxSeconds * 1000;
  const perSocket = Math.max(1, Math.ceil(o.concurrency / SOCKETS));

  const sockets = await openSockets(o.port, o.udpIo ?? 'auto');
  const generatorIo = sockets[0]!.io;

  // Connect handshake per socket (one simulated NAT of many peers, as a real swarm's view).
  const connIds = await Promise.all(
    sockets.map(async (s) => {
      for (let attempt = 0; attempt < 5; attempt++) {
        const b = Buffer.alloc(16);
        b.writeBigUInt64BE(0x41727101980n, 0);
        b.writeUInt32BE(0, 8);
        b.writeUInt32BE(0xc0ffee, 12);
        const reply = s.next(1000);
        s.send(b);
        const msg = await reply;
        if (msg && msg.length >= 16 && msg.readUInt32BE(0) === 0) return Buffer.from(msg.subarray(8, 16));
      }
      throw new Error(`no UDP connect reply from 127.0.0.1:${o.port}`);
    }),
  );

  await new Promise<void>((resolve) => {
    const inflight = sockets.map(() => new Map<number, number>());
    let tid = 1;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearInterval(reaper);
      resolve();
    };
    const fire = (k: number) => {
      if (sent >= o.maxRequests || performance.now() > deadline) {
        if (inflight.every((m) => m.size === 0)) finish();
        return;
      }
      const i = o.mode === 'populate' ? next++ % n : Math.floor(Math.random() * n);
      const p = peerOf(o.pop, i);
      const b = Buffer.alloc(98);
      connIds[k]!.copy(b, 0);
      b.writeUInt32BE(1, 8);
      const t = (tid = (tid + 1) >>> 0 || 1);
      b.writeUInt32BE(t, 12);
      p.hash.copy(b, 16);
      p.peerId.copy(b, 36);
      b.writeBigUInt64BE(BigInt(p.left), 64);
      b.writeUInt32BE(o.mode === 'populate' ? 2 : 0, 80);
      b.writeUInt32BE(t, 88);
      b.writeInt32BE(50, 92);
      b.writeUInt16BE(p.port, 96);
      inflight[k]!.set(t, performance.now());
      sent++;
      sockets[k]!.send(b);
    };
    sockets.forEach((s, k) => {
      s.onMessage((msg: Buffer) => {
        if (msg.length < 8) return;
        const t = msg.readUInt32BE(4);
        const at = inflight[k]!.get(t);
        if (at === undefined) return;
        inflight[k]!.delete(t);
        done++;
        if (msg.readUInt32BE(0) === 1) lat.add(performance.now() - at);
        else errors++;
        fire(k);
      });
      for (let j = 0; j < perSocket; j++) fire(k);
    });
    // Lost datagrams (a saturated tracker drops them) free their slot after a while.
    const reaper = setInterval(() => {
      const now = performance.now();
      inflight.forEach((m, k) => {
        for (const [t, at] of m) {
          if (now - at > LOST_AFTER_MS) {
            m.delete(t);
            lost++;
            fire(k);
          }
        }
      });
      if (now > deadline + LOST_AFTER_MS) finish();
    }, 100);
  });
  await Promise.all(sockets.map((s) => s.close()));
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    requests: done - errors,
    errors,
    lost,
    seconds,
    perSecond: (done - errors) / seconds,
    p50ms: lat.pct(50),
    p99ms: lat.pct(99),
    generatorCpuSeconds: (cpu.user + cpu.system) / 1e6,
    generatorIo,
  };
}

/** One simulated NAT's socket towards the tracker: batched (the tracker's own recvmmsg/sendmmsg
 *  transport, so the generator spends less per announce than the trackers it loads and the rate
 *  measures them, not it) where its addon is built, else node:dgram. */
interface GenSocket {
  readonly io: 'mmsg' | 'dgram';
  send(b: Buffer): void;
  /** Every reply from now on. */
  onMessage(fn: (msg: Buffer) => void): void;
  /** The next reply, or undefined after `ms`. */
  next(ms: number): Promise<Buffer | undefined>;
  close(): Promise<void>;
}

async function openSockets(port: number, io: UdpIo): Promise<GenSocket[]> {
  const to = { address: HOST, family: 'IPv4' as const, port, size: 0 };
  return Promise.all(
    Array.from({ length: SOCKETS }, async () => {
      let handler: ((msg: Buffer) => void) | undefined;
      const waiting: ((msg: Buffer | undefined) => void)[] = [];
      const t = createTransport(io, (msg, from) => {
        if (from.port !== port) return;
        const w = waiting.shift();
        if (w) w(Buffer.from(msg));
        else handler?.(msg);
      }, () => {});
      await t.listen(0, HOST);
      return {
        io: t.io,
        send: (b: Buffer) => t.send(b, b.length, to),
        onMessage: (fn: (msg: Buffer) => void) => (handler = fn),
        next: (ms: number) =>
          new Promise<Buffer | undefined>((resolve) => {
            const timer = setTimeout(() => {
              waiting.splice(waiting.indexOf(done), 1);
              resolve(undefined);
            }, ms);
            const done = (msg: Buffer | undefined) => (clearTimeout(timer), resolve(msg));
            waiting.push(done);
          }),
        close: () => t.close(),
      };
    }),
  );
}

// --- HTTP -----------------------------------------------------------------------------------

const escTable = Array.from({ length: 256 }, (_, b) => {
  const c = String.fromCharCode(b);
  return /[A-Za-z0-9.\-_~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
});
const esc = (b: Buffer) => {
  let s = '';
  for (const x of b) s += escTable[x];
  return s;
};

export async function httpLoad(o: LoadOptions & { path?: string }): Promise<LoadResult> {
  const cpu0 = process.cpuUsage();
  const lat = new Latencies(o.maxRequests);
  const n = total(o.pop);
  // One connection per announce, as real clients do (their announces are half an hour apart).
  const agent = new http.Agent({ keepAlive: false, maxSockets: o.concurrency });
  const path = o.path ?? '/announce';
  const hashEsc = new Map(o.pop.hashes.map((h) => [h, esc(h)]));
  let next = 0;
  let sent = 0;
  let ok = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + o.maxSeconds * 1000;

  const one = () =>
    new Promise<void>((resolve) => {
      const i = o.mode === 'populate' ? next++ % n : Math.floor(Math.random() * n);
      const p = peerOf(o.pop, i);
      const ev = o.mode === 'populate' ? '&event=started' : '';
      const url = `${path}?info_hash=${hashEsc.get(p.hash)}&peer_id=${esc(p.peerId)}&port=${p.port}&uploaded=0&downloaded=0&left=${p.left}&compact=1&numwant=50${ev}`;
      const at = performance.now();
      const req = http.get({ host: HOST, port: o.port, path: url, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          if (res.statusCode === 200 && !body.includes('failure reason')) {
            ok++;
            lat.add(performance.now() - at);
          } else errors++;
          resolve();
        });
        res.on('error', () => (errors++, resolve()));
      });
      req.setTimeout(5000, () => req.destroy());
      req.on('error', () => (errors++, resolve()));
    });

  await Promise.all(
    Array.from({ length: o.concurrency }, async () => {
      while (sent < o.maxRequests && performance.now() < deadline) {
        sent++;
        await one();
      }
    }),
  );
  agent.destroy();
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    requests: ok,
    errors,
    lost: 0,
    seconds,
    perSecond: ok / seconds,
    p50ms: lat.pct(50),
    p99ms: lat.pct(99),
    generatorCpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}
