// @cascade/cluster — one library on many machines (issue 42, docs/cluster.md): membership (leases
// with fencing on the database's clock, the coordinator), placement of replicas and its repair, the
// holders and their copies' moves, the change bus over Redis and the views it keeps current. Above
// the node: `clusterPlugin` is what startNode joins a cluster with (serve --cluster-url loads this
// package; a single node never does), the rest is read through the node's public entry points.
export { clusterPlugin, ClusterMember, type ClusterOptions } from './src/member.ts';
export { ClusterStore, type MemberRow, type MemberList } from './src/cluster-store.ts';
export { ClusterMembership, MEMBER_LEASE_MS, MEMBER_RENEW_MS, type MemberState, type MembershipOptions } from './src/membership.ts';
export { clusterView, effectiveReplicas } from './src/cluster-view.ts';
export { HolderStore, liveHolderUrls, type HolderRow, type HolderPeer, type HolderState } from './src/holder-store.ts';
export { HolderMoveStore } from './src/holder-moves.ts';
export { Placement, type PlacementRun } from './src/placement.ts';
export { storedClusterView, storedReplicas } from './src/stored-view.ts';
export type { ChangeBus, Change } from './src/change-bus.ts';
export type { MemberStats } from '@cascade/node/cluster-host';
