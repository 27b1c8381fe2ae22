// `npm run bench:tracker`: the same announce load against Cascade's tracker, opentracker and
// bittorrent-tracker in one invocation, then a table with the ratios. See README.md here.
//
// Default run: all targets start; each is populated with 100k peers (1000 torrents × 100) by UDP
// `started` announces while its RSS growth is read; then steady phases of random re-announces
// (UDP, then HTTP with a connection per announce) rotate through the targets for several rounds.
// Memory per 100,000 peers is reported two ways: each target's RSS growth over those real
// announces, and for Cascade also the V8 heap + ArrayBuffer growth of loading the same peers
// through the store API in a fresh process after a full GC (store-memory.ts).
//
// `--peers 1000000 --torrents 100000`: the large run. Cascade and opentracker (BENCH_TARGETS to
// change) are each populated with that many peers over UDP, then re-announced to over UDP for
// the rounds; it reports total RSS, RSS per 100k peers and the UDP announce rate, with ratios.
// Bounded by request count and time; only 127.0.0.1.
//
// Knobs (environment): BENCH_SECONDS (per steady phase, default 10), BENCH_TORRENTS (1000),
// BENCH_PEERS (per torrent, 100), BENCH_UDP_CONCURRENCY (128), BENCH_HTTP_CONCURRENCY (32),
// BENCH_ROUNDS (5), BENCH_PIN (1; 0 leaves the scheduler free), BENCH_TARGETS (comma list; default all three, or cascade,opentracker with --peers;
// cascade-dgram adds Cascade held to node:dgram).

import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { readdirSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { loadavg } from 'node:os';
import { cpuBudget } from './cpu-budget.ts';
import { httpLoad, udpLoad } from './loadgen.ts';
import type { LoadResult, Population } from './loadgen.ts';
import { cpuOf, rssOf, startBittorrentTracker, startCascade, startOpentracker, threadCpuOf } from './targets.ts';
import type { Target } from './targets.ts';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(
    [
      'npm run bench:tracker [-- --peers N --torrents T]',
      '  default: 1000 torrents × 100 peers against cascade, opentracker and bittorrent-tracker (UDP and HTTP)',
      '  --peers N --torrents T: the large run, UDP only, cascade and opentracker',
      'environment: BENCH_SECONDS (10), BENCH_ROUNDS (5), BENCH_PIN (1: generator on core 0, trackers on core 1; 0: off), BENCH_NICE (0), BENCH_CPU_QUOTA (0.5 of a core per tracker; 0: off), BENCH_HTTP (1; 0: UDP only), BENCH_TORRENTS (1000), BENCH_PEERS (100), BENCH_UDP_CONCURRENCY (128),',
      '  BENCH_HTTP_CONCURRENCY (32), BENCH_TARGETS (comma list; also cascade-dgram), BENCH_CASCADE_NODE_FLAGS (extra node flags for Cascade)',
      'opentracker: Debian\'s /usr/bin/opentracker (apt-get install opentracker). See bench/tracker/README.md.',
      '',
    ].join('\n'),
  );
  process.exit(0);
}

