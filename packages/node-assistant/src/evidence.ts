// What the engine tells only as events, kept for the assistant: per torrent, pieces that failed
// their hash check and the peers banned for them; for the node, when someone last connected in.
// Counted from the moment the server starts (the node-wide totals are the engine's counters).

import type { NodeCore, TorrentEvents } from '@cascade/node/features';
import { incomingPeers } from '@cascade/node-network';

/** What the evidence follows: every torrent's events, and the session's peers. */
export type EvidenceNode = Pick<NodeCore, 'session'> & Pick<TorrentEvents, 'onTorrentEvent'>;

const INCOMING_SAMPLE_MS = 60_000;
const MAX_BANNED = 50;

export interface TorrentEvidenceRecord {
  hashFailures: number;
  banned: Set<string>;
}

export class TorrentEvidence {
  /** When an incoming peer was last seen connected (sampled), ms since the epoch. */
  lastIncomingAt: number | undefined;
  #node: EvidenceNode;
  #byTorrent = new Map<string, TorrentEvidenceRecord>();
  #timer: NodeJS.Timeout;
  #stops: (() => void)[];

  constructor(node: EvidenceNode) {
    this.#node = node;
    // One listener for every tracked torrent; a record only for those that saw a failure.
    this.#stops = [
      node.onTorrentEvent('hash-failed', (t) => void this.#record(t.infoHashHex).hashFailures++),
      node.onTorrentEvent('peer-banned', (t, ev: { address: string }) => {
        const r = this.#record(t.infoHashHex);
        if (r.banned.size < MAX_BANNED) r.banned.add(ev.address);
      }),
      node.onTorrentEvent('untracked', (t) => void this.#byTorrent.delete(t.infoHashHex)),
    ];
    // Incoming connections come and go; a sample a minute says "the last one was 3 h ago" well enough.
    this.#timer = setInterval(() => this.sampleIncoming(), INCOMING_SAMPLE_MS);
    this.#timer.unref();
  }

  of(infoHash: string): TorrentEvidenceRecord {
    return this.#byTorrent.get(infoHash) ?? { hashFailures: 0, banned: new Set() };
  }

  #record(ih: string): TorrentEvidenceRecord {
    let r = this.#byTorrent.get(ih);
    if (!r) this.#byTorrent.set(ih, (r = { hashFailures: 0, banned: new Set() }));
    return r;
  }

  /** Incoming peers connected now (and remembers when there last were some). */
  sampleIncoming(): number {
    const n = incomingPeers(this.#node.session);
    if (n > 0) this.lastIncomingAt = Date.now();
    return n;
  }

  close(): void {
    clearInterval(this.#timer);
    for (const stop of this.#stops) stop();
  }
}
