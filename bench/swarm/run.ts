// Swarm benchmark: Cascade against libtorrent (python3-libtorrent 2.0) on 127.0.0.1. Every peer is
// its own process (cascade-peer.ts / lt_peer.py), so its CPU and peak RSS are its own.
// See bench/swarm/README.md. Run: npm run bench:swarm -- [--size 1GiB] [--runs 3] [--fanout] [--big 8GiB] …

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LT_PEER, makePayload, PYTHON, verify, type Payload } from './payload.ts';
import { arrow, fmtSize, GiB, median, MB, parsePair, runLine, summarize, table, targets, versusWebTorrent, type Impl, type ProcResult, type RunResult } from './report.ts';

const HERE = import.meta.dirname;
const OUT_DIR = resolve(HERE, '../out');
const CASCADE_PEER = join(HERE, 'cascade-peer.ts');
const WT_PEER = join(HERE, 'wt-peer.ts');

/** --webtorrent: WebTorrent (Node, TCP) as downloader of libtorrent, as both ends, and against Cascade. */
const WEBTORRENT_PAIRS = ['wt-wt', 'lt-wt', 'wt-cascade', 'cascade-wt'];
type Ev = { event?: string; [k: string]: any };

// ------------------------------------------------------------------------------------------------
// Options

function parseSize(s: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?$/i.exec(s.trim());
  if (!m) throw new Error(`${what}: cannot parse size "${s}" (use e.g. 64MiB, 1GiB, 256KiB)`);
  const unit = (m[2] ?? 'b').toLowerCase()[0]!;
  const mult = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  return Math.round(Number(m[1]) * mult);
}


/** --quick's limits, from issue 40's figures at 256 MiB (README: how they were set). */
const QUICK_MAX_CPU = 4.0;
const QUICK_MIN_RATIO = 0.6;

