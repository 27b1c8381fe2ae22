// `npm run bench:tracker`: the same announce load against Cascade's tracker, opentracker and
// bittorrent-tracker in one invocation, then a table with the ratios.
//
// Per target: start it, populate 100k peers (1000 torrents × 100) with UDP `started` announces
// and read its memory growth, then a steady phase of random re-announces over UDP and then over
// HTTP. Bounded by request count and time; only 127.0.0.1.
//
// Knobs (environment): BENCH_SECONDS (per steady phase, default 10), BENCH_TORRENTS (1000),
// BENCH_PEERS (per torrent, 100), BENCH_UDP_CONCURRENCY (128), BENCH_HTTP_CONCURRENCY (32),
// BENCH_TARGETS (comma list; default all three).

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

async function measure(name: string): Promise<Row> {
  process.stderr.write(`${name}: starting\n`);
  const t = await starters[name]!();
  try {
    // Warm up (JIT, sockets) on a throwaway torrent set before the baseline.
    await udpLoad({ port: t.udpPort, pop: { hashes: hashes.slice(0, 10), peersPerTorrent: 10 }, mode: 'populate', maxRequests: 100, maxSeconds: 5, concurrency: 8 });
    await new Promise((r) => setTimeout(r, 500));
    const rssBase = await rssOf(t.pid);
    process.stderr.write(`${name}: populating ${totalPeers} peers over UDP\n`);
    const populate = await udpLoad({ port: t.udpPort, pop, mode: 'populate', maxRequests: totalPeers, maxSeconds: 120, concurrency: UDP_CONC });
    await new Promise((r) => setTimeout(r, 1000));
    const rssFull = await rssOf(t.pid);
    const rssPer100k = ((rssFull - rssBase) / Math.max(1, populate.requests)) * 100_000;

    process.stderr.write(`${name}: steady UDP announces for ${SECONDS}s\n`);
    let cpu0 = await cpuOf(t.pid);
    const udp = await udpLoad({ port: t.udpPort, pop, mode: 'steady', maxRequests: MAX_UDP, maxSeconds: SECONDS, concurrency: UDP_CONC });
    const udpCpuUs = ((await cpuOf(t.pid)) - cpu0) / Math.max(1, udp.requests) * 1e6;

    process.stderr.write(`${name}: steady HTTP announces for ${SECONDS}s\n`);
    cpu0 = await cpuOf(t.pid);
    const http = await httpLoad({ port: t.httpPort, path: t.httpPath, pop, mode: 'steady', maxRequests: MAX_HTTP, maxSeconds: SECONDS, concurrency: HTTP_CONC });
    const httpCpuUs = ((await cpuOf(t.pid)) - cpu0) / Math.max(1, http.requests) * 1e6;
    return { target: name, populate, udp, http, udpCpuUs, httpCpuUs, rssPer100k, rssBase };
  } finally {
    await t.stop();
  }
}

const rows: Row[] = [];
for (const n of names) rows.push(await measure(n));

const fmt = (v: number, d = 0) => (Number.isFinite(v) ? v.toFixed(d) : '-');
const mb = (b: number) => `${fmt(b / 1024 / 1024, 1)} MB`;
const lines: string[] = [];
lines.push(`tracker benchmark: ${TORRENTS} torrents × ${PEERS} peers = ${totalPeers} peers, ${SECONDS}s per steady phase, UDP concurrency ${UDP_CONC}, HTTP concurrency ${HTTP_CONC}, numwant 50, loopback only`);
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
process.stdout.write(lines.join('\n') + '\n');
