// The queue's stall watch (moved out of manager.ts): the torrents the engine runs, and at each tick
// a look at those whose revision moved (the session's change feed names them) and at the few due
// whatever happens — a download that may stall with nothing changing, a seed whose seeding time
// may reach its goal every SEED_LOOK_EVERY ticks, when there are such goals. 10,000 idle seeds cost
// a number compared each per tick.

import type { SessionHandle, TorrentChangeFeed, TorrentStats } from '../core/engine.ts';
import type { QueueSettings } from './host.ts';
import { RUNNING, observe, type Watch } from './watch.ts';

/** Seeds without a goal are looked at every this many ticks. */
const SEED_LOOK_EVERY = 10;

/** What the watch asks of the queue about a seed: whether it has a seeding-time goal of its own,
 *  and whether it reached a goal (then the queue plans again). */
export interface SeedGoals {
  /** Some torrent has its own seeding-time goal: idle seeds need a periodic look. */
  readonly anyTimeGoal: boolean;
  hasTimeGoal(infoHash: string): boolean;
  goalReached(infoHash: string, settings: QueueSettings): boolean;
}

export class RunningWatch {
  readonly #session: SessionHandle;
  readonly #clock: () => number;
  /** Torrents the engine runs, with what the tick last saw. */
  readonly #watch = new Map<string, Watch>();
  /** Watched torrents the next tick looks at whatever changed: new ones, and downloads (which may
   *  stall with nothing changing). The rest wait for the session's change feed to name them. */
  readonly #due = new Set<string>();
  /** Torrents whose revision moved since the last tick (undefined: the session has no feed). */
  readonly #changes: TorrentChangeFeed | undefined;
  #ticks = 0;

  constructor(session: SessionHandle, clock: () => number) {
    this.#session = session;
    this.#clock = clock;
    this.#changes = session.changes?.();
  }

  /** Whether a watched download received no payload for stalledTimeout (as of the last look). */
  stalled(infoHash: string): boolean {
    return this.#watch.get(infoHash)?.stalled ?? false;
  }

  /** When payload last arrived for a running torrent (or it started), ms since the epoch. */
  progressAt(infoHash: string): number | undefined {
    return this.#watch.get(infoHash)?.progressAt;
  }

  start(ih: string, s: TorrentStats): void {
    if (this.#watch.has(ih)) return;
    const t = this.#session.get(ih);
    if (!t) return;
    const now = this.#clock();
    // Revision -1: the first tick looks at it once.
    this.#watch.set(ih, { t, revision: -1, downloaded: s.downloaded, progressAt: now, state: s.state, stalled: false });
    this.#due.add(ih);
    this.#changes?.onChange?.();
  }

  stop(ih: string): void {
    this.#watch.delete(ih);
    this.#due.delete(ih);
  }

  /** One tick's look at the torrents that moved or are due; true when the queue must plan again. */
  look(now: number, settings: QueueSettings, goals: SeedGoals): boolean {
    const timeGoal = settings.seedingTimeLimit !== null;
    let replan = false;
    const glance = ++this.#ticks % SEED_LOOK_EVERY === 0;
    const changed = this.#changes?.take();
    const look = (ih: string, w: Watch): void => {
      if (this.#lookAt(ih, w, now, settings, goals)) replan = true;
    };
    if (!changed || (glance && (timeGoal || goals.anyTimeGoal))) {
      for (const [ih, w] of this.#watch) {
        const moved = w.t.revision !== w.revision;
        // A seed may reach its seeding time with nothing changing.
        const due = this.#due.has(ih) || (glance && w.state === 'seeding' && (timeGoal || goals.hasTimeGoal(ih)));
        if (moved || due) look(ih, w);
      }
    } else {
      for (const ih of this.#due) look(ih, this.#watch.get(ih)!);
      for (const t of changed) {
        const w = this.#watch.get(t.infoHashHex);
        if (w && w.t === t && w.revision !== t.revision) look(t.infoHashHex, w);
      }
    }
    return replan;
  }

  /** One watched torrent's state now: true when the queue must plan again (it left the running
   *  states, changed state, stalled or recovered, or reached a seeding goal). */
  #lookAt(ih: string, w: Watch, now: number, settings: QueueSettings, goals: SeedGoals): boolean {
    w.revision = w.t.revision;
    const s = this.#session.get(ih) === w.t ? w.t.stats() : undefined;
    if (!s || !RUNNING.has(s.state)) {
      this.stop(ih);
      return true;
    }
    let replan = observe(w, s, now, settings.stalledTimeout);
    // A download may stall without any change (time passes): looked at every tick.
    if (s.state === 'downloading' || s.state === 'metadata') this.#due.add(ih);
    else this.#due.delete(ih);
    if (s.state === 'seeding' && goals.goalReached(ih, settings)) replan = true;
    return replan;
  }

  /** Nothing to look at until a torrent changes (the feed calls `onChange` then): no download or
   *  new torrent due, and a session with a feed. */
  quiet(): boolean {
    return this.#changes !== undefined && this.#due.size === 0;
  }

  /** `fn` runs when a torrent changes while the last tick took every change. */
  onChange(fn: () => void): void {
    if (this.#changes) this.#changes.onChange = fn;
  }

  close(): void {
    this.#changes?.close();
  }
}
