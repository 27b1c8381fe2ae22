// Receipts kept in <stateDir>/chain/receipts.db (SQLite):
//   - sent: as a downloader, the cumulative bytes of verified pieces each seeder account sent us per
//     torrent (receipts state totals since the first one, so the count must survive restarts);
//   - held: as a seeder, the newest valid receipt of each downloader per torrent (what a claim
//     submits). A receipt is written before it is acknowledged in any way, so a node killed after
//     that loses none.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';

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

export class ReceiptStore {
  readonly #db: DatabaseSync;
  readonly #getSent: StatementSync;
  readonly #putSent: StatementSync;
  readonly #getHeld: StatementSync;
  readonly #putHeld: StatementSync;
  readonly #allHeld: StatementSync;
  readonly #putPaid: StatementSync;

  constructor(path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.#db = new DatabaseSync(path);
    this.#db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = NORMAL;
      CREATE TABLE IF NOT EXISTS sent (info_hash TEXT NOT NULL, seeder TEXT NOT NULL, cumulative INTEGER NOT NULL, PRIMARY KEY (info_hash, seeder)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS held (
        info_hash TEXT NOT NULL, downloader TEXT NOT NULL, seeder TEXT NOT NULL, cumulative TEXT NOT NULL,
        expiry TEXT NOT NULL, chain_id TEXT NOT NULL, pool TEXT NOT NULL, signature TEXT NOT NULL, received_at INTEGER NOT NULL, paid TEXT NOT NULL DEFAULT '0',
        PRIMARY KEY (info_hash, downloader)) WITHOUT ROWID;
    `);
    this.#getSent = this.#db.prepare('SELECT cumulative FROM sent WHERE info_hash = ? AND seeder = ?');
    this.#putSent = this.#db.prepare('INSERT INTO sent VALUES (?, ?, ?) ON CONFLICT (info_hash, seeder) DO UPDATE SET cumulative = excluded.cumulative');
    this.#getHeld = this.#db.prepare('SELECT * FROM held WHERE info_hash = ? AND downloader = ?');
    this.#putHeld = this.#db.prepare(
      'INSERT INTO held (info_hash, downloader, seeder, cumulative, expiry, chain_id, pool, signature, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (info_hash, downloader) DO UPDATE SET seeder = excluded.seeder, cumulative = excluded.cumulative, expiry = excluded.expiry, chain_id = excluded.chain_id, pool = excluded.pool, signature = excluded.signature, received_at = excluded.received_at',
    );
    this.#allHeld = this.#db.prepare('SELECT * FROM held ORDER BY info_hash, downloader');
    this.#putPaid = this.#db.prepare('UPDATE held SET paid = ? WHERE info_hash = ? AND downloader = ?');
  }

  sent(infoHash: string, seeder: string): number {
    return Number((this.#getSent.get(infoHash, seeder) as { cumulative: number } | undefined)?.cumulative ?? 0);
  }

  setSent(infoHash: string, seeder: string, cumulative: number): void {
    this.#putSent.run(infoHash, seeder, Math.floor(cumulative));
  }

  held(infoHash: string, downloader: string): HeldReceipt | undefined {
    const row = this.#getHeld.get(infoHash, downloader) as Record<string, string> | undefined;
    return row ? fromRow(row) : undefined;
  }

  hold(r: Omit<HeldReceipt, 'paidBytes'>): void {
    this.#putHeld.run(r.infoHash, r.downloader, r.seeder, r.cumulativeBytes.toString(), r.expiry.toString(), r.chainId.toString(), r.pool, r.signature, Date.now());
  }

  /** What the pool has paid for this receipt's (torrent, seeder, downloader), as last read from it. */
  setPaid(infoHash: string, downloader: string, paidBytes: bigint): void {
    this.#putPaid.run(paidBytes.toString(), infoHash, downloader);
  }

  allHeld(): HeldReceipt[] {
    return (this.#allHeld.all() as Record<string, string>[]).map(fromRow);
  }

  close(): void {
    this.#db.close();
  }
}

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
