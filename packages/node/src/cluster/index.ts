// Cluster membership (issue 42 step 3, docs/cluster.md): leases with fencing on the database's
// clock, the coordinator, and the view GET /api/cluster and `cascade cluster` show.
export { ClusterStore, type MemberRow, type MemberStats, type MemberList } from './cluster-store.ts';
export { ClusterMembership, MEMBER_LEASE_MS, MEMBER_RENEW_MS, type MemberState, type MembershipOptions } from './membership.ts';
export { clusterView, effectiveReplicas, singleNodeView } from './cluster-view.ts';
export { memberStats } from './member-stats.ts';
export { clusterFigures, nodeClusterView, nodeTorrentHolders, statsOf, type ClusterFigures, type ClusterNode } from './node-cluster.ts';
export { HolderStore, type HolderRow, type HolderPeer, type HolderState } from './holder-store.ts';
export { Placement, type PlacementRun } from './placement.ts';
export { storedClusterView, storedReplicas } from './stored-view.ts';
