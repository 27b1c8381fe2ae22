// Placement and repair, one loop (issue 42 step 5, docs/cluster.md "Replicas and placement"): the
// coordinator counts each torrent's live copies — rows of members whose lease is live, at the epoch
// the row carries, whose copy has not failed (a full disk) — and, while a torrent has fewer than the
// effective `replicas`, places it on live members that do not hold it and have room for it (free
// bytes less what their unfinished copies will still write), those with the most free disk and the
// least load first. The same loop answers a new torrent (its adder is its first holder), a member
// declared dead (its rows stay, and no longer count), a copy that failed, and a raised or lowered
// `replicas` setting. A pass's placements are a few statements (up to 500 pairs each), each fenced on the
// coordinator's lease (holder-store.ts): two coordinators never both place. A torrent with more live
// copies than the target (a member back with its copies, a lowered `replicas`) has the surplus
// taken off once the copies to keep are complete (trim(), issue 63).
//
// Incremental: a pass reads only the torrents it was told of (a write to `torrents` names its key:
// an add, a holder's status — a copy failing — a removal) and those left short of room last time
// when a member's free space moved; the whole library only when the members' leases or epochs, the
// target or the coordinator's lease changed, when a change named no key, and every FULL_SWEEP_MS
// (what no notice told: a notice lost with Redis away). At 10,000 torrents a full pass reads 23,000
// rows (bench/cluster/placement.ts); a tick with nothing told reads the members' rows only.

import { errorMessage } from '@cascade/node/basics';
import type { MemberRow } from './cluster-store.ts';
import { effectiveReplicas } from './cluster-view.ts';
import { FAILED, type HolderRow, type HolderStore } from './holder-store.ts';
import { MEMBER_RENEW_MS, type ClusterMembership } from './membership.ts';
import { ToldSet } from './told-set.ts';

/** How soon after a nudge (an add, a death) the loop runs: nudges within it are one run. */
const SOON_MS = 250;
/** A member whose last renewal is older than this (one and a half renewals) keeps no copy a trim counts on. */
const TRIM_FRESH_MS = MEMBER_RENEW_MS * 1.5;

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
  /** The whole library was read (else only the torrents told of). */
  full: boolean;
  /** Torrents looked at. */
  torrents: number;
  placed: { infoHash: string; member: string }[];
  /** Surplus copies taken off (their members delete them). */
  trimmed: { infoHash: string; member: string }[];
  /** Torrents still under target (no live member left with room to take them). */
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

/** A holder row counts as a copy of a torrent: its member's lease is live at the row's epoch (or
 *  at an older one this pass read: the member joined again between the pass's two reads, moving its
 *  rows to its new epoch, cluster-store.ts's join) and its copy has not failed. */
function counts(epochs: ReadonlyMap<string, number>, r: HolderRow): boolean {
  if (r.member === null || r.state === FAILED) return false;
  const live = epochs.get(r.member);
  return live !== undefined && r.epoch >= live;
}

export class Placement {
  readonly #p: PlacementParts;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<PlacementRun | undefined> | undefined;
  #again = false;
  /** Torrents told of since the last pass, or everything (see ToldSet); what a full pass depends
   *  on: live members at their epochs, the target, the coordinator's epoch. */
  readonly #told = new ToldSet(false);
  /** Each live member's room step at the last pass: torrents short of room are tried again when it moves. */
  #rooms = '';
  /** Torrents left under target at the last pass. */
  #short = new Set<string>();
  /** Each member's epoch when a pass last saw it live, and the members seen back since with a new
   *  one (a restart, a fence lifted): among complete copies, theirs are the first a trim takes off (#trim). */
  readonly #epochSeen = new Map<string, number>();
  readonly #cameBack = new Set<string>();
  /** Runs done (tests and the note read it). */
  runs = 0;

  constructor(parts: PlacementParts) {
    this.#p = parts;
  }

