// Seeding receipts on the wire (issue 13, docs/receipts.md), both sides of the Cascade extension:
//   - as a downloader, the node counts the bytes each verified Cascade seeder sent it in pieces
//     that passed the hash, and every `everyBytes` of them — but at most once per `everyMs`, so
//     the signatures per second do not grow with the speed (issue 40) — and when the download
//     completes, signs a receipt for the cumulative count with its account and sends it to that
//     seeder (each receipt states the total, so fewer of them lose nothing);
//   - as a seeder, it checks each receipt it gets (this torrent, this peer's proved account, our
//     account, our chain and pool, the downloader's signature, not expired), keeps the newest one
//     per (torrent, downloader) in SQLite before it acknowledges it, prints `payment-required` each
//     time the unclaimed bytes pass another `paymentThresholdBytes`, and claims them (`claim()`,
//     or by itself past `autoClaimBytes`).
// Plain BitTorrent peers (libtorrent…) never see any of it: only peers whose hello verified are
// counted, sent receipts, or heard from.
import type { NodeChain, Receipt, ReceiptTermsOf } from '@cascade/chain';
import { sendExtensionMessage, type WirePeer } from '@cascade/identity';
import { errorMessage } from '@cascade/node/basics';
import { pieceBytes, type IdentifiedPeer, type NodeLog, type TorrentEvents, type TorrentHandle, type TransferEvent } from '@cascade/node/rewards-host';
import type { HeldReceipt, ReceiptStore } from './receipt-store.ts';
import { receiptOf, wireOf } from './receipt-wire.ts';
import type { RewardClaim, Rewards } from '@cascade/shapes';

/** What the node's receipts name (chain id, pool) and who signs them (its identity's account). */
export type ReceiptSigner = ReceiptTermsOf & { address: `0x${string}`; ethSecret: Uint8Array };

const MiB = 1024 * 1024;
/** Served downloaders not held yet remembered at most (the oldest go first). */
const MAX_SERVED = 20_000;

export interface ReceiptTerms {
  /** A receipt every this many newly verified bytes from one seeder (default 1 MiB)… */
  everyBytes?: number;
  /** …but no sooner than this many ms after the last one to that seeder (default 1000; 0 = no
   *  wait). Bytes verified meanwhile go into the next receipt, signed when the time is up. */
  everyMs?: number;
  /** How long a receipt may be claimed (default 30 days). */
  validitySeconds?: number;
  /** `payment-required` each time the unclaimed bytes pass another multiple of this (default 64 MiB). */
  paymentThresholdBytes?: number;
  /** Claim by itself once this many bytes are unclaimed (default: never). */
  autoClaimBytes?: number;
}

export type { Rewards, RewardClaim };


/** The node's Cascade peers whose hello verified (its IdentifiedPeers): the extension's other
 *  messages, who a connection proved to be, the connection to send it receipts on, and a strike
 *  against an identity whose receipt fails. */
export interface ReceiptPeers {
  onMessage(handler: (peer: WirePeer, who: IdentifiedPeer, message: Record<string, unknown>) => void): void;
  of(infoHashHex: string, address: string): IdentifiedPeer | undefined;
  wirePeer(infoHashHex: string, address: string): WirePeer | undefined;
  readonly ledger: { hashFailed(did: string): void };
}

/** The node's chain (ChainService): running, or not yet; `terms()` says what receipts name
 *  without it (undefined: no chain at all). */
export interface ChainSource {
  readonly chain: NodeChain | undefined;
  terms(): Promise<ReceiptSigner | undefined>;
  /** Settles once the chain runs (or never will: failed, closed). */
  whenRunning(): Promise<void>;
}

