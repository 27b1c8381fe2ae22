// The soak itself, for bench/soak/run.ts (hours) and test/soak/soak.test.ts (minutes): a node
// holding `torrents` torrents under steady churn, API pollers, feed and chat clients, an RSS feed,
// real transfers and reward claims; sampled every `sampleEverySec`. The timeline (timeline.ts):
//   fill → warm-up (churn) → quiet-before (no churn, settled) → steady (churn; slopes fitted here)
//   → quiet-after (no churn, settled: descriptors, sockets, handles and timers must be back).
// Everything it starts it stops, and its temp dir goes, also when it fails or is interrupted.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Churn } from './churn.ts';
import { ChatUsers, FeedClients, Pollers, QbSession, TransmissionRpc, type ClientStats } from './clients.ts';
import { api, children, startNode, stopChild, type SoakNode } from './node.ts';
import { Peers } from './peers.ts';
import { judge, type Limits, DEFAULT_LIMITS, type Verdict } from './report.ts';
import { RssFeed } from './rss.ts';
import { sampleNode, type Sample } from './sample.ts';
import { loop, Timeline, type TimelineOptions } from './timeline.ts';

export interface SoakOptions extends TimelineOptions {
  torrents: number;
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

/** What the churn phases run, each in its own loop at its own pace (single node and cluster). */
export interface Work {
  churn: Churn;
  pollers: Pollers[];
  feeds: FeedClients;
  chat: ChatUsers;
  rss: RssFeed;
  /** One reward claim (none in the cluster variant: its members run without the embedded chain). */
  claim?: () => Promise<void>;
  /** One round of transfers with real peers. */
  transfer?: () => Promise<void>;
}

export function workLoops(o: SoakOptions, w: Work, stop: () => boolean): Promise<void>[] {
  const loops = [
    loop(stop, o.churnEveryMs, () => w.churn.step()),
    ...w.pollers.map((p) => loop(stop, o.pollEveryMs, () => p.round())),
    loop(stop, o.feedEveryMs, async () => w.feeds.connect(2_000 + Math.random() * o.feedEveryMs * 4)),
    loop(stop, o.chatEveryMs, () => w.chat.step()),
    loop(stop, o.rssEveryMs, () => w.rss.step()),
  ];
  if (w.claim) loops.push(loop(stop, o.claimEveryMs, w.claim));
  if (w.transfer && o.transferEveryMs > 0) loops.push(loop(stop, o.transferEveryMs, w.transfer));
  return loops;
}

let activeCleanup: (() => Promise<void>) | undefined;
/** The running soak's cleanup (single node or cluster), for SIGINT. */
export function setActiveCleanup(fn: (() => Promise<void>) | undefined): void {
  activeCleanup = fn;
}
/** Stops whatever a running soak started (for SIGINT in run.ts). */
export const cleanupActive = () => activeCleanup?.() ?? Promise.resolve();

export const newClientStats = (): ClientStats => ({ polls: 0, feedConnects: 0, feedEvents: 0, chatSent: 0, chatConnects: 0, errors: [] });

/** What the single node and the cluster (cluster.ts) do alike once their nodes serve: the library
 *  filled, the clients made, the timeline run, the verdict; and the cleanup of what the clients hold. */
export class SoakRun {
  readonly stats = newClientStats();
  readonly claims = { tries: 0, ok: 0 };
  readonly peers: Peers[] = [];
  work: Work | undefined;
  qb: QbSession | undefined;
  readonly o: SoakOptions;
  readonly root: string;
  readonly tl: Timeline;
  readonly #log: (line: string) => void;

  constructor(o: SoakOptions, root: string, tl: Timeline) {
    this.o = o;
    this.root = root;
    this.tl = tl;
    this.#log = o.log ?? (() => {});
  }

