// Real broken set-ups for the assistant's tests (API here, CLI in packages/cli/test/ask*.test.ts):
// a tracker nobody answers, a seeder that sends corrupt data, a full disk, a node only on loopback.

import { createServer, type Server, type Socket } from 'node:net';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session, createTorrent, type SessionHandle, type TorrentHandle } from '@cascade/engine';
import type { AssistantAnswer, Finding } from '@cascade/assistant';
import { startTestServer, type TestServer } from './server-helpers.ts';

type T = { after: (fn: () => unknown) => void };

export const KiB = 1024;
export const MiB = 1024 * KiB;

export async function until<V>(what: string, fn: () => V | undefined | Promise<V | undefined>, ms = 30_000): Promise<V> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A TCP port where nothing listens (bound, read back, closed): connections are refused. */
export async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** An "HTTP tracker" that accepts connections and never answers. */
export async function hangingTracker(t: T): Promise<string> {
  const sockets = new Set<Socket>();
  const s: Server = createServer((sock) => {
    sockets.add(sock);
    sock.on('error', () => {});
    sock.on('close', () => sockets.delete(sock));
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  t.after(() => {
    for (const x of sockets) x.destroy();
    s.close();
  });
  return `http://127.0.0.1:${(s.address() as { port: number }).port}/announce`;
}

/** A node with no tracker of its own (so a torrent's tracker is its only one) and no DHT. */
export function bareServer(t: T, opts: Parameters<typeof startTestServer>[1] = {}): Promise<TestServer> {
  return startTestServer(t, { trackerPorts: false, ...opts });
}

export function magnetWith(infoHash: string, name: string, tracker: string): string {
  return `magnet:?xt=urn:btih:${infoHash}&dn=${encodeURIComponent(name)}&tr=${encodeURIComponent(tracker)}`;
}

export async function addMagnet(s: TestServer, magnet: string): Promise<string> {
  const r = await s.json('/api/torrents', { method: 'POST', json: { uri: magnet } });
  if (r.status !== 200 && r.status !== 201) throw new Error(`add failed: ${r.status} ${JSON.stringify(r.body)}`);
  return (r.body.infoHash ?? r.body.torrents?.[0]?.infoHash) as string;
}

export async function ask(s: TestServer, body: Record<string, unknown>): Promise<{ status: number; body: AssistantAnswer & { message?: string } }> {
  const r = await s.json('/api/assistant', { method: 'POST', json: body });
  return { status: r.status, body: r.body };
}

export function finding(a: AssistantAnswer, id: string): Finding {
  const f = a.findings.find((x) => x.id === id);
  if (!f) throw new Error(`no "${id}" finding in ${JSON.stringify(a.findings.map((x) => `${x.id}: ${x.evidence}`))}`);
  return f;
}

function waitFor(h: TorrentHandle, event: 'done' | 'error', ms = 30_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    if (event === 'done' && h.stats().state === 'seeding') return resolve(undefined);
    const timer = setTimeout(() => reject(new Error(`no '${event}' in ${ms} ms: ${JSON.stringify(h.stats())}`)), ms);
    h.once(event, (arg: unknown) => (clearTimeout(timer), resolve(arg)));
  });
}

export interface Seeder {
  session: SessionHandle;
  peer: string;
  torrent: Uint8Array;
  infoHash: string;
  dir: string;
  file: string;
  pieceLength: number;
  pieceCount: number;
}

/** A real Cascade engine session on loopback seeding `size` random bytes it has verified. */
export async function seeder(t: T, size: number, pieceLength = 64 * KiB): Promise<Seeder> {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-seed-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'data.bin');
  writeFileSync(file, randomBytes(size));
  const made = await createTorrent(file, { pieceLength });
  const session = await Session.create({ port: 0, host: '127.0.0.1', dht: false, webrtc: false });
  t.after(() => session.close());
  await waitFor(await session.add(made.torrent, { savePath: dir }), 'done');
  return {
    session,
    peer: `127.0.0.1:${session.port}`,
    torrent: made.torrent,
    infoHash: made.metainfo.infoHashHex,
    dir,
    file,
    pieceLength,
    pieceCount: made.metainfo.pieceCount,
  };
}

/** Flips bytes in every piece of the seeder's file after it verified it: it now serves corrupt data. */
export function corrupt(s: Seeder): void {
  const fd = openSync(s.file, 'r+');
  try {
    for (let i = 0; i < s.pieceCount; i++) writeSync(fd, randomBytes(16), 0, 16, i * s.pieceLength + 100);
  } finally {
    closeSync(fd);
  }
}

/** A small tmpfs (root: mount) as a save path; unmounted when the test ends. */
export function smallDisk(t: T, size: string): string {
  const root = mkdtempSync(join(tmpdir(), 'cascade-small-'));
  const dir = join(root, 'disk');
  mkdirSync(dir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  t.after(() => {
    execFileSync('umount', ['-l', dir]);
    rmSync(root, { recursive: true, force: true });
  });
  return dir;
}

export const isRoot = process.getuid?.() === 0;
