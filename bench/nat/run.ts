// NAT benchmark (issue 23): one 64 MiB file moved between two `cascade` processes in the NAT lab
// (packages/reachability/lab), three ways — direct over TCP (open host → cone home), hole punched
// over WebRTC (cone ↔ cone, the trackers' STUN) and relayed through TURN (symmetric ↔ symmetric,
// coturn with credentials the tracker mints). The reference in the same run is python3-libtorrent →
// python3-libtorrent over TCP in the direct case's topology; for the WebRTC and TURN cases, the
// WebRTC library alone (node-datachannel's data channel between two processes, nothing of ours on
// it: bench/nat/dc-peer.ts) in the same topologies. See bench/nat/README.md.
// Run (root): npm run bench:nat -- [--runs 2] [--size 64] [--delay 20] [--cases lt,tcp,lt-utp,utp,webrtc,turn,dc,dc-turn]
// The direct path is measured twice: over TCP (`--no-utp` on both Cascade ends, libtorrent with uTP
// off) and over uTP (Cascade as it starts by default: uTP first to an address beyond the LAN;
// libtorrent with TCP off), each against libtorrent on the same transport.
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createNatLab, requireLabTools, type Home, type NatLab } from '../../packages/reachability/lab/nat-lab.ts';
import { cascadeIn, cascadeVerb, coturn, labTracker, makeTorrent, TURN_SECRET, type LabProcess } from '../../packages/cli/test/nat-lab-nodes.ts';
import { mintTurnCredentials } from '@cascade/reachability/turn-credentials';
import { cpuWindow as cpuWindowOf, groupThreads } from './proc-cpu.ts';

const { values: argv } = parseArgs({
  options: {
    runs: { type: 'string', default: '2' },
    size: { type: 'string', default: '64' },
    delay: { type: 'string' },
    cases: { type: 'string', default: 'lt,tcp,lt-utp,utp,webrtc,turn,dc,dc-turn' },
    // The downloader's output lines and both ends' libdatachannel log (CASCADE_WEBRTC_LOG=Info),
    // stamped in seconds from the download's start: where a Cascade case's time to the first peer goes.
    trace: { type: 'boolean', default: false },
    // Each side's CPU-s/GiB by thread (main, libuv pool, V8's workers, libdatachannel's).
    threads: { type: 'boolean', default: false },
    // V8 CPU profiles of both Cascade ends of every case (NODE_OPTIONS=--cpu-prof), written into DIR.
    'cpu-prof': { type: 'string' },
    // More Node flags for both Cascade ends (NODE_OPTIONS; give it as --node-options=--flag). V8 flags
    // NODE_OPTIONS refuses (--trace-gc) go through a preloaded file: --node-options=--import=F.mjs with
    // v8.setFlagsFromString('--trace-gc') in F.
    'node-options': { type: 'string' },
    // Each Cascade end's output other than its JSON events (what --node-options prints, warnings)
    // and its stderr, written to DIR/<case>-<run>-<seeder|downloader>.log.
    'node-log': { type: 'string' },
    // The library alone with N more peer connections on each side, offered (and gathered) but never
    // answered, as a WebRTC tracker client's unanswered offers are (an experiment: what they cost).
    'dc-idle': { type: 'string', default: '0' },
    // The library alone's receiver doing BitTorrent's receive work beside it (dc-peer.ts WORK:
    // hash, reply:N), to tell the library's own cost from what a busier receiver does to it.
    'dc-work': { type: 'string', default: '' },
    // Environment for the library alone's two processes, K=V, repeatable: e.g. Cascade's launcher's
    // GLIBC_TUNABLES=glibc.malloc.arena_max=2, to see what it does to libdatachannel's threads.
    'dc-env': { type: 'string', multiple: true, default: [] },
    // The library alone's two processes pinned (taskset -c): the offerer's CPU list, then the
    // answerer's (0,1: one core each; 0,0: both on one), to see what placement does to its rate.
    'dc-cpus': { type: 'string' },
    // The Cascade seeder's upload limit (as `cascade limits --up` takes it: 10m, 64k), stored in its
    // state before it starts: a transfer at a set rate, or a peer connected with next to nothing to
    // move (64k), to tell the node's per-second work from its per-byte work.
    limit: { type: 'string' },
    // The same as the downloader's download limit (stored in its state before it starts).
    'down-limit': { type: 'string' },
    // Each case measured in a window of S seconds from 2 s after its first verified piece (the
    // library alone's: its first message):
    // per-thread CPU milliseconds per second of both ends and the window's rate; the case ends with
    // the window (its rate is the window's), so a capped transfer need not finish.
    window: { type: 'string' },
  },
});
const RUNS = Number(argv.runs);
const MiB = 1024 * 1024;
const SIZE = Number(argv.size) * MiB;
const DELAY = argv.delay === undefined ? 0 : Number(argv.delay);
type Case = 'lt' | 'tcp' | 'lt-utp' | 'utp' | 'webrtc' | 'turn' | 'dc' | 'dc-turn';
const DC_PEER = join(import.meta.dirname, 'dc-peer.ts');
/** The engine's data-channel message size (webrtc-connection.ts MAX_MESSAGE): the library alone sends the same. */
const DC_MESSAGE = 256 * 1024;
const CASES = argv.cases.split(',') as Case[];
/** Each Cascade case and the reference measured beside it, run by run. */
const PAIRS: [Case, Case, string][] = [
  ['tcp', 'lt', 'Cascade direct / libtorrent'],
  ['utp', 'lt-utp', 'Cascade over uTP / libtorrent over uTP'],
  ['webrtc', 'dc', 'Cascade WebRTC / the library alone'],
  ['turn', 'dc-turn', 'Cascade TURN / the library alone through the same coturn'],
];
const PYTHON = '/usr/bin/python3'; // python3-libtorrent is importable there only (a pyenv python may come first)
const DOWNLOAD_MS = 150_000;