const env = (k: string, d: number) => {
  const v = Number(process.env[k]);
  return Number.isFinite(v) && v > 0 ? v : d;
};
const flag = (name: string): number | undefined => {
  const i = process.argv.indexOf(name);
  if (i < 0) return undefined;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v <= 0) {
    process.stderr.write(`${name} needs a positive integer\n`);
    process.exit(2);
  }
  return v;
};
const BIG_PEERS = flag('--peers');
const BIG_TORRENTS = flag('--torrents');
const BIG = BIG_PEERS !== undefined || BIG_TORRENTS !== undefined;
const SECONDS = Math.min(env('BENCH_SECONDS', 10), 120);
const TORRENTS = BIG ? Math.min(BIG_TORRENTS ?? 100_000, 1_000_000) : Math.min(env('BENCH_TORRENTS', 1000), 100_000);
const PEERS = BIG ? Math.max(1, Math.round((BIG_PEERS ?? 1_000_000) / TORRENTS)) : Math.min(env('BENCH_PEERS', 100), 10_000);
const UDP_CONC = env('BENCH_UDP_CONCURRENCY', 128);
// The generator's UDP io: 'auto' batches (recvmmsg/sendmmsg through the tracker's addon) so that it
// costs less per announce than the trackers and the rate measures them; 'dgram' is the old generator.
const LOADGEN_IO = (process.env.BENCH_LOADGEN_IO ?? 'auto') as 'auto' | 'mmsg' | 'dgram';
const HTTP_CONC = env('BENCH_HTTP_CONCURRENCY', 32);
// Hard ceilings on requests per phase, whatever the speed.
const MAX_UDP = 5_000_000;
const MAX_HTTP = 1_000_000;
// Populating takes one announce per peer: allow a million at 10k/s.
const POPULATE_SECONDS = BIG ? 300 : 120;
// BENCH_HTTP=0: UDP rounds only (the large run never has HTTP rounds).
const UDP_ONLY = BIG || process.env.BENCH_HTTP === '0';
// BENCH_NICE (default 0, i.e. untouched): a niceness given alike to the generator and to every
// tracker, all their threads, e.g. -10 on a machine others load, so each round's tracker gets most
// of its core whatever else runs there. The same for every target; it takes CPU from the others.
const NICE = Number(process.env.BENCH_NICE ?? 0);
// BENCH_CPU_QUOTA (default 0.5; 0 turns it off): the fraction of one core each tracker may use,
// the same for every target (cpu-budget.ts). Needs a writable cpu cgroup (root); else unbudgeted.
const CPU_QUOTA = Number(process.env.BENCH_CPU_QUOTA ?? 0.5);
const budget = cpuBudget(CPU_QUOTA);

const hashes = Array.from({ length: TORRENTS }, (_, i) => createHash('sha1').update(`cascade-bench-${i}`).digest());
// A throwaway swarm set for the warm-up, apart from the measured population.
const warmHashes = Array.from({ length: 10 }, (_, i) => createHash('sha1').update(`cascade-bench-warm-${i}`).digest());
const WARM_SECONDS = 3;
const pop: Population = { hashes, peersPerTorrent: PEERS };
const totalPeers = TORRENTS * PEERS;

interface StoreMemory {
  peers: number;
  heapBytes: number;
  arrayBufferBytes: number;
  store: { swarms: number; packedBytes: number; slabBytes: number; bytesPerIpPeer: number };
}

const load0 = loadavg();

interface Row {
  target: string;
  populate: LoadResult;
  udp: LoadResult;
  http: LoadResult;
  udpCpuUs: number;
  /** Cores the tracker kept busy over the UDP phases (CPU seconds per second), and its threads doing a tenth or more of that work. */
  udpCores: number;
  udpThreads: string;
  httpCpuUs: number;
  rssPer100k: number;
  rssBase: number;
  rssLoaded: number;
  /** RSS after the steady rounds: the population is still there, and answering. */
  rssAfter: number;
}

const starters: Record<string, () => Promise<Target>> = {
  cascade: () => startCascade(),
  // The same tracker held to node:dgram (--udp-io dgram): what the batched UDP path saves.
  'cascade-dgram': () => startCascade(['--udp-io', 'dgram'], 'cascade-dgram'),
  opentracker: () => startOpentracker([...warmHashes, ...hashes]),
  'bittorrent-tracker': startBittorrentTracker,
};
const names = (process.env.BENCH_TARGETS ?? (BIG ? 'cascade,opentracker' : 'cascade,opentracker,bittorrent-tracker')).split(',').map((s) => s.trim()).filter((s) => s in starters);

const ROUNDS = Math.min(env('BENCH_ROUNDS', 5), 20);

// Pinning (BENCH_PIN, default on with 2 or more cores): the generator's process on core 0, every
// tracker's (all its threads) on core 1, the same core for each. The tracker then never waits for
// a core its own generator holds, nor the other way round, and no tracker gets a second core for
// its helper threads that another does not: what is left to differ is the work per announce.
const PIN = process.env.BENCH_PIN !== '0' && availableParallelism() >= 2 && spawnSync('taskset', ['-V']).status === 0;
const pin = (pid: number, core: number) => {
  if (PIN) spawnSync('taskset', ['-a', '-p', '-c', String(core), String(pid)], { stdio: 'ignore' });
  if (Number.isInteger(NICE) && NICE !== 0) {
    // Niceness is per thread on Linux: every thread the process has now (later ones inherit it).
    for (const tid of readdirSync(`/proc/${pid}/task`)) spawnSync('renice', ['-n', String(NICE), '-p', tid], { stdio: 'ignore' });
    // With autogroups (kernel.sched_autogroup_enabled) a thread's niceness only counts inside
    // its session's group, and each session's group gets an equal share: the group's own
    // niceness is what weighs against the rest of the machine. The generator and the trackers
    // it starts share one session, hence one group.
    try {
      writeFileSync(`/proc/${pid}/autogroup`, String(NICE));
    } catch {
      // no autogroups, or not allowed
    }
  }
};
pin(process.pid, 0);

