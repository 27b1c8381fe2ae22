// The swarm lab's figures from one swarm's result (swarm.ts): makespan, T*, seed copies, upload use,
// duplicates, CPU, stalls, the mixed swarm's balance. What each approximates is said where it is made.
import type { SwarmResult } from './swarm.ts';

/** Ethernet 14 + IPv4 20 + TCP 20 + timestamps 12: a packet's bytes that are not payload (uTP's 62 are close). */
export const HEADER_BYTES = 66;
export const STALL_MS = 10_000;

export interface PeerFigures {
  index: number;
  client: string;
  up: number;
  /** Seconds from the swarm's start (arrivals: from its own start) to complete; undefined if never. */
  done?: number;
  /** Wire upload ÷ (cap × time) from its first verified piece to its completion. */
  upUse?: number;
  /** Client-counted payload received beyond F, as a share of F. */
  dup?: number;
  /** What the client itself calls wasted (libtorrent redundant + failed; Cascade received − credited), share of F. */
  wasted?: number;
  /** Wire payload received (kernel bytes − 66 × packets) by completion beyond F, share of F: counts
   *  what a client drops unseen (Cascade drops blocks that arrive after their cancel before counting
   *  them) but also ~0.1–1% of protocol overhead (BitTorrent messages, headers larger than 66 bytes). */
  rxExcess?: number;
  /** Wire bytes sent ÷ wire bytes received until complete. */
  upPerDown?: number;
  /** Wire bytes sent until complete ÷ what it could have sent: the least of what it received and its
   *  cap × the time from its first verified piece to completion (issue 60: "when its cap allows"). */
  upPerAllowed?: number;
  cpu: number;
  /** CPU seconds at its first JSON line (start-up) and at its completion. */
  cpuAtReady?: number;
  cpuAtDone?: number;
  stalls: number;
  longestStall: number;
  verified: boolean;
}

export interface Figures {
  scenario: string;
  clients: string;
  chain: boolean;
  n: number;
  sizeMiB: number;
  tStar: number;
  makespan?: number;
  mean?: number;
  spread?: number;
  seedCopies?: number;
  /** seedCopies is the upper bound (the seed never reported its peers' copies). */
  seedCopiesBound?: boolean;
  upUseMean?: number;
  upUseMin?: number;
  dupMax?: number;
  wastedMax?: number;
  rxExcessMax?: number;
  cpuCascade?: number;
  cpuLt?: number;
  cpuSeed: number;
  /** Seconds from spawn to the client's first sign of life, mean over downloaders, by client. */
  startCascade?: number;
  startLt?: number;
  /** Mean CPU-s of a downloader by its first output line (its start-up) and by its completion, by client. */
  cpuAtReady?: { cascade?: number; lt?: number };
  cpuAtDone?: { cascade?: number; lt?: number };
  stalls: number;
  longestStall: number;
  /** Mixed: Cascade's mean completion ÷ libtorrent's; Cascade peers' least upload ÷ download; share of Cascade's bytes from libtorrent peers. */
  mixedRatio?: number;
  mixedUpDownMin?: number;
  /** The least, over Cascade peers, of upPerAllowed: the 80%, judged where the cap allows. */
  mixedUpAllowedMin?: number;
  cascadeFromLt?: number;
  /** Slow peer: the others' makespan. */
  othersMakespan?: number;
  complete: number;
  peers: PeerFigures[];
  errors: string[];
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined);

/** T* = max(F/u_s, F/d_min, N·F/(u_s + Σu_i)) in seconds. */
export function tStar(size: number, seedUp: number, ups: number[], down: number): number {
  return Math.max(size / seedUp, size / down, (ups.length * size) / (seedUp + ups.reduce((a, b) => a + b, 0)));
}

/** A series value at time t (ms), linear between samples. */
function at(t: number[], v: number[], x: number): number {
  if (t.length === 0) return 0;
  if (x <= t[0]!) return v[0]!;
  for (let i = 1; i < t.length; i++) {
    if (t[i]! >= x) {
      const f = (x - t[i - 1]!) / Math.max(1, t[i]! - t[i - 1]!);
      return v[i - 1]! + f * (v[i]! - v[i - 1]!);
    }
  }
  return v[v.length - 1]!;
}