requireLabTools(['ip', 'iptables', 'turnserver', PYTHON, ...(DELAY ? ['tc'] : [])]);

// The libtorrent side, inline (no other file): seeds on 0.0.0.0:6881, or downloads from one peer it
// dials itself. JSON lines with wall-clock ms (same clock as this process): seeding, connected,
// first (first payload byte, status polled every 10 ms until then), done (every piece verified).
const LT_PY = `
import json, sys, time
import libtorrent as lt
def emit(ev, **kw):
    kw.update(event=ev, t=time.time() * 1000); print(json.dumps(kw), flush=True)
role, torrent, save = sys.argv[1:4]
utp = role.endswith(':utp')  # uTP only (TCP off both ways), else TCP only
role = role.split(':')[0]
s = lt.high_performance_seed()
s.update({'listen_interfaces': '0.0.0.0:6881', 'enable_dht': False, 'enable_lsd': False, 'enable_upnp': False,
          'enable_natpmp': False, 'enable_incoming_utp': utp, 'enable_outgoing_utp': utp,
          'enable_incoming_tcp': not utp, 'enable_outgoing_tcp': not utp})
ses = lt.session(s)
h = ses.add_torrent({'ti': lt.torrent_info(torrent), 'save_path': save})
if role == 'seed':
    while not h.status().is_seeding: time.sleep(0.02)
    emit('seeding')
    while True: time.sleep(1)
host, port = sys.argv[4].rsplit(':', 1)
h.connect_peer((host, int(port)))
connected = first = False
while True:
    st = h.status()
    if not connected and st.num_peers > 0: connected = True; emit('connected')
    if not first and st.total_payload_download > 0: first = True; emit('first')
    if st.is_seeding: emit('done', downloaded=st.total_payload_download); break
    time.sleep(0.01 if not first else 0.05)
h.flush_cache(); time.sleep(0.5)
emit('exit')
`;

// Cleanups: the lab's, temp dirs; run at the end, on failure, and (synchronously) on Ctrl-C.
const afters: (() => unknown)[] = [];
const t = { after: (fn: () => unknown) => void afters.push(fn) };
const root = mkdtempSync(join(tmpdir(), 'cascade-bench-nat-'));
const removeRoot = () => rmSync(root, { recursive: true, force: true });
async function cleanup() {
  for (const fn of afters.splice(0).reverse()) await Promise.resolve().then(fn).catch((e) => console.error('cleanup:', e));
  removeRoot();
}

let lab: NatLab;
try {
  lab = await createNatLab(t);
} catch (e) {
  removeRoot();
  throw e;
}
// The lab's own SIGINT/SIGTERM handler (installed by createNatLab, so it runs first) removes its
// namespaces and kills its processes; this one removes the payloads and ends the process.
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => (removeRoot(), process.exit(130)));

/** Seconds from process start; `rest`: the fraction still to come at `ttfb` (Cascade's first event may be late). */
interface Sample { seconds: number; ttfb: number; rest: number; connect: number | null; transport: string; cpu?: { up: number; down: number } }

/** CPU seconds of each side of a transfer (bench/nat/proc-cpu.ts), with this run's --threads and size. */
const cpuWindow = (up: () => number | undefined, down: () => number | undefined, relay?: number) =>
  cpuWindowOf(up, down, relay, { threads: argv.threads === true, mib: SIZE / MiB, perGiB });
const results = new Map<Case, Sample[]>(CASES.map((c) => [c, []]));
/** coturn's process (its own process group): with --threads, its threads' share of each relayed case. */
let relayPid: number | undefined;

