// Benchmarks run as root re-run themselves inside a network namespace with only `lo` up
// (shared/browser-webrtc.md), so nothing they start can reach beyond 127.0.0.1.

import { spawn, spawnSync } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';

/**
 * As root, outside a namespace: runs this script (`script`, with the same Node flags and arguments)
 * again inside a fresh loopback-only namespace, removes the namespace and exits with the inner
 * run's status; never returns then. Otherwise (not root, already inside, or the namespace cannot be
 * made: `fallback` is printed) it returns and the caller runs in place.
 */
export async function rerunInLoopbackNamespace(opts: { envVar: string; prefix: string; script: string; fallback: string }): Promise<void> {
  if (process.env[opts.envVar] !== undefined || process.getuid?.() !== 0) return;
  const ns = `${opts.prefix}-${process.pid}`;
  if (spawnSync('ip', ['netns', 'add', ns], { stdio: 'inherit' }).status !== 0) {
    console.error(opts.fallback);
    return;
  }
  let status = 1;
  try {
    spawnSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up'], { stdio: 'inherit' });
    // `ip netns exec` execs the command: signals sent to this process go on to the run inside,
    // which stops what it started; this one waits for it and removes the namespace.
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, ...process.execArgv, opts.script, ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, [opts.envVar]: ns },
    });
    const forward = (sig: NodeJS.Signals) => child.kill(sig);
    process.on('SIGINT', forward).on('SIGTERM', forward);
    status = await new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 130 : 1))));
  } finally {
    spawnSync('ip', ['netns', 'del', ns], { stdio: 'inherit' });
  }
  process.exit(status);
}

/** Inside (or instead of) the namespace: exits 2 when interfaces besides `lo` are up, since
 *  Chromium must not reach past loopback (shared/browser-webrtc.md). */
export function refuseOutsideLoopback(): void {
  const outside = Object.keys(networkInterfaces()).filter((i) => i !== 'lo');
  if (outside.length === 0) return;
  console.error(`refusing to run Chromium with network interfaces besides lo (${outside.join(', ')}): run this as root (it makes its own namespace) or inside a loopback-only one`);
  process.exit(2);
}

/** A node for a benchmark: every port OS-assigned on 127.0.0.1, no DHT, no embedded chain. */
export function loopbackNodeOptions(stateDir: string): { stateDir: string; downloadDir: string; httpPort: 0; host: string; btPort: 0; btHost: string; dht: false; trackerPorts: { http: 0; udp: 0 }; chain: false } {
  return { stateDir, downloadDir: join(stateDir, 'downloads'), httpPort: 0, host: '127.0.0.1', btPort: 0, btHost: '127.0.0.1', dht: false, trackerPorts: { http: 0, udp: 0 }, chain: false };
}
