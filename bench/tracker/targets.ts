// The trackers under test, each started as its own process on 127.0.0.1 so its memory and CPU
// can be read from /proc and the load generator does not share its event loop.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import dgram from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HOST } from './loadgen.ts';

export interface Target {
  name: string;
  httpPort: number;
  udpPort: number;
  pid: number;
  /** Announce path on the HTTP port. */
  httpPath: string;
  stop(): Promise<void>;
}

const ROOT = new URL('../../', import.meta.url).pathname;

/** A port free for both TCP and UDP on 127.0.0.1 (opentracker and bittorrent-tracker use one for both). */
async function freePort(): Promise<number> {
  for (;;) {
    const s = createServer().listen(0, HOST);
    await once(s, 'listening');
    const port = (s.address() as AddressInfo).port;
    await new Promise((r) => s.close(r));
    const u = dgram.createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      u.once('error', () => resolve(false));
      u.bind(port, HOST, () => resolve(true));
    });
    if (ok) {
      await new Promise<void>((r) => u.close(() => r()));
      return port;
    }
    u.close();
  }
}

function firstLine(child: ChildProcess, what: string, ms = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    let err = '';
    child.stderr?.on('data', (d) => (err += String(d)));
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${err}`)), ms);
    child.stdout!.on('data', (d) => {
      buf += String(d);
      const i = buf.indexOf('\n');
      if (i >= 0) {
        clearTimeout(timer);
        resolve(buf.slice(0, i));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}: ${err}`));
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await once(child, 'exit');
  clearTimeout(timer);
}

/** `args`: more tracker options, e.g. ['--udp-io', 'dgram']. */
export async function startCascade(args: string[] = [], name = 'cascade'): Promise<Target> {
  // Rate limiting off: every simulated peer comes from 127.0.0.1, and the others have none.
  const nodeFlags = (process.env.BENCH_CASCADE_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  // The standalone launcher: it turns Node's compile cache on before any TypeScript loads.
  const child = spawn(process.execPath, [...nodeFlags, join(ROOT, 'packages/tracker/bin/cascade-tracker.js'), '--json', '--host', HOST, '--http-port', '0', '--udp-port', '0', '--rate-limit', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const line = JSON.parse(await firstLine(child, 'cascade tracker')) as { http: string; udp: string };
  return {
    name,
    httpPort: Number(new URL(line.http).port),
    udpPort: Number(new URL(line.udp).port),
    httpPath: '/announce',
    pid: child.pid!,
    stop: () => stopChild(child),
  };
}

export async function startBittorrentTracker(): Promise<Target> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(ROOT, 'bench/tracker/bt-tracker-server.ts'), String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  await firstLine(child, 'bittorrent-tracker');
  return { name: 'bittorrent-tracker', httpPort: port, udpPort: port, httpPath: '/announce', pid: child.pid!, stop: () => stopChild(child) };
}

/**
 * Debian's opentracker is built with WANT_ACCESSLIST_WHITE: it only tracks infohashes in its
 * whitelist, read after it chroots to tracker.rootdir, so the path in the config is relative to
 * that root. We give it a fresh root holding the benchmark's hashes, readable by the unprivileged
 * user it drops to.
 */
export async function startOpentracker(hashes: Buffer[]): Promise<Target> {
  const port = await freePort();
  const root = await mkdtemp(join(tmpdir(), 'cascade-bench-ot-'));
  await writeFile(join(root, 'whitelist.txt'), hashes.map((h) => h.toString('hex')).join('\n') + '\n');
  const asRoot = process.getuid?.() === 0;
  // Not root: no chroot possible, so the whitelist path is an ordinary absolute one.
  const conf = asRoot ? `tracker.rootdir ${root}\naccess.whitelist /whitelist.txt\n` : `access.whitelist ${join(root, 'whitelist.txt')}\n`;
  await writeFile(join(root, 'opentracker.conf'), conf);
  await chmod(root, 0o755);
  await chmod(join(root, 'whitelist.txt'), 0o644);
  const args = ['-i', HOST, '-p', String(port), '-P', String(port), '-f', join(root, 'opentracker.conf'), ...(asRoot ? ['-u', 'nobody'] : [])];
  const child = spawn('opentracker', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let spawnError: Error | undefined;
  child.once('error', (e) => (spawnError = e));
  // Ready when the last whitelisted hash is accepted (the list loads in a background thread).
  const last = hashes[hashes.length - 1]!;
  const q = `/announce?info_hash=${[...last].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')}&peer_id=-BN0001-readycheck00&port=9&left=0&numwant=0&event=stopped`;
  const end = Date.now() + 20_000;
  for (;;) {
    if (spawnError) throw new Error(`cannot run opentracker (apt-get install opentracker): ${spawnError.message}`);
    if (child.exitCode !== null) throw new Error(`opentracker exited with ${child.exitCode}`);
    try {
      const body = await (await fetch(`http://${HOST}:${port}${q}`)).text();
      if (!body.includes('failure reason')) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > end) throw new Error('opentracker did not accept the whitelist');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    name: 'opentracker',
    httpPort: port,
    udpPort: port,
    httpPath: '/announce',
    pid: child.pid!,
    stop: async () => {
      await stopChild(child);
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Resident memory of a process, in bytes. */
export async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : NaN;
}

/** CPU seconds (user + system) a process has used, summed over its threads. */
export async function cpuOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after the command name.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds (user + system) each thread of a process has used, by thread id. */
export async function threadCpuOf(pid: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const tid of await readdir(`/proc/${pid}/task`)) {
    try {
      const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(tid, (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}