interface Started {
  name: string;
  t: Target;
  populate: LoadResult;
  rssBase: number;
  rssPer100k: number;
  rssLoaded: number;
  rssAfter: number;
  udp: LoadResult[];
  /** Tracker CPU µs per announce in each UDP round. */
  udpRoundCpuUs: number[];
  http: LoadResult[];
  udpCpu: number;
  httpCpu: number;
  udpSeconds: number;
  /** CPU seconds per thread over the UDP phases. */
  udpThreadCpu: Map<string, number>;
}

// All targets run side by side (idle ones cost nothing) and steady phases rotate through them in
// rounds: this machine is shared, and interleaving spreads any background load over all of them.
const started: Started[] = [];
const udpIo = new Map<string, string>();
// Periods each tracker was throttled in, read before it stops (its cgroup goes with it).
const throttled = new Map<string, number>();
try {
  for (const name of names) {
    process.stderr.write(`${name}: starting\n`);
    const t = await starters[name]!();
    pin(t.pid, 1);
    budget?.place(t.pid, name);
    started.push({ name, t, populate: undefined as unknown as LoadResult, rssBase: 0, rssPer100k: 0, rssLoaded: 0, rssAfter: 0, udp: [], udpRoundCpuUs: [], http: [], udpCpu: 0, httpCpu: 0, udpSeconds: 0, udpThreadCpu: new Map() });
  }
  for (const s of started) {
    // Warm up on a throwaway swarm set before the baseline: JIT, sockets, and the garbage
    // collector's and allocator's headroom under full load, which RSS carries whatever the
    // number of peers. The RSS growth that follows is then the population's.
    const warm = { hashes: warmHashes, peersPerTorrent: 10 };
    await udpLoad({ udpIo: LOADGEN_IO, port: s.t.udpPort, pop: warm, mode: 'populate', maxRequests: 100, maxSeconds: 5, concurrency: 8 });
    await udpLoad({ udpIo: LOADGEN_IO, port: s.t.udpPort, pop: warm, mode: 'steady', maxRequests: MAX_UDP, maxSeconds: WARM_SECONDS, concurrency: UDP_CONC });
    await new Promise((r) => setTimeout(r, 500));
    s.rssBase = await rssOf(s.t.pid);
    process.stderr.write(`${s.name}: populating ${totalPeers} peers over UDP\n`);
    s.populate = await udpLoad({ udpIo: LOADGEN_IO, port: s.t.udpPort, pop, mode: 'populate', maxRequests: totalPeers, maxSeconds: POPULATE_SECONDS, concurrency: UDP_CONC });
    await new Promise((r) => setTimeout(r, 1000));
    s.rssLoaded = await rssOf(s.t.pid);
    s.rssPer100k = ((s.rssLoaded - s.rssBase) / Math.max(1, s.populate.requests)) * 100_000;
  }
  for (let round = 0; round < ROUNDS; round++) {
    const order = started.map((_, i) => started[(i + round) % started.length]!);
    for (const s of order) {
      process.stderr.write(`round ${round + 1}/${ROUNDS} ${s.name}: ${UDP_ONLY ? 'UDP' : 'UDP then HTTP'}, ${SECONDS}s each\n`);
      let cpu0 = await cpuOf(s.t.pid);
      const threads0 = await threadCpuOf(s.t.pid);
      const udp = await udpLoad({ udpIo: LOADGEN_IO, port: s.t.udpPort, pop, mode: 'steady', maxRequests: MAX_UDP, maxSeconds: SECONDS, concurrency: UDP_CONC });
      s.udp.push(udp);
      const used = (await cpuOf(s.t.pid)) - cpu0;
      s.udpCpu += used;
      s.udpRoundCpuUs.push((used / Math.max(1, udp.requests)) * 1e6);
      s.udpSeconds += udp.seconds;
      for (const [tid, cpu] of await threadCpuOf(s.t.pid)) s.udpThreadCpu.set(tid, (s.udpThreadCpu.get(tid) ?? 0) + cpu - (threads0.get(tid) ?? 0));
      // The large run is about holding the population and answering over UDP.
      if (UDP_ONLY) continue;
      cpu0 = await cpuOf(s.t.pid);
      s.http.push(await httpLoad({ port: s.t.httpPort, path: s.t.httpPath, pop, mode: 'steady', maxRequests: MAX_HTTP, maxSeconds: SECONDS, concurrency: HTTP_CONC }));
      s.httpCpu += (await cpuOf(s.t.pid)) - cpu0;
    }
  }
  for (const s of started) s.rssAfter = await rssOf(s.t.pid);
  // How each Cascade process moved its datagrams ('mmsg' unless its addon was not built).
  for (const s of started) {
    if (!s.name.startsWith('cascade')) continue;
    const stats = (await (await fetch(`http://127.0.0.1:${s.t.httpPort}/stats.json`)).json()) as { udpIo?: string };
    udpIo.set(s.name, stats.udpIo ?? '?');
  }
} finally {
  for (const s of started) throttled.set(s.name, budget?.throttled(s.name) ?? NaN);
  for (const s of started) await s.t.stop();
  budget?.close();
}

