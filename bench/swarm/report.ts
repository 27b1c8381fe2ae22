// bench:swarm's results: per-run lines, the summary table, issue 40's targets and the comparison
// with WebTorrent.

export type Impl = 'lt' | 'cascade' | 'wt';

export const GiB = 2 ** 30;
export const MB = 1e6;

export function parsePair(s: string): { seed: Impl; dl: Impl } {
  const m = /^(lt|cascade|wt)-(lt|cascade|wt)$/.exec(s);
  if (!m) throw new Error(`bad pair "${s}": use seeder-downloader with lt|cascade|wt, e.g. lt-cascade`);
  return { seed: m[1] as Impl, dl: m[2] as Impl };
}

export const arrow = (pair: string, n: number) => {
  const { seed, dl } = parsePair(pair);
  return `${seed}→${n > 1 ? `${n}×` : ''}${dl}`;
};

export function fmtSize(n: number): string {
  if (n >= GiB && n % GiB === 0) return `${n / GiB}GiB`;
  if (n >= 2 ** 20 && n % 2 ** 20 === 0) return `${n / 2 ** 20}MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024}KiB`;
  return `${n}B`;
}

export interface ProcResult {
  impl: Impl;
  /** CPU-s during the transfer (downloader: start → done; seeder: ready → all done). */
  cpu: number;
  /** CPU-s of the whole process, startup and checking included. */
  cpuTotal: number;
  /** Peak RSS (getrusage maxrss), bytes. */
  maxRss: number;
  /** Seeder: peak RSS when it was ready (after checking), bytes. */
  maxRssAtReady?: number;
  /** Sampled peaks, bytes: anonymous vs file-backed (mmap) resident memory. */
  peakAnon: number;
  peakFile: number;
  /** Node peers: CPU-s per thread name (main, libuv pool, V8 helpers, io_uring workers); downloaders
   *  from start to done, seeders over the whole process life. */
  threads?: Record<string, number>;
  /** Node downloaders: s per thread name spent runnable but waiting for a CPU, during the transfer. */
  threadWaits?: Record<string, number>;
  /** Node downloaders only: MB received per 100 ms from their first dial. */
  series?: number[];
  seconds?: number;
  /** libtorrent only: outgoing connection attempts; s from finished to its store buffer written. */
  dialAttempts?: number;
  flushSeconds?: number;
}

export interface RunResult {
  label: string;
  pair: string;
  downloaders: number;
  run: number; // 0 = warm-up
  size: number;
  /** 1-minute load average just before the run (other processes compete for the CPUs). */
  load: number;
  ok: boolean;
  error?: string;
  /** First dial → last done, s. */
  seconds?: number;
  /** First dial → first payload byte (median over downloaders), s. */
  firstByte?: number;
  /** downloaders × size / seconds, 10^6 bytes/s. */
  mbps?: number;
  seeder?: ProcResult;
  dl?: ProcResult[];
}


export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
export const f = (x: number | undefined, d = 1) => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(d));
export const mb = (bytes: number) => f(bytes / MB, 0);

export function runLine(r: RunResult): string {
  const tag = r.run === 0 ? 'warm-up' : `run ${r.run}`;
  if (!r.ok) return `  ${r.label.padEnd(18)} ${tag.padEnd(7)} FAILED: ${r.error}`;
  const d = r.dl!;
  const dlCpu = mean(d.map((x) => x.cpu));
  return (
    `  ${r.label.padEnd(18)} ${tag.padEnd(7)} ${f(r.mbps).padStart(7)} MB/s  ${f(r.seconds, 2).padStart(6)} s (1st byte ${f(r.firstByte, 2)} s)` +
    `  dl cpu ${f(dlCpu, 2)} s, rss ${mb(Math.max(...d.map((x) => x.maxRss)))} MB` +
    `  | seed cpu ${f(r.seeder!.cpu, 2)} s, rss ${mb(r.seeder!.maxRss)} MB (${mb(r.seeder!.maxRssAtReady!)} checked)  ✓ data verified  (load ${f(r.load, 1)})`
  );
}

