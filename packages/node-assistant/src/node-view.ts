// The node as the assistant sees it (NodeView): health with reachability, DHT, limits, disk space
// and the engine's error counters; torrents with their trackers' last answers (failures in a row),
// peers, the stalled-metadata sentence, and the hash failures and bans this process saw.

import { readFileSync } from 'node:fs';
import type { MarketView, NodeHealthView, NodeView, PeerView, TorrentView, TrackerView } from '@cascade/assistant';
import type { TorrentHandle, TrackerStatus } from '@cascade/engine';
import type { CascadeNode, ListEntry } from '@cascade/node';
import { diskSpace, liveRow, summaryCache, torrentFiles, type CacheNode } from '@cascade/node/features';
import { reachabilityOf } from '@cascade/node-network';
import { TorrentEvidence, type EvidenceNode } from './evidence.ts';

/** What the assistant reads of a node: the listing, its evidence, settings and stalls, the queue's progress. */
export type ViewedNode = CacheNode & EvidenceNode & Pick<CascadeNode, 'startedAt' | 'model'> & {
  readonly queue: Pick<CascadeNode['queue'], 'lastProgressAt' | 'positions'>;
};

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export interface NodeViewOptions {
  /** The BitTorrent listener's bind address. */
  bittorrentHost: string;
}

function trackerView(t: TrackerStatus): TrackerView {
  const v: TrackerView = { url: t.url, status: t.status, peers: t.peers };
  for (const k of ['message', 'lastAnnounce', 'lastReplyAt', 'lastError', 'lastErrorAt', 'failures', 'failingSince'] as const) {
    if (t[k] !== undefined) (v as unknown as Record<string, unknown>)[k] = t[k];
  }
  return v;
}

export class AssistantNodeView implements NodeView {
  readonly evidence: TorrentEvidence;
  /** The node's market orders, when the server wires them (startAssistant's `market`). */
  market?: () => Promise<MarketView | undefined>;
  #node: ViewedNode;
  #host: string;

  constructor(node: ViewedNode, opts: NodeViewOptions) {
    this.#node = node;
    this.#host = opts.bittorrentHost;
    this.evidence = new TorrentEvidence(node);
  }

  close(): void {
    this.evidence.close();
  }

  async health(): Promise<NodeHealthView> {
    const node = this.#node;
    const h = node.session.health();
    const settings = node.model.getSettings();
    const incoming = this.evidence.sampleIncoming();
    const counters = node.session.counters?.();
    const rows = this.#rows();
    const disk = await diskSpace(settings.downloadDir);
    return {
      version: VERSION,
      uptimeSeconds: Math.round((Date.now() - node.startedAt) / 1000),
      bittorrentPort: node.session.port,
      bittorrentHost: this.#host,
      dhtEnabled: h.dhtEnabled,
      dhtNodes: h.dhtNodes,
      reachability: reachabilityOf(this.#host, incoming),
      incomingPeers: incoming,
      ...(this.evidence.lastIncomingAt !== undefined ? { lastIncomingAt: this.evidence.lastIncomingAt } : {}),
      peers: h.peers,
      torrents: h.torrents,
      downloadLimit: settings.downloadLimit,
      uploadLimit: settings.uploadLimit,
      altSpeedEnabled: settings.altSpeedEnabled,
      altDownloadLimit: settings.altDownloadLimit,
      altUploadLimit: settings.altUploadLimit,
      maxActiveDownloads: settings.maxActiveDownloads,
      queuedTorrents: rows.filter((r) => r.state === 'queued').length,
      downloadDir: settings.downloadDir,
      ...(disk ? { disk } : {}),
      ...(counters ? { diskErrors: counters.diskErrors, hashFailures: counters.hashFailures } : {}),
    };
  }

  #rows(): ListEntry[] {
    const cache = summaryCache(this.#node);
    cache.refresh();
    return cache.rows();
  }

  #light(row: ListEntry): TorrentView {
    const ev = this.evidence.of(row.infoHash);
    return {
      infoHash: row.infoHash,
      name: row.name,
      state: row.state,
      progress: row.progress,
      length: row.length,
      downloadSpeed: row.downloadSpeed,
      uploadSpeed: row.uploadSpeed,
      peers: row.peers,
      seeds: row.seeds,
      error: row.error,
      savePath: row.savePath,
      isPrivate: false,
      addedAt: row.addedAt,
      stalledReason: null,
      trackers: [],
      peerList: [],
      hashFailures: ev.hashFailures,
      bannedPeers: [...ev.banned],
      downloadLimit: row.downloadLimit,
      uploadLimit: row.uploadLimit,
      queuePosition: row.queuePosition,
      forceStart: row.forceStart,
      ...(row.length !== null && row.progress !== null ? { remainingBytes: Math.max(0, Math.round(row.length * (1 - row.progress))) } : {}),
    };
  }

  /** Light views; those that want data carry their trackers too (a node-wide question about
   *  downloads not starting is answered by them). */
  torrents(): TorrentView[] {
    return this.#rows().map((r) => {
      const v = this.#light(r);
      if (r.state === 'downloading' || r.state === 'metadata') {
        const t = this.#node.session.get(r.infoHash);
        if (t) v.trackers = t.trackers().map(trackerView);
      }
      return v;
    });
  }

  async torrent(infoHash: string): Promise<TorrentView | undefined> {
    const node = this.#node;
    const ih = infoHash.toLowerCase();
    const t = node.session.get(ih);
    if (!t) {
      const row = this.#rows().find((r) => r.infoHash === ih);
      return row ? this.#light(row) : undefined;
    }
    return this.#full(t);
  }

  async #full(t: TorrentHandle): Promise<TorrentView> {
    const node = this.#node;
    const row = liveRow(node, t);
    const view = this.#light(row);
    const files = torrentFiles(node, t);
    // What is still to come of the selected files (a partial selection needs less room than the whole).
    if (files) view.remainingBytes = Math.round(files.filter((f) => f.selected).reduce((n, f) => n + f.length * (1 - f.progress), 0));
    const peers: PeerView[] = t.peers().map((p) => ({
      address: p.address,
      ...(p.client ? { client: p.client } : {}),
      transport: p.transport,
      source: p.source,
      downloadSpeed: p.downloadSpeed,
      uploadSpeed: p.uploadSpeed,
      progress: p.progress,
    }));
    const disk = await diskSpace(t.savePath);
    // How long a download has gone without payload (the queue's own stall clock).
    const progressAt = row.state === 'downloading' || row.state === 'metadata' ? node.queue.lastProgressAt(t.infoHashHex) : undefined;
    if (progressAt !== undefined) view.stalledSeconds = Math.round((Date.now() - progressAt) / 1000);
    return {
      ...view,
      isPrivate: t.metainfo?.private === true,
      stalledReason: node.model.stalledReason(t),
      trackers: t.trackers().map(trackerView),
      peerList: peers,
      ...(disk ? { disk } : {}),
    };
  }
}
