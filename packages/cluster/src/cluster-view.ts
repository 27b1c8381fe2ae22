// What GET /api/cluster answers and `cascade cluster` prints (the ClusterView of @cascade/shapes):
// the members as the database has them, alive by their lease on the database's clock, and the
// replicas each torrent is to have. A node that is not in a cluster is a cluster of itself (the
// node's nodeClusterView answers that).

import type { ClusterMember, ClusterView } from '@cascade/shapes';
import type { MemberList } from './cluster-store.ts';

/** Members that hold each torrent when the replicas setting is unset: 2 once two or more are
 *  alive (a dead one leaves a copy), else 1. */
export function effectiveReplicas(setting: number | null, alive: number): number {
  return setting ?? (alive >= 2 ? 2 : 1);
}

/** The cluster's view from its rows; `self` marks the member that answers (none offline). */
export function clusterView(list: MemberList, replicasSetting: number | null, self?: string): ClusterView {
  const members: ClusterMember[] = list.members.map((m) => ({
    id: m.id,
    url: m.url,
    alive: m.leaseUntil >= list.now,
    lastSeen: new Date(m.lastSeen).toISOString(),
    torrents: m.torrents,
    freeBytes: m.freeBytes,
    downloadRate: m.downloadRate,
    uploadRate: m.uploadRate,
    epoch: m.epoch,
    coordinator: m.id === list.coordinator,
    self: m.id === self,
  }));
  return { members, replicas: effectiveReplicas(replicasSetting, members.filter((m) => m.alive).length) };
}
