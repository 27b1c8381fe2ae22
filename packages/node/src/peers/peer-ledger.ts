// Peer reputation bookkeeping. Torrents emit a 'transfer' event per block moved — thousands a
// second on a fast link — so deltas are summed in memory and written in one transaction every few
// seconds (and on shutdown) through the Store instead of one write per event.

import { startFlushTimer, sweepRetention, SWEEP_EVERY_MS, SWEEP_FIRST_MS, type StateDB, type PeerDelta } from '@cascade/node-state';
import type { TorrentHandle, TransferEvent } from '../core/engine.ts';

export class PeerLedger {
  #db: StateDB;
  #pending = new Map<string, PeerDelta>();
  #timer: NodeJS.Timeout | undefined;
  /** The retention sweep of the ledgers (state/retention.ts): the ledger that grows bounds itself. */
  #sweepTimer: NodeJS.Timeout | undefined;
  #closed = false;
  #detach = new Map<string, () => void>();
  /** The last flush's write: the next waits for it, and close() for all of them. */
  #last: Promise<void> = Promise.resolve();

  constructor(db: StateDB, flushIntervalMs = 5000) {
    this.#db = db;
    this.#timer = startFlushTimer(flushIntervalMs, () => this.flush());
    if (flushIntervalMs > 0) this.#scheduleSweep(SWEEP_FIRST_MS);
  }

  #scheduleSweep(ms: number): void {
    if (this.#closed) return;
    this.#sweepTimer = setTimeout(() => {
      void this.sweep().catch(() => {}).finally(() => this.#scheduleSweep(SWEEP_EVERY_MS));
    }, ms);
    this.#sweepTimer.unref();
  }

  /** Forgets what is past its bound in the peer and identity ledgers and the DHT blames (after the
   *  pending deltas are stored, so none is written back after its row went). */
  async sweep(now = Date.now()): Promise<{ peers: number; identities: number; dhtBlames: number }> {
    await this.flush();
    const r = await sweepRetention(this.#db.store, this.#db.memberId, now, undefined, (dids) => this.#db.identities.forget(dids));
    return { peers: r.peers, identities: r.identities.length, dhtBlames: r.dhtBlames };
  }

  #entry(address: string): PeerDelta {
    let d = this.#pending.get(address);
    if (!d) {
      d = { address, up: 0, down: 0, lastSeen: Date.now() };
      this.#pending.set(address, d);
    }
    return d;
  }

  transfer(ev: TransferEvent): void {
    const d = this.#entry(ev.peer);
    if (ev.direction === 'up') d.up += ev.bytes;
    else d.down += ev.bytes;
    if (ev.peerId) d.peerId = ev.peerId;
    d.lastSeen = Date.now();
  }

  banned(address: string, reason: string): void {
    const d = this.#entry(address);
    d.banned = reason || 'banned';
    d.lastSeen = Date.now();
  }

  /** Starts listening to a torrent's 'transfer' and 'peer-banned' events. */
  attach(torrent: TorrentHandle): void {
    if (this.#detach.has(torrent.infoHashHex)) return;
    const onTransfer = (ev: TransferEvent) => this.transfer(ev);
    const onBanned = (ev: { address: string; reason?: string }) => this.banned(ev.address, ev.reason ?? '');
    torrent.on('transfer', onTransfer);
    torrent.on('peer-banned', onBanned);
    this.#detach.set(torrent.infoHashHex, () => {
      torrent.off('transfer', onTransfer);
      torrent.off('peer-banned', onBanned);
    });
  }

  detach(infoHashHex: string): void {
    this.#detach.get(infoHashHex)?.();
    this.#detach.delete(infoHashHex);
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Writes everything pending (through the Store, after the flushes before it): resolves once
   *  stored. A failed write keeps the deltas for the next attempt. */
  flush(): Promise<void> {
    if (this.#pending.size === 0) return this.#last;
    const batch = [...this.#pending.values()];
    this.#pending.clear();
    const write = this.#last.then(() => this.#write(batch));
    this.#last = write.catch(() => {});
    return write;
  }

  async #write(batch: PeerDelta[]): Promise<void> {
    try {
      await this.#db.recordPeers(batch);
    } catch (err) {
      for (const d of batch) {
        const cur = this.#pending.get(d.address);
        if (!cur) this.#pending.set(d.address, d);
        else {
          cur.up += d.up;
          cur.down += d.down;
          cur.banned ??= d.banned;
          cur.peerId ??= d.peerId;
        }
      }
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#closed = true;
    if (this.#sweepTimer) clearTimeout(this.#sweepTimer);
    for (const off of this.#detach.values()) off();
    this.#detach.clear();
    await this.flush();
  }
}