// The same peers through Cascade's store API in a fresh process: what the store itself holds.
let storeMem: StoreMemory | undefined;
if (names.includes('cascade')) {
  process.stderr.write(`cascade store API: loading ${totalPeers} peers in a fresh process\n`);
  const out = spawnSync(process.execPath, [new URL('./store-memory.ts', import.meta.url).pathname, String(TORRENTS), String(PEERS)], { encoding: 'utf8' });
  if (out.status === 0) storeMem = JSON.parse(out.stdout) as StoreMemory;
  else process.stderr.write(`store-memory.ts failed: ${out.stderr}\n`);
}

// Interference only ever slows a round down, so each target's best round is its truest figure.
const none: LoadResult = { requests: 0, errors: 0, lost: 0, seconds: 1, perSecond: NaN, p50ms: NaN, p99ms: NaN, generatorCpuSeconds: 0 };
const best = (rs: LoadResult[]) => rs.reduce((a, b) => (b.perSecond > a.perSecond ? b : a), rs[0] ?? none);
const sum = (rs: LoadResult[]) => rs.reduce((n, r) => n + r.requests, 0);
const rows: Row[] = started.map((s) => ({
  target: s.name,
  populate: s.populate,
  udp: best(s.udp),
  http: best(s.http),
  udpCpuUs: (s.udpCpu / Math.max(1, sum(s.udp))) * 1e6,
  udpCores: s.udpCpu / Math.max(1e-9, s.udpSeconds),
  udpThreads: busyThreads(s.udpThreadCpu),
  httpCpuUs: (s.httpCpu / Math.max(1, sum(s.http))) * 1e6,
  rssPer100k: s.rssPer100k,
  rssBase: s.rssBase,
  rssLoaded: s.rssLoaded,
  rssAfter: s.rssAfter,
}));

/** "1 of 7": how many of the process's threads did at least a tenth of its work. */
function busyThreads(cpu: Map<string, number>): string {
  const total = [...cpu.values()].reduce((a, b) => a + b, 0);
  const busy = [...cpu.values()].filter((c) => c >= total / 10).length;
  return `${busy} of ${cpu.size}`;
}