  /** `front`: where the churn, the RSS feed, the feed and chat clients go; one API poller on each of
   *  `pollNodes`; real peers for each of `peerNodes`, a transfer round with each in turn;
   *  `movesPerMember`: moves to relative paths, each holder's under its own download dir. */
  async prepare(front: SoakNode, pollNodes: SoakNode[], peerNodes: SoakNode[], opts: { movesPerMember?: boolean } = {}): Promise<Work> {
    const qb = (this.qb = new QbSession(front));
    const churn = new Churn(front, qb, this.root, this.o.torrents, opts);
    await churn.setup();
    let shown = 0;
    await churn.fill(4, (n) => {
      if (n - shown >= Math.max(50, this.o.torrents / 10)) this.#log(`filled ${(shown = n)}/${this.o.torrents}`);
    });
    this.peers.push(...peerNodes.map((n) => new Peers(n, this.root)));
    if (this.o.transferEveryMs > 0) for (const p of this.peers) await p.setup();
    const rss = new RssFeed(front);
    const w: Work = (this.work = { churn, rss, pollers: [], feeds: new FeedClients(front, this.stats), chat: new ChatUsers(front, this.stats) });
    await rss.start();
    w.pollers.push(...pollNodes.map((n) => new Pollers(n, n === front ? qb : new QbSession(n), new TransmissionRpc(n), this.stats)));
    let round = 0;
    w.transfer = async () => {
      const p = this.peers[round++ % this.peers.length]!;
      await p.libtorrentDownload();
      await p.libtorrentSeed();
      await p.cascadeDownload();
    };
    return w;
  }

  /** The timeline with the churn, then what must hold after it, and the counts. */
  async finish(): Promise<SoakResult> {
    const w = this.work!;
    this.#log(`${w.churn.held.size} torrents in ${this.tl.now().toFixed(0)} s; churn for ${this.o.seconds} s`);
    await this.tl.run((stop) => workLoops(this.o, w, stop), () => {
      w.feeds.closeAll();
      w.chat.closeAll();
    });
    const lost = await w.churn.checkNoLoss();
    const verdict = judge(this.tl.samples, this.o.limits ?? DEFAULT_LIMITS);
    const sum = (f: (p: Peers) => number) => this.peers.reduce((a, p) => a + f(p), 0);
    const st = this.stats;
    const counts = {
      torrentsHeld: w.churn.held.size, polls: st.polls, qbLogins: this.qb!.logins, feedConnects: st.feedConnects, feedEvents: st.feedEvents,
      chatSent: st.chatSent, chatSignIns: st.chatConnects, rssSteps: w.rss.stats.steps, rssTaken: w.rss.stats.taken,
      ltDownloads: sum((p) => p.stats.ltDownloads), ltSeeds: sum((p) => p.stats.ltSeeds), cascadeDownloads: sum((p) => p.stats.cascadeDownloads),
      claimTries: this.claims.tries, claimsOk: this.claims.ok,
    };
    const errors = [...w.churn.stats.errors, ...st.errors, ...w.rss.stats.errors, ...this.peers.flatMap((p) => p.stats.errors), ...this.tl.errors];
    return { samples: this.tl.samples, verdict, lost, actions: w.churn.stats.actions, counts, errors };
  }

  /** Stops the clients and every child process the soak started (nodes, peers). */
  async stop(): Promise<void> {
    this.tl.stop();
    this.work?.feeds.closeAll();
    this.work?.chat.closeAll();
    await this.work?.rss.stop();
    await Promise.all([...children].map((c) => stopChild(c, 20_000)));
  }
}

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const log = o.log ?? (() => {});
  const root = mkdtempSync(join(tmpdir(), 'cascade-soak-'));
  let node: SoakNode | undefined;
  const run = new SoakRun(o, root, new Timeline(o, (t, phase) => sampleNode(node!, t, phase)));
  // One cleanup, awaited by every caller: a Ctrl-C during the fill makes the fill fail, and the
  // failure's `finally` must wait for the cleanup the signal began, not exit before it ends.
  let cleaning: Promise<void> | undefined;
  const cleanup = () => (cleaning ??= (async () => {
    await run.stop();
    rmSync(root, { recursive: true, force: true });
  })());
  activeCleanup = cleanup;
  try {
    node = await startNode({ host: o.host, stateDir: join(root, 'state'), downloadDir: join(root, 'downloads'), logPath: join(root, 'node.log'), dhtBootstrap: `${o.host}:9` });
    log(`node ${node.url} (pid ${node.pid}), state ${node.stateDir}`);
    const w = await run.prepare(node, [node], [node]);
    w.claim = async () => {
      run.claims.tries++;
      const res = await api(node!, '/api/rewards/claim', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }).catch(() => undefined);
      await res?.arrayBuffer();
      if (res?.ok) run.claims.ok++;
    };
    return await run.finish();
  } finally {
    await cleanup();
    activeCleanup = undefined;
  }
}
