// The reference: Debian's transmission-daemon 3.00 with the same torrents, driven over its RPC
// (what transmission-remote speaks) on 127.0.0.1: add rate (four in flight, metainfo in base64,
// download-dir where the data is), RSS, idle CPU, `torrent-get` of all, restart.

import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchTorrent } from './torrents.ts';
import { addRates, cpuOver, cpuSecondsOf, exited, freePort, loadAverage, memoryOf, pool, sleep, stopProcess, track, type CpuWindow } from './proc.ts';

export const TRANSMISSION = '/usr/bin/transmission-daemon';

export interface TransmissionOptions {
  workDir: string;
  dataDir: string;
  torrents: BenchTorrent[];
  idleSeconds: number;
  say(line: string): void;
}

export interface TransmissionFigures {
  version: string;
  add: { seconds: number; overall: number; block: number; perBlock: number[]; cpuMsPerAdd: number; load: string };
  /** After the adds: seconds until every torrent was verified and seeding. */
  allSeedingAfterAdds: number | null;
  rssAfterAdds: number;
  idleNoClient: CpuWindow;
  getAllMs: number;
  getAllBytes: number;
  /** SIGTERM → exit before the restart, and whether it had to be killed. */
  stop: { seconds: number; killed: boolean };
  restart: { listsAllAfter: number | null; allSeedingAfter: number | null; seenChecking: number; states: Record<string, number> };
  rssAfterRestart: number;
  idleAfterRestart: CpuWindow;
}

export interface Daemon {
  child: ChildProcess;
  pid: number;
  rpc: Rpc;
}

/** Transmission's RPC: JSON over HTTP, with the CSRF session id it hands out in a 409. */
export class Rpc {
  readonly url: string;
  #session = '';
  constructor(port: number) {
    this.url = `http://127.0.0.1:${port}/transmission/rpc`;
  }
  async raw(method: string, args: Record<string, unknown>): Promise<string> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const res = await fetch(this.url, {
        method: 'POST',
        headers: { 'x-transmission-session-id': this.#session, 'content-type': 'application/json' },
        body: JSON.stringify({ method, arguments: args }),
        signal: AbortSignal.timeout(120_000),
      });
      if (res.status === 409) {
        this.#session = res.headers.get('x-transmission-session-id') ?? '';
        await res.body?.cancel();
        continue;
      }
      const text = await res.text();
      if (!res.ok) throw new Error(`transmission ${method}: HTTP ${res.status} ${text.slice(0, 200)}`);
      return text;
    }
    throw new Error(`transmission ${method}: no session id`);
  }
  async call<T>(method: string, args: Record<string, unknown> = {}): Promise<T> {
    const r = JSON.parse(await this.raw(method, args)) as { result: string; arguments: T };
    if (r.result !== 'success') throw new Error(`transmission ${method}: ${r.result}`);
    return r.arguments;
  }
}

/** settings.json: loopback only, nothing that looks for peers or opens ports on a router. */
export function writeSettings(configDir: string, dataDir: string, rpcPort: number, peerPort: number): void {
  mkdirSync(configDir, { recursive: true });
  const settings = {
    'bind-address-ipv4': '127.0.0.1',
    'bind-address-ipv6': '::1',
    'dht-enabled': false,
    'lpd-enabled': false,
    'pex-enabled': false,
    'utp-enabled': false,
    'port-forwarding-enabled': false,
    'blocklist-enabled': false,
    'peer-port': peerPort,
    'peer-port-random-on-start': false,
    'rpc-enabled': true,
    'rpc-bind-address': '127.0.0.1',
    'rpc-port': rpcPort,
    'rpc-authentication-required': false,
    'rpc-whitelist-enabled': true,
    'rpc-whitelist': '127.0.0.1',
    'rpc-host-whitelist-enabled': false,
    'download-dir': dataDir,
    'incomplete-dir-enabled': false,
    'watch-dir-enabled': false,
    'start-added-torrents': true,
    'download-queue-enabled': false,
    'seed-queue-enabled': false,
    'message-level': 1,
  };
  writeFileSync(join(configDir, 'settings.json'), JSON.stringify(settings, null, 2));
}

