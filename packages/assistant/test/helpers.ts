// Small, real NodeView and checks for the assistant's tests and bench: plain objects the way the
// server's NodeView hands them over, and check functions that look at them.
import type { Finding, NodeHealthView, NodeView, TorrentView } from '../src/types.ts';

export function torrentView(over: Partial<TorrentView> & { infoHash: string }): TorrentView {
  return {
    name: null, state: 'downloading', progress: 0, length: 1 << 20, downloadSpeed: 0, uploadSpeed: 0, peers: 0, seeds: 0,
    error: null, savePath: '/downloads', isPrivate: false, addedAt: 0, stalledReason: null, trackers: [], peerList: [],
    downloadLimit: 0, uploadLimit: 0, queuePosition: null, ...over,
  };
}

export function healthView(over: Partial<NodeHealthView> = {}): NodeHealthView {
  return {
    version: '0.1.0', uptimeSeconds: 3600, bittorrentPort: 6881, bittorrentHost: '0.0.0.0', dhtEnabled: true, dhtNodes: 120,
    reachability: 'unknown', incomingPeers: 0, peers: 3, torrents: 1, downloadLimit: 0, uploadLimit: 0, altSpeedEnabled: false,
    maxActiveDownloads: 3, downloadDir: '/downloads', ...over,
  };
}

export function nodeView(torrents: TorrentView[], health: NodeHealthView = healthView()): NodeView & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    health: () => health,
    torrents: () => torrents.map((t) => ({ ...t, trackers: [], peerList: [] })),
    torrent: (h) => {
      calls.push(`torrent:${h}`);
      return torrents.find((t) => t.infoHash === h);
    },
  };
}

/** Checks like the diag helper's, over the view: a dead tracker with no DHT, a full disk, and "ok". */
export async function sampleChecks(node: NodeView, infoHash?: string): Promise<Finding[]> {
  const health = await node.health();
  const out: Finding[] = [];
  if (health.disk && health.disk.free < 1 << 20) {
    out.push({ id: 'disk-full', severity: 'problem', title: 'The download disk is full', evidence: `${health.disk.free} bytes free in ${health.downloadDir}`, entries: ['disk-full'], actions: [{ id: 'open-settings', label: 'Open Settings', href: '#/settings' }] });
  }
  if (infoHash === undefined) return out;
  const t = await node.torrent(infoHash);
  if (!t) return out;
  const dead = t.trackers.filter((tr) => tr.status === 'error');
  if (dead.length > 0 && dead.length === t.trackers.length && !health.dhtEnabled) {
    out.push({
      id: 'tracker-unreachable', severity: 'problem', infoHash,
      title: 'Your only tracker does not answer, and the DHT is off',
      evidence: dead.map((tr) => `${tr.url} ${tr.lastError ?? 'failed'} ${tr.failures ?? 1} times`).join('; ') + '; DHT off',
      entries: ['stalled-download'],
      actions: [
        { id: 'reannounce', label: 'Re-announce now', request: { method: 'POST', path: `/api/torrents/${infoHash}/announce` }, command: `cascade announce ${infoHash.slice(0, 8)}` },
        { id: 'open-settings', label: 'Open Settings', href: '#/settings' },
      ],
    });
  }
  if (t.peers === 0) out.push({ id: 'no-peers', severity: 'warning', infoHash, title: 'No peers connected', evidence: `0 peers, 0 seeds for ${t.stalledSeconds ?? 0} s`, entries: ['stalled-download'], actions: [] });
  out.push({ id: 'files-ok', severity: 'ok', infoHash, title: 'Files are writable', evidence: `save path ${t.savePath}`, entries: [], actions: [] });
  return out;
}
