// `cascade` processes inside the NAT lab's namespaces (issue 23): trackers on the public segment,
// nodes in homes behind routers. The test process itself lives outside every namespace and talks
// to them only through their stdout (JSON events) and `cascade` verbs run in the same namespace.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { createNatLab, requireLabTools, type NatKind, type NatLab } from '@cascade/reachability/lab';
import { tempDir } from './helpers.ts';

export const MAIN = join(import.meta.dirname, '../src/main.ts');
/** Whatever a node does by default, nothing maps ports in these tests unless they say so. */
const ENV = { ...process.env, CASCADE_HOME: '/nonexistent-cascade-home', CASCADE_PORT_MAPPING: 'off' };

export interface LabProcess {
  child: ChildProcess;
  events: Record<string, any>[];
  stderr: () => string;
  /** stdout's lines that are not JSON (the last 200 KB). */
  raw: () => string;
  /** The first event that satisfies `pred`, waiting up to `ms`. */
  event(pred: (e: Record<string, any>) => boolean, ms: number, what: string): Promise<Record<string, any>>;
  stop(): Promise<void>;
}

/** The `cascade` command as users start it: a shell launcher that starts the pinned Node with V8's
 *  flags and Node's compile cache on (bin/cascade.js). */
export const LAUNCHER = join(import.meta.dirname, '../bin/cascade.js');

/** `how`: 'main' runs src/main.ts on this Node (tests); 'launcher' starts it as a user does (benchmarks:
 *  without the compile cache every start strips and compiles ~320 modules again, ~0.4 CPU-s more). */
export function cascadeIn(lab: NatLab, ns: string, args: string[], env: Record<string, string> = {}, how: 'main' | 'launcher' = 'main'): LabProcess {
  const [cmd, argv] = how === 'launcher' ? [LAUNCHER, args] : [process.execPath, [MAIN, ...args]];
  return labProcess(lab.spawn(ns, cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...ENV, ...env } }));
}

