// Helpers of the queue tests: magnets nobody has (downloads that stay in "metadata"), settings,
// and waiting for the list to show what the queue decided.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { startTestServer, type TestServer } from './server-helpers.ts';
import type { ServerOptions } from '../index.ts';

/** A random infohash: a torrent no peer has, so it downloads (state "metadata") for ever. */
export const nobodysHash = (): string => randomBytes(20).toString('hex');

export async function patchSettings(s: TestServer, patch: Record<string, unknown>): Promise<Record<string, any>> {
  const r = await s.json('/api/settings', { method: 'PATCH', json: patch });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

export async function addMagnet(s: TestServer, ih = nobodysHash()): Promise<string> {
  const r = await s.json('/api/torrents', { method: 'POST', json: { uri: ih } });
  assert.ok(r.status === 201 || r.status === 200, JSON.stringify(r.body));
  return r.body.infoHash as string;
}

export interface Row {
  state: string;
  queuePosition: number | null;
  forceStart: boolean;
  category: string | null;
  tags: string[];
  [k: string]: unknown;
}

export async function rows(s: TestServer): Promise<Map<string, Row>> {
  const r = await s.json('/api/torrents');
  assert.equal(r.status, 200);
  return new Map((r.body.torrents as (Row & { infoHash: string })[]).map((e) => [e.infoHash, e]));
}

/** The states of the given torrents, in that order ("metadata" and "downloading" read "running"). */
export async function states(s: TestServer, hashes: readonly string[]): Promise<string[]> {
  const all = await rows(s);
  return hashes.map((ih) => {
    const st = all.get(ih)?.state ?? 'gone';
    return st === 'metadata' || st === 'downloading' ? 'running' : st;
  });
}

/** Polls until fn passes (it throws an AssertionError until then); its last failure otherwise. */
export async function eventually(fn: () => Promise<void> | void, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fn();
      return;
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export async function expectStates(s: TestServer, hashes: readonly string[], want: string[], timeoutMs = 10_000): Promise<void> {
  await eventually(async () => assert.deepEqual(await states(s, hashes), want), timeoutMs);
}

/** A second server on the first one's state and download dirs (the first must be closed). */
export function restartOf(t: Parameters<typeof startTestServer>[0], first: TestServer, opts: Partial<ServerOptions> = {}): Promise<TestServer> {
  return startTestServer(t, { stateDir: join(first.root, 'state'), downloadDir: first.downloadDir, ...opts });
}
