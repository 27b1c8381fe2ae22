// Private discovery benchmark (issue 14): three relays on 127.0.0.11-13 and a client in one process.
// 1. Circuit build time, p50/p99 over --builds circuits (each a fresh path, links reused as a real
//    client's are), beside the loopback floor of the same work done without circuits: 3 TCP connects.
// 2. Announce latency to a Cascade tracker, direct (the engine's HTTP transport) vs through a circuit,
//    p50/p99 over --announces each, and the ratio.
// 3. Relay CPU per MiB of cells: --mib MiB of DROP cells sealed to the exit of a circuit; the client's
//    own cost (sealing and layering the same cells without sending) is measured apart and taken off,
//    what is left is shared by the three relays. Beside it: raw ChaCha20 over the same bytes.
// Published reference: Tor's circuit build times on the live network are ~0.2-0.5 s median
// (metrics.torproject.org, onionperf); loopback has no network latency, so compare ratios here.
// Run: npm run bench:onion -- [--builds 100] [--announces 100] [--mib 32]
import net from 'node:net';
import { parseArgs } from 'node:util';
import { chacha20 } from '@noble/ciphers/chacha.js';
import { generateIdentity } from '@cascade/identity';
import { startTracker } from '@cascade/tracker';
import { createHttpTransport } from '@cascade/engine/node-transports';
import { OnionClient, directoryRelays, type Circuit } from '@cascade/onion';
import { dialRelay, startRelay } from '@cascade/onion/node';
import { nodeExitExecutor } from '../../packages/onion/src/node/exit-executor.ts';

const { values: argv } = parseArgs({
  options: { builds: { type: 'string', default: '100' }, announces: { type: 'string', default: '100' }, mib: { type: 'string', default: '32' } },
});
const BUILDS = Number(argv.builds);
const ANNOUNCES = Number(argv.announces);
const MIB = Number(argv.mib);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const ms = (x: number) => `${x.toFixed(2)} ms`;

const tracker = await startTracker({ host: '127.0.0.1', interval: 60 });
const directory = `http://127.0.0.1:${tracker.httpPort}`;
const http = createHttpTransport();
const exit = nodeExitExecutor({ http });
const hosts = ['127.0.0.11', '127.0.0.12', '127.0.0.13'];
const relays = await Promise.all(hosts.map((host) => startRelay({ identity: generateIdentity(host), host, directories: [directory], exit })));
const client = new OnionClient({ relays: directoryRelays([directory]), dial: (a, s) => dialRelay(a, s, '127.0.0.5') });
await client.build().then((c) => c.destroy('warm-up'));

// 1. Circuit builds.
const builds: number[] = [];
for (let i = 0; i < BUILDS; i++) {
  const t0 = performance.now();
  const c = await client.build();
  builds.push(performance.now() - t0);
  c.destroy('measured');
}
const connects: number[] = [];
for (let i = 0; i < BUILDS; i++) {
  const t0 = performance.now();
  for (const r of relays) {
    await new Promise<void>((resolve, reject) => {
      const s = net.connect({ host: r.descriptor().tcp!.split(':')[0], port: r.port, localAddress: '127.0.0.5' }, () => {
        s.destroy();
        resolve();
      });
      s.on('error', reject);
    });
  }
  connects.push(performance.now() - t0);
}
console.log(`circuit build (3 hops), ${BUILDS} builds: p50 ${ms(pct(builds, 50))}, p99 ${ms(pct(builds, 99))}`);
console.log(`  reference, 3 plain TCP connects to the same relays: p50 ${ms(pct(connects, 50))}, p99 ${ms(pct(connects, 99))}; build/connects p50 ${(pct(builds, 50) / pct(connects, 50)).toFixed(1)}x`);
console.log('  reference, Tor live network (published, onionperf): median build ~200-500 ms, with real network latency per hop');

// 2. Announce latency.
const ih = new Uint8Array(20).fill(7);
const params = (i: number) => ({ infoHash: ih, peerId: new Uint8Array(20).fill(i % 250), port: 0, uploaded: 0, downloaded: 0, left: 1, numwant: 50 });
const direct: number[] = [];
const onion: number[] = [];
for (let i = 0; i < ANNOUNCES; i++) {
  let t0 = performance.now();
  await http.announce(tracker.httpAnnounceUrl, params(i));
  direct.push(performance.now() - t0);
  t0 = performance.now();
  const a = (await client.request({ op: 'announce', url: tracker.httpAnnounceUrl, infoHash: '07'.repeat(20), peerId: (i % 250).toString(16).padStart(2, '0').repeat(20), port: 0, uploaded: 0, downloaded: 0, left: 1, numwant: 50 })) as { ok: boolean };
  if (!a.ok) throw new Error('announce through the circuit failed');
  onion.push(performance.now() - t0);
}
console.log(`announce, ${ANNOUNCES} each: direct p50 ${ms(pct(direct, 50))} p99 ${ms(pct(direct, 99))}; through a circuit p50 ${ms(pct(onion, 50))} p99 ${ms(pct(onion, 99))}; circuit/direct p50 ${(pct(onion, 50) / pct(direct, 50)).toFixed(1)}x`);

// 3. Relay CPU per MiB of cells.
const circuit: Circuit = await client.circuit();
const cells = Math.ceil((MIB * 1024 * 1024) / 512);
const sent = () => relays.reduce((n, r) => n + r.core.stats.cellsIn, 0);
const before = sent();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
for (let i = 0; i < cells; i++) {
  circuit.pad();
  if (i % 256 === 255) await new Promise((r) => setImmediate(r));
}
while (sent() - before < cells * 3) await new Promise((r) => setTimeout(r, 5));
const wall = performance.now() - t0;
const cpuAll = process.cpuUsage(cpu0);
// The client's share: the same sealing and layering, sent nowhere.
const sink = { remote: 'bench', initiator: true, send() {}, onCell() {}, onClose() {}, close() {} };
const shadow = Object.assign(Object.create(Object.getPrototypeOf(circuit)), circuit, { link: sink, closed: undefined });
const cpu1 = process.cpuUsage();
for (let i = 0; i < cells; i++) shadow.pad();
const cpuClient = process.cpuUsage(cpu1);
const seconds = (u: { user: number; system: number }) => (u.user + u.system) / 1e6;
const relayCpu = Math.max(0, seconds(cpuAll) - seconds(cpuClient)) / 3;
const buf = new Uint8Array(MIB * 1024 * 1024);
const c0 = process.cpuUsage();
chacha20(new Uint8Array(32), new Uint8Array(12), buf);
const raw = seconds(process.cpuUsage(c0));
console.log(`relay CPU: ${MIB} MiB of cells through 3 relays in ${(wall / 1000).toFixed(2)} s; ${((relayCpu / MIB) * 1000).toFixed(1)} ms CPU per MiB per relay (${(MIB / relayCpu).toFixed(0)} MiB/s a core)`);
console.log(`  reference, raw ChaCha20 over the same bytes: ${((raw / MIB) * 1000).toFixed(1)} ms per MiB (${(MIB / raw).toFixed(0)} MiB/s); relay/raw ${(relayCpu / raw).toFixed(1)}x (guard and middle peel a layer per cell; the exit also opens a Poly1305 seal)`);
console.log('all-onion mode (data through circuits): not built; Tribler publishes ~3 MB/s over one circuit');

client.close();
await Promise.all(relays.map((r) => r.close()));
await tracker.close();