const fmt = (v: number, d = 0) => (Number.isFinite(v) ? v.toFixed(d) : '-');
const mb = (b: number) => `${fmt(b / 1024 / 1024, 1)} MB`;
const signed = (b: number) => (b < 0 ? `−${mb(-b)}` : `+${mb(b)}`);
const la = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
const lines: string[] = [];
lines.push(
  `tracker benchmark: ${TORRENTS} torrents × ${PEERS} peers = ${totalPeers} peers, best of ${ROUNDS} interleaved ${SECONDS}s rounds per protocol, ` +
    `UDP concurrency ${UDP_CONC}${UDP_ONLY ? '' : `, HTTP concurrency ${HTTP_CONC}`}, numwant 50, loopback only; load average ${la(load0)} at start, ${la(loadavg())} at end`,
);
lines.push(
  (PIN ? 'pinned: the generator on core 0, each tracker (all its threads) on core 1, one at a time under load' : 'not pinned (BENCH_PIN=0, one core, or no taskset)') +
    (NICE !== 0 ? `; niceness ${NICE} for the generator and every tracker alike` : ''),
);
lines.push(
  budget
    ? `CPU budget: ${budget.describe}; periods throttled: ${started.map((s) => `${s.name} ${throttled.get(s.name)}`).join(', ')} (a tracker throttled in most periods used its whole budget: its rate is announces per ${CPU_QUOTA} core)`
    : `no CPU budget (${CPU_QUOTA > 0 ? 'no writable cpu cgroup here' : 'BENCH_CPU_QUOTA=0'}): each round's rate is whatever share of core 1 the machine left that tracker`,
);
if (udpIo.size > 0) lines.push(`UDP io: ${[...udpIo].map(([n, io]) => `${n} ${io}`).join(', ')} (mmsg: recvmmsg/sendmmsg batches; dgram: node:dgram)`);
lines.push('');
const header = ['target', 'proto', 'announces/s', 'p50 ms', 'p99 ms', 'lost', 'errors', 'tracker CPU µs/ann', 'loadgen CPU %'];
const table: string[][] = [header];
for (const r of rows) {
  const protos = UDP_ONLY ? ([['udp', r.udp, r.udpCpuUs]] as const) : ([['udp', r.udp, r.udpCpuUs], ['http', r.http, r.httpCpuUs]] as const);
  for (const [proto, res, cpuUs] of protos) {
    table.push([r.target, proto, fmt(res.perSecond), fmt(res.p50ms, 2), fmt(res.p99ms, 2), String(res.lost), String(res.errors), fmt(cpuUs, 1), fmt((res.generatorCpuSeconds / res.seconds) * 100)]);
  }
  table.push([r.target, 'populate', fmt(r.populate.perSecond), fmt(r.populate.p50ms, 2), fmt(r.populate.p99ms, 2), String(r.populate.lost), String(r.populate.errors), '', fmt((r.populate.generatorCpuSeconds / r.populate.seconds) * 100)]);
}
const render = (t: string[][]) => {
  const widths = t[0]!.map((_, i) => Math.max(...t.map((row) => (row[i] ?? '').length)));
  for (const row of t) lines.push(row.map((c, i) => (i < 1 || (i < 2 && t === table) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
};
render(table);
lines.push('');
// Every UDP round, side by side: the rounds alternate the targets' order, so each column saw the
// machine as it was within a minute of the others'.
lines.push('UDP rounds (announces/s, tracker CPU µs per announce):');
const roundTable: string[][] = [['round', ...rows.map((r) => r.target)]];
const cascadeRow = started.find((s) => s.name === 'cascade');
const otRow = started.find((s) => s.name === 'opentracker');
if (cascadeRow && otRow) roundTable[0]!.push('cascade/opentracker rate', 'CPU/ann');
for (let i = 0; i < ROUNDS; i++) {
  const cells = started.map((s) => (s.udp[i] ? `${fmt(s.udp[i]!.perSecond)} (${fmt(s.udpRoundCpuUs[i]!, 1)} µs)` : '-'));
  if (cascadeRow && otRow && cascadeRow.udp[i] && otRow.udp[i]) {
    cells.push(`${fmt(cascadeRow.udp[i]!.perSecond / otRow.udp[i]!.perSecond, 2)}×`, `${fmt(otRow.udpRoundCpuUs[i]! / cascadeRow.udpRoundCpuUs[i]!, 2)}× as efficient`);
  }
  roundTable.push([String(i + 1), ...cells]);
}
render(roundTable);
lines.push('');
lines.push('cores used over the UDP rounds (tracker CPU seconds per second; busy threads did a tenth or more of its work, the others are helpers such as the GC):');
for (const r of rows) lines.push(`  ${r.target}: ${fmt(r.udpCores, 2)} cores, busy threads ${r.udpThreads}`);
lines.push('');

// Memory: RSS over real UDP announces for every target; for Cascade also the store-API figure.
lines.push(`memory, ${totalPeers} peers loaded by UDP announces (RSS from /proc; "idle" after a ${WARM_SECONDS}s full-load warm-up on 100 throwaway peers, "after" at the end of the announce rounds):`);
const mem: string[][] = [['target', 'RSS idle', 'RSS loaded', 'RSS after', 'RSS growth / 100k peers']];
for (const r of rows) mem.push([r.target, mb(r.rssBase), mb(r.rssLoaded), mb(r.rssAfter), mb(r.rssPer100k)]);
render(mem);
const storePer100k = storeMem ? ((storeMem.heapBytes + storeMem.arrayBufferBytes) / storeMem.peers) * 100_000 : NaN;
if (storeMem) {
  lines.push(
    `cascade store API, same ${storeMem.peers} peers in a fresh process, after a full GC: heap ${signed(storeMem.heapBytes)}, ArrayBuffers ${signed(storeMem.arrayBufferBytes)} ` +
      `= ${mb(storeMem.heapBytes + storeMem.arrayBufferBytes)}, ${mb(storePer100k)} per 100k peers (live segments ${mb(storeMem.store.packedBytes)} in a ${mb(storeMem.store.slabBytes)} slab, ${storeMem.store.swarms} swarms)`,
  );
}
lines.push('');

const get = (name: string) => rows.find((r) => r.target === name);
const cascade = get('cascade');
const ratio = (a: number | undefined, b: number | undefined) => (a && b ? a / b : NaN);
const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
if (cascade) {
  for (const other of ['bittorrent-tracker', 'opentracker']) {
    const o = get(other);
    if (!o) continue;
    const target = other === 'opentracker' ? 1 : 3;
    const udpR = ratio(cascade.udp.perSecond, o.udp.perSecond);
    const cs = started.find((s) => s.name === 'cascade')!;
    const os = started.find((s) => s.name === other)!;
    const perRound = cs.udp.map((r, i) => (os.udp[i] ? r.perSecond / os.udp[i]!.perSecond : NaN)).filter(Number.isFinite).sort((a, b) => a - b);
    const median = perRound.length ? perRound[Math.floor(perRound.length / 2)]! : NaN;
    lines.push(
      `cascade / ${other}: udp ${fmt(udpR, 2)}× best round against best round (target ≥ ${target}× ${verdict(udpR >= target)}), ${fmt(median, 2)}× the median of round-by-round ratios (${verdict(median >= target)})${UDP_ONLY ? '' : `, http ${fmt(ratio(cascade.http.perSecond, o.http.perSecond), 2)}×`}, ` +
        `udp CPU per announce ${fmt(cascade.udpCpuUs, 1)} vs ${fmt(o.udpCpuUs, 1)} µs = ${fmt(ratio(o.udpCpuUs, cascade.udpCpuUs), 2)}× as efficient, ` +
        `udp rate ratio round by round ${perRound.map((x) => fmt(x, 2)).join(' ')} (median ${fmt(median, 2)}×), RSS growth per peer ${fmt(ratio(cascade.rssPer100k, o.rssPer100k), 2)}× theirs`,
    );
  }
  const limit = 12 * 1024 * 1024;
  lines.push(
    `cascade memory per 100k peers (target ≤ 12 MB): store ${mb(storePer100k)} ${verdict(storePer100k <= limit)}; RSS growth ${mb(cascade.rssPer100k)} ${verdict(cascade.rssPer100k <= limit)} ` +
      '(RSS also holds the garbage collector\'s headroom)',
  );
  if (BIG) {
    const peak = Math.max(cascade.rssLoaded, cascade.rssAfter);
    lines.push(`cascade with ${totalPeers} peers in ${TORRENTS} torrents: RSS ${mb(peak)} in all (target ≤ 200 MB ${verdict(peak <= 200 * 1024 * 1024)}), still answering ${fmt(cascade.udp.perSecond)} UDP announces/s`);
  }
}
lines.push(`(the generator's UDP io: ${rows.find((r) => r.udp?.generatorIo)?.udp?.generatorIo ?? LOADGEN_IO}; BENCH_LOADGEN_IO=dgram for the old one-datagram-per-call generator)`);
lines.push('(loadgen CPU % near 100 means the single-threaded generator, not the tracker, set the pace: compare tracker CPU µs/ann then.)');
lines.push("(opentracker answers numwant like Cascade up to the swarm size, but includes the announcer itself and hands seeds to seeds; with numwant 50 both send min(50, swarm size) peers, the announcer among opentracker's.)");
for (const r of rows) {
  // opentracker closes HTTP connections without a reply once 32 arrive at once (a single request
  // at a time always succeeds): its http rate counts only the answered ones.
  if (!UDP_ONLY && r.http.errors > r.http.requests * 0.1) {
    lines.push(`(${r.target} http: ${r.http.errors} of ${r.http.errors + r.http.requests} announces got no answer (connection closed, socket hang up); announces/s counts answered ones only)`);
  }
}
process.stdout.write(lines.join('\n') + '\n');
