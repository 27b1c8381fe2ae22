// libtorrent on [::1] only (lt_v6.py), driven by lines on stdin and read by JSON lines on stdout:
// the IPv6 tests' other end (engine, tracker).
import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface Lt {
  port: number;
  send(line: string): void;
  /** Resolves with the first JSON line `pred` accepts. */
  until<T>(pred: (m: Record<string, unknown>) => T | undefined, ms?: number): Promise<T>;
}

export interface LtOptions {
  /** Added to its environment (lt_v6.py reads LT_LISTEN: its listen_interfaces). */
  env?: Record<string, string>;
  /** A file it sees as /etc/hosts (e.g. `localhost` at both 127.0.0.1 and ::1). */
  hostsFile?: string;
}

/** args: seed|download|idle <file.torrent or -> <save_path> [dht] (see lt_v6.py), or those of
 *  another script here that speaks the same way (lt_dht.py); stopped when the test ends. Resolves
 *  once it listens. */
export function libtorrent(t: { after: (fn: () => unknown) => void }, args: string[], script = 'lt_v6.py', opts: LtOptions = {}): Promise<Lt> {
  const argv = ['/usr/bin/python3', fileURLToPath(new URL(`./${script}`, import.meta.url)), ...args];
  const env = { ...process.env, ...opts.env };
  // Its own /etc/hosts: a mount namespace of its own (root), the network the same.
  const child = opts.hostsFile
    ? spawn('unshare', ['-m', 'sh', '-c', 'mount --bind "$0" /etc/hosts && exec "$@"', opts.hostsFile, ...argv], { env })
    : spawn(argv[0]!, argv.slice(1), { env });
  t.after(() => {
    child.stdin.end();
    child.kill();
  });
  const waiters = new Set<(m: Record<string, unknown>) => void>();
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  readline.createInterface({ input: child.stdout }).on('line', (l) => {
    const m = JSON.parse(l) as Record<string, unknown>;
    for (const w of waiters) w(m);
  });
  const until = <T>(pred: (m: Record<string, unknown>) => T | undefined, ms = 30_000) =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => (waiters.delete(w), reject(new Error(`libtorrent: nothing matched in ${ms} ms\n${stderr}`))), ms);
      const w = (m: Record<string, unknown>) => {
        const v = pred(m);
        if (v !== undefined) {
          clearTimeout(timer);
          waiters.delete(w);
          resolve(v);
        }
      };
      waiters.add(w);
    });
  return until((m) => (typeof m.port === 'number' ? m.port : undefined)).then((port) => ({ port, until, send: (l: string) => void child.stdin.write(`${l}\n`) }));
}
