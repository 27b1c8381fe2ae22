// The engine's own cost of idle torrents: N tiny (4 KiB) seeded torrents started from resume data in
// a bare Node Session (DHT off, nobody connected). Prints heap bytes per torrent (after gc) and the
// CPU the process spends over an idle window. Run with --expose-gc:
//   node --expose-gc bench/engine-idle/run.ts --torrents 2000 --idle 20
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Session, createTorrent, type ResumeData, type ResumeStore } from '../../packages/engine/index.ts';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

async function trackerProcess(): Promise<{ http: string; ws: string; close(): Promise<void> }> {
  const cli = new URL('../../packages/tracker/src/cli.ts', import.meta.url).pathname;
  const child = spawn(process.execPath, [cli, '--json', '--ws', '--host', '127.0.0.1', '--http-port', '0', '--udp-port', '0', '--rate-limit', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  for await (const line of createInterface({ input: child.stdout! })) {
    const m = JSON.parse(line) as { event: string; http: string; ws: string };
    if (m.event === 'listening') return { http: m.http, ws: m.ws, close: async () => void child.kill() };
  }
  throw new Error('the tracker did not start');
}

const { values } = parseArgs({ options: { torrents: { type: 'string', default: '2000' }, idle: { type: 'string', default: '20' }, tracker: { type: 'string' }, 'own-tracker': { type: 'boolean' }, local: { type: 'boolean' }, kinds: { type: 'string', default: 'http,ws' } } });
const N = Number(values.torrents);
const IDLE_S = Number(values.idle);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const root = await fs.mkdtemp(path.join(os.tmpdir(), 'cascade-idle-'));
const resume = new Map<string, ResumeData>();
const store: ResumeStore = { load: async (h) => resume.get(h), save: async (h, d) => void resume.set(h, d), delete: async (h) => void resume.delete(h) };
const torrents: Uint8Array[] = [];
process.stdout.write(`making ${N} torrents… `);
for (let i = 0; i < N; i++) {
  const file = path.join(root, `t${i}.bin`);
  await fs.writeFile(file, randomBytes(4096));
  const { torrent, metainfo } = await createTorrent(file, { pieceLength: 16384, announce: values.tracker ? [values.tracker] : undefined });
  const st = await fs.stat(file);
  resume.set(metainfo.infoHashHex, { have: Uint8Array.of(0x80), infoBytes: metainfo.infoBytes, files: [{ length: st.size, mtimeMs: Math.floor(st.mtimeMs) }] });
  torrents.push(torrent);
}
console.log('done');

// --own-tracker: every torrent also announces to a Cascade tracker over HTTP and WebSocket, as a
// node's torrents do (the node gives each its own tracker). The tracker runs in its own process so
// the heap and CPU measured here are the engine's alone.
const own = values['own-tracker'] ? await trackerProcess() : undefined;
const kinds = values.kinds.split(',');
const ownUrls = own ? [own.http, own.ws].filter((_, i) => kinds.includes(['http', 'ws'][i]!)) : [];
// --local: the HTTP URL is the session's in-process tracker (as a node's built-in one is), answered
// here by a stub, so what is measured is the tracker client alone.
const localTracker = values.local && own ? { urls: [own.http], announce: () => ({ interval: 1800, peers: [] }) } : undefined;
const session = await Session.create({ host: '127.0.0.1', dht: false, webrtc: ownUrls.some((u) => u.startsWith('ws')) ? {} : false, resumeStore: store, trackers: ownUrls, localTracker });
gc();
const before = process.memoryUsage().heapUsed;
const states = new Map<string, number>();
let checkingEvents = 0;
const started = performance.now();
const cpuAdd = process.cpuUsage();
for (const t of torrents) {
  const h = await session.add(t, { savePath: root });
  h.on('checking', () => checkingEvents++);
}
const addMs = performance.now() - started;
const addCpu = process.cpuUsage(cpuAdd);
await new Promise((r) => setTimeout(r, 3000));
for (const h of session.list()) states.set(h.state, (states.get(h.state) ?? 0) + 1);
gc();
const after = process.memoryUsage().heapUsed;
console.log(`added ${N} in ${addMs.toFixed(0)} ms (cpu ${((addCpu.user + addCpu.system) / 1000).toFixed(0)} ms); states ${JSON.stringify(Object.fromEntries(states))}; 'checking' events ${checkingEvents}`);
console.log(`heap per torrent: ${((after - before) / N).toFixed(0)} bytes (heapUsed ${(before / 1e6).toFixed(1)} → ${(after / 1e6).toFixed(1)} MB), rss ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`);
if (own) {
  // The first announces are paced: wait for them all, then a little, so the window sees steady state.
  const t0 = Date.now();
  while (session.schedulerState().announcesWaiting > 0) await new Promise((r) => setTimeout(r, 500));
  console.log(`first announces done after ${((Date.now() - t0) / 1000).toFixed(0)} s more`);
  await new Promise((r) => setTimeout(r, 5000));
}
const revs = session.list().map((h) => h.revision);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await new Promise((r) => setTimeout(r, IDLE_S * 1000));
const cpu = process.cpuUsage(cpu0);
const wall = performance.now() - t0;
gc();
console.log(`heap per torrent after the idle window: ${((process.memoryUsage().heapUsed - before) / N).toFixed(0)} bytes`);
const moved = session.list().filter((h, i) => h.revision !== revs[i]).length;
console.log(`idle cpu over ${IDLE_S} s: ${(((cpu.user + cpu.system) / 1000 / wall) * 100).toFixed(2)}% of one core; revisions changed: ${moved}/${N}; timers: ${process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length}`);
console.log(`load: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
await session.close();
await own?.close();
await fs.rm(root, { recursive: true, force: true });
