// Shared by the tracker tests: raw protocol clients, a real redis-server, tracker child processes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { decode, isDict } from '@cascade/engine/bencode';
import type { BDict } from '@cascade/engine/bencode';

export const NODE = process.execPath;
export const CLI = new URL('../src/cli.ts', import.meta.url).pathname;

export const esc = (b: Uint8Array) => [...b].map((x) => `%${x.toString(16).padStart(2, '0')}`).join('');
export const id = (seed: number) => Buffer.alloc(20, seed);

export async function getBencoded(url: string): Promise<BDict> {
  const res = await fetch(url);
  const v = decode(new Uint8Array(await res.arrayBuffer())).value;
  assert.ok(isDict(v), url);
  return v;
}

export function announceQuery(hash: Buffer, peer: Buffer, port: number, extra = ''): string {
  return `?info_hash=${esc(hash)}&peer_id=${esc(peer)}&port=${port}&uploaded=0&downloaded=0${extra}`;
}

export async function waitFor(check: () => boolean | Promise<boolean>, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

// --- UDP (BEP 15) ---------------------------------------------------------------------------

export interface UdpClient {
  request(buf: Buffer, timeoutMs?: number): Promise<Buffer | undefined>;
  connect(): Promise<Buffer>;
  send(buf: Buffer): void;
  /** Discards replies until none arrived for `quietMs`, the first awaited up to 5 s (their transaction ids into `tids`, if given). */
  drain(quietMs?: number, tids?: number[]): Promise<number>;
  close(): void;
}

export async function udpClient(port: number, host = '127.0.0.1'): Promise<UdpClient> {
  const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  s.bind(0, host);
  await once(s, 'listening');
  const request = async (buf: Buffer, timeoutMs = 1000): Promise<Buffer | undefined> => {
    s.send(buf, port, host);
    try {
      const [msg] = (await once(s, 'message', { signal: AbortSignal.timeout(timeoutMs) })) as [Buffer];
      return msg;
    } catch {
      return undefined;
    }
  };
  const connect = async (): Promise<Buffer> => {
    const b = Buffer.alloc(16);
    b.writeBigUInt64BE(0x41727101980n, 0);
    b.writeUInt32BE(0, 8);
    b.writeUInt32BE(0xdead, 12);
    const r = await request(b);
    assert.ok(r, 'no connect reply');
    assert.equal(r.readUInt32BE(0), 0);
    assert.equal(r.readUInt32BE(4), 0xdead);
    return r.subarray(8, 16);
  };
  const drain = async (quietMs = 300, tids?: number[]): Promise<number> => {
    let n = 0;
    const count = (msg: Buffer) => {
      n++;
      if (tids && msg.length >= 8) tids.push(msg.readUInt32BE(4));
    };
    s.on('message', count);
    // The first reply may take longer than a quiet gap on a loaded machine (a burst sent, the
    // tracker not scheduled yet): 0 replies after 300 ms was read as "none will come".
    const firstBy = Date.now() + 5_000;
    while (n === 0 && Date.now() < firstBy) await new Promise((r) => setTimeout(r, 20));
    let last = -1;
    while (last !== n) {
      last = n;
      await new Promise((r) => setTimeout(r, quietMs));
    }
    s.off('message', count);
    return n;
  };
  return { request, connect, drain, send: (b) => s.send(b, port, host), close: () => s.close() };
}

export function udpAnnounce(conn: Buffer, hash: Buffer, peer: Buffer, port: number, left: bigint, event: number, opts: { uploaded?: bigint; urlData?: string } = {}): Buffer {
  const url = opts.urlData ? Buffer.from(opts.urlData) : undefined;
  const b = Buffer.alloc(98 + (url ? 2 + url.length + 1 : 0));
  conn.copy(b, 0);
  b.writeUInt32BE(1, 8);
  b.writeUInt32BE(7, 12);
  hash.copy(b, 16);
  peer.copy(b, 36);
  b.writeBigUInt64BE(left, 64);
  b.writeBigUInt64BE(opts.uploaded ?? 0n, 72);
  b.writeUInt32BE(event, 80);
  b.writeInt32BE(-1, 92);
  b.writeUInt16BE(port, 96);
  if (url) {
    // BEP 41: option 2 (URLData), length, bytes; then 0 (end of options).
    b[98] = 2;
    b[99] = url.length;
    url.copy(b, 100);
    b[100 + url.length] = 0;
  }
  return b;
}

export function udpScrape(conn: Buffer, hashes: Buffer[]): Buffer {
  const s = Buffer.alloc(16 + 20 * hashes.length);
  conn.copy(s, 0);
  s.writeUInt32BE(2, 8);
  s.writeUInt32BE(9, 12);
  hashes.forEach((h, i) => h.copy(s, 16 + 20 * i));
  return s;
}

// --- redis-server ---------------------------------------------------------------------------

export interface RedisServer {
  url: string;
  stop(): Promise<void>;
}

/** A throwaway redis-server on loopback: random port, no persistence. Fails loudly if it is not installed. */
export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log: string[] = [];
  child.stderr!.on('data', (d) => log.push(String(d)));
  const ready = new Promise<void>((resolve, reject) => {
    child.once('error', (err) => reject(new Error(`cannot run redis-server (apt-get install redis-server): ${err.message}`)));
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${log.join('')}`)));
    child.stdout!.on('data', (d) => {
      log.push(String(d));
      if (log.join('').includes('Ready to accept connections')) resolve();
    });
  });
  await Promise.race([ready, new Promise((_, rej) => setTimeout(() => rej(new Error(`redis-server not ready: ${log.join('')}`)), 10_000).unref())]);
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

// --- tracker child processes ----------------------------------------------------------------

export interface TrackerProcess {
  child: ChildProcess;
  listening: { http: string; udp: string; ws: string | null; stats: string; adminToken?: string };
  stderr: string[];
  stdout: string[];
  stop(): Promise<number | null>;
}

/** Runs the CLI in its own process and waits for its `{"event":"listening"}` line. */
export async function spawnTracker(args: string[]): Promise<TrackerProcess> {
  const child = spawn(NODE, [CLI, '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  const stdout: string[] = [];
  child.stderr!.on('data', (d) => stderr.push(String(d)));
  const listening = await new Promise<TrackerProcess['listening']>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`tracker did not start: ${stderr.join('')}`)), 15_000);
    child.stdout!.on('data', (d) => {
      buf += String(d);
      stdout.push(String(d));
      const line = buf.split('\n').find((l) => l.includes('"listening"'));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tracker exited with ${code}: ${stderr.join('')}`));
    });
  });
  return {
    child,
    listening,
    stderr,
    stdout,
    stop: async () => {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    },
  };
}

export function udpPortOf(url: string): number {
  return Number(new URL(url).port);
}