/** What is owed to one seeder account for one torrent, as its downloader. */
interface Owed {
  infoHash: string;
  account: string;
  /** the connection it sent the last verified piece on */
  address: string;
  total: number;
  signed: number;
  /** When the last receipt to this seeder was signed (0: never). */
  signedAt: number;
  /** The next receipt, waiting for everyMs to pass since the last one. */
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** Failures that say the sender lied or is broken; a receipt for another chain or pool is an
 *  honest difference of configuration and is only dropped. */
type Verdict = { ok: true; receipt: Receipt; signature: `0x${string}` } | { ok: false; reason: string; strike: boolean };

export class ReceiptExchange {
  readonly #store: ReceiptStore;
  readonly #peers: ReceiptPeers;
  readonly #chain: ChainSource;
  readonly #out: NodeLog;
  readonly #every: number;
  readonly #everyMs: number;
  readonly #validity: number;
  readonly #threshold: number;
  readonly #autoClaim: number | undefined;
  readonly #owed = new Map<string, Owed>();
  /** "infohash account" of the downloaders this node sent data to in this run and holds no receipt
   *  of yet (in insertion order): once held, its newer receipts are updates, let in whatever the bound. */
  readonly #served = new Set<string>();
  #unclaimed: number | undefined;
  #announcedSteps = 0;
  #claiming: Promise<RewardClaim> | undefined;
  /** An automatic claim became due before the chain ran: checked again once it does. */
  #claimWhenRunning = false;
  #closed = false;
  /** Receipts being signed, and the last one sent to each seeder until it is acknowledged. */
  readonly #signing = new Set<Promise<void>>();
  readonly #unacked = new Map<string, number>();
  /** Settles at the next change to #signing or #unacked (what flush() waits on). */
  #changed: PromiseWithResolvers<void> | undefined;
  /** The terms last used (the running chain's, or those known before it runs). */
  #lastTerms: ReceiptSigner | undefined;

  constructor(store: ReceiptStore, peers: ReceiptPeers, chain: ChainSource, out: NodeLog, terms: ReceiptTerms = {}) {
    this.#store = store;
    this.#peers = peers;
    this.#chain = chain;
    this.#out = out;
    this.#every = terms.everyBytes ?? MiB;
    this.#everyMs = terms.everyMs ?? 1000;
    this.#validity = terms.validitySeconds ?? 30 * 86_400;
    this.#threshold = terms.paymentThresholdBytes ?? 64 * MiB;
    this.#autoClaim = terms.autoClaimBytes;
    peers.onMessage((peer, who, m) => {
      if (m.t === 'receipt') void this.#received(peer, who, m);
      else if (m.t === 'receipt-ack') {
        const ih = hexOf(peer.infoHash);
        const cumulative = Number(m.cumulativeBytes) || 0;
        const key = `${ih} ${who.account.toLowerCase()}`;
        if (cumulative >= (this.#unacked.get(key) ?? Infinity)) {
          this.#unacked.delete(key);
          this.#wake();
        }
        this.#out.event('receipt-acknowledged', { infoHash: ih, seeder: who.account, cumulativeBytes: cumulative });
      }
    });
  }

  /** Counts every tracked torrent's verified pieces per seeder (one listener for all of them);
   *  returns how to stop. */
  follow(node: Pick<TorrentEvents, 'onTorrentEvent'>): () => void {
    const stops = [
      node.onTorrentEvent('verified', (t, index: number, contributors: string[] = []) => this.#verified(t, index, contributors)),
      // As a seeder: which downloaders this node sent data to (their receipts take the reserved room).
      node.onTorrentEvent('transfer', (_t, ev: TransferEvent) => ev.direction === 'up' && this.#sentTo(ev.infoHashHex, ev.peer)),
      // Also at 'done' (a download whose last pieces came from plain peers, say).
      node.onTorrentEvent('done', (t) => this.#signRest(t.infoHashHex)),
    ];
    return () => {
      for (const stop of stops) stop();
    };
  }

  /** An identified peer of `infoHash` at `address` was sent a block: its account counts as served. */
  #sentTo(infoHash: string, address: string): void {
    const who = this.#peers.of(infoHash, address);
    if (!who) return;
    const account = who.account.toLowerCase();
    const key = `${infoHash} ${account}`;
    if (this.#served.has(key) || this.#store.isHeld(infoHash, account)) return;
    this.#served.add(key);
    if (this.#served.size > MAX_SERVED) this.#served.delete(this.#served.values().next().value!);
  }

  #verified(t: TorrentHandle, index: number, contributors: string[]): void {
    if (contributors.length === 0) return;
    const ih = t.infoHashHex;
    const share = Math.floor(pieceBytes(t, index) / contributors.length);
    let credited = false;
    for (const address of contributors) {
      const who = this.#peers.of(ih, address);
      if (who) credited = this.#credit(ih, address, who.account.toLowerCase(), share) || credited;
    }
    // The last piece: what is not yet in a receipt goes into a last one now, while the seeders
    // are still connected (two seeds part a moment later).
    if (credited && (t.wantedDone?.() ?? t.stats().progress >= 1)) this.#signRest(ih);
  }

  #signRest(ih: string): void {
    for (const o of this.#owed.values()) if (o.infoHash === ih && o.total > o.signed) this.#signNow(o);
  }

  #signNow(o: Owed): void {
    if (o.timer) clearTimeout(o.timer);
    o.timer = undefined;
    o.signedAt = Date.now();
    this.#track(this.#sign(o));
  }

  /** A receipt is due (everyBytes more verified): now, or once everyMs has passed since the last. */
  #due(o: Owed): void {
    if (o.timer) return; // one is already waiting and will carry these bytes too
    const wait = o.signedAt + this.#everyMs - Date.now();
    if (wait <= 0) return this.#signNow(o);
    o.timer = setTimeout(() => {
      o.timer = undefined;
      if (!this.#closed && o.total > o.signed) this.#signNow(o);
    }, wait);
    o.timer.unref?.();
  }

  /** Counts bytes for a seeder; true when it is owed something not yet in a receipt. */
  #credit(infoHash: string, address: string, account: string, bytes: number): boolean {
    const key = `${infoHash} ${account}`;
    let o = this.#owed.get(key);
    if (!o) {
      // Receipts state totals since the first one: go on from the last one signed (kept across restarts).
      const loaded = this.#store.loaded;
      const signed = loaded ? this.#store.sent(infoHash, account) : 0;
      const owed = (o = { infoHash, account, address, total: signed, signed, signedAt: 0, timer: undefined });
      this.#owed.set(key, owed);
      // Credited before the receipts were read (a start on a slow database): the stored count is
      // added once it is known, before any receipt is signed (#sign waits for the same read).
      if (!loaded) {
        void this.#store.ready.then(() => {
          const base = this.#store.sent(infoHash, account);
          owed.total += base;
          owed.signed += base;
        });
      }
    }
    o.address = address;
    o.total += bytes;
    if (o.total - o.signed >= this.#every) this.#due(o);
    return o.total > o.signed;
  }

  #track(p: Promise<void>): void {
    this.#signing.add(p);
    void p.finally(() => {
      this.#signing.delete(p);
      this.#wake();
    });
  }

