// The queue manager: decides which torrents run (plan.ts) and makes the engine match, keeps seeding
// goals (on the totals the model's accounting keeps across restarts), and flips the alternative
// speed on its schedule. Driven by events (a torrent added, removed, finished, paused by the user, a setting
// changed: `poke()`), plus ONE timer for the whole node that looks only at running torrents whose
// revision moved (the stall watch: running-watch.ts) — 10,000 idle seeds cost a number compared each per tick. A torrent added, or
// loaded at start in queue order, is admitted against the last plan's counts (slots.ts) instead of
// a full plan of the library.
//
// State in the DB (torrents.status): 'paused' = stopped by the user or a seeding goal (not queued,
// not counted); 'queued' = waiting for a slot (paused in the engine); 'downloading'/'seeding' =
// running. Every torrent is added to the engine paused and started here, so nothing runs past the
// limits even for a moment, at add or at restart.

import type { TorrentStats, TorrentHandle } from '../core/engine.ts';
import type { TorrentStatus } from '@cascade/node-state';
import { errorMessage } from '@cascade/node-state/errors';
import { planQueue, byQueueOrder, outsideSlots, pacedReplica, type QueueItem } from './plan.ts';
import { SlotCounts, isComplete, kindOf } from './slots.ts';
import { moveInOrder, reassignPositions, type QueueMove } from './order.ts';
import { ScheduleFollower } from './schedule-follower.ts';
import { goalAction, rowGoalReached, rowHasGoal } from './row-goals.ts';
import { QueueStore, type QueueRow } from './store.ts';
import type { QueueHost, QueueOptions, QueueSettings } from './host.ts';
import { RUNNING } from './watch.ts';
import { RunningWatch } from './running-watch.ts';
import { ANSWER_WAITING_AFTER_MS, StartPermits, startedOrWaiting, underWay } from './starts.ts';

export type { QueueHost, QueueOptions, QueueSettings } from './host.ts';

/** A request naming more torrents than this does not wait for their engine calls. */
export const WAIT_FOR_MOST = 64;

export { MAX_STARTING } from './starts.ts';

/** A quiet library's tick: the accounting's half-minute flush of bytes still comes on time. */
const IDLE_TICK_MS = 30_000;

export class QueueManager {
  readonly #host: QueueHost;
  readonly #store: QueueStore;
  readonly #clock: () => number;
  #timer: NodeJS.Timeout | undefined;
  readonly #tickMs: number;
  /** The timer waits IDLE_TICK_MS (nothing to look at); `#woken`: a change arrived since the tick began. */
  #sleeping = false;
  #woken = false;
  /** The torrents the engine runs, each tick's look at them (stalls, seeding goals). */
  readonly #running: RunningWatch;
  /** Stored totals and own limits of each torrent, as of the last plan (for the goal checks). */
  #rows = new Map<string, QueueRow>();
  /** Whether some row has its own seeding-time goal (as of the last plan or row change): else
   *  idle seeds need no periodic look. */
  #rowTimeGoals = false;
  /** 1-based place among torrents not complete, as of the last plan. */
  #positions = new Map<string, number>();
  /** Whether each torrent should run, and the engine call in progress for it (one at a time). */
  #desired = new Map<string, boolean>();
  #ops = new Map<string, Promise<void>>();
  readonly #permits = new StartPermits();
  #planning: Promise<void> | undefined;
  #replanAgain = false;
  #pokeTimer: NodeJS.Timeout | undefined;
  #lastPlanMs = 0;
  readonly #schedule: ScheduleFollower;
  #closed = false;
  /** Full plans run so far (tests check that adds do not each cost one). */
  #plans = 0;
  /** Whether a full plan ran since the library last changed its shape: admit() builds on it. */
  #planned = false;
  /** Running torrents counted against the limits, as of the last plan and the admissions since. */
  #slots = new SlotCounts();
  /** The highest queue position among torrents the engine has that the last plan (or an admission
   *  since) decided: a torrent above it is last among the loaded ones, and torrents not loaded count
   *  for nothing — so the library's load (in queue order) is admitted one by one too. */
  #lastPosition = 0;
  /** Torrents the last plan decided (the engine had them) or admitted since. */
  #decided = new Set<string>();
  /** A fenced cluster member holds nothing while it is out (issue 42): every torrent is held
   *  paused, and no status is written (the pause is not the user's). */
  #suspended = false;
  /** Torrents held here that another live cluster member has complete (issue 42): a download of
   *  one is the cluster's copy, run outside the download slots (plan.ts). */
  #replicas: ReadonlySet<string> = new Set();