/** Any process of the lab whose stdout's JSON lines are its events (python3-libtorrent too). */
export function labProcess(child: ChildProcess): LabProcess {
  const events: Record<string, any>[] = [];
  const waiters = new Set<() => void>();
  let buf = '';
  let err = '';
  let raw = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  child.stdout!.setEncoding('utf8').on('data', (c: string) => {
    buf += c;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!line.startsWith('{')) {
        raw = (raw + line + '\n').slice(-200_000);
        continue;
      }
      try {
        events.push(JSON.parse(line));
      } catch {
        continue;
      }
      for (const w of waiters) w();
    }
  });
  const exited = once(child, 'exit');
  return {
    child,
    events,
    stderr: () => err,
    raw: () => raw,
    event(pred, ms, what) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = events.find(pred);
          if (hit) {
            done();
            resolve(hit);
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no ${what} within ${ms} ms; events: ${JSON.stringify(events.slice(-5))}; stderr: ${err.slice(-2000)}`));
        }, ms);
        const onExit = () => {
          done();
          reject(new Error(`the process ended before ${what}: ${JSON.stringify(events.slice(-5))}; stderr: ${err.slice(-2000)}`));
        };
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
          child.off('exit', onExit);
        };
        waiters.add(check);
        child.once('exit', onExit);
        check();
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        return;
      }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    },
  };
}

/** Runs `cascade ARGS… --json` in `ns` to its end and returns its first JSON line. */
export async function cascadeVerb(lab: NatLab, ns: string, args: string[]): Promise<Record<string, any>> {
  const r = await lab.exec(ns, process.execPath, [MAIN, ...args, '--json'], { allowFail: true, timeoutMs: 30_000 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`cascade ${args.join(' ')} printed no JSON (exit ${r.code}): ${r.stderr}`);
  return JSON.parse(line);
}

type LabTracker = { http: string; udp: string; ws: string; stun: string; proc: LabProcess };

/** A `cascade tracker` (HTTP, UDP with STUN, WebSocket) bound to one public address. */
export async function labTracker(lab: NatLab, host: string, extra: string[] = []): Promise<LabTracker> {
  const proc = cascadeIn(lab, lab.public.ns, ['tracker', '--host', host, '--http-port', '0', '--udp-port', '0', '--ws', '--interval', '30', '--json', ...extra]);
  const e = await proc.event((x) => x.event === 'listening', 20_000, 'the tracker listening');
  return { http: e.http, udp: e.udp, ws: e.ws, stun: e.stun, proc };
}

/** A file of `bytes` pseudo-random bytes and its .torrent announcing to `trackers`, made in `dir`. */
export async function makeTorrent(lab: NatLab, dir: string, name: string, bytes: number, trackers: string[]): Promise<{ torrent: string; infoHash: string }> {
  const data = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i += 4) data.writeUInt32LE((i * 2654435761) >>> 0, i);
  writeFileSync(join(dir, name), data);
  const torrent = join(dir, `${name}.torrent`);
  const made = await cascadeVerb(lab, lab.public.ns, ['create', join(dir, name), '-o', torrent, ...trackers.flatMap((t) => ['--announce', t])]);
  return { torrent, infoHash: made.infoHash as string };
}

const MiB = 1024 * 1024;
export const TURN_SECRET = 'lab-turn-secret';

/** coturn on a public address: `use-auth-secret` (credentials minted from SECRET) or one static user.
 *  `t`'s cleanup stops it and then removes its pid file and user database (before, they stayed in
 *  /tmp after every run). */
export async function coturn(t: { after: (fn: () => unknown) => void }, lab: NatLab, host: string, auth: { secret: string } | { user: string; password: string }) {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-coturn-'));
  const args = [
    '-n', '--realm', 'cascade', '--listening-ip', host, '--relay-ip', host, '--listening-port', '3478',
    '--min-port', '49152', '--max-port', '65535', '--no-tls', '--no-dtls', '--no-cli', '--no-tcp-relay',
    '--pidfile', join(dir, 'turnserver.pid'), '--db', join(dir, 'turndb'), '--log-file', 'stdout', '--simple-log', '--verbose',
    ...('secret' in auth ? ['--use-auth-secret', '--static-auth-secret', auth.secret] : ['--lt-cred-mech', '--user', `${auth.user}:${auth.password}`]),
  ];
  const child = lab.spawn(lab.public.ns, 'turnserver', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = once(child, 'exit');
      child.kill('SIGKILL');
      await gone;
    }
    rmSync(dir, { recursive: true, force: true });
  });
  let log = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (log += c));
  // Its perror()s: a failed send to a peer ("udp send: Network is unreachable") closes the allocation.
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (log += c));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`turnserver did not start: ${log}`)), 15_000);
    const poll = setInterval(() => {
      if (/listener opened on|Total General servers/i.test(log)) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve();
      }
    }, 100);
    child.once('exit', (code) => reject(new Error(`turnserver exited with ${code}: ${log}`)));
  });
  return { url: `turn:${host}:3478`, log: () => log, pid: child.pid };
}

interface Swarm {
  lab: NatLab;
  infoHash: string;
  source: Buffer;
  torrent: string;
  dataDir: string;
  /** The payload's file name in dataDir. */
  name: string;
  /** The torrent's trackers (a WebSocket one, then two UDP ones). */
  announce: string[];
}

/** The public side: two trackers at two addresses (a node tells cone from symmetric with two STUN
 *  servers) and a torrent announcing to both. `trackerArgs` go to the first tracker. */
export async function publicSide(t: { after: (fn: () => unknown) => void }, trackerArgs: string[] = []): Promise<Swarm & { t1: LabTracker; t2: LabTracker }> {
  requireLabTools(['ip', 'iptables']);
  const lab = await createNatLab(t);
  const t1 = await labTracker(lab, await lab.publicHost(0), trackerArgs);
  const t2 = await labTracker(lab, await lab.publicHost(1));
  return { ...await anotherSwarm(t, { lab, announce: [t1.ws, t1.udp, t2.udp] }, 'payload.bin'), t1, t2 };
}

/** A torrent of its own (4 MiB in `name`) on the same trackers: transfers run side by side with
 *  one each stay apart. */
export async function anotherSwarm(t: { after: (fn: () => unknown) => void }, s: Pick<Swarm, 'lab' | 'announce'>, name: string): Promise<Swarm> {
  const dataDir = tempDir(t);
  const { torrent, infoHash } = await makeTorrent(s.lab, dataDir, name, 4 * MiB, s.announce);
  return { lab: s.lab, announce: s.announce, infoHash, torrent, dataDir, name, source: readFileSync(join(dataDir, name)) };
}

export interface TransferOptions {
  /** An open host's BitTorrent port (TCP and uTP) is dropped, so that WebRTC is the only way
   *  between the two (a symmetric NAT's node would otherwise dial the open one over TCP). */
  webrtcOnly?: boolean;
  /** Arguments for one side's node alone, by its home's kind (added after `extra`). */
  argsFor?: (nat: NatKind) => string[];
}

/** Seeds in home A, downloads in home B; returns B's view of the peer and both nodes' network health.
 *  `nat`: both homes' kind, or [seeder's, downloader's]. */
export async function transfer(t: { after: (fn: () => unknown) => void }, s: Swarm, nat: NatKind | [NatKind, NatKind], extra: string[] = [], opts: TransferOptions = {}) {
  const [natA, natB] = Array.isArray(nat) ? nat : [nat, nat];
  const a = await s.lab.addHome({ nat: natA });
  const b = await s.lab.addHome({ nat: natB });
  for (const home of [a, b]) {
    if (!opts.webrtcOnly || home.router !== null) continue;
    for (const proto of ['tcp', 'udp']) await s.lab.exec(home.ns, 'iptables', ['-A', 'INPUT', '-p', proto, '--dport', '6881', '-j', 'DROP']);
  }
  const stateA = join(tempDir(t), 'a');
  const stateB = join(tempDir(t), 'b');
  const seeder = cascadeIn(s.lab, a.ns, ['seed', s.torrent, '--dir', s.dataDir, '--json', '--no-dht', '--port', '6881', '--state-dir', stateA, ...extra, ...(opts.argsFor?.(natA) ?? [])]);
  t.after(() => seeder.stop());
  await seeder.event((e) => e.event === 'seeding', 30_000, 'the seeder seeding');
  // A slow seeder (4 MiB at 512 KiB/s): the downloader's peers are read while data flows. Read after
  // the download, the two were both seeds by then and had hung up on each other (seeds have nothing
  // to trade), which on a busy machine came before `cascade peers` started: an empty list.
  await cascadeVerb(s.lab, a.ns, ['limits', '--up', '512k', '--state-dir', stateA]);
  const out = tempDir(t);
  const leecher = cascadeIn(s.lab, b.ns, ['download', s.torrent, '-o', out, '--seed', '--json', '--no-dht', '--port', '6881', '--state-dir', stateB, ...extra, ...(opts.argsFor?.(natB) ?? [])]);
  t.after(() => leecher.stop());
  const started = Date.now();
  await leecher.event((e) => e.event === 'progress' && e.peers > 0 && e.progress > 0 && e.progress < 1, 120_000, 'data flowing');
  const peers = await cascadeVerb(s.lab, b.ns, ['peers', s.infoHash, '--state-dir', stateB]);
  await leecher.event((e) => e.event === 'done', 120_000, 'the download done');
  const seconds = (Date.now() - started) / 1000;
  assert.ok(readFileSync(join(out, s.name)).equals(s.source), 'the bytes arrived intact');
  const [healthA, healthB] = await Promise.all([cascadeVerb(s.lab, a.ns, ['health', '--state-dir', stateA]), cascadeVerb(s.lab, b.ns, ['health', '--state-dir', stateB])]);
  return { a, b, peers: peerList(peers), healthA, healthB, seconds };
}

export function peerList(r: Record<string, any>): Record<string, any>[] {
  const list = Array.isArray(r) ? r : (r.peers ?? r.torrents?.[0]?.peers ?? []);
  return list as Record<string, any>[];
}

