// The soak itself, for bench/soak/run.ts (hours) and test/soak/soak.test.ts (minutes): a node
// holding `torrents` torrents under steady churn, API pollers, feed and chat clients, an RSS feed,
// real transfers and reward claims; sampled every `sampleEverySec`. The timeline:
//   fill → warm-up (churn) → quiet-before (no churn, settled) → steady (churn; slopes fitted here)
//   → quiet-after (no churn, settled: descriptors, sockets, handles and timers must be back).
// Everything it starts it stops, and its temp dir goes, also when it fails or is interrupted.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Churn } from './churn.ts';
import { ChatUsers, FeedClients, Pollers, QbSession, TransmissionRpc, type ClientStats } from './clients.ts';
import { api, children, startNode, stopChild, type SoakNode } from './node.ts';
import { Peers } from './peers.ts';
import { judge, type Limits, DEFAULT_LIMITS, type Verdict } from './report.ts';
import { RssFeed } from './rss.ts';
import { sampleNode, type Sample } from './sample.ts';

export interface SoakOptions {
  /** Seconds of churn in all (warm-up + steady). */
  seconds: number;
  torrents: number;
  sampleEverySec: number;
  /** Share of `seconds` that is warm-up. */
  warmupShare: number;
  /** Seconds without churn before each quiet measurement, and how many samples it takes. */
  settleSec: number;
  quietSamples: number;
  /** Pause between churn actions, ms (one action at a time). */
  churnEveryMs: number;
  pollEveryMs: number;
  feedEveryMs: number;
  chatEveryMs: number;
  rssEveryMs: number;
  /** Pause between transfer rounds (libtorrent down, libtorrent up, Cascade down), ms; 0 = none. */
  transferEveryMs: number;
  claimEveryMs: number;
  host: string;
  limits?: Limits;
  log?: (line: string) => void;
  /** Called with each sample as it is taken. */
  onSample?: (s: Sample) => void;
}

export interface SoakResult {
  samples: Sample[];
  verdict: Verdict;
  /** Acknowledged torrents missing at the end, and failed actions. */
  lost: string[];
  actions: Record<string, number>;
  counts: Record<string, number>;
  errors: string[];
}

/** Runs `fn` every `everyMs` until `stop()` says so; one run at a time. */
async function loop(stop: () => boolean, everyMs: number, fn: () => Promise<void>): Promise<void> {
  while (!stop()) {
    await fn();
    const until = Date.now() + everyMs;
    while (!stop() && Date.now() < until) await sleep(Math.min(200, everyMs));
  }
}

