// How a node holds its database (startNode): a single node's lease (state/database-lease.ts), or a
// cluster member's (membership.ts) with --cluster-url, never both kinds on one database.

import { hostname } from 'node:os';
import type { CascadeNode, NodeOptions } from '../core/node.ts';
import { NodeError } from '../core/errors.ts';
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

/** A member's lease kept for the node: its figures, and what it says when fenced or back. */
export function followMembership(node: CascadeNode, m: ClusterMembership): void {
  node.lease = m;
  node.cluster = m;
  m.useStats(statsOf(node));
  m.on('fenced', (reason) => {
    node.out.event('cluster', { state: 'fenced', epoch: m.epoch, reason });
    node.out.note(`cluster: fenced, rejoining: ${reason}`);
  });
  m.on('rejoined', (epoch) => node.out.event('cluster', { state: 'rejoined', epoch }));
  m.on('coordinator', (holds) => node.out.event('cluster', { state: holds ? 'coordinator' : 'not coordinator', epoch: m.epoch }));
  m.on('dead', (members) => {
    for (const d of members) node.out.note(`cluster: member ${d.id} at ${d.url} declared dead (no renewal since ${new Date(d.lastSeen).toISOString()})`);
  });
  m.on('unreachable', (message) => node.out.note(`cluster: the database does not answer, the lease is not renewed (retrying every ${MEMBER_RENEW_MS / 1000} s): ${message}`));
  m.on('reachable', () => node.out.note('cluster: the database answers again'));
  m.keep();
}
