// A local dev chain: the anvil binary that ships in @foundry-rs/anvil's platform package, on
// 127.0.0.1 with an OS-assigned port. `statePath` keeps the chain across restarts (anvil's
// --state: loaded at start, written on exit and every `stateInterval` seconds).
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setPriority } from 'node:os';
import { checkStateFile, refreshGoodCopy, type StateCheck } from './state-file.ts';

const require = createRequire(import.meta.url);
const SETPRIV = '/usr/bin/setpriv';

/** Path of the anvil binary for this platform, or undefined when its package is not installed. */
export function anvilBinary(): string | undefined {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  try {
    const pkg = require.resolve(`@foundry-rs/anvil-${process.platform}-${arch}/package.json`);
    const bin = join(dirname(pkg), 'bin', 'anvil');
    return existsSync(bin) ? bin : undefined;
  } catch {
    return undefined;
  }
}

export interface AnvilOptions {
  chainId?: number;
  /** File the chain state is loaded from and saved to (omitted: in memory only). */
  statePath?: string;
  /** Seconds between state saves (default 30). */
  stateInterval?: number;
  host?: string;
  port?: number;
  /** Funded, unlocked dev accounts (default 2: the deployer and one spare). */
  accounts?: number;
  /** Scheduling niceness for the anvil process (0-19; higher yields the CPU to others). */
  nice?: number;
  /** How often the state file's good copy is refreshed while anvil runs (ms; default 5 minutes). */
  goodCopyEveryMs?: number;
}

export interface RunningAnvil {
  rpcUrl: string;
  chainId: number;
  process: ChildProcess;
  /** What the start found of the state file (state-file.ts): empty when it was whole or absent. */
  stateCheck: StateCheck;
  stop(): Promise<void>;
}

export async function startAnvil(opts: AnvilOptions = {}): Promise<RunningAnvil> {
  const bin = anvilBinary();
  if (!bin) throw new Error('the embedded chain needs @foundry-rs/anvil (npm install): its binary was not found');
  const chainId = opts.chainId ?? 31337;
  const host = opts.host ?? '127.0.0.1';
  const args = ['--host', host, '--port', String(opts.port ?? 0), '--chain-id', String(chainId), '--accounts', String(opts.accounts ?? 2)];
  if (opts.statePath) args.push('--state', opts.statePath, '--state-interval', String(opts.stateInterval ?? 30));
  // The anvil of a node killed a moment ago may still be writing its state on its way out.
  if (opts.statePath) await previousGone(opts.statePath);
  // A state file cut short (anvil writes it in place) would stop anvil from starting at all.
  const stateCheck = opts.statePath ? checkStateFile(opts.statePath) : {};
  // The chain dies with the node that owns it, even when the node is killed outright (SIGKILL, a
  // crash): util-linux's setpriv asks the kernel for SIGTERM when our process goes.
  const child = existsSync(SETPRIV) ? spawn(SETPRIV, ['--pdeathsig', 'TERM', '--', bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }) : spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // Niced: the embedded chain starts when a Cascade peer shows up, i.e. during a transfer, and its
  // start-up (and every block) should take the CPU the transfer leaves, not share it (issue 40).
  if (opts.nice !== undefined && child.pid !== undefined) {
    try {
      setPriority(child.pid, opts.nice);
    } catch {
      // not permitted here: it runs at our priority
    }
  }
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const onData = (b: Buffer) => {
      output += b.toString();
      const m = /Listening on [^\s:]+:(\d+)/.exec(output);
      if (m) {
        child.stdout!.off('data', onData);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (b: Buffer) => (output += b.toString()));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`anvil exited (${code}) before listening: ${output.slice(-500)}`)));
  });
  // Keep reading so a chatty anvil never blocks on a full pipe.
  child.stdout!.resume();
  const statePath = opts.statePath;
  if (statePath && child.pid !== undefined) writeFileSync(`${statePath}.pid`, `${child.pid}\n`);
  const copying = statePath ? setInterval(() => refreshGoodCopy(statePath), opts.goodCopyEveryMs ?? 5 * 60_000) : undefined;
  copying?.unref();
  child.once('exit', () => clearInterval(copying));
  return {
    rpcUrl: `http://${host}:${port}`,
    chainId,
    process: child,
    stateCheck,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        // SIGTERM: anvil writes its --state file on the way out.
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }),
  };
}

/**
 * Waits for the anvil a previous node ran on `statePath` to be gone. A node killed outright sends its
 * anvil SIGTERM (setpriv's pdeathsig), and anvil then writes its state file, in place: a node started
 * again at once would have its own anvil read that file half written (state-file.ts then takes the
 * older good copy, losing what the chain did since) or have the old one overwrite the new one's.
 * Known by its pid file and its command line (which names the state file): a pid reused by another
 * process is not waited for. After 10 s it is killed.
 */
async function previousGone(statePath: string): Promise<void> {
  let pid: number;
  try {
    pid = Number(readFileSync(`${statePath}.pid`, 'utf8').trim());
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return;
  const running = () => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(statePath);
    } catch {
      return false; // gone (or no /proc: nothing to wait for here)
    }
  };
  const sleep = () => new Promise((r) => setTimeout(r, 50));
  const deadline = Date.now() + 10_000;
  while (running() && Date.now() < deadline) await sleep();
  if (!running()) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone meanwhile, or not ours to kill: start anyway
  }
  for (let i = 0; i < 20 && running(); i++) await sleep();
}