export interface Summary {
  label: string;
  pair: string;
  downloaders: number;
  runs: number;
  failed: number;
  mbps: { min: number; median: number; max: number; all: number[] };
  ratioToLt: number | undefined;
  firstByte: number;
  dlCpu: number; // median over runs of the mean per downloader
  dlCpuPerGiB: number;
  dlMaxRss: number;
  dlPeakAnon: number;
  seedCpu: number;
  seedMaxRss: number;
  seedPeakAnon: number;
  seedMaxRssAtReady: number;
  /** Median over runs of (all peers' CPU-s during the transfer) / seconds: how many CPUs were busy. */
  cores: number;
}

export function summarize(results: RunResult[], size: number): Summary[] {
  const labels = [...new Set(results.map((r) => r.label))];
  const out: Summary[] = labels.map((label) => {
    const all = results.filter((r) => r.label === label);
    const rs = all.filter((r) => r.ok);
    const speeds = rs.map((r) => r.mbps!);
    const dlCpu = median(rs.map((r) => mean(r.dl!.map((d) => d.cpu))));
    return {
      label,
      pair: all[0]!.pair,
      downloaders: all[0]!.downloaders,
      runs: rs.length,
      failed: all.length - rs.length,
      mbps: { min: Math.min(...speeds), median: median(speeds), max: Math.max(...speeds), all: speeds },
      ratioToLt: undefined,
      firstByte: median(rs.map((r) => r.firstByte!)),
      dlCpu,
      dlCpuPerGiB: dlCpu / (size / GiB),
      dlMaxRss: Math.max(...rs.flatMap((r) => r.dl!.map((d) => d.maxRss))),
      dlPeakAnon: Math.max(...rs.flatMap((r) => r.dl!.map((d) => d.peakAnon))),
      seedCpu: median(rs.map((r) => r.seeder!.cpu)),
      seedMaxRss: Math.max(...rs.map((r) => r.seeder!.maxRss)),
      seedPeakAnon: Math.max(...rs.map((r) => r.seeder!.peakAnon)),
      seedMaxRssAtReady: Math.max(...rs.map((r) => r.seeder!.maxRssAtReady!)),
      cores: median(rs.map((r) => (r.seeder!.cpu + r.dl!.reduce((a, d) => a + d.cpu, 0)) / r.seconds!)),
    };
  });
  for (const s of out) {
    const base = out.find((b) => b.pair === 'lt-lt' && b.downloaders === s.downloaders);
    if (base && s.pair !== 'lt-lt' && base.runs > 0 && s.runs > 0) s.ratioToLt = s.mbps.median / base.mbps.median;
  }
  return out;
}

