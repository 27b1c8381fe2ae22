// A node as a cluster's member (docs/cluster.md): the plugin the layer that starts a member hands
// startNode (clusterPlugin: serve --cluster-url URL [--redis URL]), and the member it joins. The
// member holds the database by its lease in cluster_members (membership.ts), where a single node
// holds node_lease (the node's state/database-lease.ts: never both kinds on one database); connects
// its change bus before the node exists (change-bus.ts), then follows the node: the views of the
// others' writes (cluster-views.ts), its figures at each renewal, its part as a holder (holdings.ts)
// and, while it is the coordinator, placement (placement.ts); and it says when it is fenced or back.

import type { ClusterView } from '@cascade/shapes';
import { nodeIdentity, statsOf, type CascadeNode, type NodeLog, type StateDB } from '@cascade/node';
import { NodeError, errorMessage } from '@cascade/node/basics';
import { instanceId, type ClusterFigures, type ClusterPlugin, type JoinedCluster, type MemberState, type PostgresStore, type SharedWrite, type Store } from '@cascade/node/cluster-host';
import { redisChangeBus, type ChangeBus } from './change-bus.ts';
import { ClusterViews } from './cluster-views.ts';
import { clusterView } from './cluster-view.ts';
import { HolderStore, liveHolderUrls } from './holder-store.ts';
import { Holdings } from './holdings.ts';
import { HolderMoveStore } from './holder-moves.ts';
import { CopiesElsewhere } from './copies-elsewhere.ts';
import { Placement } from './placement.ts';
import { ClusterMembership, MEMBER_RENEW_MS } from './membership.ts';

/** A member's part of `serve`'s options: its HTTP address as the others reach it, and the Redis of
 *  the change fan-out. */
export interface ClusterOptions {
  url: string;
  redis?: string | undefined;
}

/** What startNode joins a cluster with (its `cluster` option). */
export function clusterPlugin(o: ClusterOptions): ClusterPlugin {
  return {
    async join(db, stateDir, out) {
      if (db.store.dialect !== 'postgres') {
        throw new NodeError('invalid', 'a cluster member keeps its state in PostgreSQL: --cluster-url needs --database postgres://… (the members share it)');
      }
      const m = await ClusterMembership.join(db.store, { id: nodeIdentity(db).did, url: o.url, instance: instanceId(stateDir), redis: o.redis });
      return new ClusterMember(m, db, out);
    },
  };
}

export class ClusterMember implements JoinedCluster {
  readonly membership: ClusterMembership;
  readonly #db: StateDB;
  readonly #out: NodeLog;
  #bus: ChangeBus | undefined;
  #node: CascadeNode | undefined;
  #placement: Placement | undefined;
  #holdings: Holdings | undefined;
  /** The change bus and the views it keeps current (with --redis), closed at stop. */
  changes: { views: ClusterViews; bus: ChangeBus } | undefined;

  constructor(membership: ClusterMembership, db: StateDB, out: NodeLog) {
    this.membership = membership;
    this.#db = db;
    this.#out = out;
  }

  get id(): string {
    return this.membership.id;
  }

  get url(): string {
    return this.membership.url;
  }

  get epoch(): number {
    return this.membership.epoch;
  }

  get state(): MemberState {
    return this.membership.state;
  }

  get isCoordinator(): boolean {
    return this.membership.isCoordinator;
  }

  on(event: 'coordinator', fn: (holds: boolean) => void): this {
    this.membership.on(event, fn);
    return this;
  }