export async function startDaemon(configDir: string, port: number, logPath: string): Promise<Daemon> {
  const child = track(spawn(TRANSMISSION, ['--foreground', '--config-dir', configDir], { stdio: ['ignore', 'pipe', 'pipe'] }));
  const log = createWriteStream(logPath, { flags: 'a' });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const rpc = new Rpc(port);
  const gone = exited(child).then((code) => {
    throw new Error(`transmission-daemon exited (${code}); see ${logPath}`);
  });
  gone.catch(() => {});
  for (;;) {
    try {
      await Promise.race([rpc.call('session-get', { fields: ['version'] }), gone]);
      return { child, pid: child.pid!, rpc };
    } catch (err) {
      if ((err as Error).message.startsWith('transmission-daemon exited')) throw err;
      await sleep(50);
    }
  }
}

/** Transmission's status codes (tr_torrent_activity). */
export const STATUS: Record<number, string> = { 0: 'stopped', 1: 'check-wait', 2: 'checking', 3: 'download-wait', 4: 'downloading', 5: 'seed-wait', 6: 'seeding' };

/** Polls torrent-get until all n are listed and seeding; when each happened (seconds after t0). */
async function watch(rpc: Rpc, n: number, t0: number, timeoutS: number, say?: (line: string) => void): Promise<TransmissionFigures['restart']> {
  let lastSaid = performance.now();
  let lastStates = '';
  let stableSince = performance.now();
  const since = () => (performance.now() - t0) / 1000;
  const fig: TransmissionFigures['restart'] = { listsAllAfter: null, allSeedingAfter: null, seenChecking: 0, states: {} };
  const checking = new Set<string>();
  while (since() < timeoutS) {
    const { torrents } = await rpc.call<{ torrents: { hashString: string; status: number }[] }>('torrent-get', { fields: ['hashString', 'status'] });
    if (fig.listsAllAfter === null && torrents.length >= n) fig.listsAllAfter = since();
    const states: Record<string, number> = {};
    for (const t of torrents) {
      const s = STATUS[t.status] ?? String(t.status);
      states[s] = (states[s] ?? 0) + 1;
      if (t.status === 1 || t.status === 2) checking.add(t.hashString);
    }
    fig.states = states;
    fig.seenChecking = checking.size;
    if (say && performance.now() - lastSaid > 60_000) {
      lastSaid = performance.now();
      say(`  ${since().toFixed(0)} s: ${JSON.stringify(states)}`);
    }
    if (torrents.length >= n && (states.seeding ?? 0) >= n) {
      fig.allSeedingAfter = since();
      break;
    }
    // Nothing left to verify and nothing moving for 10 s: some will not seed (see the states).
    const key = JSON.stringify(states);
    if (key !== lastStates) (lastStates = key), (stableSince = performance.now());
    if (torrents.length >= n && !states['check-wait'] && !states.checking && performance.now() - stableSince > 10_000) break;
    await sleep(200);
  }
  return fig;
}

const SETTLE_MS = 5000;
const GET_FIELDS = ['id', 'name', 'status', 'percentDone', 'rateDownload', 'rateUpload'];