export function figures(r: SwarmResult, slowIndex?: number): Figures {
  const { spec, data, peers, series, caps } = r;
  const F = data.size;
  const n = spec.ups.length;
  const downs = peers.slice(1);
  const out: PeerFigures[] = [];
  for (const p of downs) {
    const i = p.peer.index;
    const s = series[i]!;
    const origin = spec.arrivalGapMs > 0 ? p.spawnedAt : r.t0;
    const f: PeerFigures = { index: i, client: p.client, up: caps[i]!.up, cpu: p.cpu, cpuAtReady: p.cpuAtReady, cpuAtDone: p.cpuAtDone, stalls: 0, longestStall: 0, verified: r.verified[i] ?? false };
    if (p.doneAt !== undefined) {
      f.done = (p.doneAt - origin) / 1000;
      // Upload use from its first verified piece (before it, it has nothing to give) to completion.
      const k = s.progress.findIndex((x) => x > 0);
      const from = k >= 0 ? s.t[k]! : p.spawnedAt;
      const dt = (p.doneAt - from) / 1000;
      if (dt >= 1) f.upUse = (at(s.t, s.up, p.doneAt) - at(s.t, s.up, from)) / (caps[i]!.up * dt);
      const wireDown = at(s.t, s.down, p.doneAt);
      if (wireDown > 0) f.upPerDown = at(s.t, s.up, p.doneAt) / wireDown;
      const allowed = Math.min(wireDown, caps[i]!.up * Math.max(0, dt));
      if (allowed > 0) f.upPerAllowed = at(s.t, s.up, p.doneAt) / allowed;
      f.rxExcess = (wireDown - HEADER_BYTES * at(s.t, s.downPk, p.doneAt) - F) / F;
    }
    if (p.payloadDown !== undefined) f.dup = Math.max(0, p.payloadDown - F) / F;
    if (p.wasted !== undefined) f.wasted = p.wasted / F;
    stallsOf(r, i, f);
    out.push(f);
  }
  const dones = out.filter((f) => f.done !== undefined).map((f) => f.done!);
  const seed = peers[0]!;
  const fig: Figures = {
    scenario: spec.scenario,
    clients: spec.clients,
    chain: !spec.noChain,
    n,
    sizeMiB: F / 2 ** 20,
    tStar: tStar(F, spec.seedUp, spec.ups, spec.down),
    cpuSeed: seed.cpu,
    stalls: out.reduce((a, f) => a + f.stalls, 0),
    longestStall: Math.max(0, ...out.map((f) => f.longestStall)),
    complete: out.filter((f) => f.done !== undefined && f.verified).length,
    peers: out,
    errors: r.errors,
  };
  if (dones.length === n) {
    fig.makespan = Math.max(...dones);
    fig.spread = Math.max(...dones) - Math.min(...dones);
  }
  fig.mean = mean(dones);
  // Seed copies: what the seed had uploaded when its peers first held every piece between them (its
  // own payload count at its first report of distributed copies ≥ 1: Cascade's `seed --json`
  // progress, libtorrent's distributed_copies; reports are 0.5 s / 0.25 s apart) ÷ F. Where the
  // seed never said so, the old bound: its wire payload by the first downloader's completion, which
  // over-counts whenever the pieces were all out earlier (it cannot be under ~2 when downloaders
  // upload: the first completion comes after T*, and the seed sends all along).
  const first = Math.min(...downs.map((p) => p.doneAt ?? Infinity));
  if (seed.outUp !== undefined) fig.seedCopies = seed.outUp / F;
  else if (Number.isFinite(first)) {
    const s = series[0]!;
    fig.seedCopies = (at(s.t, s.up, first) - HEADER_BYTES * at(s.t, s.upPk, first)) / F;
    fig.seedCopiesBound = true;
  }
  const uses = out.filter((f) => f.upUse !== undefined && f.index !== slowIndex).map((f) => f.upUse!);
  fig.upUseMean = mean(uses);
  fig.upUseMin = uses.length ? Math.min(...uses) : undefined;
  const dups = out.filter((f) => f.dup !== undefined).map((f) => f.dup!);
  if (dups.length) fig.dupMax = Math.max(...dups);
  const wasted = out.filter((f) => f.wasted !== undefined).map((f) => f.wasted!);
  if (wasted.length) fig.wastedMax = Math.max(...wasted);
  const excess = out.filter((f) => f.rxExcess !== undefined).map((f) => f.rxExcess!);
  if (excess.length) fig.rxExcessMax = Math.max(...excess);
  fig.cpuCascade = mean(out.filter((f) => f.client === 'cascade').map((f) => f.cpu));
  fig.cpuLt = mean(out.filter((f) => f.client === 'lt').map((f) => f.cpu));
  const cpuBy = (c: string, k: 'cpuAtReady' | 'cpuAtDone') => mean(out.filter((f) => f.client === c && f[k] !== undefined).map((f) => f[k]!));
  fig.cpuAtReady = { cascade: cpuBy('cascade', 'cpuAtReady'), lt: cpuBy('lt', 'cpuAtReady') };
  fig.cpuAtDone = { cascade: cpuBy('cascade', 'cpuAtDone'), lt: cpuBy('lt', 'cpuAtDone') };
  const startup = (c: string) => mean(downs.filter((p) => p.client === c && p.readyAt !== undefined).map((p) => (p.readyAt! - p.spawnedAt) / 1000));
  fig.startCascade = startup('cascade');
  fig.startLt = startup('lt');
  if (spec.clients === 'mixed') {
    // The slow peer is the scenario's subject, not a sample of its client: left out of both means
    // (it is always a Cascade peer, downloader 1, so with it the ratio measured the 32 KB/s link).
    const doneOf = (c: string) => out.filter((f) => f.client === c && f.done !== undefined && f.index !== slowIndex).map((f) => f.done!);
    const mc = mean(doneOf('cascade'));
    const ml = mean(doneOf('lt'));
    if (mc !== undefined && ml !== undefined) fig.mixedRatio = mc / ml;
    const ud = out.filter((f) => f.client === 'cascade' && f.upPerDown !== undefined).map((f) => f.upPerDown!);
    if (ud.length) fig.mixedUpDownMin = Math.min(...ud);
    const ua = out.filter((f) => f.client === 'cascade' && f.upPerAllowed !== undefined).map((f) => f.upPerAllowed!);
    if (ua.length) fig.mixedUpAllowedMin = Math.min(...ua);
    const ltAddr = new Set(peers.filter((p) => p.client === 'lt').map((p) => p.peer.address));
    let fromLt = 0;
    let total = 0;
    for (const p of downs) {
      if (p.client !== 'cascade' || !p.sources) continue;
      for (const s of p.sources) {
        total += s.downloaded;
        if (ltAddr.has(s.address.replace(/:\d+$/, '').replace(/^\[|\]$/g, '').replace(/^::ffff:/, ''))) fromLt += s.downloaded;
      }
    }
    if (total > 0) fig.cascadeFromLt = fromLt / total;
  }
  if (slowIndex !== undefined) {
    const others = out.filter((f) => f.index !== slowIndex && f.done !== undefined).map((f) => f.done!);
    if (others.length === n - 1) fig.othersMakespan = Math.max(...others);
  }
  return fig;
}

