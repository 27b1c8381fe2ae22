// Helpers for the node model's tests: a real server that can be stopped and started again on the
// same state dir (settings and options must survive a restart), and small .torrent makers.

import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTorrent } from '@cascade/engine';
import { startServer, type RunningServer, type ServerOptions } from '../index.ts';
import { patternBytes, testServerOptions } from './server-helpers.ts';

export interface Restartable {
  root: string;
  stateDir: string;
  downloadDir: string;
  server: RunningServer;
  json<T = any>(path: string, init?: { method?: string; json?: unknown; body?: BodyInit; headers?: HeadersInit }): Promise<{ status: number; body: T }>;
  /** Stops the node and starts it again on the same state dir (a new HTTP port). */
  restart(): Promise<void>;
}

export async function restartableServer(t: { after: (fn: () => unknown) => void }, opts: Partial<ServerOptions> = {}): Promise<Restartable> {
  const root = mkdtempSync(join(tmpdir(), 'cascade-model-'));
  const stateDir = join(root, 'state');
  const downloadDir = join(root, 'downloads');
  const start = () => startServer({ ...testServerOptions(root), ...opts });
  const r: Restartable = {
    root,
    stateDir,
    downloadDir,
    server: await start(),
    async json(path, init = {}) {
      const headers = new Headers(init.headers);
      if (!headers.has('authorization')) headers.set('authorization', `Bearer ${r.server.token}`);
      let body = init.body;
      if (init.json !== undefined) {
        headers.set('content-type', 'application/json');
        body = JSON.stringify(init.json);
      }
      const res = await fetch(r.server.url + path, { method: init.method ?? 'GET', headers, ...(body !== undefined ? { body } : {}) });
      const text = await res.text();
      let parsed: any;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
      return { status: res.status, body: parsed };
    },
    async restart() {
      await r.server.close();
      r.server = await start();
      await r.server.ready;
    },
  };
  await r.server.ready;
  t.after(async () => {
    await r.server.close();
    rmSync(root, { recursive: true, force: true });
  });
  return r;
}

/** A multi-file .torrent of fresh content made in `dir` (the content stays there). */
export async function makeTorrent(dir: string, name: string, files: Record<string, number> = { 'a.bin': 40_000, 'b.bin': 20_000 }, seed = 7) {
  const folder = join(dir, name);
  mkdirSync(folder, { recursive: true });
  let i = 0;
  for (const [file, size] of Object.entries(files)) writeFileSync(join(folder, file), patternBytes(size, seed + i++));
  return createTorrent(folder, { pieceLength: 16384 });
}

/** Polls fn until it returns something truthy; fails naming `what` after `ms`. */
export async function until<T>(what: string, fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
