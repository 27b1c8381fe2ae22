// Load generator for BitTorrent trackers: UDP (BEP 15) and HTTP announces from many simulated
// peers across many torrents. Every run is bounded in both request count and wall time, and only
// ever talks to 127.0.0.1.

import type { UdpIo } from '../../packages/tracker/src/udp/transport.ts';
import { openGenSocket } from './gen-socket.ts';
import type { GenSocket } from './gen-socket.ts';
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
  const T = o.pop.hashes.length;
  let next = 0;
  let sent = 0;
  let done = 0;
  let errors = 0;
  let lost = 0;
  const perSocket = Math.max(1, Math.ceil(o.concurrency / SOCKETS));

  const sockets = await Promise.all(Array.from({ length: SOCKETS }, () => openGenSocket(o.port, o.udpIo ?? 'auto')));
  const generatorIo = sockets[0]!.io;

  // Connect handshake per socket (one simulated NAT of many peers, as a real swarm's view).
  const connIds = await Promise.all(sockets.map((s) => connect(s, o.port)));
  const started = performance.now();
  const deadline = started + o.maxSeconds * 1000;

  // Each socket's requests are its template (connection id, action, the peer id's prefix,
  // numwant) with the peer's fields written over it: no allocation per request.
  const templates = connIds.map((id) => {
    const b = Buffer.alloc(98);
    id.copy(b, 0);
    b.writeUInt32BE(1, 8);
    b.write('-BN0001-', 36, 'latin1');
    b.writeInt32BE(50, 92);
    return b;
  });

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
      // Peer i (peerOf): torrent i mod T, slot i div T; a quarter seeds.
      const slot = Math.floor(i / T);
      const s = sockets[k]!;
      const b = s.buf;
      const off = s.reserve();
      b.set(templates[k]!, off);
      const t = (tid = (tid + 1) >>> 0 || 1);
      b.writeUInt32BE(t, off + 12);
      b.set(o.pop.hashes[i % T]!, off + 16);
      b.writeUInt32BE(i, off + 52);
      b.writeUInt32BE(slot % 4 === 0 ? 0 : 1_000_000, off + 68);
      b.writeUInt32BE(o.mode === 'populate' ? 2 : 0, off + 80);
      b.writeUInt32BE(t, off + 88);
      b.writeUInt16BE(10_000 + slot, off + 96);
      inflight[k]!.set(t, performance.now());
      sent++;
      s.commit(98);
    };
    sockets.forEach((s, k) => {
      s.onReply((buf, off, len) => {
        if (len < 8) return;
        const t = ((buf[off + 4]! << 24) | (buf[off + 5]! << 16) | (buf[off + 6]! << 8) | buf[off + 7]!) >>> 0;
        const at = inflight[k]!.get(t);
        if (at === undefined) return;
        inflight[k]!.delete(t);
        done++;
        if (buf[off + 3] === 1 && buf[off] === 0) lat.add(performance.now() - at);
        else errors++;
        fire(k);
      });
      for (let j = 0; j < perSocket; j++) fire(k);
      s.flush();
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
        sockets[k]!.flush();
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

/** BEP 15 connect: the connection id for this socket's announces. */
async function connect(s: GenSocket, port: number): Promise<Buffer> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const reply = await new Promise<Buffer | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), 1000);
      s.onReply((buf, off, len) => {
        if (len < 16 || buf.readUInt32BE(off) !== 0) return;
        clearTimeout(timer);
        resolve(Buffer.from(buf.subarray(off + 8, off + 16)));
      });
      const at = s.reserve();
      s.buf.writeBigUInt64BE(0x41727101980n, at);
      s.buf.writeUInt32BE(0, at + 8);
      s.buf.writeUInt32BE(0xc0ffee, at + 12);
      s.commit(16);
      s.flush();
    });
    if (reply) return reply;
  }
  throw new Error(`no UDP connect reply from 127.0.0.1:${port}`);
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
