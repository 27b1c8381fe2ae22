// @cascade/node/cluster-host — what @cascade/cluster (a cluster's members, leases, placement and
// change bus, a package above the node) takes of the node beyond its main entry: the Store's types,
// the database's clock, the tables' values it reads (tombstone states, the stored settings, a
// torrent's holders), the state dir's instance id, loading a stored torrent (and the turns loads and
// removals of one torrent take) and a save path's check,
// and the seam it plugs into (node-cluster.ts, startNode's ClusterPlugin). As light as ./verbs:
// `cascade cluster --database URL` reads the members with no node running.
export type { Dialect, Store } from '@cascade/node-state/store';
export type { PostgresStore } from '@cascade/node-state/postgres-store';
export type { SharedWrite } from '@cascade/node-state';
export { instanceId, nowSql, parseRenamedFiles } from '@cascade/node-state';
export { REMOVED, REMOVED_WITH_DATA } from '@cascade/node-state';
export { FAILED, holderStates, type HolderState } from '@cascade/node-state';
export { readStoredSettings } from './src/model/settings.ts';
export { saveDir } from './src/model/validate.ts';
export { loadStored } from './src/core/library.ts';
export { oneAtATime } from './src/core/torrent-locks.ts';
export { deleteOwnFiles, otherOwners, renamedOnDisk } from './src/files/own-files.ts';
export { liveFiles } from './src/core/torrent-removal.ts';
export type { MemberStats } from './src/core/member-stats.ts';
export type { ClusterFigures, MemberState, NodeCluster } from './src/core/node-cluster.ts';
export type { ClusterPlugin, JoinedCluster } from './src/core/node-start.ts';
