// Small helpers the loopback session tests share.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
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