const { values: argv } = parseArgs({
  options: {
    size: { type: 'string', default: '1GiB' },
    'piece-length': { type: 'string', default: '1MiB' },
    version: { type: 'string', default: 'v1' },
    runs: { type: 'string', default: '3' },
    pairs: { type: 'string', default: 'lt-lt,lt-cascade,cascade-cascade,cascade-lt' },
    fanout: { type: 'boolean', default: false },
    'fanout-peers': { type: 'string', default: '4' },
    big: { type: 'string' },
    'big-pairs': { type: 'string', default: 'cascade-cascade' },
    warmup: { type: 'string', default: '1' },
    dir: { type: 'string' },
    timeout: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'lt-plaintext': { type: 'boolean', default: false },
    webtorrent: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    user: { type: 'boolean', default: false },
    'max-cpu': { type: 'string' },
    'min-ratio': { type: 'string' },
    link: { type: 'string' },
    window: { type: 'string', default: '20' },
    verbose: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  allowPositionals: false,
});

if (argv.help) {
  console.log(`usage: npm run bench:swarm -- [options]
  --size 1GiB               payload size (B/KiB/MiB/GiB)
  --piece-length 1MiB       piece length (power of two)
  --version v1              torrent kind: v1, v2 (BEP 52 merkle trees, SHA-256) or hybrid
  --runs 3                  runs per pair (pairs alternate run by run)
  --pairs lt-lt,lt-cascade,cascade-cascade,cascade-lt   seeder-downloader pairs ("none" = skip);
                            peers: lt (libtorrent), cascade, wt (WebTorrent on Node, TCP)
  --webtorrent              add the pairs ${WEBTORRENT_PAIRS.join(',')}
  --fanout                  also 1 seeder -> N downloaders (lt-lt and cascade-cascade), aggregate MB/s
  --fanout-peers 4          N for --fanout
  --big 8GiB                also one transfer of a sparse (all-zero) torrent of this size, for RSS
  --big-pairs cascade-cascade  pairs for --big
  --warmup 1                discarded warm-up transfers before measuring (of the first pair)
  --dir /tmp                where the temp dir (payload, downloads) goes
  --timeout S               per-transfer timeout (default 60 s + 10 MB/s of payload)
  --lt-plaintext            libtorrent dials without first trying an encrypted handshake
  --keep                    keep the temp dir
  --quick                   the speed guard (user-run.ts): 256 MiB, one run per pair, lt→lt, lt→cascade,
                            cascade→cascade, cascade→lt as users start them (cascade seed / cascade download,
                            defaults on, the chain included), the downloader's whole process timed; exits 1
                            when a Cascade downloader passes --max-cpu (default ${QUICK_MAX_CPU}) CPU-s/GiB or a pair
                            with Cascade at either end falls under --min-ratio (default ${QUICK_MIN_RATIO})× libtorrent
  --user                    the same as users start them, with --size, --runs, --version, --pairs
                            (lt-lt,lt-cascade,cascade-cascade,cascade-lt by default); no limits unless given
  --link "rtt=50ms,loss=1%,rate=100mbit"   (root) uTP only, through the link emulator (bench/link): each pair
                            alone, a bulk TCP flow alone, and the TCP flow beside the running uTP transfer;
                            prints how much of its rate TCP keeps beside libtorrent's LEDBAT and ours
                            (link-run.ts; pairs lt-lt,lt-cascade,cascade-cascade and 512MiB unless given;
                            keys: rtt|delay, jitter, loss, rate, queue)
  --window 20               --link: seconds TCP beside uTP is measured over (alone: at most 10)
  --verbose                 --link: each run's per-second rates of TCP and uTP once both run`);
  process.exit(0);
}

if (argv.link !== undefined) {
  const { linkRun } = await import('./link-run.ts');
  const { parseLinkSpec } = await import('../link/link.ts');
  const given = (name: string) => process.argv.some((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  process.exit(
    await linkRun({
      spec: parseLinkSpec(argv.link),
      specText: argv.link,
      pairs: (given('pairs') ? argv.pairs! : 'lt-lt,lt-cascade,cascade-cascade').split(',').map((s) => s.trim()),
      runs: Number(argv.runs),
      window: Number(argv.window),
      size: parseSize(given('size') ? argv.size! : '512MiB', '--size'),
      pieceLength: parseSize(argv['piece-length']!, '--piece-length'),
      dir: argv.dir ? resolve(argv.dir) : tmpdir(),
      keep: argv.keep!,
      outDir: OUT_DIR,
      verbose: argv.verbose!,
    }),
  );
}

if (argv.quick || argv.user) {
  const { userRun } = await import('./user-run.ts');
  const quick = argv.quick!;
  const given = (name: string) => process.argv.some((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  const code = await userRun({
    size: parseSize(quick && !given('size') ? '256MiB' : argv.size!, '--size'),
    pieceLength: parseSize(argv['piece-length']!, '--piece-length'),
    version: argv.version as 'v1' | 'v2' | 'hybrid',
    runs: quick && !given('runs') ? 1 : Number(argv.runs),
    pairs: (quick && !given('pairs') ? 'lt-lt,lt-cascade,cascade-cascade,cascade-lt' : argv.pairs!).split(',').map((s) => s.trim()),
    dir: argv.dir ? resolve(argv.dir) : tmpdir(),
    keep: argv.keep!,
    ...(argv['max-cpu'] || quick ? { maxCpuPerGiB: Number(argv['max-cpu'] ?? QUICK_MAX_CPU) } : {}),
    ...(argv['min-ratio'] || quick ? { minRatio: Number(argv['min-ratio'] ?? QUICK_MIN_RATIO) } : {}),
  });
  process.exit(code);
}

if (!['v1', 'v2', 'hybrid'].includes(argv.version!)) throw new Error(`--version: v1, v2 or hybrid, not "${argv.version}"`);

const opts = {
  size: parseSize(argv.size!, '--size'),
  pieceLength: parseSize(argv['piece-length']!, '--piece-length'),
  version: argv.version as 'v1' | 'v2' | 'hybrid',
  runs: Number(argv.runs),
  pairs: [
    ...new Set([
      ...(argv.pairs === 'none' || argv.pairs === '' ? [] : argv.pairs!.split(',').map((s) => s.trim())),
      ...(argv.webtorrent ? WEBTORRENT_PAIRS : []),
    ]),
  ],
  fanout: argv.fanout!,
  fanoutPeers: Number(argv['fanout-peers']),
  big: argv.big ? parseSize(argv.big, '--big') : undefined,
  bigPairs: argv['big-pairs']!.split(',').map((s) => s.trim()),
  warmup: Number(argv.warmup),
  dir: argv.dir ? resolve(argv.dir) : tmpdir(),
  timeout: argv.timeout ? Number(argv.timeout) : undefined,
  keep: argv.keep!,
  ltPlaintext: argv['lt-plaintext']!,
};

for (const p of [...opts.pairs, ...opts.bigPairs]) parsePair(p);
if (!Number.isInteger(opts.runs) || opts.runs < 1) throw new Error('--runs must be a positive integer');
if (!Number.isInteger(opts.fanoutPeers) || opts.fanoutPeers < 1) throw new Error('--fanout-peers must be a positive integer');

// ------------------------------------------------------------------------------------------------
// Peer processes (JSON lines on stdout)

const live = new Set<PeerProc>();

interface Peak {
  rssKB: number;
  anonKB: number;
  fileKB: number;
}

class PeerProc {
  readonly child: ChildProcess;
  readonly events: Ev[] = [];
  stderr = '';
  exited = false;
  exitCode: number | null = null;
  readonly exit: Promise<void>;
  /** Peaks of /proc/<pid>/status sampled every 200 ms (RssAnon vs RssFile: libtorrent mmaps its files). */
  readonly peak: Peak = { rssKB: 0, anonKB: 0, fileKB: 0 };
  private waiters: (() => void)[] = [];
  private sampler: NodeJS.Timeout;

  readonly name: string;
  readonly impl: Impl;

  constructor(name: string, impl: Impl, args: string[]) {
    this.name = name;
    this.impl = impl;
    // CASCADE_PEER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/p": Node flags for the Cascade peers (profiling).
    const nodeArgs = (process.env.CASCADE_PEER_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const [cmd, pre] =
      impl === 'cascade' ? [process.execPath, [...nodeArgs, CASCADE_PEER]] : impl === 'wt' ? [process.execPath, [WT_PEER]] : [PYTHON, [LT_PEER]];
    const extra = impl === 'lt' && opts.ltPlaintext ? ['--plaintext'] : [];
    this.child = spawn(cmd, [...pre, ...args, ...extra], { stdio: ['pipe', 'pipe', 'pipe'] });
    live.add(this);
    let buf = '';
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        try {
          this.events.push(JSON.parse(line));
        } catch {
          this.events.push({ event: 'text', line });
        }
      }
      this.wake();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.stderr = (this.stderr + d).slice(-20_000);
    });
    this.child.stdin!.on('error', () => {});
    this.exit = new Promise((res) =>
      this.child.on('exit', (code) => {
        this.exited = true;
        this.exitCode = code;
        clearInterval(this.sampler);
        live.delete(this);
        this.wake();
        res();
      }),
    );
    this.sampler = setInterval(() => this.sample(), 200);
  }

  private sample(): void {
    try {
      const s = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
      const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? 0);
      this.peak.rssKB = Math.max(this.peak.rssKB, kb('VmRSS'));
      this.peak.anonKB = Math.max(this.peak.anonKB, kb('RssAnon'));
      this.peak.fileKB = Math.max(this.peak.fileKB, kb('RssFile'));
    } catch {
      /* exited */
    }
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  find(event: string, from = 0): Ev | undefined {
    return this.events.slice(from).find((e) => e.event === event);
  }

  /** The first `event` at or after index `from`; rejects on an error event, exit or timeout. */
  async waitFor(event: string, timeoutMs: number, from = 0): Promise<Ev> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const e = this.find(event, from);
      if (e) return e;
      const err = this.find('error', from);
      if (err) throw new Error(`${this.name}: ${err.message}`);
      if (this.exited) throw new Error(`${this.name} exited (code ${this.exitCode}) before "${event}"`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no "${event}" within ${(timeoutMs / 1000).toFixed(1)} s`);
      await new Promise<void>((res) => {
        const t = setTimeout(res, Math.min(left, 1000));
        this.waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
  }

  send(line: string): void {
    if (!this.exited) this.child.stdin!.write(line + '\n');
  }

  /** Closes stdin (the peer prints its final usage and exits); SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.exited) this.child.stdin!.end();
    const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exit;
    clearTimeout(t);
  }

  describe(): string {
    const ev = this.events.slice(-6).map((e) => JSON.stringify(e)).join('\n      ');
    const err = this.stderr.trim().split('\n').slice(-8).join('\n      ');
    return `  ${this.name} (pid ${this.child.pid}, ${this.exited ? `exit ${this.exitCode}` : 'running'})\n      ${ev}${err ? `\n    stderr:\n      ${err}` : ''}`;
  }
}

function killAll(): void {
  for (const p of live) p.child.kill('SIGKILL');
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    killAll();
    if (tempRoot && !opts.keep) spawnSync('rm', ['-rf', tempRoot]);
    process.exit(130);
  });
}

let tempRoot: string | undefined;
let ltVersion = '?';

// ------------------------------------------------------------------------------------------------
// One transfer: 1 seeder → n downloaders

function procResult(p: PeerProc, cpu: number, done?: Ev): ProcResult {
  const fin = [...p.events].reverse().find((e) => e.event === 'usage' && e.final);
  return {
    impl: p.impl,
    cpu,
    cpuTotal: fin?.cpu ?? NaN,
    maxRss: fin ? fin.maxRss * 1024 : p.peak.rssKB * 1024,
    peakAnon: p.peak.anonKB * 1024,
    peakFile: p.peak.fileKB * 1024,
    seconds: done?.seconds,
    dialAttempts: done?.dialAttempts,
    flushSeconds: done?.flushSeconds,
    threads: done?.threads ?? fin?.threads,
    threadWaits: done?.threadWaits,
    series: done?.series,
  };
}

async function transfer(payload: Payload, pair: string, n: number, run: number): Promise<RunResult> {
  const { seed: seedImpl, dl: dlImpl } = parsePair(pair);
  const label = arrow(pair, n);
  const res: RunResult = { label, pair, downloaders: n, run, size: payload.size, load: +loadavg()[0]!.toFixed(2), ok: false };
  const timeoutMs = (opts.timeout ?? 60 + (payload.size * n) / (10 * MB)) * 1000;
  const checkMs = (60 + payload.size / (20 * MB)) * 1000;
  const procs: PeerProc[] = [];
  const dlDirs: string[] = [];
  try {
    const seeder = new PeerProc(`${seedImpl} seeder`, seedImpl, ['seed', payload.torrentPath, payload.dir]);
    procs.push(seeder);
    const seedPort = (await seeder.waitFor('listening', 30_000)).port;
    const ready = await seeder.waitFor('ready', checkMs);
    const addrs = [`127.0.0.1:${seedPort}`];
    const dls: PeerProc[] = [];
    for (let i = 0; i < n; i++) {
      const dir = await mkdtemp(join(tempRoot!, `dl-`));
      dlDirs.push(dir);
      // Downloader i knows the seeder and downloaders 0..i-1: one connection per pair of peers.
      const flags = n > 1 ? ['--wait', '--linger'] : ['--wait'];
      const d = new PeerProc(`${dlImpl} downloader${n > 1 ? ` ${i + 1}` : ''}`, dlImpl, ['download', payload.torrentPath, dir, ...addrs, ...flags]);
      procs.push(d);
      dls.push(d);
      addrs.push(`127.0.0.1:${(await d.waitFor('listening', 30_000)).port}`);
    }
    await Promise.all(dls.map((d) => d.waitFor('added', checkMs)));
    for (const d of dls) d.send('start');
    const dones = await Promise.all(dls.map((d) => d.waitFor('done', timeoutMs)));
    const mark = seeder.events.length;
    seeder.send('usage');
    const seedUsage = await seeder.waitFor('usage', 10_000, mark);
    await Promise.all(procs.map((p) => p.stop()));
    res.seconds = (Math.max(...dones.map((d) => d.t1)) - Math.min(...dones.map((d) => d.tDial))) / 1000;
    res.firstByte = median(dones.map((d) => (d.tFirst - d.tDial) / 1000));
    res.mbps = (n * payload.size) / MB / res.seconds;
    res.seeder = { ...procResult(seeder, seedUsage.cpu - ready.cpu), maxRssAtReady: ready.maxRss * 1024 };
    res.dl = dls.map((d, i) => procResult(d, dones[i]!.cpu, dones[i]));
    for (const [i, dir] of dlDirs.entries()) {
      const bad = await verify(join(dir, payload.file.split('/').pop()!), payload.file, payload.size, opts.pieceLength);
      if (bad) throw new Error(`downloaded data is wrong (downloader ${i + 1}): ${bad}`);
    }
    res.ok = true;
  } catch (err) {
    res.error = (err as Error).message;
    const diag = procs.map((p) => p.describe()).join('\n');
    res.error += `\n${diag}`;
    for (const p of procs) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exit));
  } finally {
    await Promise.all(dlDirs.map((d) => rm(d, { recursive: true, force: true })));
    // Nothing of this run's data left dirty for the next one to pay for.
    spawnSync('sync');
  }
  return res;
}

// ------------------------------------------------------------------------------------------------
// Main

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<number> {
  const started = new Date();
  await mkdir(opts.dir, { recursive: true });
  tempRoot = await mkdtemp(join(opts.dir, 'cascade-swarm-'));
  const cpu = cpus();
  const host = { cpus: cpu.length, cpuModel: cpu[0]?.model, memGB: +(totalmem() / 1e9).toFixed(1), kernel: release(), node: process.version };
  console.log(`swarm benchmark: ${host.cpus} × ${host.cpuModel}, ${host.memGB} GB RAM, Linux ${host.kernel}, Node ${host.node}`);
  console.log(`temp dir ${tempRoot}${opts.keep ? ' (kept)' : ''}`);
  const load = loadavg()[0]!;
  if (load > 0.5) {
    console.log(`WARNING: load average ${load.toFixed(1)} on ${host.cpus} CPUs before starting: other processes compete for the CPUs, results will be noisy`);
  }

  const results: RunResult[] = [];
  const bigResults: RunResult[] = [];
  let failures = 0;
  const log = (r: RunResult) => {
    console.log(runLine(r));
    if (!r.ok) failures++;
  };

  try {
    const schedule: { pair: string; n: number }[] = [
      ...opts.pairs.map((pair) => ({ pair, n: 1 })),
      ...(opts.fanout ? ['lt-lt', 'cascade-cascade'].map((pair) => ({ pair, n: opts.fanoutPeers })) : []),
    ];
    if (schedule.length > 0) {
      const payload = await makePayload(join(tempRoot, 'seed'), 'payload.bin', opts.size, false, opts);
      ltVersion = payload.ltVersion;
      console.log(`libtorrent ${ltVersion}; ${schedule.map((s) => arrow(s.pair, s.n)).join(', ')}; ${opts.runs} run(s) each, alternating\n`);
      for (let w = 0; w < opts.warmup; w++) {
        const r = await transfer(payload, schedule[0]!.pair, schedule[0]!.n, 0);
        log(r);
        await sleep(1000);
      }
      for (let run = 1; run <= opts.runs; run++) {
        for (const s of schedule) {
          const r = await transfer(payload, s.pair, s.n, run);
          results.push(r);
          log(r);
          await sleep(1000);
        }
      }
      await rm(payload.dir, { recursive: true, force: true });
    }

    if (opts.big !== undefined) {
      console.log('');
      const payload = await makePayload(join(tempRoot, 'big'), 'big.bin', opts.big, true, opts);
      for (const pair of opts.bigPairs) {
        const r = await transfer(payload, pair, 1, 1);
        r.label = `${arrow(pair, 1)} ${fmtSize(opts.big)}`;
        bigResults.push(r);
        log(r);
        await sleep(1000);
      }
      await rm(payload.dir, { recursive: true, force: true });
    }
  } finally {
    if (!opts.keep) await rm(tempRoot, { recursive: true, force: true });
  }

  const summary = summarize(results, opts.size);
  const bigSummary = summarize(bigResults, opts.big ?? 1);
  if (summary.length > 0) {
    console.log(`\n${fmtSize(opts.size)}, ${fmtSize(opts.pieceLength)} pieces, ${opts.runs} run(s); MB = 10^6 bytes; CPU-s = user+sys during the transfer;`);
    console.log('RSS = peak (getrusage maxrss); (anon) = peak sampled RssAnon, without file pages libtorrent mmaps;');
    console.log(`cores busy = all peers' CPU-s / transfer seconds (of ${cpus().length})\n`);
    console.log(table(summary));
  }
  if (bigSummary.length > 0) {
    console.log(`\nbig: ${fmtSize(opts.big!)} sparse torrent, ${fmtSize(opts.pieceLength)} pieces, one run\n`);
    console.log(table(bigSummary));
  }
  const tgs = targets(summary, [...results, ...bigResults]);
  console.log('');
  for (const t of tgs) console.log(`${t.status}  ${t.name}: ${t.detail}`);
  const vsWt = versusWebTorrent(summary);
  if (vsWt.length > 0) console.log(`\nCascade / WebTorrent (same other end): ${vsWt.join('; ')}`);

  await mkdir(OUT_DIR, { recursive: true });
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  const outFile = join(OUT_DIR, `swarm-${stamp}.json`);
  const json = {
    date: started.toISOString(),
    host: { ...host, libtorrent: ltVersion },
    options: { ...opts, size: opts.size, sizeText: fmtSize(opts.size), pieceLengthText: fmtSize(opts.pieceLength) },
    summary,
    big: bigSummary,
    targets: tgs,
    runs: results,
    bigRuns: bigResults,
  };
  await writeFile(outFile, JSON.stringify(json, null, 2) + '\n');
  console.log(`\nwrote ${outFile}`);
  if (failures > 0) console.log(`${failures} transfer(s) FAILED (see above)`);
  return failures > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(2);
  },
);
