// Small helpers the loopback session tests share.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { TorrentHandle } from '../index.ts';

/** A fresh temp dir under `base`, removed after the test. */
export async function tmpDir(t: { after: (fn: () => unknown) => void }, base = os.tmpdir(), prefix = 'cascade-test-'): Promise<string> {
  const dir = await fs.mkdtemp(path.join(base, prefix));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Resolves once the torrent is seeding (now or on 'done'); rejects on 'error' or after `ms`. */
export function whenDone(h: TorrentHandle, ms = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out: ${JSON.stringify(h.stats())}`)), ms);
    if (h.stats().state === 'seeding') return clearTimeout(timer), resolve();
    h.once('done', () => (clearTimeout(timer), resolve()));
    h.once('error', (e: Error) => (clearTimeout(timer), reject(e)));
  });
}

/** libtorrent seeding `torrentFile` from `savePath` on 127.0.0.1 (lt_seed.py) until the test
 *  ends; resolves with its port once it has checked its data. */
export async function seedWithLibtorrent(t: { after: (fn: () => unknown) => void }, torrentFile: string, savePath: string): Promise<number> {
  const seed = spawn('/usr/bin/python3', [fileURLToPath(new URL('./lt_seed.py', import.meta.url)), torrentFile, savePath], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => {
    seed.stdin.end();
    seed.kill();
  });
  let port = 0;
  for await (const line of readline.createInterface({ input: seed.stdout })) {
    if (line.startsWith('port ')) port = Number(line.slice(5));
    if (line === 'seeding') return port;
  }
  throw new Error('libtorrent exited before seeding');
}
