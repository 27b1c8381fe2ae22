// Seeding receipts in the node's state (schema 16), through the Store:
//   - sent: as a downloader, the cumulative bytes of verified pieces each seeder account sent us per
//     torrent (receipts state totals since the first one, so the count must survive restarts);
//   - held: as a seeder, the newest valid receipt of each downloader per torrent (what a claim
//     submits). A receipt is stored before it is acknowledged in any way, so a node killed after
//     that loses none.
// The exchange reads them synchronously as pieces are credited, so they are a view in memory
// (packages/node/README.md, "State"): read once (ready), changed only after the Store took a write.
// A state directory from before schema 16 has them in chain/receipts.db: copied once, at open.
// They are a member's own (schema 19: signed by or for its account), keyed by its member id.
import type { Store } from '@cascade/node/rewards-host';
import { copyOldReceipts } from './old-receipts.ts';

export interface HeldReceipt {
  infoHash: string;
  downloader: string;
  seeder: string;
  cumulativeBytes: bigint;
  expiry: bigint;
  chainId: bigint;
  pool: string;
  signature: string;
  /** Bytes of it the pool has paid for (as last read from the chain). */
  paidBytes: bigint;
}

/** How often a running node looks for expired held receipts and removed torrents' counts (at most,
 *  on the next receipt held or signed). */
const FORGET_EVERY_MS = 3_600_000;
/** Held receipts kept at most, and per torrent (docs/retention.md). Each (torrent, downloader) that
 *  signs one is a row and an entry in memory for up to its 30 days, and an account costs nothing to
 *  make: without a bound, a peer cycling through fresh identities grew both for as long as it liked. */
export const MAX_HELD_RECEIPTS = 100_000;
export const MAX_HELD_PER_TORRENT = 10_000;

/** hold() refused a receipt from a new downloader: the bound is reached (not acknowledged, so the
 *  downloader sends a newer one later, when expiries may have made room). */
export class ReceiptsFullError extends Error {}

export interface ReceiptBounds {
  maxHeld?: number;
  maxHeldPerTorrent?: number;
}

export class ReceiptStore {
  readonly #store: Store;
  readonly #memberId: string;
  readonly #sent = new Map<string, number>();
  readonly #held = new Map<string, HeldReceipt>();
  /** Held receipts per torrent (for the per-torrent bound). */
  readonly #heldPerTorrent = new Map<string, number>();
  readonly #maxHeld: number;
  readonly #maxHeldPerTorrent: number;
  #loaded = false;
  #lastForget = 0;
  /** Resolves once the receipts are read (the old file copied first); a failure is passed to onError
   *  and leaves the view empty (writes then fail on their own, and nothing is acknowledged). */
  readonly ready: Promise<void>;

  constructor(state: { readonly store: Store; readonly stateDir: string; readonly memberId?: string }, onError: (err: unknown) => void = () => {}, bounds: ReceiptBounds = {}) {
    this.#store = state.store;
    this.#maxHeld = bounds.maxHeld ?? MAX_HELD_RECEIPTS;
    this.#maxHeldPerTorrent = bounds.maxHeldPerTorrent ?? MAX_HELD_PER_TORRENT;
    this.#memberId = state.memberId ?? '';
    this.ready = this.#load(state.stateDir).then(() => void (this.#loaded = true), onError);
  }

  /** Whether the view is read (before: sent() is 0 and held() undefined for everything). */
  get loaded(): boolean {
    return this.#loaded;
  }

  async #load(stateDir: string): Promise<void> {
    await copyOldReceipts(stateDir, this.#store, this.#memberId);
    for (const [ih, seeder, cumulative] of await this.#store.values('SELECT info_hash, seeder, cumulative FROM receipts_sent WHERE member_id = ?', [this.#memberId])) {
      this.#sent.set(`${ih as string} ${seeder as string}`, Number(cumulative));
    }
    for (const row of await this.#store.all<Record<string, string>>('SELECT * FROM receipts_held WHERE member_id = ? ORDER BY info_hash, downloader', [this.#memberId])) {
      this.#keep(fromRow(row));
    }
    await this.forgetExpired();
  }

