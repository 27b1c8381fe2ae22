// What the engine tells only as events, kept for the assistant: per torrent, pieces that failed
// their hash check and the peers banned for them; for the node, when someone last connected in.
// Counted from the moment the server starts (the node-wide totals are the engine's counters).

import type { CascadeNode } from '../node.ts';
import type { TorrentHandle } from '../engine.ts';
import { incomingPeers } from '../reachability.ts';

const INCOMING_SAMPLE_MS = 60_000;
const MAX_BANNED = 50;

export interface TorrentEvidenceRecord {
  hashFailures: number;
  banned: Set<string>;
}

export class TorrentEvidence {
  /** When an incoming peer was last seen connected (sampled), ms since the epoch. */
  lastIncomingAt: number | undefined;
  #node: CascadeNode;
  #byTorrent = new Map<string, TorrentEvidenceRecord>();
  #timer: NodeJS.Timeout;
  #watcher: (t: TorrentHandle) => () => void;

  constructor(node: CascadeNode) {
    this.#node = node;
    this.#watcher = (t) => this.#attach(t);
    node.watchers.push(this.#watcher);
    // Torrents tracked before this existed (none when the server builds it before loading the library).
    for (const t of node.session.list()) this.#attach(t);
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

  #attach(t: TorrentHandle): () => void {
    const ih = t.infoHashHex;
    const onHashFailed = () => void this.#record(ih).hashFailures++;
    const onBanned = (ev: { address: string }) => {
      const r = this.#record(ih);
      if (r.banned.size < MAX_BANNED) r.banned.add(ev.address);
    };
    t.on('hash-failed', onHashFailed);
    t.on('peer-banned', onBanned);
    return () => {
      t.off('hash-failed', onHashFailed);
      t.off('peer-banned', onBanned);
      this.#byTorrent.delete(ih);
    };
  }

  /** Incoming peers connected now (and remembers when there last were some). */
  sampleIncoming(): number {
    const n = incomingPeers(this.#node.session);
    if (n > 0) this.lastIncomingAt = Date.now();
    return n;
  }

  close(): void {
    clearInterval(this.#timer);
    const i = this.#node.watchers.indexOf(this.#watcher);
    if (i >= 0) this.#node.watchers.splice(i, 1);
  }
}
