// How a node holds its database (startNode): a single node's lease (state/database-lease.ts), or a
// cluster member's (membership.ts) with --cluster-url, never both kinds on one database.

import { hostname } from 'node:os';
import type { CascadeNode, NodeOptions } from '../core/node.ts';
import { NodeError, errorMessage } from '../core/errors.ts';
import type { Store } from '../state/store.ts';
import type { SharedWrite } from '../state/shared-writes.ts';
import { HolderStore } from './holder-store.ts';
import { Holdings } from './holdings.ts';
import { HolderMoveStore } from './holder-moves.ts';
import { Placement } from './placement.ts';
import { nodeIdentity } from '../core/node-identity.ts';
import { DatabaseLease, instanceId } from '../state/database-lease.ts';
import type { StateDB } from '../state/state-db.ts';
import { ClusterStore } from './cluster-store.ts';
import { ClusterMembership, MEMBER_RENEW_MS } from './membership.ts';
import { statsOf } from './node-cluster.ts';

/**
 * The node's hold on a shared database: a cluster member's lease with --cluster-url (members share
 * it), else the single node's (refused while a cluster's members are alive on it: they would not
 * see this node, nor it them). Nothing on SQLite: one state dir, one node (control.json says).
 */
export async function holdDatabase(o: NodeOptions, db: StateDB): Promise<DatabaseLease | ClusterMembership | undefined> {
  if (o.cluster && db.store.dialect !== 'postgres') {
    throw new NodeError('invalid', 'a cluster member keeps its state in PostgreSQL: --cluster-url needs --database postgres://… (the members share it)');
  }
  const instance = instanceId(o.stateDir);
  if (o.cluster) return ClusterMembership.join(db.store, { id: nodeIdentity(db).did, url: o.cluster.url, instance, redis: o.cluster.redis });
  if (db.store.dialect !== 'postgres') return undefined;
  const alive = await new ClusterStore(db.store).aliveCount();
  if (alive > 0) {
    throw new NodeError(
      'conflict',
      `${alive} member${alive === 1 ? '' : 's'} of a cluster use${alive === 1 ? 's' : ''} the database ${db.store.location} (\`cascade cluster --database URL\` lists them): ` +
        'start this node as a member too, with --cluster-url http://address-the-others-reach-it',
    );
  }
  return DatabaseLease.take(db.store, instance, `pid ${process.pid} on host ${hostname()}, state dir ${o.stateDir}`);
}

/** A member's lease kept for the node: its figures, what it says when fenced or back, its part as a
 *  holder and, while it is the coordinator, placement (holdings.ts, placement.ts). */
export async function followMembership(node: CascadeNode, m: ClusterMembership): Promise<void> {
  node.lease = m;
  node.cluster = m;
  m.useStats(statsOf(node));
  const holders = new HolderStore(node.db.store);
  const holdings = new Holdings(node, m, holders);
  const placement = new Placement({
    membership: m,
    holders,
    replicas: () => node.model.getSettings().replicas,
    placed: (infoHashes) => {
      // The others hear it on the bus; this member (the coordinator placing on itself) here.
      node.changes?.bus.publish(infoHashes.map((key) => ({ table: 'torrents', key })));
      void node.db.records.reload(infoHashes).then(() => holdings.take(infoHashes.filter((ih) => node.db.records.untaken(ih))));
    },
    note: (text) => node.out.note(text),
  });
  node.holdings = holdings;
  node.placement = placement;
  // A save path moved through this member: every other holder moves its own copy; they hear it now.
  const moves = new HolderMoveStore(node.db.store);
  node.model.forwardMove = async (infoHash, given) => {
    const asked = await moves.forward(infoHash, m.id, given);
    if (asked > 0) node.changes?.bus.publish([{ table: 'torrents', key: infoHash }]);
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
    }
  };
  node.changes?.views.onTable('torrents', (key) => {
    placement.soon([key]);
    holdings.told([key]);
  });
  m.on('renewed', () => {
    placement.soon();
    void holdings.tick();
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
  m.on('unreachable', (message) => node.out.note(`cluster: the database does not answer, the lease is not renewed (retrying every ${MEMBER_RENEW_MS / 1000} s): ${message}`));
  m.on('reachable', () => node.out.note('cluster: the database answers again'));
  m.keep();
}
