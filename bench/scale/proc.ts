// What the benchmark reads of a process from /proc (RSS, CPU time), and small helpers shared by the
// Cascade and Transmission sides: free ports, medians, timing, waiting for a process to exit.

import { execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Resident set size now (VmRSS) and its peak so far (VmHWM), in bytes. */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

/** utime + stime of the process (not its children), in seconds. */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

export interface CpuWindow {
  /** Share of one core over the window, in percent. */
  percent: number;
  seconds: number;
  /** /proc/loadavg (1, 5, 15 min) at the window's end: the machine is shared. */
  load: string;
}

/** The process's CPU use over `seconds` of wall time. */
export async function cpuOver(pid: number, seconds: number): Promise<CpuWindow> {
  const c0 = cpuSecondsOf(pid);
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const c1 = cpuSecondsOf(pid);
  const wall = (performance.now() - t0) / 1000;
  return { percent: ((c1 - c0) / wall) * 100, seconds: wall, load: loadAverage() };
}

/** A TCP port free on 127.0.0.1 right now (for programs that cannot be told to take port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Milliseconds `fn` takes. */
export async function timeMs<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

/** Every process the benchmark started and that still runs: stopped on Ctrl-C (run.ts). */
export const children = new Set<ChildProcess>();

export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Resolves with the exit code once the child has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** SIGTERM, and SIGKILL if it is still there after `graceMs` (90 s: systemd's default stop timeout);
 *  the seconds it took and whether it had to be killed (then its state may not have been saved). */
export async function stopProcess(child: ChildProcess, graceMs = 90_000): Promise<{ seconds: number; killed: boolean }> {
  const t0 = performance.now();
  const done = exited(child);
  let killed = false;
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, graceMs);
  await done;
  clearTimeout(timer);
  return { seconds: (performance.now() - t0) / 1000, killed };
}

/** Runs `work(i)` for i in 0..n-1 with `concurrency` in flight; resolves with each one's finish time (ms, performance.now). */
export async function pool(n: number, concurrency: number, work: (i: number) => Promise<void>): Promise<number[]> {
  const finished = new Array<number>(n);
  let next = 0;
  let order = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      await work(i);
      finished[order++] = performance.now();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return finished;
}

/** Adds per second, overall and per block in the order they finished: blocks of 1,000 (of a tenth
 *  of the run below 2,000 torrents), so a slowdown as the library grows shows. */
export const blockOf = (n: number) => (n >= 2000 ? 1000 : Math.max(1, Math.ceil(n / 10)));

export function addRates(startMs: number, finished: number[]): { overall: number; block: number; perBlock: number[] } {
  const block = blockOf(finished.length);
  const perBlock: number[] = [];
  let prev = startMs;
  for (let end = block; end <= finished.length; end += block) {
    const t = finished[end - 1]!;
    perBlock.push(block / ((t - prev) / 1000));
    prev = t;
  }
  const total = (finished[finished.length - 1]! - startMs) / 1000;
  return { overall: finished.length / total, block, perBlock };
}