try {
  const [h0, h1, h2, h3] = await Promise.all([0, 1, 2, 3].map((i) => lab.publicHost(i)));
  // Two trackers for the direct and hole-punched cases (two STUN servers: a node tells cone from
  // symmetric with two), a third that mints TURN credentials for coturn for the relayed one, so
  // the cone cases run with nothing configured, as the lab tests do.
  const [t1, t2, t3] = await Promise.all([
    labTracker(lab, h0!),
    labTracker(lab, h1!),
    labTracker(lab, h2!, ['--turn-url', `turn:${h3}:3478`, '--turn-secret', TURN_SECRET]),
  ]);
  relayPid = (await coturn(t, lab, h3!, { secret: TURN_SECRET })).pid;
  // The direct case's torrent lists no WebSocket tracker: with one, the downloader also opens WebRTC
  // to the same seeder and the bytes split between the two transports (seen under load: 51 MB over
  // TCP, 15 MB over WebRTC), which is not the direct path this case measures.
  const swarm = async (name: string, trackers: string[]) => {
    const dir = join(root, name);
    mkdirSync(dir);
    return { dir, ...(await makeTorrent(lab, dir, 'payload.bin', SIZE, trackers)) };
  };
  const direct = await swarm('direct', [t1.udp, t2.udp]);
  const plain = { ...(await swarm('plain', [t1.ws, t1.udp, t2.udp])), wsTracker: t1.http };
  const relay = { ...(await swarm('relay', [t3.ws, t3.udp, t2.udp])), wsTracker: t3.http };
  const sourceHash = sha1(join(direct.dir, 'payload.bin'));

  console.log(`load average at the start: ${loadavg().map((x) => x.toFixed(2)).join(' ')} (${cpus().length} CPUs; other work on the machine slows every case)`);
  console.log(`NAT lab: ${SIZE / MiB} MiB, ${RUNS} run(s) per case, alternating; links: veth, ${DELAY ? `netem delay ${DELAY} ms on every home's WAN egress (RTT +${2 * DELAY} ms between homes)` : 'unshaped (no added latency, no bandwidth limit)'}`);
  for (let run = 0; run < RUNS; run++) {
    // Every other run in reverse order: each Cascade case and its reference (listed side by side)
    // take turns at going first, so a load that rises or falls through a sitting favours neither.
    for (const c of run % 2 ? [...CASES].reverse() : CASES) {
      const s =
        c === 'lt' || c === 'lt-utp' ? await libtorrentCase(direct, c === 'lt-utp' ? 'utp' : 'tcp')
        : c === 'dc' ? await dataChannelCase(c, [{ urls: t1.stun }, { urls: t2.stun }])
        : c === 'dc-turn' ? await dataChannelCase(c, [{ urls: t3.stun }, { urls: `turn:${h3}:3478`, ...turnLogin() }])
        : await cascadeCase(c, c === 'tcp' || c === 'utp' ? direct : c === 'turn' ? relay : plain, sourceHash);
      results.get(c)!.push(s);
      const cpu = s.cpu ? `  CPU-s/GiB sender ${perGiB(s.cpu.up)}, receiver ${perGiB(s.cpu.down)}` : '';
      console.log(`  run ${run + 1} ${c.padEnd(6)} ${rate(s.seconds).toFixed(1).padStart(6)} MiB/s  ttfb ${s.ttfb.toFixed(2)} s  connect ${s.connect === null ? '?' : s.connect.toFixed(2) + ' s'}  (${s.transport})${cpu}`);
    }
    for (const [ours, ref, what] of PAIRS) {
      const r = runRatio(ours, ref, run);
      if (r) console.log(`  run ${run + 1} ${what}: ${r.rate.toFixed(2)}x rate${r.steady === null ? '' : `, ${r.steady.toFixed(2)}x after the first byte`}  (load ${loadavg()[0]!.toFixed(2)})`);
    }
  }
  report();
} finally {
  await cleanup();
}

/** Rate after the first byte: what was still to come at the first-byte event over the time it took;
 *  null when (nearly) all of the file came within one 500 ms progress tick. */
function steadyRate(x: Sample): number | null {
  return x.rest > 0.1 ? (x.rest * SIZE / MiB) / (x.seconds - x.ttfb) : null;
}

/** Run `run`'s ratio of case `a` to case `b` (both measured in that run, back to back). */
function runRatio(a: Case, b: Case, run: number): { rate: number; steady: number | null } | null {
  const x = results.get(a)?.[run];
  const y = results.get(b)?.[run];
  if (!x || !y) return null;
  const sx = steadyRate(x);
  const sy = steadyRate(y);
  return { rate: y.seconds / x.seconds, steady: sx !== null && sy !== null ? sx / sy : null };
}

function perGiB(cpuSeconds: number) {
  return (cpuSeconds / (SIZE / (1024 * MiB))).toFixed(2);
}

function rate(seconds: number) {
  return SIZE / MiB / seconds;
}

function sha1(file: string) {
  return createHash('sha1').update(readFileSync(file)).digest('hex');
}

function median(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Two homes for a case; with --delay, netem on the WAN side of each (the router's, or the open host's). */
async function homes(natA: 'none' | 'cone' | 'symmetric', natB: 'cone' | 'symmetric'): Promise<[Home, Home]> {
  const a = await lab.addHome({ nat: natA });
  const b = await lab.addHome({ nat: natB });
  if (DELAY) {
    for (const h of [a, b]) {
      const [ns, dev] = h.router ? [h.router, 'wan'] : [h.ns, 'eth0'];
      const r = await lab.exec(ns, 'tc', ['qdisc', 'add', 'dev', dev, 'root', 'netem', 'delay', `${DELAY}ms`], { allowFail: true });
      if (r.code !== 0) throw new Error(`--delay: tc could not add netem (${r.stderr.trim()}); this kernel may lack sch_netem`);
    }
  }
  return [a, b];
}

/** The environment of a Cascade end: libdatachannel's log with --trace, V8 profiles with --cpu-prof,
 *  --node-options. */
function nodeEnv(who: string): Record<string, string> {
  const nodeOptions = [argv['cpu-prof'] ? `--cpu-prof --cpu-prof-dir=${join(argv['cpu-prof'], who)}` : '', argv['node-options'] ?? ''].join(' ').trim();
  return {
    ...(argv.trace ? { CASCADE_WEBRTC_LOG: 'Info' } : {}),
    ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
  };
}

/** WebSocket announces the tracker at `httpUrl` has received (its /metrics), asked from the public segment. */
async function wsAnnounces(httpUrl: string): Promise<number> {
  const r = await lab.exec(lab.public.ns, 'curl', ['-s', '--max-time', '5', `${new URL(httpUrl).origin}/metrics`], { allowFail: true });
  return Number(/cascade_tracker_announces_total\{protocol="ws"\} (\d+)/.exec(r.stdout)?.[1] ?? NaN);
}

async function cascadeCase(c: Exclude<Case, 'lt' | 'lt-utp'>, sw: { dir: string; torrent: string; infoHash: string; wsTracker?: string }, sourceHash: string): Promise<Sample> {
  const direct = c === 'tcp' || c === 'utp';
  const [a, b] = await homes(direct ? 'none' : c === 'webrtc' ? 'cone' : 'symmetric', c === 'turn' ? 'symmetric' : 'cone');
  // The TCP case turns uTP off on both ends, and so do the WebRTC ones: between two cone homes uTP
  // gets through too (seen once the nodes knew their NAT sooner: 66 MB of 256 over uTP, which the
  // engine then keeps over WebRTC to the same peer), and these cases measure WebRTC.
  const transport = c === 'utp' ? [] : ['--no-utp'];
  const dir = mkdtempSync(join(root, `${c}-`));
  const procs: LabProcess[] = [];
  try {
    const stateA = join(dir, 'a');
    const stateB = join(dir, 'b');
    const out = join(dir, 'out');
    // Both started as users start `cascade` (the launcher, Node's compile cache on), not as src/main.ts.
    const announced = sw.wsTracker ? await wsAnnounces(sw.wsTracker) : NaN;
    if (argv.limit) await cascadeVerb(lab, a.ns, ['limits', '--up', argv.limit, '--state-dir', stateA]);
    if (argv['down-limit']) await cascadeVerb(lab, b.ns, ['limits', '--down', argv['down-limit'], '--state-dir', stateB]);
    const seeder = cascadeIn(lab, a.ns, ['seed', sw.torrent, '--dir', sw.dir, '--json', '--no-dht', '--port', '6881', '--state-dir', stateA, ...transport], nodeEnv('seeder'), 'launcher');
    procs.push(seeder);
    await seeder.event((e) => e.event === 'seeding', 60_000, 'the seeder seeding');
    // In the WebRTC cases the seeder is in the WebSocket tracker's swarm before the download starts,
    // as a swarm's seeder is (and as the library alone's answerer is there from the start): its
    // first announces are paced (seeds at 2 a second) and come up to a second after 'seeding', and
    // a downloader's offers made before it reach nobody.
    for (let i = 0; !Number.isNaN(announced) && i < 100 && !((await wsAnnounces(sw.wsTracker!)) > announced); i++) await new Promise((r) => setTimeout(r, 100));
    const cpu = cpuWindow(() => seeder.child.pid, () => leecher.child.pid, c === 'turn' ? relayPid : undefined);
    cpu.start();
    const t0 = Date.now();
    const leecher = cascadeIn(lab, b.ns, ['download', sw.torrent, '-o', out, '--seed', '--json', '--no-dht', '--port', '6881', '--state-dir', stateB, ...transport], nodeEnv('downloader'), 'launcher');
    procs.push(leecher);
    const trace: string[] = [];
    if (argv.trace) {
      const follow = (who: string) => (d: string | Buffer) => {
        for (const line of String(d).split('\n')) if (line.trim() && !line.includes('"progress"') && trace.length < 600) trace.push(`    ${((Date.now() - t0) / 1000).toFixed(3)} ${who} ${line.slice(0, 160)}`);
      };
      for (const stream of [leecher.child.stdout!, leecher.child.stderr!]) stream.on('data', follow('downloader'));
      seeder.child.stderr!.on('data', follow('seeder'));
      leecher.event((e) => e.event === 'progress' && e.peers > 0, DOWNLOAD_MS, 'a peer').then(() => trace.push(`    ${((Date.now() - t0) / 1000).toFixed(3)} downloader: first progress event with peers`), () => {});
    }
    // Progress events come every 500 ms: connect and first byte are known to that resolution.
    let connect: number | null = null;
    let first: number | null = null;
    let rest = 1;
    const views: Promise<Record<string, any>[]>[] = [];
    const peersNow = () => views.push(cascadeVerb(lab, b.ns, ['peers', sw.infoHash, '--state-dir', stateB]).then((r) => r.torrents?.[0]?.peers ?? [], () => []));
    leecher.event((e) => e.event === 'progress' && e.peers > 0, DOWNLOAD_MS, 'a peer').then(() => (connect = (Date.now() - t0) / 1000), () => {});
    leecher.event((e) => e.event === 'progress' && (e.verifiedPieces > 0 || e.progress > 0), DOWNLOAD_MS, 'a first piece').then((e) => {
      first = (Date.now() - t0) / 1000;
      rest = 1 - e.progress;
      peersNow(); // while bytes flow: two seeds may drop each other once both are complete
    }, () => {});
    let windowRate: number | undefined;
    if (argv.window) {
      await leecher.event((e) => e.event === 'progress' && (e.verifiedPieces > 0 || e.progress > 0), DOWNLOAD_MS, 'a first piece');
      windowRate = await steadyWindow(seeder, leecher, Number(argv.window));
    } else await leecher.event((e) => e.event === 'done', DOWNLOAD_MS, `the ${c} download done`);
    const seconds = windowRate === undefined ? (Date.now() - t0) / 1000 : SIZE / MiB / windowRate;
    if (argv.trace) console.log(`    t0 = ${t0}\n${trace.join('\n')}`);
    const used = cpu.stop();
    peersNow();
    if (windowRate === undefined && sha1(join(out, 'payload.bin')) !== sourceHash) throw new Error(`${c}: the downloaded bytes differ from the source`);
    const seen = (await Promise.all(views)).flat().filter((p) => p.downloaded > 0 || p.progress === 1);
    const transports = [...new Set(seen.map((p) => (p.transport === 'webrtc' ? `webrtc relayed=${p.relayed}` : p.transport)))];
    const want = direct ? c : `webrtc relayed=${c === 'turn'}`;
    if (transports.length !== 1 || transports[0] !== want) throw new Error(`${c}: expected the seeder over ${want}, saw ${JSON.stringify(seen)}`);
    return { seconds, ttfb: first ?? seconds, rest, connect, transport: want, cpu: used };
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
    if (argv['node-log']) {
      mkdirSync(argv['node-log'], { recursive: true });
      procs.forEach((p, i) => writeFileSync(join(argv['node-log']!, `${c}-${(results.get(c)?.length ?? 0) + 1}-${i === 0 ? 'seeder' : 'downloader'}.log`), p.raw() + p.stderr()));
    }
    await a.stop();
    await b.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** --window: both ends' per-thread CPU ms per second over `seconds`, from 2 s after the first piece,
 *  printed with the window's rate (from the downloader's progress events); returns that rate, MiB/s. */
async function steadyWindow(seeder: LabProcess, leecher: LabProcess, seconds: number): Promise<number> {
  const done = () => Math.max(0, ...leecher.events.filter((e) => e.event === 'progress').map((e) => e.progress as number)) * SIZE;
  return threadWindow(seeder.child.pid, leecher.child.pid, done, seconds);
}

/** The window itself, for any pair of process groups; `done()`: the bytes received so far. */
async function threadWindow(up: number | undefined, down: number | undefined, done: () => number, seconds: number): Promise<number> {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  await sleep(2000);
  const before = [groupThreads(up), groupThreads(down)] as const;
  const [b0, w0] = [done(), Date.now()];
  await sleep(seconds * 1000);
  const after = [groupThreads(up), groupThreads(down)] as const;
  const wall = (Date.now() - w0) / 1000;
  const mibs = (done() - b0) / MiB / wall;
  const show = (m: Map<string, { cpu: number; cs: number }>, m0: Map<string, { cpu: number; cs: number }>) => {
    const rows = [...m].map(([k, v]) => [k, (v.cpu - (m0.get(k)?.cpu ?? 0)) / wall, (v.cs - (m0.get(k)?.cs ?? 0)) / wall] as const).filter(([, v]) => v > 0.002).sort((x, y) => y[1] - x[1]);
    const total = rows.reduce((a, [, v]) => a + v, 0);
    return `total ${(total * 1000).toFixed(0)}: ` + rows.map(([k, v, cs]) => `${k} ${(v * 1000).toFixed(0)}${mibs > 1 ? ` (${(v / (mibs / 1024)).toFixed(2)} s/GiB)` : ''} ${cs.toFixed(0)} cs/s`).join(', ');
  };
  console.log(`    window ${wall.toFixed(1)} s at ${mibs.toFixed(2)} MiB/s (load ${loadavg()[0]!.toFixed(2)}), CPU ms per second by thread:\n      sender   ${show(after[0], before[0])}\n      receiver ${show(after[1], before[1])}`);
  return mibs;
}

async function libtorrentCase(sw: { dir: string; torrent: string }, transport: 'tcp' | 'utp'): Promise<Sample> {
  const role = (r: string) => (transport === 'utp' ? `${r}:utp` : r);
  const [a, b] = await homes('none', 'cone');
  const dir = mkdtempSync(join(root, 'lt-'));
  const procs: ChildProcess[] = [];
  try {
    const seeder = ltIn(a.ns, [role('seed'), sw.torrent, sw.dir]);
    procs.push(seeder.child);
    await seeder.event('seeding', 60_000);
    const cpu = cpuWindow(() => seeder.child.pid, () => leecher.child.pid);
    cpu.start();
    const t0 = Date.now();
    const leecher = ltIn(b.ns, [role('download'), sw.torrent, dir, `${a.lanAddress}:6881`]);
    procs.push(leecher.child);
    const done = await leecher.event('done', DOWNLOAD_MS);
    const used = cpu.stop();
    const connected = await leecher.event('connected', 0);
    const first = await leecher.event('first', 0);
    return { seconds: (done.t - t0) / 1000, ttfb: (first.t - t0) / 1000, rest: 1, connect: (connected.t - t0) / 1000, transport, cpu: used };
  } finally {
    for (const p of procs) if (p.pid && p.exitCode === null) try { process.kill(-p.pid, 'SIGKILL'); } catch { /* gone */ }
    await a.stop();
    await b.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** TURN credentials as the third tracker mints them for Cascade's relayed case (coturn's use-auth-secret),
 *  percent-encoded as the engine hands them to libdatachannel (engine/src/node/webrtc.ts
 *  forLibdatachannel: it builds `turn:user:pass@host` unescaped, and the user name holds a ':'). */
function turnLogin() {
  const c = mintTurnCredentials(TURN_SECRET, 3600);
  return { username: encodeURIComponent(c.username), credential: encodeURIComponent(c.credential) };
}

/**
 * The WebRTC library alone: an offerer in one home sends SIZE bytes over one data channel to an
 * answerer in the other (cone ↔ cone hole punched with the trackers' STUN, or symmetric ↔ symmetric
 * through coturn), signalling relayed through this process. Times are the answerer's: channel open,
 * first and last byte.
 */
async function dataChannelCase(c: 'dc' | 'dc-turn', iceServers: RTCIceServer[]): Promise<Sample> {
  // Relayed only between two symmetric NATs, as the engine's connections there (ws-pool relayOnly):
  // the other candidates cannot work, and coturn refuses permissions for them.
  const config: RTCConfiguration = { iceServers, ...(c === 'dc-turn' ? { iceTransportPolicy: 'relay' as const } : {}) };
  const [a, b] = await homes(c === 'dc' ? 'cone' : 'symmetric', c === 'dc' ? 'cone' : 'symmetric');
  const procs: ChildProcess[] = [];
  try {
    const t0 = Date.now();
    const peer = (ns: string, role: 'offer' | 'answer') => {
      const cpu = argv['dc-cpus']?.split(',')[role === 'offer' ? 0 : 1];
      const [cmd, pre] = cpu ? ['taskset', ['-c', cpu, process.execPath]] : [process.execPath, []];
      const child = lab.spawn(ns, cmd, [...pre, DC_PEER, role, JSON.stringify(config), String(SIZE), String(DC_MESSAGE), argv['dc-idle'], argv['dc-work']], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...Object.fromEntries(argv['dc-env'].map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])) } });
      if (process.env.CASCADE_WEBRTC_LOG) child.stderr!.on('data', (d: Buffer) => process.stderr.write(`[${role}] ${d}`));
      procs.push(child);
      // SDP and candidates go to the other end; the rest are the peer's events.
      return jsonLines(child, `${c} ${role}`, (m) => (m.sdp || m.candidate ? (child.emit('signal', m), true) : false));
    };
    const offerer = peer(a.ns, 'offer');
    const answerer = peer(b.ns, 'answer');
    const cpu = cpuWindow(() => offerer.child.pid, () => answerer.child.pid, c === 'dc-turn' ? relayPid : undefined);
    cpu.start();
    offerer.child.on('signal', (m) => answerer.child.stdin!.write(`${JSON.stringify(m)}\n`));
    answerer.child.on('signal', (m) => offerer.child.stdin!.write(`${JSON.stringify(m)}\n`));
    if (argv.window) {
      // The same steady window as the Cascade cases': from 2 s after the first message.
      await answerer.event('first', DOWNLOAD_MS);
      const got = () => Math.max(0, ...answerer.events.filter((e) => e.event === 'got').map((e) => e.bytes as number));
      const mibs = await threadWindow(offerer.child.pid, answerer.child.pid, got, Number(argv.window));
      return { seconds: SIZE / MiB / mibs, ttfb: 0, rest: 0, connect: null, transport: `${c} window`, cpu: cpu.stop() };
    }
    const done = await answerer.event('done', DOWNLOAD_MS);
    const used = cpu.stop();
    const open = await answerer.event('open', 0);
    const first = await answerer.event('first', 0);
    if (done.relayed !== (c === 'dc-turn')) throw new Error(`${c}: expected relayed=${c === 'dc-turn'}, the pair in use says ${done.relayed}`);
    return { seconds: (done.t - t0) / 1000, ttfb: (first.t - t0) / 1000, rest: 1, connect: (open.t - t0) / 1000, transport: `webrtc relayed=${done.relayed}`, cpu: used };
  } finally {
    for (const p of procs) if (p.pid && p.exitCode === null) try { process.kill(-p.pid, 'SIGKILL'); } catch { /* gone */ }
    await a.stop();
    await b.stop();
  }
}

