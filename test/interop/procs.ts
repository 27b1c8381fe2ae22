// The interop harness's processes: children that print JSON lines on stdout, waited on by event,
// killed when their test ends (`track`) or when this process exits.

import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import type { TestContext } from 'node:test';

/** The repository's root: where children run unless told. */
export const REPO_ROOT = resolve(import.meta.dirname, '../..');

export type JsonEvent = { event?: string; [k: string]: unknown };

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface JsonProc {
  name: string;
  child: ChildProcess;
  pid: number;
  /** Every JSON object printed on stdout so far, in order. */
  events: JsonEvent[];
  /** Non-JSON stdout lines (kept for diagnostics). */
  otherLines: string[];
  stderr: string;
  exit: ExitInfo | undefined;
  exited: Promise<ExitInfo>;
}

const live = new Set<JsonProc>();

function tail(s: string, n = 3000): string {
  return s.length > n ? '…' + s.slice(-n) : s;
}

/** A one-paragraph dump of a process for assertion messages. */
export function describeProc(p: JsonProc): string {
  const ev = p.events.slice(-15).map((e) => JSON.stringify(e)).join('\n    ');
  return (
    `[${p.name} pid ${p.pid}] exit=${p.exit ? `${p.exit.code}/${p.exit.signal}` : 'running'}\n` +
    `  last events:\n    ${ev || '(none)'}\n` +
    (p.otherLines.length ? `  other stdout:\n    ${p.otherLines.slice(-10).join('\n    ')}\n` : '') +
    `  stderr:\n${tail(p.stderr)
      .split('\n')
      .map((l) => '    ' + l)
      .join('\n')}`
  );
}

export interface SpawnOpts {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Called for every JSON event as it arrives. */
  onEvent?: (e: JsonEvent) => void;
}

export function spawnJson(name: string, cmd: string, args: string[], opts: SpawnOpts = {}): JsonProc {
  // stdin stays a pipe: lt.py seeders exit when their stdin closes, so they die with us.
  const child = spawn(cmd, args, {
    cwd: opts.cwd ?? REPO_ROOT,
    env: opts.env ?? process.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let resolveExit!: (e: ExitInfo) => void;
  const proc: JsonProc = {
    name,
    child,
    pid: child.pid ?? -1,
    events: [],
    otherLines: [],
    stderr: '',
    exit: undefined,
    exited: new Promise<ExitInfo>((r) => (resolveExit = r)),
  };
  live.add(proc);
  child.stdin!.on('error', () => {});
  let buf = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (!line) continue;
      let obj: unknown;
      try {
        obj = JSON.parse(line);
      } catch {
        proc.otherLines.push(line);
        continue;
      }
      if (obj && typeof obj === 'object' && !Array.isArray(obj)) {
        proc.events.push(obj as JsonEvent);
        opts.onEvent?.(obj as JsonEvent);
        child.emit('json', obj);
      } else {
        proc.otherLines.push(line);
      }
    }
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    proc.stderr += chunk;
    if (proc.stderr.length > 200_000) proc.stderr = proc.stderr.slice(-100_000);
  });
  child.on('error', (err) => {
    proc.stderr += `\n[spawn error] ${err.message}\n`;
  });
  child.on('close', (code, signal) => {
    proc.exit = { code, signal };
    live.delete(proc);
    child.emit('exit-info');
    resolveExit(proc.exit);
  });
  if (process.env.INTEROP_DEBUG) {
    child.stdout!.on('data', (c: string) => process.stderr.write(`[${name}] ${c}`));
    child.stderr!.on('data', (c: string) => process.stderr.write(`[${name} err] ${c}`));
  }
  return proc;
}

export interface WaitOpts {
  timeoutMs?: number;
  /** Extra condition on the event. */
  match?: (e: JsonEvent) => boolean;
  /** Reject if the process prints {"event":"error"} first. Default true. */
  failOnError?: boolean;
}

/**
 * Resolves with the first event named `name` (already received or future) that satisfies
 * `opts.match`. Rejects, with the process's output, on timeout, on exit, or on an error event.
 */
export function waitForEvent(proc: JsonProc, name: string, opts: WaitOpts = {}): Promise<JsonEvent> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const failOnError = opts.failOnError ?? name !== 'error';
  const ok = (e: JsonEvent) => e.event === name && (!opts.match || opts.match(e));
  const bad = (e: JsonEvent) => failOnError && e.event === 'error';
  for (const e of proc.events) {
    if (ok(e)) return Promise.resolve(e);
    if (bad(e)) return Promise.reject(new Error(`${proc.name} reported an error before "${name}":\n${describeProc(proc)}`));
  }
  if (proc.exit) {
    return Promise.reject(new Error(`${proc.name} exited before "${name}":\n${describeProc(proc)}`));
  }
  return new Promise((resolvePromise, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      proc.child.off('json', onJson);
      proc.child.off('exit-info', onExit);
    };
    const onJson = (e: JsonEvent) => {
      if (ok(e)) {
        cleanup();
        resolvePromise(e);
      } else if (bad(e)) {
        cleanup();
        reject(new Error(`${proc.name} reported an error before "${name}":\n${describeProc(proc)}`));
      }
    };
    const onExit = () => {
      cleanup();
      reject(new Error(`${proc.name} exited before "${name}":\n${describeProc(proc)}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for "${name}" from ${proc.name}:\n${describeProc(proc)}`));
    }, timeoutMs);
    proc.child.on('json', onJson);
    proc.child.on('exit-info', onExit);
  });
}

/** Waits for the process to exit; kills it (SIGKILL) and rejects after `timeoutMs`. */
export async function waitForExit(proc: JsonProc, timeoutMs: number): Promise<ExitInfo> {
  if (proc.exit) return proc.exit;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      kill(proc, 'SIGKILL');
      reject(new Error(`${proc.name} did not exit within ${timeoutMs} ms (killed):\n${describeProc(proc)}`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([proc.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function kill(proc: JsonProc, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (proc.exit) return;
  try {
    proc.child.kill(signal);
  } catch {
    /* already gone */
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stop(proc: JsonProc, graceMs = 2000): Promise<void> {
  if (proc.exit) return;
  kill(proc, 'SIGTERM');
  const t = setTimeout(() => kill(proc, 'SIGKILL'), graceMs);
  await proc.exited;
  clearTimeout(t);
}

/** The test each tracked process belongs to. */
const ownerOf = new WeakMap<JsonProc, TestContext>();

/** Kills every process this module spawned that is still running; given a test, only those it
 *  tracked and those no test tracked, so tests running side by side leave each other's alone. */
export async function killAll(t?: TestContext): Promise<void> {
  const procs = [...live].filter((p) => t === undefined || ownerOf.get(p) === undefined || ownerOf.get(p) === t);
  for (const p of procs) kill(p, 'SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
}

/** Kill `proc` when the test finishes (pass or fail). */
export function track<T extends JsonProc>(t: TestContext, proc: T): T {
  ownerOf.set(proc, t);
  t.after(() => stop(proc, 1000));
  return proc;
}

process.on('exit', () => {
  for (const p of live) {
    try {
      p.child.kill('SIGKILL');
    } catch {
      /* ignore */
    }
  }
});
