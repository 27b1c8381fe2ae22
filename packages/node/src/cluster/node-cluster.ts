// The cluster as a running node answers for it (GET /api/cluster, the `cluster` control RPC), and
// as the state says with no node running (`cascade cluster --database URL`).

import type { ClusterView, TorrentHolder } from '@cascade/shapes';
import type { SessionHandle } from '../core/engine.ts';
import { nodeIdentity } from '../core/node-identity.ts';
import type { StateDB } from '../state/state-db.ts';
import type { MemberStats } from './cluster-store.ts';
import { clusterView, singleNodeView } from './cluster-view.ts';
import { memberStats } from './member-stats.ts';
import { HolderStore } from './holder-store.ts';
import type { ClusterMembership } from './membership.ts';

/** What of a node the cluster view reads. */
export interface ClusterNode {
  readonly cluster: ClusterMembership | undefined;
  readonly session: SessionHandle;
  readonly db: StateDB;
  readonly model: { getSettings(): { readonly downloadDir: string; readonly replicas: number | null } };
}

const samplers = new WeakMap<ClusterNode, () => Promise<MemberStats>>();

/** The node's figures (one sampler per node, so its rates span the time between two asks). */
export function statsOf(node: ClusterNode): () => Promise<MemberStats> {
  let s = samplers.get(node);
  if (!s) samplers.set(node, (s = memberStats(node.session, () => node.model.getSettings().downloadDir)));
  return s;
}

/** The cluster this node is a member of, or itself alone at `selfUrl` (how the caller reached it). */
export async function nodeClusterView(node: ClusterNode, selfUrl: string): Promise<ClusterView> {
  const m = node.cluster;
  if (!m) return singleNodeView({ id: nodeIdentity(node.db).did, url: selfUrl, stats: await statsOf(node)() });
  return clusterView(await m.store.list(), node.model.getSettings().replicas, m.id);
}

/** A member's figures for its /metrics (the cluster gauges): its own place, and the members as the
 *  database lists them when it answers within `timeoutMs` (a scrape never waits on a database
 *  that hangs; `members` is then undefined and the gauges say the database was not read). */
export interface ClusterFigures {
  readonly member: string;
  readonly url: string;
  readonly epoch: number;
  readonly coordinator: boolean;
  readonly fenced: boolean;
  readonly members: { readonly alive: number; readonly dead: number; readonly replicas: number } | undefined;
}

export async function clusterFigures(node: ClusterNode, timeoutMs = 2000): Promise<ClusterFigures | undefined> {
  const m = node.cluster;
  if (!m) return undefined;
  const own = { member: m.id, url: m.url, epoch: m.epoch, coordinator: m.isCoordinator, fenced: m.state === 'fenced' };
  let timer: NodeJS.Timeout | undefined;
  try {
    const list = await Promise.race([
      m.store.list(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), timeoutMs);
      }),
    ]);
    const view = clusterView(list, node.model.getSettings().replicas, m.id);
    const alive = view.members.filter((x) => x.alive).length;
    return { ...own, members: { alive, dead: view.members.length - alive, replicas: view.replicas } };
  } catch {
    return { ...own, members: undefined };
  } finally {
    clearTimeout(timer);
  }
}

/** A torrent's holders as its detail shows them: every member's copy (a dead member's listed, not
 *  alive); on a node not in a cluster, itself. */
export async function nodeTorrentHolders(node: ClusterNode, infoHash: string): Promise<TorrentHolder[]> {
  const rows = await new HolderStore(node.db.store).holdersOf(infoHash);
  if (node.cluster) return rows;
  const self = nodeIdentity(node.db).did;
  return rows.filter((r) => r.member === '').map((r) => ({ ...r, member: self, alive: true, url: null }));
}