/**
 * Stalls of downloader i: stretches of ≥ 10 s in which its progress did not move while it was
 * running and some running peer had what it lacks — the seed up, or another peer with a larger
 * share of the pieces (more pieces than it holds: at least one it lacks). Counted from its first
 * sign of life (a client still starting is not stalled) to its completion.
 */
function stallsOf(r: SwarmResult, i: number, f: PeerFigures): void {
  const p = r.peers[i]!;
  const s = r.series[i]!;
  const from = p.readyAt ?? Infinity;
  const to = p.doneAt ?? p.exitedAt ?? Infinity;
  let since: number | undefined;
  let last = -1;
  const running = (q: (typeof r.peers)[number], t: number) => q !== undefined && (q.exitedAt === undefined || q.exitedAt > t);
  for (let k = 0; k < s.t.length; k++) {
    const t = s.t[k]!;
    if (t < from || t > to) continue;
    const prog = s.progress[k]!;
    const seed = r.peers[0];
    const someoneHas = (seed !== undefined && seed.seedingAt !== undefined && seed.seedingAt <= t && running(seed, t))
      || r.peers.some((q, j) => j !== 0 && j !== i && q !== undefined && q.readyAt !== undefined && q.readyAt <= t && running(q, t) && r.series[j]!.progress[k]! > prog);
    if (prog !== last || !someoneHas) {
      since = someoneHas ? t : undefined;
      last = prog;
      continue;
    }
    since ??= t;
    const len = t - since;
    if (len >= STALL_MS && len - (t - (s.t[k - 1] ?? t)) < STALL_MS) f.stalls++;
    f.longestStall = Math.max(f.longestStall, len / 1000);
  }
}
