// Placement and repair, one loop (issue 42 step 5, docs/cluster.md "Replicas and placement"): the
// coordinator counts each torrent's live holders — rows of members whose lease is live, at the epoch
// the row carries — and, while a torrent has fewer than the effective `replicas`, places it on live
// members that do not hold it, those with the most free disk and the least load first. The same
// loop answers a new torrent (its adder is its first holder), a member declared dead (its rows stay,
// and no longer count) and a raised `replicas` setting. Each placement is one statement fenced on
// the coordinator's lease (holder-store.ts): two coordinators never both place. It never removes a
// holder: a member back with its copies (a restart, a fence lifted) leaves a torrent with more
// holders than `replicas` until someone removes it.

import { errorMessage } from '../core/errors.ts';
import type { MemberRow } from './cluster-store.ts';
import { effectiveReplicas } from './cluster-view.ts';
import type { HolderStore } from './holder-store.ts';
import type { ClusterMembership } from './membership.ts';

/** How soon after a nudge (an add, a death) the loop runs: nudges within it are one run. */
const SOON_MS = 250;

export interface PlacementParts {
  readonly membership: ClusterMembership;
  readonly holders: HolderStore;
  /** The `replicas` setting (null: automatic). */
  replicas(): number | null;
  /** Tells the members (the one placed on above all) that a torrent's holders changed. */
  placed(infoHashes: readonly string[]): void;
  note(text: string): void;
}

/** What one run decided (tests read it). */
export interface PlacementRun {
  target: number;
  placed: { infoHash: string; member: string }[];
  /** Torrents still under target (no live member left to take them). */
  short: number;
}

/** Free bytes in steps of about 9%: disks about as free count as equal, and load decides. */
function roomStep(freeBytes: number): number {
  return Math.floor(Math.log2(1 + freeBytes / 2 ** 20) * 8);
}

/** Live members ordered best first for a new copy: most free bytes, then fewest torrents (with the
 *  ones placed in this run), then least traffic. */
function byRoom(load: ReadonlyMap<string, number>) {
  return (a: MemberRow, b: MemberRow): number =>
    roomStep(b.freeBytes) - roomStep(a.freeBytes) || load.get(a.id)! - load.get(b.id)! || a.downloadRate + a.uploadRate - (b.downloadRate + b.uploadRate) || (a.id < b.id ? -1 : 1);
}

export class Placement {
  readonly #p: PlacementParts;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<PlacementRun | undefined> | undefined;
  #again = false;
  /** Runs done (tests and the note read it). */
  runs = 0;

  constructor(parts: PlacementParts) {
    this.#p = parts;
  }

  /** Runs the loop soon, if this member is the coordinator. */
  soon(): void {
    if (this.#timer || !this.#p.membership.isCoordinator) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.run();
    }, SOON_MS);
    this.#timer.unref();
  }

  /** One pass over the library (never two at once; a nudge during one runs another after it). */
  run(): Promise<PlacementRun | undefined> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      let last: PlacementRun | undefined;
      try {
        do {
          this.#again = false;
          last = await this.#run();
        } while (this.#again);
      } catch (err) {
        this.#p.note(`cluster: placement failed (retried at the next tick): ${errorMessage(err)}`);
      } finally {
        this.#running = undefined;
      }
      return last;
    })();
    return this.#running;
  }

  async #run(): Promise<PlacementRun | undefined> {
    const m = this.#p.membership;
    const epoch = m.coordinatorEpoch;
    if (epoch === undefined) return undefined;
    this.runs++;
    const { now, members } = await m.store.list();
    const live = members.filter((x) => x.leaseUntil >= now && x.deadAt === null);
    const epochs = new Map(live.map((x) => [x.id, x.epoch]));
    const target = Math.min(effectiveReplicas(this.#p.replicas(), live.length), live.length);
    const copies = new Map<string, { live: number; members: Set<string> }>();
    for (const r of await this.#p.holders.holderRows()) {
      let c = copies.get(r.infoHash);
      if (!c) copies.set(r.infoHash, (c = { live: 0, members: new Set() }));
      if (r.member === null) continue;
      c.members.add(r.member);
      if (epochs.get(r.member) === r.epoch) c.live++;
    }
    const load = new Map(live.map((x) => [x.id, x.torrents]));
    const run: PlacementRun = { target, placed: [], short: 0 };
    for (const [infoHash, c] of copies) {
      if (c.live >= target) continue;
      const room = live.filter((x) => !c.members.has(x.id)).sort(byRoom(load));
      for (const member of room.slice(0, target - c.live)) {
        // Fenced on the coordinator's lease: once it is lost, nothing more is placed.
        if (!(await this.#p.holders.place(infoHash, member.id, m.id, epoch))) {
          if (m.coordinatorEpoch !== epoch) return run;
          continue;
        }
        c.live++;
        load.set(member.id, load.get(member.id)! + 1);
        run.placed.push({ infoHash, member: member.id });
      }
      if (c.live < target) run.short++;
    }
    if (run.placed.length > 0) this.#p.placed([...new Set(run.placed.map((p) => p.infoHash))]);
    return run;
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