  /** The change bus of the member, fed by every shared write its Store commits; it connects in the
   *  background. */
  async connect(): Promise<void> {
    const redis = this.membership.redis;
    if (redis === undefined) return;
    const bus = await redisChangeBus(redis, this.#db.memberId, (line) => this.#out.note(line));
    (this.#db.store as PostgresStore).onCommit = (writes) => bus.publish(writes);
    this.#bus = bus;
  }

  /** The lease kept for the node: its figures, what it says when fenced or back, its part as a
   *  holder and, while it is the coordinator, placement (holdings.ts, placement.ts). */
  async follow(node: CascadeNode): Promise<void> {
    const m = this.membership;
    this.#node = node;
    if (this.#bus) this.changes = { bus: this.#bus, views: new ClusterViews(node, this.#bus) };
    node.lease = this;
    node.cluster = this;
    m.useStats(statsOf(node));
    const holders = new HolderStore(node.db.store);
    const holdings = new Holdings(node, m, holders);
    this.#holdings = holdings;
    // Torrents another member holds: listed here with that copy's progress and files.
    const elsewhere = new CopiesElsewhere(node, () => m.id);
    node.db.elsewhere = elsewhere;
    holdings.dropped = (infoHashes) => {
      elsewhere.told(infoHashes);
      void elsewhere.refresh();
    };
    const placement = new Placement({
      membership: m,
      holders,
      replicas: () => node.model.getSettings().replicas,
      placed: (infoHashes) => {
        // The others hear it on the bus; this member (the coordinator placing on itself) here.
        this.changes?.bus.publish(infoHashes.map((key) => ({ table: 'torrents', key })));
        void node.db.records.reload(infoHashes).then(() => holdings.take(infoHashes.filter((ih) => node.db.records.untaken(ih))));
      },
      note: (text) => node.out.note(text),
    });
    if (this.changes) this.changes.views.holdings = holdings;
    this.#placement = placement;
    // A save path moved through this member: every other holder moves its own copy; they hear it now.
    const moves = new HolderMoveStore(node.db.store);
    node.model.forwardMove = async (infoHash, given) => {
      const asked = await moves.forward(infoHash, m.id, given);
      if (asked > 0) this.changes?.bus.publish([{ table: 'torrents', key: infoHash }]);
      return asked;
    };
    // This member's copies count at its new epoch (a restart after a crash rejoins with them).
    await node.db.records.registerHeld(m.epoch);
    // A torrent added anywhere (or its holders changed) is placed within a moment, not a tick.
    const store = node.db.store as Store & { onCommit?: ((writes: SharedWrite[]) => void) | undefined };
    const publish = store.onCommit;
    store.onCommit = (writes) => {
      publish?.(writes);
      const keys = writes.filter((w) => w.table === 'torrents').map((w) => w.key);
      if (keys.length > 0) {
        placement.soon(keys);
        holdings.told(keys);
        elsewhere.told(keys);
      }
    };
    this.changes?.views.onTable('torrents', (key) => {
      placement.soon([key]);
      holdings.told([key]);
      elsewhere.told([key]);
      void elsewhere.refresh();
    });
    m.on('renewed', () => {
      placement.soon();
      void holdings.tick();
      void elsewhere.refresh();
    });
    m.on('fenced', (reason) => {
      node.out.event('cluster', { state: 'fenced', epoch: m.epoch, reason });
      node.out.note(`cluster: fenced, rejoining: ${reason}; its torrents are held paused until then`);
      void holdings.fenced();
    });
    m.on('rejoined', (epoch) => {
      node.out.event('cluster', { state: 'rejoined', epoch });
      void holdings.rejoined(epoch).catch((err: unknown) => node.out.note(`cluster: holding again after rejoining failed: ${errorMessage(err)}`));
    });
    m.on('coordinator', (holds) => node.out.event('cluster', { state: holds ? 'coordinator' : 'not coordinator', epoch: m.epoch }));
    m.on('dead', (members) => {
      for (const d of members) node.out.note(`cluster: member ${d.id} at ${d.url} declared dead (no renewal since ${new Date(d.lastSeen).toISOString()})`);
      // Its copies no longer count: its torrents get new holders now.
      placement.soon();
    });
    m.on('spared', (ids) => node.out.note(`cluster: this coordinator stood still (its renewals more than ${m.standStillMs / 1000} s apart: the machine or the database paused); ${ids.length} member(s) whose lease ran out meanwhile get a new one to renew in, not declared dead: ${ids.join(', ')}`));
    m.on('unreachable', (message) => node.out.note(`cluster: the database does not answer, the lease is not renewed (retrying every ${MEMBER_RENEW_MS / 1000} s): ${message}`));
    m.on('reachable', () => node.out.note('cluster: the database answers again'));
    m.keep();
  }

  /** Another member's changes of `table` (none without the change bus). */
  onTable(table: string, fn: (key: string | null) => void): void {
    this.changes?.views.onTable(table, fn);
  }

  /** The members as the database has them, this one marked `self`. */
  async view(): Promise<ClusterView> {
    return clusterView(await this.membership.store.list(), this.#replicas(), this.id);
  }

  /** The member's figures for /metrics; the members' within `timeoutMs` or none. */
  async figures(timeoutMs = 2000): Promise<ClusterFigures> {
    const m = this.membership;
    const own = { member: m.id, url: m.url, epoch: m.epoch, coordinator: m.isCoordinator, fenced: m.state === 'fenced' };
    let timer: NodeJS.Timeout | undefined;
    try {
      const list = await Promise.race([
        m.store.list(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('timed out')), timeoutMs);
        }),
      ]);
      const view = clusterView(list, this.#replicas(), m.id);
      const alive = view.members.filter((x) => x.alive).length;
      return { ...own, members: { alive, dead: view.members.length - alive, replicas: view.replicas } };
    } catch {
      return { ...own, members: undefined };
    } finally {
      clearTimeout(timer);
    }
  }

  /** An add of `infoHash` through this member, before it is stored: a copy here of the torrent
   *  removed through another member goes first (running: the views stop it; not running: its
   *  tombstone is acted on), so the add is a new one and the old copy's files are not left behind. */
  async replaceRemoved(infoHash: string): Promise<(() => void) | undefined> {
    if (this.#node?.session.get(infoHash)) return this.changes?.views.replaceRemoved(infoHash);
    await this.#holdings?.dropTombstone(infoHash);
    return undefined;
  }

  liveHolderUrls(infoHash: string): Promise<string[]> {
    return liveHolderUrls(this.#db.store, infoHash, this.#db.memberId);
  }

  /** The replicas setting (null: automatic). */
  #replicas(): number | null {
    return this.#node?.model.getSettings().replicas ?? null;
  }

  stopping(): void {
    this.#placement?.close();
  }

  async close(): Promise<void> {
    await this.changes?.views.close();
    await this.#bus?.close();
  }

  /** Leaves: the lease ends now and the coordinator's lease is given back. */
  release(): Promise<void> {
    return this.membership.release();
  }
}