  /** Waits (at most `ms`) until every receipt being signed is sent and the last one sent to each
   *  seeder is acknowledged: what a one-shot download does before it closes its connections. */
  async flush(ms: number): Promise<void> {
    const end = Date.now() + ms;
    while (this.#signing.size > 0 || this.#unacked.size > 0) {
      const left = end - Date.now();
      if (left <= 0) return;
      // Woken by the change itself (a receipt signed, an acknowledgement read), not by polling: a
      // 25 ms poll here held every one-shot download ~25 ms past its last acknowledgement (issue 40).
      const changed = (this.#changed ??= Promise.withResolvers<void>()).promise;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([changed, new Promise((r) => (timer = setTimeout(r, left)))]);
      clearTimeout(timer);
    }
  }

  /** Wakes flush() to look again. */
  #wake(): void {
    const c = this.#changed;
    this.#changed = undefined;
    c?.resolve();
  }

  /** What receipts name — chain id and pool, known before the chain runs — and the node's account
   *  that signs them (so no receipt waits for a chain to start; issue 40). */
  async #terms(): Promise<ReceiptSigner | undefined> {
    try {
      return (this.#lastTerms = await this.#chain.terms());
    } catch (err) {
      this.#out.note(`receipts: ${errorMessage(err)}`);
      return undefined;
    }
  }