export async function runTransmission(o: TransmissionOptions): Promise<TransmissionFigures> {
  const n = o.torrents.length;
  const configDir = join(o.workDir, 'transmission-config');
  const logPath = join(o.workDir, 'transmission.log');
  const rpcPort = await freePort();
  writeSettings(configDir, o.dataDir, rpcPort, await freePort());
  let d = await startDaemon(configDir, rpcPort, logPath);
  try {
    const { version } = await d.rpc.call<{ version: string }>('session-get', { fields: ['version'] });
    o.say(`transmission: daemon ${d.pid} (${version}), adding ${n} torrents, four in flight…`);
    const cpu0 = cpuSecondsOf(d.pid);
    const t0 = performance.now();
    const finished = await pool(n, 4, async (i) => {
      const t = o.torrents[i]!;
      const r = await d.rpc.call<{ 'torrent-added'?: { hashString: string }; 'torrent-duplicate'?: unknown }>('torrent-add', {
        metainfo: Buffer.from(t.bytes).toString('base64'),
        'download-dir': o.dataDir,
      });
      if (r['torrent-added']?.hashString !== t.infoHash) throw new Error(`transmission torrent-add ${t.name}: ${JSON.stringify(r)}`);
    });
    const cpuMsPerAdd = ((cpuSecondsOf(d.pid) - cpu0) * 1000) / n;
    const add = { seconds: (finished[n - 1]! - t0) / 1000, ...addRates(t0, finished), cpuMsPerAdd, load: loadAverage() };
    o.say(`transmission: ${n} added in ${add.seconds.toFixed(1)} s: ${add.overall.toFixed(0)}/s; per ${add.block}: ${add.perBlock.map((r) => r.toFixed(0)).join(' ')}; ${add.cpuMsPerAdd.toFixed(2)} ms of its CPU per add`);
    // Transmission verifies the data of every added torrent, one at a time, sleeping 100 ms each
    // (verify.c, MSEC_TO_SLEEP_PER_SECOND_DURING_VERIFY): about 10 torrents a second. Idle is
    // measured once that is over (10,000 torrents: some 17 minutes).
    o.say(`transmission: waiting for it to verify the data (about ${Math.ceil(n / 10)} s at its 10 torrents/s)…`);
    const verified = await watch(d.rpc, n, t0, Math.max(120, n * 0.3), o.say);
    const allSeedingAfterAdds = verified.allSeedingAfter;
    o.say(`transmission: all seeding ${allSeedingAfterAdds?.toFixed(1) ?? 'never'} s after the first add (${JSON.stringify(verified.states)})`);

    await sleep(SETTLE_MS);
    const rssAfterAdds = memoryOf(d.pid).rss;
    const idleNoClient = await cpuOver(d.pid, o.idleSeconds);
    o.say(`transmission: RSS ${(rssAfterAdds / 1e6).toFixed(0)} MB, idle CPU ${idleNoClient.percent.toFixed(2)}% (load ${idleNoClient.load})`);

    const gets: { ms: number; bytes: number }[] = [];
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      const text = await d.rpc.raw('torrent-get', { fields: GET_FIELDS });
      gets.push({ ms: performance.now() - t, bytes: Buffer.byteLength(text) });
    }
    gets.sort((a, b) => a.ms - b.ms);
    const getAll = gets[1]!;
    o.say(`transmission: torrent-get all, 6 fields: ${getAll.ms.toFixed(1)} ms (${(getAll.bytes / 1e6).toFixed(2)} MB)`);

    const stop = await stopProcess(d.child);
    o.say(`transmission: stopped in ${stop.seconds.toFixed(1)} s${stop.killed ? ' — KILLED after 90 s' : ''}`);
    const t1 = performance.now();
    d = await startDaemon(configDir, rpcPort, logPath);
    const restart = await watch(d.rpc, n, t1, 300);
    o.say(
      `transmission: restart: lists all ${restart.listsAllAfter?.toFixed(2) ?? 'never'} s, all seeding ${restart.allSeedingAfter?.toFixed(2) ?? 'never'} s, ` +
        `seen checking ${restart.seenChecking}`,
    );
    await sleep(SETTLE_MS);
    const rssAfterRestart = memoryOf(d.pid).rss;
    const idleAfterRestart = await cpuOver(d.pid, o.idleSeconds);
    o.say(`transmission: after restart RSS ${(rssAfterRestart / 1e6).toFixed(0)} MB, idle CPU ${idleAfterRestart.percent.toFixed(2)}% (load ${idleAfterRestart.load})`);
    return { version, add, allSeedingAfterAdds, rssAfterAdds, idleNoClient, getAllMs: getAll.ms, getAllBytes: getAll.bytes, stop, restart, rssAfterRestart, idleAfterRestart };
  } finally {
    await stopProcess(d.child);
  }
}
