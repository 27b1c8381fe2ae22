// One swarm in the lab: a seed and N downloaders in their own namespaces, started on a schedule, the
// kernel's link counters and the clients' progress sampled every `sampleMs`, and each download's
// bytes checked (sha256) at the end. metrics.ts turns the result into the table's figures.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createSwarmLab, removeOnExit, stopChild, type LinkCounters, type SwarmLab } from './lab.ts';
import { ANNOUNCE_URL, LT_PY, PYTHON, sampleCpu, startPeer, startTracker, stopPeer, type Client, type PeerProc } from './peers.ts';

export type ClientMix = 'lt' | 'cascade' | 'mixed';

export interface SwarmSpec {
  scenario: string;
  clients: ClientMix;
  /** Downloaders' upload caps (bytes/s), one per downloader; N = ups.length. */
  ups: number[];
  seedUp: number;
  /** Every peer's download cap (bytes/s). */
  down: number;
  /** Downloader i starts at i × arrivalGapMs (0: all at once). */
  arrivalGapMs: number;
  /** Downloaders exit once complete (no --seed / --stay). */
  leaveOnComplete: boolean;
  /** The seed starts this long after the first downloader (0: before them, seeding when they start). */
  seedDelayMs: number;
  /** The seed leaves once the first downloader is complete (one full copy is out). */
  seedLeaves: boolean;
  /** Cascade peers with --no-chain. */
  noChain: boolean;
  /** The seed super-seeds (BEP 16): `cascade seed --super-seed`, libtorrent's super_seeding flag. */
  superSeed?: boolean;
  /** The seed's client in a mixed swarm. */
  mixedSeed: Client;
  timeoutMs: number;
  sampleMs: number;
  trackerInterval: number;
}

export interface Data {
  file: string;
  torrent: string;
  size: number;
  sha256: string;
  pieceLength: number;
}

export interface PeerSeries {
  t: number[];
  progress: number[];
  up: number[];
  upPk: number[];
  down: number[];
  downPk: number[];
}

export interface SwarmResult {
  spec: SwarmSpec;
  data: Data;
  /** Index 0 is the seed, 1..N the downloaders. */
  peers: PeerProc[];
  caps: { up: number; down: number }[];
  series: PeerSeries[];
  /** Swarm clock (ms) of the start: downloaders spawned with the seed seeding, or the late seed seeding. */
  t0: number;
  /** sha256 of each downloader's file matched (index 1..N; index 0 unused). */
  verified: boolean[];
  timedOut: boolean;
  errors: string[];
  /** The lab's id: its namespaces were named `<labId>-…` (all removed when runSwarm returns). */
  labId: string;
}

/** A file of random bytes and its v1 torrent announcing to the lab tracker (libtorrent makes it). */
export async function makeData(root: string, size: number, pieceLength = 256 * 1024): Promise<Data> {
  const dir = join(root, 'src');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `swarm-lab-${size}.bin`);
  const h = createHash('sha256');
  await new Promise<void>((res, rej) => {
    const out = createWriteStream(file);
    out.on('error', rej);
    let left = size;
    const write = () => {
      while (left > 0) {
        const chunk = randomBytes(Math.min(left, 1 << 20));
        left -= chunk.length;
        h.update(chunk);
        if (!out.write(chunk)) return void out.once('drain', write);
      }
      out.end(res);
    };
    write();
  });
  const torrent = join(root, `swarm-lab-${size}.torrent`);
  const r = spawnSync(PYTHON, [LT_PY, 'create', file, torrent, '--piece-length', String(pieceLength), '--announce', ANNOUNCE_URL], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`lt.py create failed: ${r.stdout} ${r.stderr}`);
  return { file, torrent, size, sha256: h.digest('hex'), pieceLength };
}

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Downloader i's (1-based) upload cap: 1…2 MB/s spread evenly, rising with i. The mixed swarm's
 *  halves (clientOf: Cascade, lt, lt, Cascade, …) then get the same caps on average, each block of
 *  four ranks split evenly. */
