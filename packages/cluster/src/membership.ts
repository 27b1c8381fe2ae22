// A member's place in the cluster (issue 42 step 3, docs/cluster.md "Membership: leases with
// fencing"): it joins with a new epoch, renews its lease every RENEW_MS with its figures, and learns
// at a renewal that fails that it was fenced (declared dead while cut off, or replaced): it says so
// ('fenced'), answers not ready, and rejoins with a new epoch at the next tick, keeping what is on
// its disk. One member at a time is the coordinator (the same lease scheme, one row) and declares
// dead the members whose lease ran out. A member that lost its lease stops acting as a holder
// (step 5 pauses its holdings on 'fenced'). A coordinator that finds it stood still itself (its own
// renewals too far apart: the VM or the database paused) gives the lapsed a lease to renew in
// before declaring anyone ('spared'): it cannot tell who stopped with it from who died.

import { EventEmitter } from 'node:events';
import { NodeError, errorMessage } from '@cascade/node/basics';
import type { MemberState, MemberStats, Store } from '@cascade/node/cluster-host';
import { ClusterStore, type MemberRow } from './cluster-store.ts';

/** A member not renewed for this long is dead: with a renewal every RENEW_MS and the coordinator
 *  looking every RENEW_MS, a killed member is declared dead within LEASE_MS + 2 * RENEW_MS = 10 s. */
export const MEMBER_LEASE_MS = 6_000;
export const MEMBER_RENEW_MS = 2_000;

export type { MemberState };

export interface MembershipOptions {
  /** The member id: the node key's did:key. */
  id: string;
  /** Its HTTP address as the others reach it. */
  url: string;
  /** Its state dir's instance id (the node's instanceId): the same member restarted rejoins at once. */
  instance: string;
  /** `serve --redis`: kept for the change fan-out (step 4). */
  redis?: string | undefined;
  /** Its figures at each renewal. */
  stats?: () => MemberStats | Promise<MemberStats>;
  /** Tests shorten these; a cluster uses the defaults. */
  leaseMs?: number;
  renewMs?: number;
}

export interface MembershipEvents {
  /** This member's renewal was refused: reason says why; it rejoins at the next tick. */
  fenced: [reason: string];
  /** Back in with a new epoch. */
  rejoined: [epoch: number];
  /** This member took (true) or lost (false) the coordinator's lease. */
  coordinator: [holds: boolean];
  /** As coordinator, it declared these members dead. */
  dead: [members: MemberRow[]];
  /** As coordinator back from standing still, it gave these members whose lease ran out meanwhile a
   *  new one instead of declaring them dead (ClusterStore.graceLapsed). */
  spared: [members: string[]];
  /** A tick renewed the lease (and, for the coordinator, did its part): placement and the holders'
   *  peers follow it (holdings.ts, placement.ts). */
  renewed: [];
  /** A renewal the database did not answer (retried at the next tick; the lease outlives a few):
   *  said once per outage, and `reachable` once it answers again. */
  unreachable: [message: string];
  reachable: [];
}

const NO_STATS: MemberStats = { torrents: 0, freeBytes: 0, downloadRate: 0, uploadRate: 0, btPort: null };

export class ClusterMembership extends EventEmitter<MembershipEvents> {
  readonly store: ClusterStore;
  readonly id: string;
  readonly url: string;
  readonly redis: string | undefined;
  readonly #instance: string;
  readonly #leaseMs: number;
  readonly #renewMs: number;
  #stats: () => MemberStats | Promise<MemberStats>;
  #epoch: number;
  #state: MemberState = 'member';
  #coordinatorEpoch: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;
  #unreachable = false;
  /** The database's time of this member's last renewal (undefined before the first, and after a
   *  rejoin): a gap of more than two renewals means this process, or the database, stood still. */
  #renewedAt: number | undefined;

  private constructor(store: ClusterStore, o: MembershipOptions, epoch: number) {
    super();
    this.store = store;
    this.id = o.id;
    this.url = o.url;
    this.redis = o.redis;
    this.#instance = o.instance;
    this.#leaseMs = o.leaseMs ?? MEMBER_LEASE_MS;
    this.#renewMs = o.renewMs ?? MEMBER_RENEW_MS;
    this.#stats = o.stats ?? (() => NO_STATS);
    this.#epoch = epoch;
  }

  /**
   * Joins the cluster on `store`, or throws NodeError('conflict') naming what holds the place: a
   * single node on the database (the node's state/database-lease.ts), or another live process with this
   * member's id (the same node key).
   */
  static async join(store: Store, o: MembershipOptions): Promise<ClusterMembership> {
    const cs = new ClusterStore(store);
    const single = await cs.singleNodeHolder();
    if (single) {
      throw new NodeError(
        'conflict',
        `a single Cascade node (not in a cluster) uses the database ${store.location}: ${single.description}, its lease runs ${((single.expiresAt - single.now) / 1000).toFixed(1)} s more. ` +
          'Stop it, or start it with --cluster-url too, then start this member again.',
      );
    }
    const epoch = await cs.join(o.id, o.url, o.instance, o.leaseMs ?? MEMBER_LEASE_MS);
    if (epoch === undefined) {
      const { now, members } = await cs.list();
      const other = members.find((m) => m.id === o.id);
      throw new NodeError(
        'conflict',
        `cluster member ${o.id} already runs at ${other?.url ?? '?'} (its lease renewed ${other ? ((now - other.lastSeen) / 1000).toFixed(1) : '?'} s ago): ` +
          'two nodes with one node key. Each member needs its own identity (its own state dir); if that member is gone, start this one again once its lease ran out.',
      );
    }
    return new ClusterMembership(cs, o, epoch);
  }