function ltIn(ns: string, args: string[]) {
  return jsonLines(lab.spawn(ns, PYTHON, ['-c', LT_PY, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }), `libtorrent ${args[0]}`);
}

/**
 * A child that reports JSON lines on stdout ({event, t, …}): `event(name, ms)` resolves with the
 * first line of that event, or fails naming `label`, the last events and stderr when the child
 * exits or `ms` pass first. `take` may claim a line for something else (signalling) first.
 */
function jsonLines(child: ChildProcess, label: string, take: (m: Record<string, any>) => boolean = () => false) {
  const events: Record<string, any>[] = [];
  let err = '';
  let buf = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    for (let nl; (nl = buf.indexOf('\n')) >= 0; buf = buf.slice(nl + 1)) {
      if (!buf.startsWith('{')) continue;
      const m = JSON.parse(buf.slice(0, nl)) as Record<string, any>;
      if (!take(m)) events.push(m);
    }
    child.emit('json-event');
  });
  const event = (name: string, ms: number) => new Promise<Record<string, any>>((resolve, reject) => {
    const check = () => {
      const e = events.find((x) => x.event === name);
      if (e) (clean(), resolve(e));
    };
    const fail = (why: string) => () => (clean(), reject(new Error(`${label}: ${why} before "${name}": ${JSON.stringify(events.slice(-5))} ${err.slice(-2000)}`)));
    const onExit = fail('exited');
    const timer = setTimeout(fail(`${ms} ms passed`), ms);
    const clean = () => (clearTimeout(timer), child.off('json-event', check), child.off('exit', onExit));
    child.on('json-event', check);
    child.once('exit', onExit);
    check();
  });
  return { child, event, events };
}