export function heterogeneousUps(n: number): number[] {
  const ups: number[] = [];
  for (let i = 1; i <= n; i++) ups.push(n === 1 ? 1.5e6 : 1e6 + (1e6 * (i - 1)) / (n - 1));
  return ups;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The client of downloader i (1-based) in a mix: Cascade, lt, lt, Cascade, and again. Each half gets
 *  like caps (heterogeneousUps) and like start slots: with odd i Cascade (until 29 Nov) every Cascade
 *  peer of the arrivals scenario started one gap before a libtorrent one, into a thinner swarm, and
 *  the completion times (each from its own start) leaned against Cascade for that alone.
 *  Downloader 1 (the slow scenario's) stays Cascade. */
export function clientOf(mix: ClientMix, i: number, mixedSeed: Client): Client {
  if (mix !== 'mixed') return mix;
  if (i === 0) return mixedSeed;
  return (i - 1) % 4 === 0 || (i - 1) % 4 === 3 ? 'cascade' : 'lt';
}

/** Samples each lab peer's wire counters and progress into `series` every `sampleMs` (and once now),
 *  and each peer's CPU every second. */
export function startSampler(lab: SwarmLab, series: PeerSeries[], peers: (PeerProc | undefined)[], sampleMs: number, clock: () => number): { sample: () => void; timer: NodeJS.Timeout } {
  let cpuTick = 0;
  const sample = () => {
    const t = clock();
    const wire = lab.counters();
    for (let i = 0; i < series.length; i++) {
      const s = series[i]!;
      const w: LinkCounters | undefined = wire.get(lab.peers[i]!.hubIf);
      s.t.push(t);
      s.progress.push(peers[i]?.progress ?? 0);
      s.up.push(w?.upBytes ?? 0); s.upPk.push(w?.upPackets ?? 0);
      s.down.push(w?.downBytes ?? 0); s.downPk.push(w?.downPackets ?? 0);
    }
    if (++cpuTick % Math.max(1, Math.round(1000 / sampleMs)) === 0) for (const p of peers) if (p) sampleCpu(p);
  };
  const timer = setInterval(sample, sampleMs);
  sample();
  return { sample, timer };
}

/** Waits until every downloader (peers 1…) is complete or has exited (each exit before completing is
 *  an error), or `timeoutMs` is up (answers true). `tick` runs every 100 ms, `report` every 10 s. */
export async function awaitDownloaders(peers: PeerProc[], timeoutMs: number, errors: string[], tick: (done: number) => void, report: (done: number) => void): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let lastReport = Date.now();
  for (;;) {
    const downs = peers.slice(1);
    const done = downs.filter((p) => p.doneAt !== undefined).length;
    tick(done);
    if (done === downs.length) return false;
    for (const p of downs) {
      if (p.exitedAt !== undefined && p.doneAt === undefined && !errors.some((e) => e.startsWith(`p${p.peer.index} `))) {
        errors.push(`p${p.peer.index} (${p.client}) exited before completing: ${p.stderr.slice(-1500)}`);
      }
    }
    if (downs.every((p) => p.doneAt !== undefined || p.exitedAt !== undefined)) return false;
    if (Date.now() > deadline) return true;
    if (Date.now() - lastReport > 10_000) {
      lastReport = Date.now();
      report(done);
    }
    await sleep(100);
  }
}

export async function runSwarm(spec: SwarmSpec, data: Data, log: (s: string) => void = () => {}): Promise<SwarmResult> {
  const { lab, root, clock, caps, series, errors, close } = await openSwarm(spec);
  const n = spec.ups.length;
  const peers: PeerProc[] = [];
  let sampler: NodeJS.Timeout | undefined;
  try {
    for (const c of caps) await lab.addPeer(c.up, c.down);
    const tracker = await startTracker(lab, spec.trackerInterval);
    const start = (i: number): PeerProc => {
      const role = i === 0 ? 'seed' : 'down';
      const dir = i === 0 ? dirname(data.file) : join(root, `d${i}`);
      const p = startPeer(lab, lab.peers[i]!, clientOf(spec.clients, i, spec.mixedSeed), {
        torrent: data.torrent, dir, stateDir: join(root, `state${i}`), role, stay: !spec.leaveOnComplete, noChain: spec.noChain, superSeed: spec.superSeed === true, clock,
      });
      peers[i] = p;
      return p;
    };
    for (let i = 1; i <= n; i++) await mkdir(join(root, `d${i}`), { recursive: true });

    const sampling = startSampler(lab, series, peers, spec.sampleMs, clock);
    const sample = sampling.sample;
    sampler = sampling.timer;

    let t0 = 0;
    const seedUp = async () => {
      const s = start(0);
      const deadline = Date.now() + 120_000;
      while (s.seedingAt === undefined) {
        if (s.exitedAt !== undefined || Date.now() > deadline) throw new Error(`the seed (${s.client}) did not start seeding: ${s.stderr.slice(-2000)}`);
        await sleep(50);
      }
      log(`seed (${s.client}) seeding at ${(s.seedingAt / 1000).toFixed(1)} s`);
      return s.seedingAt;
    };
    if (spec.seedDelayMs === 0) await seedUp();
    const firstArrival = clock();
    t0 = firstArrival;
    // Downloaders on their schedule; the late seed in parallel.
    const late = spec.seedDelayMs > 0 ? sleep(spec.seedDelayMs).then(seedUp).then((at) => { t0 = at; }) : Promise.resolve();
    const arrivals = (async () => {
      for (let i = 1; i <= n; i++) {
        if (i > 1 && spec.arrivalGapMs > 0) await sleep(spec.arrivalGapMs);
        start(i);
      }
    })();
    await arrivals;
    log(`${n} downloaders started`);

    // Until every downloader is complete (or gone, or time is up); the seed leaves when told.
    let seedLeft = false;
    const timedOut = await awaitDownloaders(peers, spec.timeoutMs, errors, (done) => {
      if (spec.seedLeaves && done > 0 && peers[0] && !seedLeft) {
        seedLeft = true;
        log(`first copy out at ${(clock() / 1000).toFixed(1)} s: the seed leaves`);
        void stopPeer(peers[0]);
      }
    }, (done) => log(`  ${(clock() / 1000).toFixed(0)} s: ${done}/${n} done, progress ${peers.slice(1).map((p) => Math.round(p.progress * 100)).join(' ')}`));
    await late.catch((err: unknown) => { errors.push(String(err)); });
    sample();
    clearInterval(sampler);
    sampler = undefined;
    await Promise.all(peers.filter(Boolean).map(stopPeer));
    await stopChild(tracker);
    if (timedOut) errors.push(`timed out after ${spec.timeoutMs / 1000} s: ${peers.slice(1).filter((p) => p.doneAt === undefined).map((p) => `p${p.peer.index}(${p.client}) ${Math.round(p.progress * 100)}%`).join(', ')}`);
    const verified = [false];
    for (let i = 1; i <= n; i++) {
      const f = join(root, `d${i}`, basename(data.file));
      verified.push(existsSync(f) && (await sha256File(f)) === data.sha256);
    }
    return { spec, data, peers, caps, series, t0, verified, timedOut, errors, labId: lab.id };
  } finally {
    if (sampler) clearInterval(sampler);
    await close();
  }
}

/** What runSwarm and runMany (many.ts) share: the lab, its scratch dir, the swarm clock, each
 *  peer's caps (the seed first) and sample series, and close() that removes them all. */
export async function openSwarm(spec: SwarmSpec) {
  const lab = await createSwarmLab();
  const root = await mkdtemp(join(tmpdir(), `${lab.id}-`));
  const forget = removeOnExit(root);
  const started = Date.now();
  const caps = [{ up: spec.seedUp, down: spec.down }, ...spec.ups.map((up) => ({ up, down: spec.down }))];
  return {
    lab,
    root,
    clock: () => Date.now() - started,
    caps,
    series: caps.map((): PeerSeries => ({ t: [], progress: [], up: [], upPk: [], down: [], downPk: [] })),
    errors: [] as string[],
    async close(): Promise<void> {
      await lab.close();
      await rm(root, { recursive: true, force: true, maxRetries: 3 });
      forget();
    },
  };
}
