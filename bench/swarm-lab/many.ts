// The swarm lab's "many" scenario (issue 60): K torrents × N downloaders, ONE client per peer holding
// all K, so each peer's connection and unchoke slots and its capped link are shared by its torrents.
// Cascade runs as `cascade serve` (the launcher, --json, --no-dht, its own state dir, the API on the
// namespace's 127.0.0.1 port 0) with the torrents added through its API by many-poll.ts, which runs in
// the same namespace and prints the node's list; libtorrent runs lt_peer.py with K --torrent.
// The result is folded into one SwarmResult (F = K × each torrent's size, a peer's progress = its
// share of all K, complete = its last torrent complete) so metrics.ts gives T*, makespan, upload
// use, stalls and CPU as for the other scenarios; the per-torrent times give the mean over
// torrents × peers and the spread from the first torrent complete everywhere to the last.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { stopChild, type LabPeer, type SwarmLab } from './lab.ts';
import { ANNOUNCE_URL, CLI_BIN, LT_PEER, LT_PY, PYTHON, REPO_ROOT, sampleCpu, startTracker, type Client, type PeerProc } from './peers.ts';
import { awaitDownloaders, clientOf, openSwarm, sha256File, startSampler, type Data, type SwarmResult, type SwarmSpec } from './swarm.ts';
import { figures, type Figures } from './metrics.ts';

const POLLER = join(import.meta.dirname, 'many-poll.ts');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** K files of random bytes (distinct torrents), each with its v1 torrent announcing to the lab tracker. */
export async function makeManyData(root: string, count: number, size: number, pieceLength = 256 * 1024): Promise<Data[]> {
  const dir = join(root, 'src');
  await mkdir(dir, { recursive: true });
  const out: Data[] = [];
  for (let k = 0; k < count; k++) {
    const file = join(dir, `many-${k}-${size}.bin`);
    const h = createHash('sha256');
    const bytes = randomBytes(size);
    h.update(bytes);
    writeFileSync(file, bytes);
    const torrent = join(root, `many-${k}-${size}.torrent`);
    const r = spawnSync(PYTHON, [LT_PY, 'create', file, torrent, '--piece-length', String(pieceLength), '--announce', ANNOUNCE_URL], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`lt.py create failed: ${r.stdout} ${r.stderr}`);
    out.push({ file, torrent, size, sha256: h.digest('hex'), pieceLength });
  }
  return out;
}

/** A peer of the many scenario: the PeerProc metrics.ts reads (aggregate over its torrents) plus each torrent's own. */
interface ManyPeer extends PeerProc {
  doneK: (number | undefined)[];
  progressK: number[];
  downK: number[];
  wastedK: number[];
  poller?: ChildProcess;
  /** Seed: its payload sent when its peers first held every piece of every torrent (as PeerProc's, declared here too). */
  outUp?: number;
  outAt?: number;
}

export interface ManyResult {
  result: SwarmResult;
  queue: boolean;
  torrents: number;
  /** Per downloader (index 1..N; 0 unused), each torrent's completion on the swarm clock (ms). */
  doneK: (number | undefined)[][];
}