  /** Runs the loop soon, if this member is the coordinator; `keys` are the torrents written (a
   *  null key: rows not named, read the whole library). */
  soon(keys?: readonly (string | null)[]): void {
    if (!this.#p.membership.isCoordinator) return;
    this.#told.tell(keys ?? []);
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.run();
    }, SOON_MS);
    this.#timer.unref();
  }

  /** One pass (never two at once; a nudge during one runs another after it); `full` reads the
   *  whole library whatever was told. */
  run(o: { full?: boolean } = {}): Promise<PlacementRun | undefined> {
    if (o.full) this.#told.everything();
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
        // What was told is not lost: the next pass reads everything.
        this.#told.everything();
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
    // A coordinator that stood still (its own renewal late: the VM or the database paused) judges
    // nothing until its next renewal has given the members that stopped with it a new lease
    // (membership.ts #coordinate): else their torrents would be placed again elsewhere, to be
    // trimmed once they renew. What was told waits for that pass.
    const self = members.find((x) => x.id === m.id);
    if (!self || now - self.lastSeen > m.standStillMs) return undefined;
    const live = members.filter((x) => x.leaseUntil >= now && x.deadAt === null);
    const epochs = new Map(live.map((x) => [x.id, x.epoch]));
    for (const x of live) {
      const seen = this.#epochSeen.get(x.id);
      if (seen !== undefined && x.epoch > seen) this.#cameBack.add(x.id);
      this.#epochSeen.set(x.id, x.epoch);
    }
    const target = Math.min(effectiveReplicas(this.#p.replicas(), live.length), live.length);
    const seen = `${epoch} ${target} ${live.map((x) => `${x.id}@${x.epoch}`).sort().join(' ')}`;
    const rooms = live.map((x) => `${x.id}:${roomStep(x.freeBytes)}`).sort().join(' ');
    const { full, told } = this.#told.take(seen, now);
    if (!full && rooms !== this.#rooms) for (const ih of this.#short) told.add(ih);
    this.#rooms = rooms;
    const run: PlacementRun = { target, full, torrents: 0, placed: [], trimmed: [], short: 0 };
    if (!full && told.size === 0) return run;
    const copies = new Map<string, { live: number; members: Set<string>; length: number | null; rows: HolderRow[] }>();
    for (const r of await this.#p.holders.holderRows(full ? undefined : [...told])) {
      let c = copies.get(r.infoHash);
      if (!c) copies.set(r.infoHash, (c = { live: 0, members: new Set(), length: r.length, rows: [] }));
      if (r.member === null) continue;
      c.members.add(r.member);
      if (!counts(epochs, r)) continue;
      c.live++;
      c.rows.push(r);
    }
    run.trimmed = await this.#trim(copies, live, target, epoch, now);
    run.torrents = copies.size;
    const short = full ? new Set<string>() : this.#short;
    for (const ih of told) short.delete(ih);
    const load = new Map(live.map((x) => [x.id, x.torrents]));
    // Each member's room: its free bytes less what its unfinished copies will still write (read
    // once, and only when something is to be placed).
    let room: Map<string, number> | undefined;
    const wanted: { infoHash: string; member: string }[] = [];
    for (const [infoHash, c] of copies) {
      if (c.live >= target) continue;
      if (!room) {
        const promised = await this.#p.holders.promised();
        room = new Map(live.map((x) => [x.id, x.freeBytes - (promised.get(x.id) ?? 0)]));
      }
      const fits = (x: MemberRow) => c.length === null || room!.get(x.id)! >= c.length;
      const choice = live.filter((x) => !c.members.has(x.id) && fits(x)).sort(byRoom(load));
      for (const member of choice.slice(0, target - c.live)) {
        wanted.push({ infoHash, member: member.id });
        c.live++;
        load.set(member.id, load.get(member.id)! + 1);
        room.set(member.id, room.get(member.id)! - (c.length ?? 0));
      }
      if (c.live < target) short.add(infoHash);
    }
    // Fenced on the coordinator's lease: once it is lost, nothing more is placed. A pair skipped (its
    // member's lease ran out meanwhile) leaves its torrent short: the next pass reads it again.
    run.placed = wanted.length > 0 ? await this.#p.holders.placeAll(wanted, m.id, epoch) : [];
    const done = new Set(run.placed.map((p) => `${p.infoHash} ${p.member}`));
    for (const w of wanted) if (!done.has(`${w.infoHash} ${w.member}`)) short.add(w.infoHash);
    run.short = [...copies.keys()].filter((ih) => short.has(ih)).length;
    this.#short = short;
    if (run.placed.length > 0) this.#p.placed([...new Set(run.placed.map((p) => p.infoHash))]);
    return run;
  }

  /**
   * Surplus copies off (tombstones their members act on: holder-store.ts's unplaceAll) whenever a
   * torrent has more live copies than the target: a member back with its copies after its torrents
   * were placed elsewhere (issue 63: a member fenced twice under load left every torrent with 3
   * copies for 2 replicas, and the data on its disk), a lowered `replicas`, a failed copy resumed
   * after the new one was placed. Kept first: complete copies (a copy still filling goes before a
   * whole one: a member back from a reboot with its copies whole stops the repair's copies still
   * filling, rather than having its own trimmed and the repair fetch the rest), then copies of
   * members not seen coming back with a new epoch (the copies placed in their stead), then those of
   * the members up longest (started_at); and only once every kept copy is complete and its member
   * renewed on time, so the last complete copies never go. Fenced on the coordinator's lease.
   */
  async #trim(copies: ReadonlyMap<string, { rows: HolderRow[] }>, live: readonly MemberRow[], target: number, epoch: number, now: number): Promise<{ infoHash: string; member: string }[]> {
    const since = new Map(live.map((x) => [x.id, x.startedAt]));
    // The copies kept must be on members that renewed on time: one killed a moment ago is still
    // live until its lease runs out, and a copy trimmed on its account was placed again on the same
    // member seconds later, to be fetched again whole (bench:crash --cluster, a second kill).
    const fresh = new Set(live.filter((x) => now - x.lastSeen <= TRIM_FRESH_MS).map((x) => x.id));
    const surplus: { infoHash: string; member: string; epoch: number }[] = [];
    for (const [infoHash, c] of copies) {
      if (c.rows.length <= target) continue;
      const back = (r: HolderRow) => (this.#cameBack.has(r.member!) ? 1 : 0);
      const whole = (r: HolderRow) => (r.complete ? 0 : 1);
      const ordered = [...c.rows].sort((a, b) => whole(a) - whole(b) || back(a) - back(b) || since.get(a.member!)! - since.get(b.member!)! || (a.member! < b.member! ? -1 : 1));
      if (!ordered.slice(0, target).every((r) => r.complete && fresh.has(r.member!))) continue;
      for (const r of ordered.slice(target)) surplus.push({ infoHash, member: r.member!, epoch: r.epoch });
    }
    if (surplus.length === 0) return [];
    const gone = await this.#p.holders.unplaceAll(surplus, this.#p.membership.id, epoch);
    if (gone.length > 0) this.#p.placed([...new Set(gone.map((g) => g.infoHash))]);
    return gone;
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
