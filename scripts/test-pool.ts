// How `npm test` runs its files: each in its own `node --test` process, as many at once as the
// machine's cores can carry. A full run needs ~2,200 CPU-s, but most files spend most of their wall
// time waiting (a lease, a chain's block, a peer, a browser): cluster-partition takes 155 s of wall
// for 20 CPU-s, a11y.browser 112 s for 43. A fixed number of files at a time either leaves the cores
// idle while three waiters sleep, or saturates them when three heavy files meet (and the tests that
// judge time fail). So each file is admitted by what it costs: its CPU over its wall time in the last
// full run (scripts/test-durations.tsv, or this machine's .cache/test-durations.tsv), and the files
// running at once may use at most `cpuBudget` cores between them (always at least `minRunning` files,
// never more than `maxRunning`, nor more than `maxBrowsers` Chromium files). The longest files start
// first, as before: a long file started last would run alone at the end.
//
// Each file's output is printed whole when it ends, so two files' lines never interleave.
//
// Each file runs in a cgroup of its own where the machine allows it (cgroup v2, writable: root here),
// so its CPU figure is that of every process it started: the `cascade` nodes it kills without
// waiting for them, Chromium's renderers, the real clients. The file's own /proc figure (own + the
// children it waited for) left those out, so the suite's CPU as counted was less than it cost.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, join, relative } from 'node:path';

export interface FileCost { wallMs: number; cpuMs: number }

export interface PoolOptions {
  /** The command that runs one file (its TAP output goes to `tap`). */
  command(file: string, tap: string): string[];
  /** Where each file's TAP goes. */
  tapDir: string;
  costs: Map<string, FileCost>;
  cpuBudget: number;
  minRunning: number;
  maxRunning: number;
  maxBrowsers: number;
  env: NodeJS.ProcessEnv;
  /** Also count what the machine is really doing (/proc/stat, every 2 s): on a machine that is busy
   *  with something else, or when the figures are stale, fewer files start. */
  measureLoad?: boolean;
  /** Where each file's output goes when it ends (default: this process's stdout). */
  print?: (text: string | Buffer) => void;
  /** Where each file's cgroup is made (default: cpuGroups(), undefined where cgroups cannot be made). */
  groups?: CpuGroups;
  /** A file still running after this long is killed, every process it started with it, and fails
   *  (default: none). Its test processes are first asked what holds them (scripts/test-watchdog.ts). */
  fileLimitMs?: number;
}

/** cpuMs: the CPU of every process the file started, from its cgroup (undefined without one);
 *  left: how many of them still ran when the file's process ended. */
export interface FileResult { file: string; status: number; tap: string; wallMs: number; startedAt: number; cpuMs?: number; left?: number }

/** What an unknown file (new since the durations were taken) is assumed to cost. */
const UNKNOWN: FileCost = { wallMs: 20_000, cpuMs: 12_000 };
/** A file that drives Chromium (it runs in the loopback-only namespace, and few at once). */
export const isBrowserFile = (f: string): boolean => f.endsWith('.browser.test.ts');

/** The share of a core a file uses on average (capped: no file is charged more than the budget). */
export function coresOf(cost: FileCost): number {
  return cost.wallMs > 0 ? Math.min(2, Math.max(0.05, cost.cpuMs / cost.wallMs)) : 0.5;
}

