// A node's seam to a cluster (issue 42; issue 64: the cluster is @cascade/cluster, above the node).
// The node holds no cluster code: a member is started with a ClusterPlugin (startNode's `cluster`,
// node-start.ts) that the layer starting it makes (@cascade/http loads @cascade/cluster for serve
// --cluster-url); a single node has none and loads nothing of it. The node keeps the member it
// joined as `node.cluster` (NodeCluster, below: what the node and its doors ask of it) and
// `node.lease`. What a node says of its cluster is here too: GET /api/cluster and a torrent's
// holders, itself alone when it is in none.

import type { ClusterView, TorrentHolder } from '@cascade/shapes';
import type { SessionHandle, TorrentHandle } from './engine.ts';
import { nodeIdentity } from './node-identity.ts';
import { holderStates, type StateDB } from '@cascade/node-state';
import { memberStats, type MemberStats } from './member-stats.ts';

export type MemberState = 'member' | 'fenced' | 'left';

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

/** A cluster's member as its node and the node's doors see it (node.cluster). */
export interface NodeCluster {
  /** The member id: the node key's did:key. */
  readonly id: string;
  /** Its HTTP address as the others reach it. */
  readonly url: string;
  readonly epoch: number;
  /** 'fenced': its lease was taken (not ready until it rejoins). */
  readonly state: MemberState;
  readonly isCoordinator: boolean;
  /** It took (true) or lost (false) the coordinator's lease. */
  on(event: 'coordinator', fn: (holds: boolean) => void): unknown;
  /** Calls fn with the key of each change another member made to `table` (null: rows unnamed). */
  onTable(table: string, fn: (key: string | null) => void): void;
  /** GET /api/cluster as this member answers it. */
  view(): Promise<ClusterView>;
  figures(timeoutMs?: number): Promise<ClusterFigures>;
  /** A torrent this member runs is added again here: if the library no longer has it (removed
   *  through another member, this copy not dropped yet) the copy goes first and the add is a new
   *  one; call the release once that add settled. Undefined: the library has it (already there). */
  replaceRemoved(infoHash: string): Promise<(() => void) | undefined>;
  /** The cluster URLs of the other live members holding a torrent, furthest along first. */
  liveHolderUrls(infoHash: string): Promise<string[]>;
  /** The node begins to stop: nothing more is placed. */
  stopping(): void;
  /** The node's last writes are made: the views and the change bus close. */
  close(): Promise<void>;
  /** The lease ends now (the node's last step before its state closes). */
  release(): Promise<void>;
}

/** What of a node its cluster view reads. */
export interface ClusterNode {
  readonly cluster: NodeCluster | undefined;
  readonly session: SessionHandle;
  readonly db: StateDB;
  readonly model: { getSettings(): { readonly downloadDir: string } };
}

/**
 * The engine's copy of `infoHash` that an add finds: the torrent is already there (the add's answer),
 * or none. In a cluster, a copy of a torrent another member removed, which this member has not
 * dropped yet, is none: it goes first (NodeCluster.replaceRemoved) and the add is a new one, whose
 * `release` is called once it settled. Before (issue 63), such an add answered "already there"
 * and the removal then took the torrent: an acknowledged add lost.
 */
export async function copyForAdd(node: { readonly session: Pick<SessionHandle, 'get'>; readonly cluster: Pick<NodeCluster, 'replaceRemoved'> | undefined }, infoHash: string): Promise<{ existing: TorrentHandle | undefined; release?: () => void }> {
  if (!node.cluster) return { existing: node.session.get(infoHash) };
  // Not running here too: this member's old copy of it, removed elsewhere, is dropped first.
  const release = await node.cluster.replaceRemoved(infoHash);
  // Gone meanwhile too when its removal was already under way here: then also a new add.
  return release ? { existing: undefined, release } : { existing: node.session.get(infoHash) };
}

const samplers = new WeakMap<ClusterNode, () => Promise<MemberStats>>();

/** The node's figures (one sampler per node, so its rates span the time between two asks). */
export function statsOf(node: ClusterNode): () => Promise<MemberStats> {
  let s = samplers.get(node);
  if (!s) samplers.set(node, (s = memberStats(node.session, () => node.model.getSettings().downloadDir)));
  return s;
}

/** The cluster this node is a member of, or itself alone at `selfUrl` (how the caller reached it)
 *  with one replica of everything. */
export async function nodeClusterView(node: ClusterNode, selfUrl: string): Promise<ClusterView> {
  if (node.cluster) return node.cluster.view();
  const s = await statsOf(node)();
  return {
    members: [
      {
        id: nodeIdentity(node.db).did,
        url: selfUrl,
        alive: true,
        lastSeen: new Date().toISOString(),
        torrents: s.torrents,
        freeBytes: s.freeBytes,
        downloadRate: s.downloadRate,
        uploadRate: s.uploadRate,
        epoch: 0,
        coordinator: false,
        self: true,
      },
    ],
    replicas: 1,
  };
}

/** A torrent's holders as its detail shows them: every member's copy (a dead member's listed, not
 *  alive); on a node not in a cluster, itself. */
export async function nodeTorrentHolders(node: ClusterNode, infoHash: string): Promise<TorrentHolder[]> {
  const rows = await holderStates(node.db.store, infoHash);
  if (node.cluster) return rows;
  const self = nodeIdentity(node.db).did;
  return rows.filter((r) => r.member === '').map((r) => ({ ...r, member: self, alive: true, url: null }));
}