let activeCleanup: (() => Promise<void>) | undefined;
/** Stops whatever a running soak started (for SIGINT in run.ts). */
export const cleanupActive = () => activeCleanup?.() ?? Promise.resolve();

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const log = o.log ?? (() => {});
  const root = mkdtempSync(join(tmpdir(), 'cascade-soak-'));
  const t0 = performance.now();
  const now = () => (performance.now() - t0) / 1000;
  const samples: Sample[] = [];
  const clientStats: ClientStats = { polls: 0, feedConnects: 0, feedEvents: 0, chatSent: 0, chatConnects: 0, errors: [] };
  let node: SoakNode | undefined;
  let feeds: FeedClients | undefined;
  let chat: ChatUsers | undefined;
  let rss: RssFeed | undefined;
  let churning = false;
  let sampling = true;
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    churning = false;
    sampling = false;
    feeds?.closeAll();
    chat?.closeAll();
    await rss?.stop();
    await Promise.all([...children].map((c) => stopChild(c, 20_000)));
    rmSync(root, { recursive: true, force: true });
  };
  activeCleanup = cleanup;
  try {
    node = await startNode({ host: o.host, stateDir: join(root, 'state'), downloadDir: join(root, 'downloads'), logPath: join(root, 'node.log'), dhtBootstrap: `${o.host}:9` });
    log(`node ${node.url} (pid ${node.pid}), state ${node.stateDir}`);
    const qb = new QbSession(node);
    const churn = new Churn(node, qb, root, o.torrents);
    await churn.setup();
    let shown = 0;
    await churn.fill(4, (n) => {
      if (n - shown >= Math.max(50, o.torrents / 10)) log(`filled ${(shown = n)}/${o.torrents}`);
    });
    const peers = new Peers(node, root);
    if (o.transferEveryMs > 0) await peers.setup();
    rss = new RssFeed(node);
    await rss.start();
    feeds = new FeedClients(node, clientStats);
    chat = new ChatUsers(node, clientStats);
    const pollers = new Pollers(node, qb, new TransmissionRpc(node), clientStats);
    log(`${churn.held.size} torrents in ${now().toFixed(0)} s; churn for ${o.seconds} s`);

    let phase = 'warm-up';
    // The soak's own event-loop delay beside the node's: on a shared, loaded machine both stall
    // together when the CPU is taken from them, and only the node's own delay above that is its doing.
    const own = monitorEventLoopDelay({ resolution: 20 });
    own.enable();
    const sampler = (async () => {
      while (sampling) {
        try {
          const s = await sampleNode(node!, now(), phase);
          s.values.harness_eld_p99_ms = Math.max(0, own.percentile(99) / 1e6 - 20);
          own.reset();
          samples.push(s);
          o.onSample?.(s);
        } catch (err) {
          clientStats.errors.push(`sample: ${(err as Error).message}`);
        }
        const until = Date.now() + o.sampleEverySec * 1000;
        while (sampling && Date.now() < until) await sleep(200);
      }
    })();

    const claims = { tries: 0, ok: 0 };
    const churnFor = async (seconds: number) => {
      churning = true;
      const stop = () => !churning;
      const loops = [
        loop(stop, o.churnEveryMs, () => churn.step()),
        loop(stop, o.pollEveryMs, () => pollers.round()),
        loop(stop, o.feedEveryMs, async () => feeds!.connect(2_000 + Math.random() * o.feedEveryMs * 4)),
        loop(stop, o.chatEveryMs, () => chat!.step()),
        loop(stop, o.rssEveryMs, () => rss!.step()),
        loop(stop, o.claimEveryMs, async () => {
          claims.tries++;
          const res = await api(node!, '/api/rewards/claim', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }).catch(() => undefined);
          await res?.arrayBuffer();
          if (res?.ok) claims.ok++;
        }),
      ];
      if (o.transferEveryMs > 0) {
        loops.push(loop(stop, o.transferEveryMs, async () => {
          await peers.libtorrentDownload();
          await peers.libtorrentSeed();
          await peers.cascadeDownload();
        }));
      }
      await sleep(seconds * 1000);
      churning = false;
      await Promise.all(loops);
      feeds!.closeAll();
      chat!.closeAll();
    };
    const quiet = async (name: string) => {
      phase = 'settling';
      await sleep(o.settleSec * 1000);
      phase = name;
      const want = samples.filter((s) => s.phase === name).length + o.quietSamples;
      while (samples.filter((s) => s.phase === name).length < want) await sleep(200);
      phase = 'settling';
    };

    const warm = Math.max(o.sampleEverySec * 2, o.seconds * o.warmupShare);
    await churnFor(warm);
    await quiet('quiet-before');
    phase = 'steady';
    log(`warm-up done at ${now().toFixed(0)} s; steady churn`);
    await churnFor(o.seconds - warm);
    phase = 'settling';
    await quiet('quiet-after');
    sampling = false;
    await sampler;
    own.disable();

    const lost = await churn.checkNoLoss();
    const verdict = judge(samples, o.limits ?? DEFAULT_LIMITS);
    const counts = {
      torrentsHeld: churn.held.size, polls: clientStats.polls, qbLogins: qb.logins, feedConnects: clientStats.feedConnects, feedEvents: clientStats.feedEvents,
      chatSent: clientStats.chatSent, chatSignIns: clientStats.chatConnects, rssSteps: rss.stats.steps, rssTaken: rss.stats.taken,
      ltDownloads: peers.stats.ltDownloads, ltSeeds: peers.stats.ltSeeds, cascadeDownloads: peers.stats.cascadeDownloads, claimTries: claims.tries, claimsOk: claims.ok,
    };
    const errors = [...churn.stats.errors, ...clientStats.errors, ...rss.stats.errors, ...peers.stats.errors];
    return { samples, verdict, lost, actions: churn.stats.actions, counts, errors };
  } finally {
    await cleanup();
    activeCleanup = undefined;
  }
}
