// `npm run bench:tracker`: the same announce load against Cascade's tracker, opentracker and
// bittorrent-tracker in one invocation, then a table with the ratios.
//
// All targets start; each is populated with 100k peers (1000 torrents × 100) by UDP `started`
// announces while its memory growth is read; then steady phases of random re-announces (UDP,
// then HTTP with a connection per announce) rotate through the targets for several rounds.
// Bounded by request count and time; only 127.0.0.1.
//
// Knobs (environment): BENCH_SECONDS (per steady phase, default 10), BENCH_TORRENTS (1000),
// BENCH_PEERS (per torrent, 100), BENCH_UDP_CONCURRENCY (128), BENCH_HTTP_CONCURRENCY (32),
// BENCH_ROUNDS (3), BENCH_TARGETS (comma list; default all three).

import { createHash } from 'node:crypto';
import { httpLoad, udpLoad } from './loadgen.ts';
import type { LoadResult, Population } from './loadgen.ts';
import { cpuOf, rssOf, startBittorrentTracker, startCascade, startOpentracker } from './targets.ts';
import type { Target } from './targets.ts';

const env = (k: string, d: number) => {
  const v = Number(process.env[k]);
  return Number.isFinite(v) && v > 0 ? v : d;
};
const SECONDS = Math.min(env('BENCH_SECONDS', 10), 120);
const TORRENTS = Math.min(env('BENCH_TORRENTS', 1000), 100_000);
const PEERS = Math.min(env('BENCH_PEERS', 100), 10_000);
const UDP_CONC = env('BENCH_UDP_CONCURRENCY', 128);
const HTTP_CONC = env('BENCH_HTTP_CONCURRENCY', 32);
// Hard ceilings on requests per phase, whatever the speed.
const MAX_UDP = 5_000_000;
const MAX_HTTP = 1_000_000;

const hashes = Array.from({ length: TORRENTS }, (_, i) => createHash('sha1').update(`cascade-bench-${i}`).digest());
const pop: Population = { hashes, peersPerTorrent: PEERS };
const totalPeers = TORRENTS * PEERS;

interface Row {
  target: string;
  populate: LoadResult;
  udp: LoadResult;
  http: LoadResult;
  udpCpuUs: number;
  httpCpuUs: number;
  rssPer100k: number;
  rssBase: number;
}

const starters: Record<string, () => Promise<Target>> = {
  cascade: startCascade,
  opentracker: () => startOpentracker(hashes),
  'bittorrent-tracker': startBittorrentTracker,
};
const names = (process.env.BENCH_TARGETS ?? 'cascade,opentracker,bittorrent-tracker').split(',').map((s) => s.trim()).filter((s) => s in starters);

const ROUNDS = Math.min(env('BENCH_ROUNDS', 3), 10);

interface Started {
  name: string;
  t: Target;
  populate: LoadResult;
  rssBase: number;
  rssPer100k: number;
  udp: LoadResult[];
  http: LoadResult[];
  udpCpu: number;
  httpCpu: number;
}

// All targets run side by side (idle ones cost nothing) and steady phases rotate through them in
// rounds: this machine is shared, and interleaving spreads any background load over all of them.
const started: Started[] = [];
try {
  for (const name of names) {
    process.stderr.write(`${name}: starting\n`);
    const t = await starters[name]!();
    started.push({ name, t, populate: undefined as unknown as LoadResult, rssBase: 0, rssPer100k: 0, udp: [], http: [], udpCpu: 0, httpCpu: 0 });
  }
  for (const s of started) {
    // Warm up (JIT, sockets) on a throwaway torrent set before the baseline.
    await udpLoad({ port: s.t.udpPort, pop: { hashes: hashes.slice(0, 10), peersPerTorrent: 10 }, mode: 'populate', maxRequests: 100, maxSeconds: 5, concurrency: 8 });
    await new Promise((r) => setTimeout(r, 500));
    s.rssBase = await rssOf(s.t.pid);
    process.stderr.write(`${s.name}: populating ${totalPeers} peers over UDP\n`);
    s.populate = await udpLoad({ port: s.t.udpPort, pop, mode: 'populate', maxRequests: totalPeers, maxSeconds: 120, concurrency: UDP_CONC });
    await new Promise((r) => setTimeout(r, 1000));
    s.rssPer100k = (((await rssOf(s.t.pid)) - s.rssBase) / Math.max(1, s.populate.requests)) * 100_000;
  }
  for (let round = 0; round < ROUNDS; round++) {
    const order = started.map((_, i) => started[(i + round) % started.length]!);
    for (const s of order) {
      process.stderr.write(`round ${round + 1}/${ROUNDS} ${s.name}: UDP then HTTP, ${SECONDS}s each\n`);
      let cpu0 = await cpuOf(s.t.pid);
      s.udp.push(await udpLoad({ port: s.t.udpPort, pop, mode: 'steady', maxRequests: MAX_UDP, maxSeconds: SECONDS, concurrency: UDP_CONC }));
      s.udpCpu += (await cpuOf(s.t.pid)) - cpu0;
      cpu0 = await cpuOf(s.t.pid);
      s.http.push(await httpLoad({ port: s.t.httpPort, path: s.t.httpPath, pop, mode: 'steady', maxRequests: MAX_HTTP, maxSeconds: SECONDS, concurrency: HTTP_CONC }));
      s.httpCpu += (await cpuOf(s.t.pid)) - cpu0;
    }
  }
} finally {
  for (const s of started) await s.t.stop();
}

