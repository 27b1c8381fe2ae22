// A NodeView of n torrents in assorted states (the shapes the server hands over), and checks
// that walk them the way real ones do (trackers, peers, disk), for the latency half of the bench.
import type { Finding, NodeView, TorrentView } from '../../packages/assistant/src/types.ts';

export function benchNode(n: number): NodeView {
  const now = Date.now();
  const torrents: TorrentView[] = Array.from({ length: n }, (_, i) => {
    const infoHash = (i.toString(16).padStart(4, '0') + 'c0ffee').repeat(4);
    const stuck = i % 5 === 0;
    return {
      infoHash, name: `Some.Linux.Distro.${i}.x86_64.iso`, state: i % 7 === 0 ? 'seeding' : 'downloading',
      progress: stuck ? 0 : (i % 10) / 10, length: (i + 1) * 1e8, downloadSpeed: stuck ? 0 : 1e5 * i, uploadSpeed: 1e4 * i,
      peers: stuck ? 0 : 8, seeds: stuck ? 0 : 3, error: i === 13 ? 'ENOSPC: no space left on device' : null, savePath: '/data/downloads',
      isPrivate: i % 9 === 0, addedAt: now - i * 3.6e6, stalledSeconds: stuck ? 900 : 0, stalledReason: stuck ? 'no tracker answered and the DHT found nobody' : null,
      trackers: [
        { url: `udp://tracker${i}.example:6969/announce`, status: stuck ? 'error' : 'ok', peers: stuck ? 0 : 12, lastAnnounce: now - 6e4, lastReplyAt: stuck ? undefined : now - 6e4, lastError: stuck ? 'timed out' : undefined, lastErrorAt: stuck ? now - 6e4 : undefined, failures: stuck ? 5 : 0 },
        { url: `http://backup${i}.example/announce`, status: stuck ? 'error' : 'ok', peers: 4, failures: stuck ? 3 : 0, lastError: stuck ? 'ECONNREFUSED' : undefined },
      ],
      peerList: Array.from({ length: stuck ? 0 : 8 }, (_, p) => ({ address: `10.0.${i}.${p}:6881`, client: 'qBittorrent 4.6', transport: 'tcp', source: 'tracker', downloadSpeed: 1e4, uploadSpeed: 1e3, progress: 0.5 })),
      hashFailures: i === 21 ? 14 : 0, bannedPeers: i === 21 ? ['10.9.9.9'] : [], downloadLimit: 0, uploadLimit: 0, queuePosition: i,
    };
  });
  const light = torrents.map((t) => ({ ...t, trackers: [], peerList: [] }));
  return {
    health: () => ({
      version: '0.1.0', uptimeSeconds: 86400, bittorrentPort: 6881, bittorrentHost: '0.0.0.0', dhtEnabled: true, dhtNodes: 150,
      reachability: 'unknown', incomingPeers: 0, peers: 300, torrents: n, downloadLimit: 0, uploadLimit: 0, altSpeedEnabled: false,
      maxActiveDownloads: 5, downloadDir: '/data/downloads', disk: { free: 5e10, total: 1e12 }, diskErrors: 0, hashFailures: 14,
    }),
    torrents: () => light,
    torrent: (h) => torrents.find((t) => t.infoHash === h),
  };
}

export async function benchChecks(node: NodeView, infoHash?: string): Promise<Finding[]> {
  const health = await node.health();
  const out: Finding[] = [];
  if (health.reachability !== 'reachable' && health.incomingPeers === 0) {
    out.push({ id: 'port-unreachable', severity: 'warning', title: 'Nobody has connected in', evidence: `port ${health.bittorrentPort}, 0 incoming peers in ${health.uptimeSeconds} s`, entries: ['port-forwarding'], actions: [{ id: 'open-settings', label: 'Open Settings', href: '#/settings' }] });
  }
  if (infoHash === undefined) return out;
  const t = await node.torrent(infoHash);
  if (!t) return out;
  const dead = t.trackers.filter((tr) => tr.status === 'error');
  if (dead.length === t.trackers.length && t.trackers.length > 0) {
    out.push({ id: 'trackers-failing', severity: health.dhtEnabled ? 'warning' : 'problem', title: 'No tracker answers', infoHash, evidence: dead.map((d) => `${d.url}: ${d.lastError} ×${d.failures}`).join('; '), entries: ['stalled-download'], actions: [{ id: 'reannounce', label: 'Re-announce now', request: { method: 'POST', path: `/api/torrents/${infoHash}/announce` } }] });
  }
  if (t.error) out.push({ id: 'torrent-error', severity: 'problem', title: 'The torrent stopped with an error', infoHash, evidence: t.error, entries: ['disk-full'], actions: [] });
  if ((t.hashFailures ?? 0) > 0) out.push({ id: 'hash-failures', severity: 'warning', title: 'Pieces failed their hash check', infoHash, evidence: `${t.hashFailures} pieces; banned ${t.bannedPeers?.join(', ')}`, entries: ['hash-failures'], actions: [] });
  if (out.length === 0) out.push({ id: 'ok', severity: 'ok', title: 'Nothing wrong found', infoHash, evidence: `${t.peers} peers, ${t.seeds} seeds`, entries: [], actions: [] });
  return out;
}