function report() {
  const row = (c: Case) => {
    const xs = results.get(c)!;
    if (!xs.length) return null;
    const r = xs.map((x) => rate(x.seconds));
    const connects = xs.map((x) => x.connect).filter((x): x is number => x !== null);
    // Over what was still to come at the first-byte event; not measurable when (nearly) all of the
    // file came within one 500 ms progress tick.
    const steady = xs.map(steadyRate).filter((x): x is number => x !== null);
    const cpu = xs.every((x) => x.cpu) ? `${perGiB(median(xs.map((x) => x.cpu!.up)))} / ${perGiB(median(xs.map((x) => x.cpu!.down)))}` : '?';
    return { rate: median(r), min: Math.min(...r), max: Math.max(...r), ttfb: median(xs.map((x) => x.ttfb)), connect: connects.length ? median(connects) : null, steady: steady.length ? median(steady) : null, cpu };
  };
  const names: Record<Case, string> = {
    lt: 'libtorrent → libtorrent, TCP (open → cone)',
    tcp: 'Cascade direct, TCP (open → cone)',
    'lt-utp': 'libtorrent → libtorrent, uTP (open → cone)',
    utp: 'Cascade direct, uTP (open → cone, the default)',
    webrtc: 'Cascade hole punched, WebRTC (cone ↔ cone)',
    turn: 'Cascade relayed, TURN (symmetric ↔ symmetric)',
    dc: 'WebRTC library alone, data channel (cone ↔ cone)',
    'dc-turn': 'WebRTC library alone, TURN (symmetric ↔ symmetric)',
  };
  console.log(`\nload average at the end: ${loadavg().map((x) => x.toFixed(2)).join(' ')} (${cpus().length} CPUs)`);
  console.log(`median of ${RUNS}; rate = ${SIZE / MiB} MiB / (process start → done); ttfb = process start → first byte; connect = process start → first peer`);
  console.log(`${'case'.padEnd(48)}${'MiB/s'.padStart(8)} ${'(min-max)'.padStart(13)}${'ttfb s'.padStart(8)}${'connect s'.padStart(11)}${'after 1st byte MiB/s'.padStart(22)}  CPU-s/GiB send / receive`);
  const rows = new Map<Case, NonNullable<ReturnType<typeof row>>>();
  for (const c of CASES) {
    const r = row(c);
    if (!r) continue;
    rows.set(c, r);
    console.log(`${names[c].padEnd(48)}${r.rate.toFixed(1).padStart(8)} ${`(${r.min.toFixed(1)}-${r.max.toFixed(1)})`.padStart(13)}${r.ttfb.toFixed(2).padStart(8)}${(r.connect === null ? '?' : r.connect.toFixed(2)).padStart(11)}${(r.steady === null ? 'n/a (<1 tick)' : r.steady.toFixed(1)).padStart(22)}  ${r.cpu}`);
  }
  const ratio = (a: Case, b: Case, what: string) => {
    const x = rows.get(a);
    const y = rows.get(b);
    if (x && y) console.log(`  ${what}: ${(x.rate / y.rate).toFixed(2)}x rate, ttfb ${(x.ttfb / y.ttfb).toFixed(2)}x`);
  };
  console.log('ratios (medians):');
  ratio('tcp', 'lt', 'Cascade direct / libtorrent');
  ratio('utp', 'lt-utp', 'Cascade direct over uTP / libtorrent over uTP');
  ratio('utp', 'tcp', 'Cascade over uTP / Cascade over TCP');
  ratio('webrtc', 'tcp', 'WebRTC / direct');
  ratio('turn', 'tcp', 'TURN / direct');
  // The library alone needs no tracker, torrent or hashing: its whole-file rate includes less. The
  // rate after the first byte compares the transfers themselves.
  const steadyRatio = (a: Case, b: Case, what: string) => {
    const x = rows.get(a);
    const y = rows.get(b);
    if (x && y) console.log(`  ${what}: ${(x.rate / y.rate).toFixed(2)}x rate, ${x.steady !== null && y.steady !== null ? `${(x.steady / y.steady).toFixed(2)}x after the first byte` : 'after the first byte n/a'}`);
  };
  steadyRatio('webrtc', 'dc', 'Cascade WebRTC / the library alone');
  steadyRatio('turn', 'dc-turn', 'Cascade TURN / the library alone through the same coturn');
  // The reference's own rate moves between runs as much as the gap: each run's pair, measured back
  // to back, is the comparison that holds.
  console.log('ratios run by run (each run\'s pair back to back, the order alternating):');
  for (const [ours, ref, what] of PAIRS) {
    const rs = Array.from({ length: RUNS }, (_, i) => runRatio(ours, ref, i)).filter((r) => r !== null);
    if (!rs.length) continue;
    const rates = rs.map((r) => r.rate);
    const steadies = rs.map((r) => r.steady).filter((x): x is number => x !== null);
    console.log(`  ${what}: rate ${rates.map((x) => x.toFixed(2)).join(' / ')} (min ${Math.min(...rates).toFixed(2)}x)${steadies.length ? `, after the first byte ${steadies.map((x) => x.toFixed(2)).join(' / ')} (min ${Math.min(...steadies).toFixed(2)}x)` : ''}`);
  }
  console.log('ttfb/connect: Cascade from its JSON progress events (every 500 ms: first with verifiedPieces > 0, first with peers > 0), after a tracker announce;');
  console.log('  libtorrent polled every 10 ms, dialling the seeder itself (no tracker round trip). Both include process start-up.');
  console.log('CPU-s/GiB: user + system seconds of each side\'s process group per GiB moved; the receiver\'s whole life (start-up included), the sender\'s from the receiver\'s start.');
  if (!DELAY) console.log('links are unshaped (veth, no latency or bandwidth limit): rates are CPU-bound, not what a real network gives; --delay MS adds netem latency where the kernel has sch_netem');
}