  get epoch(): number {
    return this.#epoch;
  }

  get state(): MemberState {
    return this.#state;
  }

  get isCoordinator(): boolean {
    return this.#coordinatorEpoch !== undefined;
  }

  /** The coordinator's lease epoch while this member holds it: its decisions are fenced on it. */
  get coordinatorEpoch(): number | undefined {
    return this.#coordinatorEpoch;
  }

  /** Where the figures come from, once the node that has them exists. */
  useStats(stats: () => MemberStats | Promise<MemberStats>): void {
    this.#stats = stats;
  }

  /** Renews now and every renewMs until release(). */
  keep(): void {
    if (this.#timer || this.#state === 'left') return;
    this.#timer = setInterval(() => void this.tick(), this.#renewMs);
    this.#timer.unref();
    void this.tick();
  }

  /** One renewal (or rejoin, when fenced), then the coordinator's part. Never two at once. */
  tick(): Promise<void> {
    this.#ticking ??= this.#tick().finally(() => (this.#ticking = undefined));
    return this.#ticking;
  }

  async #tick(): Promise<void> {
    if (this.#state === 'left') return;
    try {
      if (this.#state === 'fenced') await this.#rejoin();
      else {
        const stats = await this.#stats();
        const at = await this.store.renew(this.id, this.#epoch, stats, this.#leaseMs);
        if (at === undefined) this.#fenced();
        else {
          const stoodStill = this.#renewedAt !== undefined && at - this.#renewedAt > this.standStillMs;
          this.#renewedAt = at;
          await this.#coordinate(stoodStill);
          this.emit('renewed');
        }
      }
      if (this.#unreachable) {
        this.#unreachable = false;
        this.emit('reachable');
      }
    } catch (err) {
      if (this.#unreachable) return;
      this.#unreachable = true;
      this.emit('unreachable', errorMessage(err));
    }
  }

  #fenced(): void {
    this.#state = 'fenced';
    this.#renewedAt = undefined;
    this.#loseCoordinator();
    this.emit('fenced', `this member's lease (epoch ${this.#epoch}) was taken from it: it was declared dead, or another process joined as ${this.id}`);
  }

  async #rejoin(): Promise<void> {
    const epoch = await this.store.join(this.id, this.url, this.#instance, this.#leaseMs);
    // Another live instance with this id: stay out (and not ready) until its lease runs out.
    if (epoch === undefined || this.#state === 'left') return;
    this.#epoch = epoch;
    this.#state = 'member';
    this.emit('rejoined', epoch);
  }

  /** How long between two renewals of its own means a member stood still (its process, the
   *  machine, or the database did not run): two renewals' time. */
  get standStillMs(): number {
    return 2 * this.#renewMs;
  }

  /** `stoodStill`: this member's own renewals had a gap of more than standStillMs. As coordinator
   *  it was not watching then, so a lease that ran out meanwhile may have run out with its own (a
   *  VM paused, the database restarted): those get a lease to renew in (graceLapsed) before anyone
   *  is declared dead. One that stood still alone while the coordinator ran is declared as before. */
  async #coordinate(stoodStill: boolean): Promise<void> {
    if (this.#coordinatorEpoch !== undefined && !(await this.store.renewCoordinator(this.id, this.#coordinatorEpoch, this.#leaseMs))) this.#loseCoordinator();
    if (this.#coordinatorEpoch === undefined) {
      const epoch = await this.store.takeCoordinator(this.id, this.#leaseMs);
      if (epoch !== undefined) {
        this.#coordinatorEpoch = epoch;
        this.emit('coordinator', true);
      }
    }
    if (this.#coordinatorEpoch === undefined) return;
    if (stoodStill) {
      const spared = await this.store.graceLapsed(this.id, this.#coordinatorEpoch, this.#leaseMs);
      if (spared.length > 0) this.emit('spared', spared);
    }
    const dead = await this.store.declareDead(this.id, this.#coordinatorEpoch);
    if (dead.length > 0) this.emit('dead', dead);
  }

  #loseCoordinator(): void {
    if (this.#coordinatorEpoch === undefined) return;
    this.#coordinatorEpoch = undefined;
    this.emit('coordinator', false);
  }

  /** Stops renewing without a word to the database, as a killed process would (tests). */
  abandon(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#state = 'left';
  }

  /** Leaves (a node stopping): the lease ends now and the coordinator's lease is given back. Named
   *  as database-lease.ts's, so the node releases either the same way. */
  async release(): Promise<void> {
    if (this.#state === 'left') return;
    const wasMember = this.#state === 'member';
    this.abandon();
    await this.#ticking?.catch(() => {});
    try {
      if (this.#coordinatorEpoch !== undefined) await this.store.releaseCoordinator(this.id, this.#coordinatorEpoch);
      if (wasMember) await this.store.leave(this.id, this.#epoch);
    } catch {
      // The database does not answer: the leases run out by themselves.
    }
  }
}