function startManyPeer(lab: SwarmLab, peer: LabPeer, client: Client, o: {
  torrents: string[]; dir: string; stateDir: string; role: 'seed' | 'down'; noChain: boolean; queue: boolean; sampleMs: number; clock: () => number; errors: string[];
}): ManyPeer {
  const k = o.torrents.length;
  const env = { ...process.env, CASCADE_PORT_MAPPING: 'off', CASCADE_LSD: 'off', HOME: o.stateDir };
  const child = client === 'cascade'
    ? lab.spawn(peer.ns, CLI_BIN, ['serve', '--json', '--no-dht', '--state-dir', o.stateDir, '--http-port', '0', '--tracker-port', '0',
      '--download-dir', o.dir, ...(o.noChain ? ['--no-chain'] : [])], { cwd: REPO_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] })
    : lab.spawn(peer.ns, PYTHON, [LT_PEER, ...o.torrents.flatMap((t) => ['--torrent', t]), '--dir', o.dir, ...(o.role === 'seed' ? ['--seed'] : ['--stay']), ...(o.queue ? [] : ['--no-queue'])],
      { cwd: REPO_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  const p: ManyPeer = {
    peer, client, role: o.role, child, spawnedAt: o.clock(), progress: 0, cpu: 0, stderr: '', lines: 0,
    doneK: new Array(k).fill(undefined), progressK: new Array(k).fill(0), downK: new Array(k).fill(0), wastedK: new Array(k).fill(0),
  };
  child.stdin!.on('error', () => {});
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => { p.stderr = (p.stderr + d).slice(-20_000); });
  child.once('exit', () => { p.exitedAt = o.clock(); });
  let url: string | undefined;
  const out: boolean[] = new Array(k).fill(false);
  const rows = (e: Record<string, unknown>, now: number) => {
    const list = e.torrents as { i: number; progress: number; state?: string; down: number; up: number; copies?: number }[] | undefined;
    if (!list) return;
    for (const r of list) {
      p.progressK[r.i] = r.progress;
      // Cascade: complete once every piece is verified and it is not (re)checking; libtorrent says `done` itself.
      if (client === 'cascade' && p.doneK[r.i] === undefined && r.progress >= 1 && r.state !== 'checking' && r.state !== 'missing') {
        p.doneK[r.i] = now;
        p.downK[r.i] = Number(r.down);
      }
    }
    p.progress = p.progressK.reduce((a, b) => a + b, 0) / k;
    if (p.role === 'seed') {
      if (p.seedingAt === undefined && p.doneK.every((d) => d !== undefined)) p.seedingAt = now;
      // Seed copies: its payload sent (summed over torrents) once every torrent's pieces were all held by its
      // peers, each at its first report of distributed copies ≥ 1 (lt_peer.py's `copies`; the poller's, from the detail).
      for (const r of list) if (Number(r.copies) >= 1) out[r.i] = true;
      if (p.outAt === undefined && list.length === k && out.every(Boolean)) {
        p.outAt = now;
        p.outUp = list.reduce((a, r) => a + Number(r.up), 0);
      }
    }
    if (p.doneAt === undefined && p.role === 'down' && p.doneK.every((d) => d !== undefined)) {
      p.doneAt = now;
      p.progress = 1;
      p.payloadDown = p.downK.reduce((a, b) => a + b, 0);
      if (client === 'lt') p.wasted = p.wastedK.reduce((a, b) => a + b, 0);
    }
  };
  const startPoller = () => {
    const poller = lab.spawn(peer.ns, process.execPath, [POLLER, '--url', url!, '--token-file', join(o.stateDir, 'api-token'), '--save', o.dir,
      '--every', String(o.sampleMs), ...(o.queue ? [] : ['--no-queue']), ...(o.role === 'seed' ? ['--copies'] : []), ...o.torrents.flatMap((t) => ['--torrent', t])], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    p.poller = poller;
    poller.stdin!.on('error', () => {});
    let perr = '';
    poller.stderr!.setEncoding('utf8');
    poller.stderr!.on('data', (d: string) => { perr = (perr + d).slice(-4000); });
    poller.once('exit', (code) => { if (code) o.errors.push(`p${peer.index} poller exited (${code}): ${perr.slice(-1500)}`); });
    createInterface({ input: poller.stdout! }).on('line', (line) => {
      let e: Record<string, unknown>;
      try { e = JSON.parse(line) as Record<string, unknown>; } catch { return; }
      if (e.event === 'progress') rows(e, o.clock());
      else if (e.event === 'error' && !e.transient) o.errors.push(`p${peer.index} poller: ${String(e.message)}`);
    });
  };
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (!line.startsWith('{')) return;
    let e: Record<string, unknown>;
    try { e = JSON.parse(line) as Record<string, unknown>; } catch { return; }
    p.lines++;
    const now = o.clock();
    if (e.event === 'listening') {
      p.readyAt ??= now;
      if (client === 'cascade') url = String(e.url);
    }
    if (client === 'cascade') {
      // `serving` comes once the stored torrents are loaded (none here): the API takes adds from then on.
      if (e.event === 'serving' && url !== undefined && !p.poller) startPoller();
      return;
    }
    if (e.event === 'progress') rows(e, now);
    if (e.event === 'done' && typeof e.i === 'number' && p.doneK[e.i] === undefined) {
      p.doneK[e.i] = now;
      p.downK[e.i] = Number(e.down);
      p.wastedK[e.i] = Number(e.redundant) + Number(e.failed);
      rows({ torrents: [] }, now);
    }
    if (e.event === 'seeding' && p.role === 'seed') p.seedingAt ??= now;
  });
  return p;
}