/** Runs every file; resolves with each one's result, in the order they ended. */
export function runPool(files: string[], o: PoolOptions): Promise<FileResult[]> {
  const cost = (f: string) => o.costs.get(relative(process.cwd(), f)) ?? UNKNOWN;
  const todo = [...files].sort((a, b) => cost(b).wallMs - cost(a).wallMs);
  const running = new Map<string, number>(); // file → cores
  const results: FileResult[] = [];
  let n = 0;
  // When the longest file left has waited this long for room, nothing else starts until it fits:
  // light files admitted one after another could otherwise keep a heavy one waiting to the end.
  const HEAD_WAIT_MS = 15_000;
  let headWaiting: { file: string; since: number } | null = null;
  const meter = o.measureLoad ? cpuMeter() : undefined;
  const groups = 'groups' in o ? o.groups : cpuGroups();
  return new Promise((resolve) => {
    // The load is what the figures say the running files use, or what the machine measures, whichever is more.
    const load = () => Math.max([...running.values()].reduce((s, c) => s + c, 0), meter?.busyCores() ?? 0);
    const browsers = () => [...running.keys()].filter(isBrowserFile).length;
    const fill = () => {
      // Measuring, files beyond the first few start one at a time, each after the meter has seen the
      // last one start (a file's start is its busiest moment: nodes, browsers, clients spawning).
      let started = 0;
      for (let i = 0; i < todo.length && running.size < o.maxRunning; ) {
        const file = todo[i]!;
        const cores = coresOf(cost(file));
        const below = running.size < o.minRunning;
        if (!below && meter && (started > 0 || meter.overloaded())) break;
        const fits = below || load() + cores <= o.cpuBudget;
        if (!fits || (isBrowserFile(file) && browsers() >= o.maxBrowsers)) {
          if (i === 0 && fits === false) {
            if (headWaiting?.file !== file) headWaiting = { file, since: Date.now() };
            else if (Date.now() - headWaiting.since > HEAD_WAIT_MS) break;
          }
          i++;
          continue;
        }
        if (i === 0) headWaiting = null;
        todo.splice(i, 1);
        running.set(file, cores);
        start(file);
        started++;
      }
      if (running.size === 0 && todo.length === 0) {
        clearInterval(tick);
        groups?.close();
        resolve(results);
      }
    };
    // Room may come from the machine growing quieter as well as from a file ending.
    const tick = setInterval(() => {
      meter?.sample();
      fill();
    }, 2000);
    const start = (file: string) => {
      const tap = join(o.tapDir, `${String(++n).padStart(3, '0')}-${basename(file)}.tap`);
      const group = groups?.make(n);
      const [cmd, ...args] = group ? group.wrap(o.command(file, tap)) : o.command(file, tap);
      const started = Date.now();
      const out: Buffer[] = [];
      const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'], env: o.env });
      child.stdout.on('data', (c: Buffer) => out.push(c));
      child.stderr.on('data', (c: Buffer) => out.push(c));
      // A file whose loop still turns but which never ends (an after hook waiting on a server that
      // will not close) is past every test timeout and the watchdog: without this, CI's limit ends
      // the whole run and nothing of it is reported.
      const limit = o.fileLimitMs === undefined ? undefined : setTimeout(() => {
        out.push(Buffer.from(`\n${relative(process.cwd(), file)}: still running after ${Math.round(o.fileLimitMs! / 1000)} s: killing it and every process it started\n`));
        const tree = descendants(child.pid!);
        // The file's own process: `node --test`'s child running it (the runner itself would die of it).
        const own = tree.filter((pid) => readCmdline(pid).includes(file));
        for (const pid of own.length > 0 ? own : [child.pid!]) signal(pid, 'SIGUSR2');
        setTimeout(() => {
          group?.kill();
          for (const pid of [child.pid!, ...descendants(child.pid!), ...tree]) signal(pid, 'SIGKILL');
        }, 2000);
      }, o.fileLimitMs);
      const done = (status: number) => {
        clearTimeout(limit);
        const wallMs = Date.now() - started;
        const spent = group?.end();
        const print = o.print ?? ((text: string | Buffer) => void process.stdout.write(text));
        const cpu = spent ? `, ${(spent.cpuMs / 1000).toFixed(1)} CPU-s${spent.left > 0 ? `, left ${spent.left} process(es) running` : ''}` : '';
        print(`\n▶ ${relative(process.cwd(), file)} (${(wallMs / 1000).toFixed(1)} s${cpu}${status === 0 ? '' : `, exit ${status}`})\n`);
        print(Buffer.concat(out));
        results.push({ file, status, tap, wallMs, startedAt: started, ...(spent ? { cpuMs: spent.cpuMs, left: spent.left } : {}) });
        running.delete(file);
        fill();
      };
      child.on('error', (err) => {
        out.push(Buffer.from(`${cmd}: ${err.message}\n`));
        done(1);
      });
      child.on('close', (code) => done(code ?? 1));
    };
    fill();
  });
}

