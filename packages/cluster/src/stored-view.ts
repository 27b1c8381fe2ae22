// The cluster as its database has it, with no node running here (`cascade cluster --database URL`):
// the members' rows and the replicas setting, read without the node (the CLI's verbs stay light).

import type { ClusterView } from '@cascade/shapes';
import { readStoredSettings, type Store } from '@cascade/node/cluster-host';
import { ClusterStore } from './cluster-store.ts';
import { clusterView } from './cluster-view.ts';

/** The replicas setting as stored (null: automatic, or unreadable: the node would fall back too). */
export async function storedReplicas(store: Store): Promise<number | null> {
  const row = (await readStoredSettings(store)).find((r) => r.key === 'replicas');
  if (!row) return null;
  try {
    const v = JSON.parse(row.value) as unknown;
    return typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : null;
  } catch {
    return null;
  }
}

export async function storedClusterView(store: Store): Promise<ClusterView> {
  return clusterView(await new ClusterStore(store).list(), await storedReplicas(store));
}