  async #sign(o: Owed): Promise<void> {
    await this.#store.ready;
    if (this.#closed) return;
    const cumulative = o.total;
    o.signed = cumulative;
    const terms = await this.#terms();
    if (!terms || this.#closed) return;
    if (o.account === terms.address.toLowerCase()) return; // our own account: nothing to receipt
    const peer = this.#peers.wirePeer(o.infoHash, o.address);
    if (!peer) return;
    try {
      // Stored before it is sent: the next receipt after a restart goes on from it.
      await this.#store.setSent(o.infoHash, o.account, cumulative);
    } catch (err) {
      return this.#out.note(`receipt for ${o.infoHash} to ${o.address} not sent: storing it failed: ${errorMessage(err)}`);
    }
    const receipt: Receipt = {
      chainId: terms.chainId,
      pool: terms.pool,
      infoHash: `0x${o.infoHash}`,
      seeder: o.account as `0x${string}`,
      downloader: terms.address,
      cumulativeBytes: BigInt(cumulative),
      expiry: BigInt(Math.floor(Date.now() / 1000) + this.#validity),
    };
    try {
      const { signReceiptWithSecret } = await import('@cascade/chain/receipts');
      const signature = signReceiptWithSecret(terms.ethSecret, receipt);
      sendExtensionMessage(peer, { t: 'receipt', v: 1, ...wireOf(receipt), signature });
      this.#unacked.set(`${o.infoHash} ${o.account}`, cumulative);
      this.#out.event('receipt-sent', { infoHash: o.infoHash, seeder: receipt.seeder, peer: o.address, cumulativeBytes: cumulative });
    } catch (err) {
      this.#out.note(`receipt for ${o.infoHash} to ${o.address} not sent: ${errorMessage(err)}`);
    }
  }

  async #received(peer: WirePeer, who: IdentifiedPeer, m: Record<string, unknown>): Promise<void> {
    const ih = hexOf(peer.infoHash);
    const terms = await this.#terms();
    if (!terms || this.#closed) return this.#out.note(`receipt from ${peer.address} for ${ih} dropped: this node runs no chain`);
    let v: Verdict;
    try {
      v = await this.#judge(terms, ih, who, m);
    } catch (err) {
      v = { ok: false, reason: errorMessage(err), strike: false };
    }
    if (!v.ok) {
      // A receipt that fails counts against its sender as a failed piece would.
      if (v.strike) this.#peers.ledger.hashFailed(who.did);
      this.#out.event('receipt-refused', { infoHash: ih, peer: peer.address, did: who.did, reason: v.reason });
      return;
    }
    const r = v.receipt;
    const downloader = r.downloader.toLowerCase();
    await this.#store.ready;
    const before = this.#store.held(ih, downloader);
    if (before && before.chainId === r.chainId && before.pool.toLowerCase() === r.pool.toLowerCase() && r.cumulativeBytes <= before.cumulativeBytes) return; // older or the same: arrived out of order
    // Stored before the acknowledgement: a node killed after acknowledging has it.
    try {
      await this.#store.hold({ infoHash: ih, downloader, seeder: r.seeder, cumulativeBytes: r.cumulativeBytes, expiry: r.expiry, chainId: r.chainId, pool: r.pool, signature: v.signature }, this.#served.has(`${ih} ${downloader}`));
      this.#served.delete(`${ih} ${downloader}`);
    } catch (err) {
      // Not acknowledged: the downloader sends a newer one later.
      return this.#out.note(`receipt from ${peer.address} for ${ih} not kept: ${errorMessage(err)}`);
    }
    sendExtensionMessage(peer, { t: 'receipt-ack', v: 1, infoHash: ih, cumulativeBytes: r.cumulativeBytes.toString() });
    this.#out.event('receipt', { infoHash: ih, downloader, did: who.did, cumulativeBytes: Number(r.cumulativeBytes) });
    this.#unclaimed = undefined;
    this.#checkThreshold();
  }

  async #judge(terms: ReceiptSigner, ih: string, who: IdentifiedPeer, m: Record<string, unknown>): Promise<Verdict> {
    const r = receiptOf(m);
    if (typeof r === 'string') return { ok: false, reason: r, strike: true };
    if (r.receipt.chainId !== terms.chainId || r.receipt.pool.toLowerCase() !== terms.pool.toLowerCase()) {
      return { ok: false, reason: `for chain ${r.receipt.chainId} pool ${r.receipt.pool}, not this node's chain ${terms.chainId} pool ${terms.pool}`, strike: false };
    }
    if (r.receipt.infoHash.toLowerCase() !== `0x${ih}`) return { ok: false, reason: `for another torrent (${r.receipt.infoHash})`, strike: true };
    if (r.receipt.downloader.toLowerCase() !== who.account.toLowerCase()) return { ok: false, reason: `names downloader ${r.receipt.downloader}, not the account the peer proved (${who.account})`, strike: true };
    if (r.receipt.seeder.toLowerCase() !== terms.address.toLowerCase()) return { ok: false, reason: `names seeder ${r.receipt.seeder}, not this node's account`, strike: true };
    const { checkReceipt } = await import('@cascade/chain/receipts');
    const why = await checkReceipt(r.receipt, r.signature, { chainId: terms.chainId, pool: terms.pool });
    if (why === 'receipt expired') return { ok: false, reason: why, strike: false };
    if (why) return { ok: false, reason: why, strike: true };
    return { ok: true, ...r };
  }

  /** Unclaimed bytes of the receipts held for the running chain's pool. */
  #unclaimedBytes(): number {
    if (this.#unclaimed === undefined) this.#unclaimed = this.#current().reduce((n, h) => n + Number(h.cumulativeBytes - min(h.paidBytes, h.cumulativeBytes)), 0);
    return this.#unclaimed;
  }

  #checkThreshold(): void {
    const unclaimed = this.#unclaimedBytes();
    const steps = Math.floor(unclaimed / this.#threshold);
    if (steps > this.#announcedSteps) {
      this.#out.event('payment-required', { unclaimedBytes: unclaimed, receipts: this.#current().length });
    }
    this.#announcedSteps = steps;
    if (this.#autoClaim !== undefined && unclaimed >= this.#autoClaim && !this.#claiming) {
      if (!this.#chain.chain) {
        // An embedded chain left to its first need starts for this claim (ChainService.need).
        if (!this.#claimWhenRunning) {
          this.#claimWhenRunning = true;
          void this.#chain.whenRunning().then(() => {
            this.#claimWhenRunning = false;
            if (!this.#closed && this.#chain.chain) this.#checkThreshold();
          });
        }
        return;
      }
      this.claim().then(
        (c) => this.#out.event('rewards-claimed', { ...c, automatic: true }),
        (err) => this.#out.note(`automatic claim failed: ${errorMessage(err)}`),
      );
    }
  }

