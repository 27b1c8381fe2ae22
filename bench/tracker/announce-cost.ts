// The tracker's own JavaScript cost per UDP announce, in one process and without the kernel: the
// UDP front end (udp.ts) over the batched transport (transport-mmsg.ts), whose addon is replaced
// by one that hands over ready-made receive rings and sends nothing. The same population and load
// as run.ts (1000 torrents × 100 peers, a quarter seeds, random re-announces from 8 client ports,
// numwant 50), so what it prints is the user-space part of run.ts's "tracker CPU per announce",
// minus syscalls, with none of the machine's noise between two trackers' rounds.
//
//   node bench/tracker/announce-cost.ts [--seconds 3] [--rounds 5] [--profile]
//
// Per round: ns per announce (CPU time of the batches; filling the ring is measured apart and
// taken off). Run it under `flock /work/bench.lock` like every benchmark here.

import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { TrackerCore } from '../../packages/tracker/src/core/core.ts';
import { Metrics } from '../../packages/tracker/src/core/metrics.ts';
import { RateLimiter } from '../../packages/tracker/src/core/rate-limit.ts';
import { MemoryStore } from '../../packages/tracker/src/store/memory-store.ts';
import { createUdpServer } from '../../packages/tracker/src/udp/udp.ts';
import { MmsgTransport } from '../../packages/tracker/src/udp/transport-mmsg.ts';
import type { MmsgAddon } from '../../packages/tracker/src/udp/transport-mmsg.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '3' }, rounds: { type: 'string', default: '5' }, torrents: { type: 'string', default: '1000' }, peers: { type: 'string', default: '100' } } });
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const TORRENTS = Number(values.torrents);
const PEERS = Number(values.peers);
const SLOTS = 64;
const SLOT_BYTES = 1500;
const META = 32;
const PORTS = 8;

// The addon, minus the socket: start() hands the rings and the batch callback to this harness.
let rings: { rx: Buffer; rxMeta: Uint8Array; tx: Uint8Array; txMeta: Uint8Array } | undefined;
let onBatch: ((n: number) => void) | undefined;
let sent = 0;
const addon: MmsgAddon = {
  slots: SLOTS,
  slotBytes: SLOT_BYTES,
  metaBytes: META,
  open: () => [-1, 6969],
  start: (_fd, _v6, r, cb) => {
    rings = r;
    onBatch = cb;
    return {};
  },
  send: (_h, n) => {
    sent += n;
    return 0;
  },
  close: () => {},
};

const store = new MemoryStore({ peerTtlMs: 3_600_000 });
const metrics = new Metrics();
const core = new TrackerCore({ store, metrics, interval: 1800, minInterval: 900, defaultNumwant: 50, maxNumwant: 200, private: false });
const limiter = new RateLimiter({ perSecond: 0, burst: 1 });
const server = createUdpServer({ core, limiter, transport: (h) => new MmsgTransport(addon, h, () => {}) });
await server.listen(6969, '127.0.0.1');
const r = rings!;
const rx32 = new Int32Array(r.rxMeta.buffer);
const rx16 = new Uint16Array(r.rxMeta.buffer);
const tx32 = new Int32Array(r.txMeta.buffer);

function meta(i: number, len: number, port: number): void {
  r.rxMeta.fill(0, i * META, (i + 1) * META);
  rx32[(i * META) >> 2] = len;
  rx16[(i * META + 8) >> 1] = port;
  r.rxMeta[i * META + 10] = 4;
  r.rxMeta.set([0xff, 0xff, 127, 0, 0, 1], i * META + 22);
}

// BEP 15 connect from each client port: its connection id, read back from the send ring.
const connIds: Buffer[] = [];
for (let p = 0; p < PORTS; p++) {
  const c = Buffer.alloc(16);
  c.writeUInt32BE(0x417, 0);
  c.writeUInt32BE(0x27101980, 4);
  c.copy(r.rx, 0);
  meta(0, 16, 20_000 + p);
  onBatch!(1);
  if (tx32[0] !== 16) throw new Error('no connect reply');
  connIds.push(Buffer.from(r.tx.subarray(8, 16)));
}

const hashes = Array.from({ length: TORRENTS }, () => randomBytes(20));
const total = TORRENTS * PEERS;

/** Writes peer i's announce into ring slot k (as loadgen.ts builds them). */
function request(k: number, i: number, started: boolean): void {
  const port = k % PORTS;
  const b = r.rx;
  const off = k * SLOT_BYTES;
  b.fill(0, off, off + 98);
  connIds[port]!.copy(b, off);
  b.writeUInt32BE(1, off + 8);
  b.writeUInt32BE(i + 1, off + 12);
  hashes[i % TORRENTS]!.copy(b, off + 16);
  b.write('-BN0001-', off + 36, 'latin1');
  b.writeUInt32BE(i, off + 52);
  const slot = Math.floor(i / TORRENTS);
  b.writeUInt32BE(slot % 4 === 0 ? 0 : 1_000_000, off + 68);
  b.writeUInt32BE(started ? 2 : 0, off + 80);
  b.writeInt32BE(50, off + 92);
  b.writeUInt16BE(10_000 + slot, off + 96);
  meta(k, 98, 20_000 + port);
}

// Populate: every peer once, event started.
for (let i = 0; i < total; i += SLOTS) {
  const n = Math.min(SLOTS, total - i);
  for (let k = 0; k < n; k++) request(k, i + k, true);
  onBatch!(n);
}
if (store.totals().peers !== total) throw new Error(`populated ${store.totals().peers} of ${total}`);

// Steady rounds: batches of 64 random re-announces, each slot of the ring keeping its client
// port, connection id and the fixed fields, as the generator's templates do. Measured in CPU time
// (the process's, so a round that loses the core to another process is not counted longer); the
// same number of ring fills without the tracker is measured apart and taken off.
for (let k = 0; k < SLOTS; k++) request(k, 0, false);
let seed = 12345;
const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 0x1_0000_0000;
function fill(): void {
  const b = r.rx;
  for (let k = 0; k < SLOTS; k++) {
    const i = Math.floor(rand() * total);
    const off = k * SLOT_BYTES;
    const slot = Math.floor(i / TORRENTS);
    b.writeUInt32BE(i + 1, off + 12);
    hashes[i % TORRENTS]!.copy(b, off + 16);
    b.writeUInt32BE(i, off + 52);
    b.writeUInt32BE(slot % 4 === 0 ? 0 : 1_000_000, off + 68);
    b.writeUInt16BE(10_000 + slot, off + 96);
  }
}
const cpuNs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
};
const results: number[] = [];
const BATCHES = 1000;
for (let round = 0; round < ROUNDS; round++) {
  let all = 0;
  let fills = 0;
  let n = 0;
  const end = performance.now() + SECONDS * 1000;
  while (performance.now() < end) {
    let t = cpuNs();
    for (let b = 0; b < BATCHES; b++) {
      fill();
      onBatch!(SLOTS);
    }
    all += cpuNs() - t;
    t = cpuNs();
    for (let b = 0; b < BATCHES; b++) fill();
    fills += cpuNs() - t;
    n += BATCHES * SLOTS;
  }
  const per = (all - fills) / n;
  results.push(per);
  console.log(`round ${round + 1}: ${per.toFixed(0)} ns CPU per announce (${n} announces; filling the ring ${(fills / n).toFixed(0)} ns, taken off)`);
}
const sorted = [...results].sort((a, b) => a - b);
console.log(`best ${sorted[0]!.toFixed(0)} ns, median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} ns per announce; replies sent ${sent}, udpDropped ${metrics.udpDropped}`);
await server.close();
store.close();
limiter.close();