async function stopManyPeer(p: ManyPeer): Promise<void> {
  sampleCpu(p);
  if (p.poller) await stopChild(p.poller, 2_000);
  await stopChild(p.child, 5_000);
}

/** `queue: false` lifts both clients' queues (Cascade's maxActiveDownloads, libtorrent's auto-management). */
export async function runMany(spec: SwarmSpec, datas: Data[], log: (s: string) => void = () => {}, queue = true): Promise<ManyResult> {
  const { lab, root, clock, caps, series, errors, close } = await openSwarm(spec);
  const n = spec.ups.length;
  const k = datas.length;
  const total: Data = { file: datas[0]!.file, torrent: datas[0]!.torrent, size: datas.reduce((a, d) => a + d.size, 0), sha256: '', pieceLength: datas[0]!.pieceLength };
  const peers: ManyPeer[] = [];
  let sampler: NodeJS.Timeout | undefined;
  try {
    for (const c of caps) await lab.addPeer(c.up, c.down);
    const tracker = await startTracker(lab, spec.trackerInterval);
    const srcDir = join(datas[0]!.file, '..');
    const start = (i: number): ManyPeer => {
      const dir = i === 0 ? srcDir : join(root, `d${i}`);
      const p = startManyPeer(lab, lab.peers[i]!, clientOf(spec.clients, i, spec.mixedSeed), {
        torrents: datas.map((d) => d.torrent), dir, stateDir: join(root, `state${i}`), role: i === 0 ? 'seed' : 'down',
        noChain: spec.noChain, queue, sampleMs: spec.sampleMs, clock, errors,
      });
      peers[i] = p;
      return p;
    };
    for (let i = 1; i <= n; i++) await mkdir(join(root, `d${i}`), { recursive: true });
    for (let i = 0; i <= n; i++) await mkdir(join(root, `state${i}`), { recursive: true });

    const sampling = startSampler(lab, series, peers, spec.sampleMs, clock);
    const sample = sampling.sample;
    sampler = sampling.timer;

    // The seed first, every torrent checked and seeding; then the N downloaders at once.
    const seed = start(0);
    const seedDeadline = Date.now() + 180_000;
    while (seed.seedingAt === undefined) {
      if (seed.exitedAt !== undefined || Date.now() > seedDeadline || errors.length) {
        throw new Error(`the seed (${seed.client}) did not seed its ${k} torrents: ${errors.join('; ')} ${seed.stderr.slice(-2000)}`);
      }
      await sleep(50);
    }
    log(`seed (${seed.client}) seeding ${k} torrents at ${(seed.seedingAt / 1000).toFixed(1)} s`);
    const t0 = clock();
    for (let i = 1; i <= n; i++) start(i);
    log(`${n} downloaders started, ${k} torrents each`);

    const timedOut = await awaitDownloaders(peers, spec.timeoutMs, errors, () => {}, () => {
      const pairs = peers.slice(1).reduce((a, p) => a + p.doneK.filter((d) => d !== undefined).length, 0);
      log(`  ${(clock() / 1000).toFixed(0)} s: ${pairs}/${n * k} torrent×peer done, progress ${peers.slice(1).map((p) => Math.round(p.progress * 100)).join(' ')}`);
    });
    sample();
    clearInterval(sampler);
    sampler = undefined;
    await Promise.all(peers.filter(Boolean).map(stopManyPeer));
    await stopChild(tracker);
    if (timedOut) errors.push(`timed out after ${spec.timeoutMs / 1000} s: ${peers.slice(1).filter((p) => p.doneAt === undefined).map((p) => `p${p.peer.index}(${p.client}) ${Math.round(p.progress * 100)}%`).join(', ')}`);
    const verified = [false];
    for (let i = 1; i <= n; i++) {
      let ok = true;
      for (const d of datas) {
        const f = join(root, `d${i}`, d.file.slice(d.file.lastIndexOf('/') + 1));
        if (!(existsSync(f) && (await sha256File(f)) === d.sha256)) { ok = false; break; }
      }
      verified.push(ok);
    }
    const result: SwarmResult = { spec, data: total, peers, caps, series, t0, verified, timedOut, errors, labId: lab.id };
    return { result, queue, torrents: k, doneK: [[], ...peers.slice(1).map((p) => p.doneK)] };
  } finally {
    if (sampler) clearInterval(sampler);
    await close();
  }
}