  constructor(host: QueueHost, opts: QueueOptions = {}) {
    this.#host = host;
    this.#store = new QueueStore(host.db);
    this.#clock = opts.clock ?? Date.now;
    this.#schedule = new ScheduleFollower(host, this.#clock);
    this.#running = new RunningWatch(host.session, this.#clock);
    this.#tickMs = opts.tickMs ?? 1000;
    this.#running.onChange(() => {
      this.#woken = true;
      this.#wake();
    });
    this.#arm(this.#tickMs);
  }

  /** Something changed (a torrent, a setting, the schedule): back to a tick a second. */
  #wake(): void {
    if (this.#sleeping) this.#arm(this.#tickMs);
  }

  /** The next tick in `ms`. A quiet library (nothing due, no schedule or seeding-time goal to
   *  follow) is looked at every IDLE_TICK_MS instead of every second, and at once the engine's
   *  change feed names a torrent: 10,000 idle seeds do not wake the node each second. */
  #arm(ms: number): void {
    clearTimeout(this.#timer);
    if (this.#closed) return;
    this.#sleeping = ms > this.#tickMs;
    this.#timer = setTimeout(() => {
      this.#woken = false;
      this.tick();
      const s = this.#host.settings();
      const quiet = !this.#woken && this.#running.quiet() && !this.#rowTimeGoals && s.seedingTimeLimit === null && !s.altSpeedSchedule.enabled;
      this.#arm(quiet ? Math.max(IDLE_TICK_MS, this.#tickMs) : this.#tickMs);
    }, ms);
    this.#timer.unref();
  }

  /** Something changed that may move the queue: plan again soon (coalesced, and spaced out by
   *  how long a plan takes, so a library loading 10,000 torrents does not plan 10,000 times). */
  poke(): void {
    this.#wake();
    if (this.#closed || this.#pokeTimer) return;
    const gap = Math.min(1000, Math.max(10, this.#lastPlanMs * 5));
    this.#pokeTimer = setTimeout(() => {
      this.#pokeTimer = undefined;
      void this.apply();
    }, gap);
    this.#pokeTimer.unref();
  }

  /** Holds every torrent paused (true), or runs them as planned again (false): a cluster member
   *  fenced, and back. Resolves once planned. */
  suspend(on: boolean): Promise<void> {
    this.#suspended = on;
    return this.apply(this.#host.session.list().map((t) => t.infoHashHex));
  }

  get suspended(): boolean {
    return this.#suspended;
  }

  /** The torrents held here that another live member has complete (the member's holdings say so
   *  each tick); plans again when that changed. */
  setReplicaCopies(infoHashes: ReadonlySet<string>): void {
    const was = this.#replicas;
    if (was.size === infoHashes.size && [...infoHashes].every((ih) => was.has(ih))) return;
    this.#replicas = infoHashes;
    this.poke();
  }

  /** How many full plans ran (each reads every row of the library). */
  get plans(): number {
    return this.#plans;
  }

  /**
   * A torrent just added to the library (last in the queue): decided without a full plan — it runs
   * if the counts of the last plan leave a slot, else it waits (the next plan looks again). Adding
   * 10,000 torrents thus costs 10,000 small decisions, not 10,000 plans of up to 10,000 rows.
   * Resolves once the engine matches for it (as apply does for its focus). `loading`: a torrent of
   * the library loaded at start — one that cannot be admitted so waits for the next plan (poke)
   * instead of asking for one now, and the load does not wait for its start.
   */
  async admit(infoHash: string, loading = false): Promise<void> {
    // A plan finishing now may have seen it already: then it decided, and that stands.
    if (this.#planning) await this.#planning;
    if (this.#decided.has(infoHash)) return void (await this.#ops.get(infoHash));
    if (this.#suspended) return this.apply([infoHash]);
    const t = this.#host.session.get(infoHash);
    const row = this.#planned && t ? await this.#store.row(infoHash) : undefined;
    // A plan that started while the row was read decides it (or leaves it to this admit again).
    if (this.#planning) return this.admit(infoHash, loading);
    // Not last in the queue (a stored torrent added again), or no plan to build on: a full plan.
    if (!t || !row || row.position <= this.#lastPosition || row.forceStart) return loading ? this.poke() : this.apply([infoHash]);
    this.#lastPosition = row.position;
    this.#rows.set(infoHash, row);
    if (row.seedingTimeLimit != null) this.#rowTimeGoals = true;
    this.#decided.add(infoHash);
    const s = t.stats();
    // Its place among torrents not complete (paused ones have one too), as the plan numbers them.
    if (!isComplete(s, row) && !this.#positions.has(infoHash)) this.#positions.set(infoHash, this.#positions.size + 1);
    if (row.status === 'paused') return;
    const kind = kindOf(s, row);
    if (kind === 'other') return;
    const settings = this.#host.settings();
    const outside = kind === 'download' && this.#replicas.has(infoHash);
    const run = outside ? this.#slots.takeReplica(infoHash) : this.#slots.fits(kind, settings);
    const want: TorrentStatus = !run ? 'queued' : kind === 'seed' ? 'seeding' : 'downloading';
    // The slot is taken before the status is written: an admit running meanwhile sees it taken.
    if (run) {
      if (!outside) this.#slots.count(infoHash, kind);
      this.#steer(t, s, true);
    } else this.#slots.waiting++;
    // A restart finds most torrents with the status they get again: no write for those.
    if (row.status !== want) await this.#store.setStatuses(new Map([[infoHash, want]]));
    if (!run || loading) return;
    // Once its start checked its data: a complete one counts as a seed from now on ('done' says so
    // too, but not when it was known complete before). The add answers once it started or waits its check's turn.
    const recount = () => this.#slots.has(infoHash) && this.#slots.count(infoHash, isComplete(t.stats(), row) ? 'seed' : 'download');
    const op = this.#ops.get(infoHash);
    if (!op) return void recount();
    void op.then(recount);
    await startedOrWaiting(t, op, ANSWER_WAITING_AFTER_MS);
  }

  /** A torrent finished downloading (the engine's 'done'): it moves from the download count to the
   *  seed count; a plan runs only when that can change anything (someone waits, or seeds are limited). */
  finished(infoHash: string): void {
    const s = this.#host.settings();
    if (this.#slots.has(infoHash)) this.#slots.count(infoHash, 'seed');
    if (this.#slots.waiting > 0 || !this.#slots.has(infoHash) || s.maxActiveUploads > 0 || s.maxActiveTorrents > 0) this.poke();
  }

  /** Plans now; resolves once the engine matches for the `focus` torrents (the routes answer with
   *  their resulting state), not for every other torrent the plan starts or stops. A big focus (a
   *  bulk action over thousands, whose starts may each check data) answers once planned. */
  async apply(focus: readonly string[] = []): Promise<void> {
    this.#wake();
    await this.#planNow();
    if (focus.length <= WAIT_FOR_MOST) await Promise.all(focus.map((ih) => underWay(this.#host.session.get(ih), this.#ops.get(ih))));
  }

  #planNow(): Promise<void> {
    if (this.#planning) {
      this.#replanAgain = true;
      return this.#planning;
    }
    this.#planning = (async () => {
      try {
        do {
          this.#replanAgain = false;
          await this.#plan();
        } while (this.#replanAgain && !this.#closed);
      } catch (err) {
        if (!this.#closed) this.#host.out.note(`queue: ${errorMessage(err)}`);
      } finally {
        this.#planning = undefined;
      }
    })();
    return this.#planning;
  }

  async #plan(): Promise<void> {
    if (this.#closed) return;
    this.#plans++;
    const started = performance.now();
    const { session } = this.#host;
    const rows = await this.#store.rows();
    if (this.#closed) return;
    if (this.#suspended) {
      for (const r of rows) {
        const t = session.get(r.infoHash);
        if (t) this.#steer(t, t.stats(), false);
      }
      this.#planned = false;
      return;
    }
    const settings = this.#host.settings();
    const items: QueueItem[] = [];
    const stats = new Map<string, TorrentStats>();
    const statuses = new Map<string, TorrentStatus>();
    const goals: [QueueRow, 'ratio' | 'seedingTime'][] = [];
    this.#rows = new Map(rows.map((r) => [r.infoHash, r]));
    this.#rowTimeGoals = rows.some((r) => r.seedingTimeLimit != null);
    for (const r of rows) {
      const s = session.get(r.infoHash)?.stats();
      if (s) stats.set(r.infoHash, s);
      const kind = kindOf(s, r);
      let stopped = r.status === 'paused';
      if (kind === 'seed' && !stopped) {
        const reached = this.#goalReached(r, settings);
        if (reached) {
          goals.push([r, reached]);
          stopped = true;
          statuses.set(r.infoHash, 'paused');
        }
      }
      const stalled = this.#running.stalled(r.infoHash);
      const replica = this.#replicas.has(r.infoHash);
      items.push({ infoHash: r.infoHash, position: r.position, kind, stopped, forceStart: r.forceStart, stalled, replica });
    }
    const plan = planQueue(items, settings);
    this.#slots.clear();
    this.#lastPosition = 0;
    this.#decided.clear();
    for (const it of items) {
      const decision = plan.get(it.infoHash)!;
      if (stats.has(it.infoHash)) {
        this.#decided.add(it.infoHash);
        this.#lastPosition = Math.max(this.#lastPosition, it.position);
      }
      if (decision === 'queued') this.#slots.waiting++;
      // As planQueue counts: forced ones, stalled downloads and the cluster's copies run past the
      // user's limits (the copies, up to MAX_REPLICA_COPIES).
      if (decision === 'run' && !outsideSlots(it) && it.kind !== 'other') this.#slots.count(it.infoHash, it.kind);
      if (decision === 'run' && pacedReplica(it)) this.#slots.takeReplica(it.infoHash);
      if (decision === 'leave') continue;
      const run = decision === 'run';
      const want: TorrentStatus = decision === 'stopped' ? 'paused' : run ? (it.kind === 'seed' ? 'seeding' : 'downloading') : 'queued';
      if (this.#rows.get(it.infoHash)!.status !== want) statuses.set(it.infoHash, want);
      const t = session.get(it.infoHash);
      if (t) this.#steer(t, stats.get(it.infoHash)!, run);
    }
    this.#positions = this.#incompleteOrder(rows, stats);
    await this.#store.setStatuses(statuses);
    for (const [r, reached] of goals) this.#goalAction(r, reached, settings);
    this.#lastPlanMs = performance.now() - started;
    this.#planned = true;
    if (statuses.size > 0) this.#host.changed();
  }

  /** Makes the engine run (or hold) a torrent; one engine call at a time per torrent, and the
   *  latest wish wins (a pause asked while a resume runs is done right after it). */
  #steer(t: TorrentHandle, s: TorrentStats, run: boolean): void {
    const ih = t.infoHashHex;
    this.#desired.set(ih, run);
    if (run && RUNNING.has(s.state)) this.#running.start(ih, s);
    // A call in progress reads the wish again before it ends.
    if (this.#ops.has(ih) || !this.#needsCall(t, s.state)) return;
    this.#ops.set(ih, this.#drive(t));
  }

  #needsCall(t: TorrentHandle, known?: TorrentStats['state']): boolean {
    const want = this.#desired.get(t.infoHashHex);
    if (this.#closed || want === undefined || this.#host.session.get(t.infoHashHex) !== t) return false;
    const state = known ?? t.stats().state;
    // A torrent being checked is left to finish: the plan decides about it afterwards.
    return want ? state === 'paused' : state === 'metadata' || state === 'downloading' || state === 'seeding';
  }

  async #drive(t: TorrentHandle): Promise<void> {
    const ih = t.infoHashHex;
    try {
      while (this.#needsCall(t)) {
        if (this.#desired.get(ih)) {
          const release = await this.#permits.take();
          try {
            if (!this.#needsCall(t)) continue; // the wish changed while it waited
            const resuming = t.resume();
            // Waiting its turn to hash its data: the permit goes to the next start (starts.ts).
            await startedOrWaiting(t, resuming);
            release();
            await resuming;
          } finally {
            release();
          }
          this.#running.start(ih, t.stats());
        } else {
          await t.pause();
          this.#running.stop(ih);
        }
      }
    } catch (err) {
      this.#host.out.note(`queue: ${this.#desired.get(ih) ? 'starting' : 'stopping'} ${ih} failed: ${errorMessage(err)}`);
    } finally {
      // In the same turn as the last check: a wish made after it starts a new call.
      this.#ops.delete(ih);
    }
  }

  /** Torrents not complete, in queue order, numbered from 1. */
  #incompleteOrder(rows: QueueRow[], stats: ReadonlyMap<string, TorrentStats>): Map<string, number> {
    const incomplete = rows.filter((r) => !isComplete(stats.get(r.infoHash), r)).sort(byQueueOrder);
    return new Map(incomplete.map((r, i) => [r.infoHash, i + 1]));
  }

  #hasGoal(ih: string, s: QueueSettings): boolean {
    const row = this.#rows.get(ih);
    return row !== undefined && rowHasGoal(row, s);
  }

  #goalReached(r: QueueRow, s: QueueSettings): 'ratio' | 'seedingTime' | undefined {
    return rowGoalReached(r, this.#host.pendingTotals(r.infoHash), s);
  }

  #goalAction(r: QueueRow, reached: 'ratio' | 'seedingTime', s: QueueSettings): void {
    goalAction(this.#host, r.infoHash, reached, s.seedingLimitAction);
  }

  /**
   * The one timer: the accounting's pass (host.onTick), then the stall watch's look at the running
   * torrents that moved or are due (running-watch.ts), and the alt-speed schedule.
   */
  tick(): void {
    if (this.#closed) return;
    try {
      this.#host.onTick?.();
      const now = this.#clock();
      const settings = this.#host.settings();
      const replan = this.#running.look(now, settings, {
        anyTimeGoal: this.#rowTimeGoals,
        hasTimeGoal: (ih) => this.#rows.get(ih)?.seedingTimeLimit != null,
        goalReached: (ih, s) => {
          const row = this.#rows.get(ih);
          return row !== undefined && this.#hasGoal(ih, s) && this.#goalReached(row, s) !== undefined;
        },
      });
      this.#schedule.follow(settings, now);
      if (replan) this.poke();
    } catch (err) {
      // The DB closing under a stopping node: the next tick (if any) tries again.
      if (!this.#closed) this.#host.out.note(`queue tick: ${errorMessage(err)}`);
    }
  }

  /** The schedule changed: its window's state applies now — unless the same change switched the
   *  alternative speed by hand, which then stands until the next edge like any hand switch. */
  scheduleChanged(handSwitch = false): void {
    this.#wake();
    this.#schedule.changedSchedule(handSwitch);
  }

  // ---- what the routes and the node call ----

  /** Every torrent's place among those not complete (1 = next to run), as of the last plan. */
  positions(): ReadonlyMap<string, number> {
    return this.#positions;
  }

  /** When payload last arrived for a running torrent (or it started), ms since the epoch; the assistant's "received nothing for 12 min". */
  lastProgressAt(infoHash: string): number | undefined {
    return this.#running.progressAt(infoHash);
  }

  /** 1-based place among torrents not complete; null for complete ones (and unknown ones). */
  queuePosition(infoHash: string): number | null {
    return this.#positions.get(infoHash) ?? null;
  }

  /** The user's pause: stopped, not queued. Resolves once the engine has paused them. */
  async stop(infoHashes: readonly string[]): Promise<void> {
    await this.#store.setStatuses(new Map(infoHashes.map((ih) => [ih, 'paused'])), true);
    await this.apply(infoHashes);
  }

  /** The user's resume: back in the queue, running if there is a slot (a torrent in error is
   *  retried by the engine first). */
  async start(infoHashes: readonly string[]): Promise<void> {
    await Promise.all(
      infoHashes.map(async (ih) => {
        const t = this.#host.session.get(ih);
        if (t?.stats().state === 'error') await t.resume();
      }),
    );
    // Each torrent, held here or not: a cluster's member resumes a torrent for every holder (issue 42).
    await this.#store.resume(infoHashes);
    await this.apply(infoHashes);
  }

  async setForceStart(infoHashes: readonly string[], on: boolean): Promise<void> {
    await this.#store.setForceStart(infoHashes, on);
    await this.apply(infoHashes);
  }

  /**
   * Moves torrents in the queue (several keep their order among themselves). Complete torrents
   * have no place in it and are passed over. Returns each moved torrent's new queuePosition.
   */
  async move(infoHashes: readonly string[], move: QueueMove): Promise<Map<string, number | null>> {
    const rows = await this.#store.rows();
    const stats = new Map<string, TorrentStats>();
    for (const r of rows) {
      const s = this.#host.session.get(r.infoHash)?.stats();
      if (s) stats.set(r.infoHash, s);
    }
    const incomplete = rows.filter((r) => !isComplete(stats.get(r.infoHash), r)).sort(byQueueOrder);
    const order = moveInOrder(
      incomplete.map((r) => r.infoHash),
      new Set(infoHashes),
      move,
    );
    await this.#store.setPositions(reassignPositions(new Map(incomplete.map((r) => [r.infoHash, r.position])), order));
    await this.apply(infoHashes);
    return new Map(infoHashes.map((ih) => [ih, this.queuePosition(ih)]));
  }

  /** A torrent left the node. */
  forget(infoHash: string): void {
    this.#running.stop(infoHash);
    this.#desired.delete(infoHash);
    this.#rows.delete(infoHash);
    this.#decided.delete(infoHash);
    this.#slots.count(infoHash, undefined);
    this.poke();
  }

  /** Stops the timer and any plan to come. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#running.close();
    if (this.#pokeTimer) clearTimeout(this.#pokeTimer);
  }
}