// Interference only ever slows a round down, so each target's best round is its truest figure.
const best = (rs: LoadResult[]) => rs.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
const sum = (rs: LoadResult[]) => rs.reduce((n, r) => n + r.requests, 0);
const rows: Row[] = started.map((s) => ({
  target: s.name,
  populate: s.populate,
  udp: best(s.udp),
  http: best(s.http),
  udpCpuUs: (s.udpCpu / Math.max(1, sum(s.udp))) * 1e6,
  httpCpuUs: (s.httpCpu / Math.max(1, sum(s.http))) * 1e6,
  rssPer100k: s.rssPer100k,
  rssBase: s.rssBase,
}));

const fmt = (v: number, d = 0) => (Number.isFinite(v) ? v.toFixed(d) : '-');
const mb = (b: number) => `${fmt(b / 1024 / 1024, 1)} MB`;
const lines: string[] = [];
lines.push(`tracker benchmark: ${TORRENTS} torrents × ${PEERS} peers = ${totalPeers} peers, best of ${ROUNDS} interleaved ${SECONDS}s rounds per protocol, UDP concurrency ${UDP_CONC}, HTTP concurrency ${HTTP_CONC}, numwant 50, loopback only`);
lines.push('');
const header = ['target', 'proto', 'announces/s', 'p50 ms', 'p99 ms', 'lost', 'errors', 'tracker CPU µs/ann', 'loadgen CPU %', 'RSS / 100k peers', 'RSS idle'];
const table: string[][] = [header];
for (const r of rows) {
  for (const [proto, res, cpuUs] of [['udp', r.udp, r.udpCpuUs], ['http', r.http, r.httpCpuUs]] as const) {
    table.push([
      r.target,
      proto,
      fmt(res.perSecond),
      fmt(res.p50ms, 2),
      fmt(res.p99ms, 2),
      String(res.lost),
      String(res.errors),
      fmt(cpuUs, 1),
      fmt((res.generatorCpuSeconds / res.seconds) * 100),
      proto === 'udp' ? mb(r.rssPer100k) : '',
      proto === 'udp' ? mb(r.rssBase) : '',
    ]);
  }
  table.push([r.target, 'populate', fmt(r.populate.perSecond), fmt(r.populate.p50ms, 2), fmt(r.populate.p99ms, 2), String(r.populate.lost), String(r.populate.errors), '', fmt((r.populate.generatorCpuSeconds / r.populate.seconds) * 100), '', '']);
}
const widths = header.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
for (const row of table) lines.push(row.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
lines.push('');

const get = (name: string) => rows.find((r) => r.target === name);
const cascade = get('cascade');
const ratio = (a: number | undefined, b: number | undefined) => (a && b ? a / b : NaN);
if (cascade) {
  for (const other of ['bittorrent-tracker', 'opentracker']) {
    const o = get(other);
    if (!o) continue;
    const target = other === 'opentracker' ? 0.5 : 3;
    const udpR = ratio(cascade.udp.perSecond, o.udp.perSecond);
    lines.push(
      `cascade / ${other}: udp ${fmt(udpR, 2)}× (target ≥ ${target}× ${udpR >= target ? 'met' : 'NOT met'}), http ${fmt(ratio(cascade.http.perSecond, o.http.perSecond), 2)}×, ` +
        `udp CPU per announce ${fmt(ratio(o.udpCpuUs, cascade.udpCpuUs), 2)}× as efficient, memory per peer ${fmt(ratio(cascade.rssPer100k, o.rssPer100k), 2)}× theirs`,
    );
  }
}
lines.push('(loadgen CPU % near 100 means the single-threaded generator, not the tracker, set the pace: compare tracker CPU µs/ann then.)');
for (const r of rows) {
  // opentracker closes HTTP connections without a reply once 32 arrive at once (a single request
  // at a time always succeeds): its http rate counts only the answered ones.
  if (r.http.errors > r.http.requests * 0.1) {
    lines.push(`(${r.target} http: ${r.http.errors} of ${r.http.errors + r.http.requests} announces got no answer (connection closed, socket hang up); announces/s counts answered ones only)`);
  }
}
process.stdout.write(lines.join('\n') + '\n');
