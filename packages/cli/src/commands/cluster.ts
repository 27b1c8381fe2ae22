// `cascade cluster [--json]`: the cluster's members and its replicas (GET /api/cluster's object),
// through the running node; with none running, from --database directly (a node not in a cluster
// lists itself when it runs, and nothing is listed from a database no member ever joined).
import type { ClusterView } from '@cascade/shapes';
import { CliError } from '../core/errors.ts';
import { formatBytes, formatSpeed } from '../output/format.ts';
import { NO_NODE, withDb, type Verb } from './node-access.ts';

function ago(iso: string): string {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return s < 120 ? `${s} s ago` : s < 7200 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
}

function render(v: ClusterView): string {
  const alive = v.members.filter((m) => m.alive).length;
  const head = `${v.members.length} member${v.members.length === 1 ? '' : 's'}, ${alive} alive; each torrent on ${v.replicas}`;
  const rows = v.members.map((m) => {
    const marks = [m.self ? 'this one' : '', m.coordinator ? 'coordinator' : ''].filter((x) => x !== '').join(', ');
    return [
      `${m.alive ? 'alive' : 'dead '}  ${m.url}${marks ? `  (${marks})` : ''}`,
      `       ${m.id}`,
      `       ${m.torrents} torrent${m.torrents === 1 ? '' : 's'}, ${formatBytes(m.freeBytes)} free, ↓ ${formatSpeed(m.downloadRate)} ↑ ${formatSpeed(m.uploadRate)}, seen ${ago(m.lastSeen)}, epoch ${m.epoch}`,
    ].join('\n');
  });
  return [head, ...rows].join('\n');
}

export const cluster: Verb = async (inv, out, node) => {
  let view: ClusterView;
  if (node) view = await node.call<ClusterView>('cluster');
  else if (inv.options.database !== undefined) {
    // The members' rows with no node running (@cascade/cluster's light part): loaded only here.
    const { storedClusterView } = await import('@cascade/cluster/stored-view');
    view = await withDb(inv, (db) => storedClusterView(db.store));
  }
  else throw new CliError(`cluster needs a running node, or --database URL to read the members from: ${NO_NODE}`);
  out.result(view, () => render(view));
  return 0;
};