  /**
   * Retention (docs/retention.md): a held receipt past its expiry is worth nothing — the pool refuses
   * it, claimed or not — so it is forgotten, in the state and here. Done at start and at most hourly
   * as receipts arrive or are signed; before, every (torrent, downloader) that ever signed one stayed
   * forever. In the same sweep, the count signed to each seeder of a torrent no longer in the library
   * goes (before, one row for every (torrent, seeder) ever met): it only lets the receipts of a
   * download go on from the last one; should the torrent come back and meet the same seeder, its
   * receipts count from 0 again and pay that seeder only past what the pool paid it before.
   * Returns the held receipts forgotten.
   */
  async forgetExpired(nowSeconds = BigInt(Math.floor(Date.now() / 1000))): Promise<number> {
    this.#lastForget = Date.now();
    const sent = await this.#store.all<{ info_hash: string; seeder: string }>(
      'DELETE FROM receipts_sent WHERE member_id = ? AND NOT EXISTS (SELECT 1 FROM torrents t WHERE t.info_hash = receipts_sent.info_hash) RETURNING info_hash, seeder',
      [this.#memberId],
    );
    for (const r of sent) this.#sent.delete(`${r.info_hash} ${r.seeder}`);
    let n = 0;
    for (const [key, h] of [...this.#held]) {
      if (h.expiry >= nowSeconds) continue;
      await this.#store.run('DELETE FROM receipts_held WHERE member_id = ? AND info_hash = ? AND downloader = ? AND expiry = ?', [this.#memberId, h.infoHash, h.downloader, h.expiry.toString()]);
      if (this.#held.get(key) === h) this.#drop(key, h.infoHash);
      n++;
    }
    return n;
  }

  sent(infoHash: string, seeder: string): number {
    return this.#sent.get(`${infoHash} ${seeder}`) ?? 0;
  }

  async setSent(infoHash: string, seeder: string, cumulative: number): Promise<void> {
    const n = Math.floor(cumulative);
    await this.#store.run(
      'INSERT INTO receipts_sent (member_id, info_hash, seeder, cumulative) VALUES (?, ?, ?, ?) ON CONFLICT (member_id, info_hash, seeder) DO UPDATE SET cumulative = excluded.cumulative',
      [this.#memberId, infoHash, seeder, n],
    );
    this.#sent.set(`${infoHash} ${seeder}`, n);
    if (Date.now() - this.#lastForget > FORGET_EVERY_MS) void this.forgetExpired().catch(() => {});
  }

  /** Whether a receipt of (torrent, downloader) is held: held() without the copy, for hot paths. */
  isHeld(infoHash: string, downloader: string): boolean {
    return this.#held.has(`${infoHash} ${downloader}`);
  }

  held(infoHash: string, downloader: string): HeldReceipt | undefined {
    const h = this.#held.get(`${infoHash} ${downloader}`);
    return h ? { ...h } : undefined;
  }

  /**
   * Keeps the newest receipt of a (torrent, downloader). One from a downloader not held yet is
   * refused with ReceiptsFullError once the bounds are reached and a sweep of expired ones made no
   * room — and past half of either bound unless `served` (this node sent that downloader data of
   * the torrent): an account costs nothing to make, so fresh identities that were never sent a byte
   * can fill half the room at most, and the rest stays for the downloaders this node served.
   */
  async hold(r: Omit<HeldReceipt, 'paidBytes'>, served = true): Promise<void> {
    // The room a new downloader may take: all of it if served, else half.
    const share = served ? 1 : 2;
    if (!this.#held.has(`${r.infoHash} ${r.downloader}`) && this.#full(r.infoHash, share)) {
      // A sweep at most once a minute: a flood of refused receipts must not each cost a scan.
      if (Date.now() - this.#lastForget > 60_000) await this.forgetExpired();
      if (this.#full(r.infoHash, share)) {
        if (!served) throw new ReceiptsFullError('half the receipts this node keeps are held, and this node sent this downloader nothing of the torrent: the rest is kept for downloaders it served (docs/retention.md)');
        const perTorrent = (this.#heldPerTorrent.get(r.infoHash) ?? 0) >= this.#maxHeldPerTorrent;
        throw new ReceiptsFullError(perTorrent
          ? `${this.#maxHeldPerTorrent} receipts held for this torrent already, the most kept (docs/retention.md)`
          : `${this.#maxHeld} receipts held already, the most kept (docs/retention.md)`);
      }
    }
    await this.#store.run(
      `INSERT INTO receipts_held (member_id, info_hash, downloader, seeder, cumulative, expiry, chain_id, pool, signature, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (member_id, info_hash, downloader) DO UPDATE SET seeder = excluded.seeder, cumulative = excluded.cumulative, expiry = excluded.expiry,
         chain_id = excluded.chain_id, pool = excluded.pool, signature = excluded.signature, received_at = excluded.received_at,
         paid = CASE WHEN receipts_held.seeder = excluded.seeder AND receipts_held.chain_id = excluded.chain_id AND receipts_held.pool = excluded.pool THEN receipts_held.paid ELSE '0' END`,
      [this.#memberId, r.infoHash, r.downloader, r.seeder, r.cumulativeBytes.toString(), r.expiry.toString(), r.chainId.toString(), r.pool, r.signature, Date.now()],
    );
    const key = `${r.infoHash} ${r.downloader}`;
    if (Date.now() - this.#lastForget > FORGET_EVERY_MS) void this.forgetExpired().catch(() => {});
    // The stored row keeps what was paid for the same (seeder, chain, pool): the pool's count is per
    // seeder, and the claims skip a receipt paid in full without asking the chain again.
    const before = this.#held.get(key);
    const same = before && before.seeder === r.seeder && before.chainId === r.chainId && before.pool === r.pool;
    this.#keep({ ...r, paidBytes: same ? before.paidBytes : 0n });
  }

  /** Whether the bounds (over `share`: 2 = half of them) are reached, overall or for the torrent. */
  #full(infoHash: string, share = 1): boolean {
    return this.#held.size >= this.#maxHeld / share || (this.#heldPerTorrent.get(infoHash) ?? 0) >= this.#maxHeldPerTorrent / share;
  }

  #keep(h: HeldReceipt): void {
    const key = `${h.infoHash} ${h.downloader}`;
    if (!this.#held.has(key)) this.#heldPerTorrent.set(h.infoHash, (this.#heldPerTorrent.get(h.infoHash) ?? 0) + 1);
    this.#held.set(key, h);
  }

  #drop(key: string, infoHash: string): void {
    if (!this.#held.delete(key)) return;
    const n = (this.#heldPerTorrent.get(infoHash) ?? 1) - 1;
    if (n > 0) this.#heldPerTorrent.set(infoHash, n);
    else this.#heldPerTorrent.delete(infoHash);
  }

  /** What the pool has paid for this receipt's (torrent, seeder, downloader), as last read from it. */
  async setPaid(infoHash: string, downloader: string, paidBytes: bigint): Promise<void> {
    await this.#store.run('UPDATE receipts_held SET paid = ? WHERE member_id = ? AND info_hash = ? AND downloader = ?', [paidBytes.toString(), this.#memberId, infoHash, downloader]);
    const key = `${infoHash} ${downloader}`;
    const h = this.#held.get(key);
    if (h) this.#held.set(key, { ...h, paidBytes });
  }

  /** Every held receipt, by torrent then downloader (copies: changing one changes nothing here). */
  allHeld(): HeldReceipt[] {
    return [...this.#held.values()]
      .sort((a, b) => (a.infoHash === b.infoHash ? cmp(a.downloader, b.downloader) : cmp(a.infoHash, b.infoHash)))
      .map((h) => ({ ...h }));
  }
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function fromRow(row: Record<string, string>): HeldReceipt {
  return {
    infoHash: row.info_hash!,
    downloader: row.downloader!,
    seeder: row.seeder!,
    cumulativeBytes: BigInt(row.cumulative!),
    expiry: BigInt(row.expiry!),
    chainId: BigInt(row.chain_id!),
    pool: row.pool!,
    signature: row.signature!,
    paidBytes: BigInt(row.paid ?? '0'),
  };
}