export interface ManyFigures extends Figures {
  torrents: number;
  /** The clients' default queues were on (false: --many-queue off). */
  queue: boolean;
  /** Each torrent's own size (MiB); sizeMiB is all K together. */
  torrentMiB: number;
  /** Seconds from t0: the mean over torrents × peers; the first and last torrent complete at every peer. */
  pairMean?: number;
  torrentFirst?: number;
  torrentLast?: number;
  pairsDone: number;
}

/** The common figures over the aggregate (metrics.ts), plus the per-torrent ones. `mean` becomes the
 *  mean over torrents × peers; `spread` stays the peers' first→last (each peer's last torrent). */
export function manyFigures(m: ManyResult): ManyFigures {
  const r = m.result;
  const f = figures(r);
  const times = (ms: number | undefined) => (ms === undefined ? undefined : (ms - r.t0) / 1000);
  const pairs = m.doneK.slice(1).flatMap((row) => row.map(times)).filter((x): x is number => x !== undefined);
  const byTorrent: (number | undefined)[] = [];
  for (let k = 0; k < m.torrents; k++) {
    const col = m.doneK.slice(1).map((row) => times(row[k]));
    byTorrent.push(col.every((x) => x !== undefined) ? Math.max(...(col as number[])) : undefined);
  }
  const whole = byTorrent.filter((x): x is number => x !== undefined);
  const out: ManyFigures = {
    ...f,
    torrents: m.torrents,
    queue: m.queue,
    torrentMiB: r.data.size / m.torrents / 2 ** 20,
    pairsDone: pairs.length,
    ...(pairs.length ? { pairMean: pairs.reduce((a, b) => a + b, 0) / pairs.length } : {}),
  };
  if (out.pairMean !== undefined) out.mean = out.pairMean;
  if (whole.length === m.torrents && whole.length > 0) {
    out.torrentFirst = Math.min(...whole);
    out.torrentLast = Math.max(...whole);
  }
  return out;
}

const f1 = (x: number | undefined) => (x === undefined ? '—' : x.toFixed(1));
const pct = (x: number | undefined) => (x === undefined ? '—' : `${(x * 100).toFixed(0)}%`);

/** The many scenario's own columns, after the common table (which shows F as all K torrents together). */
export function printMany(rows: ManyFigures[]): void {
  if (rows.length === 0) return;
  const head = ['many', 'clients', 'N', 'K × MiB', 'T* s (all K)', 'makespan s', '÷T*', 'mean s (K×N)', 'torrent first→last s', 'peer first→last s',
    'up use mean/min', 'stalls (longest s)', 'CPU-s/peer C/lt/seed', 'start s C/lt', 'done K×N'];
  const cells = rows.map((f) => [
    'many', f.clients + (f.chain ? '' : ' no-chain') + (f.queue ? '' : ' no-queue'), String(f.n), `${f.torrents} × ${f.torrentMiB.toFixed(0)}`, f1(f.tStar), f1(f.makespan),
    f.makespan !== undefined ? (f.makespan / f.tStar).toFixed(2) : '—', f1(f.pairMean),
    f.torrentFirst !== undefined ? `${f1(f.torrentFirst)}→${f1(f.torrentLast)} (${f1(f.torrentLast! - f.torrentFirst)})` : '—',
    f1(f.spread), `${pct(f.upUseMean)}/${pct(f.upUseMin)} (≥85%)`, `${f.stalls} (${f1(f.longestStall)})`,
    `${f1(f.cpuCascade)}/${f1(f.cpuLt)}/${f1(f.cpuSeed)}`, `${f1(f.startCascade)}/${f1(f.startLt)}`, `${f.pairsDone}/${f.torrents * f.n}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((x, i) => x.padEnd(widths[i]!)).join(' | ');
  console.log(`\n${line(head)}`);
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const c of cells) console.log(line(c));
}