  /** Receipts held for the node's chain and pool (those for another stay on disk, unused). */
  #current(): HeldReceipt[] {
    const c = this.#chain.chain;
    const t = c ? { chainId: BigInt(c.chain.id), pool: c.contracts.pool } : this.#lastTerms;
    if (!t) return [];
    return this.#store.allHeld().filter((h) => h.chainId === t.chainId && h.pool.toLowerCase() === t.pool.toLowerCase());
  }

  /**
   * Reads what the pool has paid for each held receipt that it had not paid in full, keeping it in the
   * store; returns every held receipt. One paid in full stays so: the pool's count never goes down,
   * and a newer receipt from the same downloader says more than was paid (hold() forgets the count
   * when the receipt names another seeder, chain or pool). Before, every held receipt was read at
   * each `rewards` and twice at each claim (and each simulated), so their cost grew with the 30 days
   * of receipts a node keeps (issue 63), one chain call each.
   */
  async #refreshPaid(chain: NodeChain): Promise<HeldReceipt[]> {
    const { paidBytes } = await import('@cascade/chain');
    const held = this.#current();
    for (const h of held) {
      if (h.paidBytes >= h.cumulativeBytes) continue;
      h.paidBytes = await paidBytes(chain, { infoHash: `0x${h.infoHash}`, seeder: h.seeder as `0x${string}`, downloader: h.downloader as `0x${string}` });
      await this.#store.setPaid(h.infoHash, h.downloader, h.paidBytes);
    }
    this.#unclaimed = undefined;
    return held;
  }

  async rewards(chain: NodeChain): Promise<Rewards> {
    const { tokenBalance, rewardRate } = await import('@cascade/chain');
    const held = await this.#refreshPaid(chain);
    const earned = held.reduce((n, h) => n + h.cumulativeBytes, 0n);
    const claimed = held.reduce((n, h) => n + min(h.paidBytes, h.cumulativeBytes), 0n);
    const [balance, rate] = await Promise.all([tokenBalance(chain), rewardRate(chain)]);
    return {
      earnedBytes: Number(earned),
      claimedBytes: Number(claimed),
      pendingBytes: Number(earned - claimed),
      balance: balance.toString(),
      account: chain.account.address,
      rewardPerByte: rate.toString(),
      receipts: held.length,
    };
  }

  /** Claims every held receipt that pays something; one claim at a time. */
  claim(): Promise<RewardClaim> {
    const chain = this.#chain.chain;
    if (!chain) return Promise.reject(new Error('the chain is not running'));
    this.#claiming ??= (async () => {
      try {
        const { claimReceipts } = await import('@cascade/chain');
        // Only what the pool has not paid in full: the others would each cost a simulated claim to
        // be skipped as NothingNew.
        const held = (await this.#refreshPaid(chain)).filter((h) => h.paidBytes < h.cumulativeBytes);
        const result = await claimReceipts(
          chain,
          held.map((h) => ({
            receipt: { chainId: h.chainId, pool: h.pool as `0x${string}`, infoHash: `0x${h.infoHash}`, seeder: h.seeder as `0x${string}`, downloader: h.downloader as `0x${string}`, cumulativeBytes: h.cumulativeBytes, expiry: h.expiry },
            signature: h.signature as `0x${string}`,
          })),
        );
        await this.#refreshPaid(chain);
        this.#announcedSteps = Math.floor(this.#unclaimedBytes() / this.#threshold);
        return { tx: result.tx, claimedBytes: result.claimedBytes, skipped: result.skipped };
      } finally {
        this.#claiming = undefined;
      }
    })();
    return this.#claiming;
  }

  close(): void {
    this.#closed = true;
    for (const o of this.#owed.values()) if (o.timer) clearTimeout(o.timer);
  }
}

const min = (a: bigint, b: bigint) => (a < b ? a : b);
const hexOf = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