export function table(rows: Summary[]): string {
  const head = ['pair', 'ok', 'MB/s min', 'median', 'max', '×lt→lt', '1st byte s', 'dl CPU-s', 'CPU-s/GiB', 'dl RSS MB', '(anon)', 'seed CPU-s', 'seed RSS MB', '(anon)', 'cores busy'];
  const body = rows.map((s) => [
    s.label,
    `${s.runs}/${s.runs + s.failed}`,
    f(s.mbps.min),
    f(s.mbps.median),
    f(s.mbps.max),
    s.pair === 'lt-lt' ? '1.00' : f(s.ratioToLt, 2),
    f(s.firstByte, 2),
    f(s.dlCpu, 2),
    f(s.dlCpuPerGiB, 2),
    mb(s.dlMaxRss),
    mb(s.dlPeakAnon),
    f(s.seedCpu, 2),
    mb(s.seedMaxRss),
    mb(s.seedPeakAnon),
    f(s.cores, 2),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...body.map(line)].join('\n');
}

export interface Target {
  name: string;
  status: 'PASS' | 'FAIL' | 'SKIP';
  value?: number;
  limit: number;
  detail: string;
}

/** The one-downloader summary of `pair`, if it was run. */
export const onePair = (sum: Summary[], pair: string) => sum.find((s) => s.pair === pair && s.downloaders === 1);

export function targets(sum: Summary[], all: RunResult[]): Target[] {
  const out: Target[] = [];
  const by = (pair: string) => onePair(sum, pair);
  const ratio = (pair: string, limit: number) => {
    const s = by(pair);
    const name = `${arrow(pair, 1)} ≥ ${limit.toFixed(1)}× lt→lt median MB/s`;
    if (!s || s.ratioToLt === undefined) return out.push({ name, status: 'SKIP', limit, detail: 'pair or lt→lt not measured' });
    out.push({
      name,
      status: s.ratioToLt >= limit ? 'PASS' : 'FAIL',
      value: s.ratioToLt,
      limit,
      detail: `${s.ratioToLt.toFixed(2)}× (${f(s.mbps.median)} vs ${f(by('lt-lt')!.mbps.median)} MB/s)`,
    });
  };
  ratio('lt-cascade', 1.0);
  ratio('cascade-cascade', 1.0);
  ratio('cascade-lt', 0.9);
  for (const pair of ['lt-cascade', 'cascade-cascade']) {
    const s = by(pair);
    const name = `cascade downloader (${arrow(pair, 1)}) ≤ 2.5 CPU-s/GiB`;
    if (!s || s.runs === 0) out.push({ name, status: 'SKIP', limit: 2.5, detail: 'not measured' });
    else out.push({ name, status: s.dlCpuPerGiB <= 2.5 ? 'PASS' : 'FAIL', value: s.dlCpuPerGiB, limit: 2.5, detail: `${s.dlCpuPerGiB.toFixed(2)} CPU-s/GiB (median)` });
  }
  const cascadeProcs = all
    .filter((r) => r.ok && r.run > 0)
    .flatMap((r) => [
      ...(r.seeder!.impl === 'cascade' ? [{ p: r.seeder!, what: `${r.label} seeder` }] : []),
      ...r.dl!.filter((d) => d.impl === 'cascade').map((d) => ({ p: d, what: `${r.label} downloader` })),
    ]);
  const name = 'cascade peak RSS ≤ 250 MB (every Cascade process)';
  if (cascadeProcs.length === 0) out.push({ name, status: 'SKIP', limit: 250, detail: 'no Cascade process measured' });
  else {
    const worst = cascadeProcs.reduce((a, b) => (b.p.maxRss > a.p.maxRss ? b : a));
    out.push({ name, status: worst.p.maxRss <= 250 * MB ? 'PASS' : 'FAIL', value: worst.p.maxRss / MB, limit: 250, detail: `max ${mb(worst.p.maxRss)} MB (${worst.what})` });
  }
  return out;
}

/** Cascade against WebTorrent where the other end of the transfer is the same peer. */
export function versusWebTorrent(sum: Summary[]): string[] {
  const out: string[] = [];
  const compare = (ours: string, theirs: string, what: string) => {
    const a = onePair(sum, ours);
    const b = onePair(sum, theirs);
    if (!a?.runs || !b?.runs) return;
    out.push(
      `${what}: ${(a.mbps.median / b.mbps.median).toFixed(2)}× MB/s (${f(a.mbps.median)} vs ${f(b.mbps.median)}), ` +
        `downloader CPU-s/GiB ${f(a.dlCpuPerGiB, 2)} vs ${f(b.dlCpuPerGiB, 2)}, RSS ${mb(a.dlMaxRss)} vs ${mb(b.dlMaxRss)} MB`,
    );
  };
  compare('lt-cascade', 'lt-wt', 'downloading from libtorrent');
  compare('cascade-cascade', 'wt-wt', 'both ends');
  compare('cascade-lt', 'wt-lt', 'seeding to libtorrent');
  return out;
}