export interface CpuGroups {
  /** A fresh cgroup for the nth file. */
  make(n: number): {
    /** The command, started inside the cgroup (a shell puts itself in it, then execs the command). */
    wrap(argv: string[]): string[];
    /** The CPU its processes used, and how many still run (moved out, so the cgroup can go). */
    end(): { cpuMs: number; left: number } | undefined;
    /** Kills every process in it (cgroup.kill), those that left their parent too. */
    kill(): void;
  };
  /** Removes the run's cgroup (once every file has ended). */
  close(): void;
}

let runs = 0;

/** One cgroup v2 per file under this process's own, or undefined where none can be made (no cgroup2
 *  mount, not writable: then the figures are the file's own /proc ones, children it waited for only). */
export function cpuGroups(): CpuGroups | undefined {
  let base: string;
  try {
    const mount = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' '))
      .find((f) => f[f.indexOf('-') + 1] === 'cgroup2')?.[4];
    const own = /^0::(\/.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'))?.[1];
    if (!mount || own === undefined) return undefined;
    base = join(mount, own, `cascade-test-${process.pid}-${++runs}`);
    mkdirSync(base);
  } catch {
    return undefined;
  }
  const parent = join(base, '..');
  const remove = (dir: string) => {
    try {
      rmdirSync(dir);
    } catch {
      // Busy (a process still in it, or the kernel not done with the last one): left behind, empty soon.
    }
  };
  return {
    make(n) {
      const dir = join(base, String(n));
      try {
        mkdirSync(dir);
      } catch {
        return { wrap: (argv) => argv, end: () => undefined, kill: () => {} };
      }
      return {
        // Should the shell fail to enter it, the file runs all the same, and its cgroup's figure (none:
        // no process ever ran in it) gives way to the file's own.
        wrap: (argv) => ['/bin/sh', '-c', 'echo $$ 2>/dev/null > "$0/cgroup.procs"; exec "$@"', dir, ...argv],
        end() {
          try {
            const usec = Number(/^usage_usec (\d+)$/m.exec(readFileSync(join(dir, 'cpu.stat'), 'utf8'))?.[1]);
            const pids = readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter((l) => l !== '');
            // What a file left running is its own business (and counted up to here); it leaves the
            // cgroup so the cgroup can be removed.
            for (const pid of pids) {
              try {
                writeFileSync(join(parent, 'cgroup.procs'), pid);
              } catch {
                // Gone meanwhile.
              }
            }
            remove(dir);
            return Number.isFinite(usec) && usec > 0 ? { cpuMs: Math.round(usec / 1000), left: pids.length } : undefined;
          } catch {
            return undefined;
          }
        },
        kill() {
          try {
            writeFileSync(join(dir, 'cgroup.kill'), '1');
          } catch {
            // A kernel before 5.14 has no cgroup.kill: the process tree is killed by its parents' links.
          }
        },
      };
    },
    close: () => remove(base),
  };
}

/** Every process below `pid`, from /proc's parent links (children before their own children). */
export function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  try {
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        parentOf.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      } catch {
        // Gone meanwhile.
      }
    }
  } catch {
    return [];
  }
  const out: number[] = [];
  for (let i = -1; i < out.length; i++) {
    const parent = i < 0 ? pid : out[i]!;
    for (const [p, pp] of parentOf) if (pp === parent) out.push(p);
  }
  return out;
}

function readCmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Gone already.
  }
}

/** Busy cores of the whole machine, from /proc/stat between samples (smoothed); undefined where there is none. */
export function cpuMeter(): { sample(): void; busyCores(): number | undefined; overloaded(): boolean } {
  const cores = availableParallelism();
  const read = (): [number, number, number] | undefined => {
    try {
      const stat = readFileSync('/proc/stat', 'utf8');
      const f = stat.split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
      const total = f.reduce((a, b) => a + b, 0);
      const runnable = Number(/^procs_running (\d+)$/m.exec(stat)?.[1] ?? 0);
      return [total, f[3]! + (f[4] ?? 0), runnable]; // idle + iowait; threads runnable now (this one too)
    } catch {
      return undefined;
    }
  };
  let last = read();
  let busy: number | undefined;
  let runnable: number | undefined;
  return {
    sample() {
      const now = read();
      if (!now || !last || now[0] === last[0]) return;
      const b = cores * (1 - (now[1] - last[1]) / (now[0] - last[0]));
      busy = busy === undefined ? b : busy * 0.5 + b * 0.5;
      runnable = runnable === undefined ? now[2] : runnable * 0.7 + now[2] * 0.3;
      last = now;
    },
    busyCores: () => busy,
    // Busy cores stop at the number of cores; the threads waiting for one say by how much the
    // machine is over it. Until a first sample, nothing is known: over, to be safe.
    overloaded: () => runnable === undefined || runnable > cores + 1,
  };
}

/** The wall and CPU per file of the last full run(s): the committed figures, then this machine's. */
export function readCosts(paths: string[]): Map<string, FileCost> {
  const costs = new Map<string, FileCost>();
  for (const path of paths) {
    if (!existsSync(path)) continue;
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const [ms, file, cpu] = line.split('\t');
      if (!file) continue;
      const wallMs = Number(ms);
      // A figure without CPU (a file written before CPU was kept) keeps the share of a core the
      // figures before it gave, else half a core.
      const before = costs.get(file);
      const share = before && before.wallMs > 0 ? before.cpuMs / before.wallMs : 0.5;
      costs.set(file, { wallMs, cpuMs: cpu !== undefined && cpu !== '' ? Number(cpu) : wallMs * share });
    }
  }
  return costs;
}

/** The counts a file's TAP ends with (`# tests 12`, `# pass 12`, …), summed over files. */
export function tapCounts(taps: string[]): Record<string, number> {
  const sum: Record<string, number> = { tests: 0, suites: 0, pass: 0, fail: 0, cancelled: 0, skipped: 0, todo: 0 };
  for (const tap of taps) {
    if (!existsSync(tap)) continue;
    for (const line of readFileSync(tap, 'utf8').split('\n')) {
      const m = /^# (tests|suites|pass|fail|cancelled|skipped|todo) (\d+)$/.exec(line);
      if (m) sum[m[1]!] = (sum[m[1]!] ?? 0) + Number(m[2]);
    }
  }
  return sum;
}

/** How full the pool kept the machine: files running at once (time-weighted mean, and the time with
 *  fewer than two), from each file's start and wall time. */
export function occupancy(results: FileResult[]): { meanFiles: number; underTwoMs: number; spanMs: number } {
  const edges = results.flatMap((r) => [[r.startedAt, 1], [r.startedAt + r.wallMs, -1]] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let running = 0, area = 0, underTwoMs = 0;
  for (let i = 0; i < edges.length; i++) {
    running += edges[i]![1];
    const next = edges[i + 1]?.[0];
    if (next === undefined) break;
    area += running * (next - edges[i]![0]);
    if (running < 2) underTwoMs += next - edges[i]![0];
  }
  const spanMs = edges.length > 0 ? edges.at(-1)![0] - edges[0]![0] : 0;
  return { meanFiles: spanMs > 0 ? area / spanMs : 0, underTwoMs, spanMs };
}
