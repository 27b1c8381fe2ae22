// The seeding receipts' old home, <state>/chain/receipts.db (its own SQLite file before schema 16):
// read once at start into the state's receipts tables, then renamed so it is never read again.
// SQLite by nature; it moved from the node's state code to the receipts it fills (the node's
// lines were at their limit).

import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { StateError, type Store } from '@cascade/node/rewards-host';
import { errorMessage } from '@cascade/node/basics';

export const OLD_RECEIPTS = join('chain', 'receipts.db');
/** What the old file is renamed to once copied (kept: a backup, never read). */
export const COPIED_SUFFIX = '.copied-to-state';

const SENT = ['info_hash', 'seeder', 'cumulative'];
const HELD = ['info_hash', 'downloader', 'seeder', 'cumulative', 'expiry', 'chain_id', 'pool', 'signature', 'received_at', 'paid'];

/**
 * Copies the old file's receipts into the state (one transaction; a row the state has already
 * wins) and renames the file. Returns how many rows were copied (0: no old file).
 */
export async function copyOldReceipts(stateDir: string, store: Store, memberId = ''): Promise<number> {
  const path = join(stateDir, OLD_RECEIPTS);
  if (!existsSync(path)) return 0;
  let sent: unknown[][];
  let held: unknown[][];
  try {
    // Read-write, not read-only: closing the last connection folds its WAL into the file, so the
    // renamed copy is whole.
    const old = new DatabaseSync(path);
    try {
      const tables = new Set((old.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name));
      const rows = (table: string, columns: string[]) => {
        if (!tables.has(table)) return [];
        const stmt = old.prepare(`SELECT ${columns.join(', ')} FROM ${table}`);
        stmt.setReturnArrays(true);
        return stmt.all() as unknown as unknown[][];
      };
      sent = rows('sent', SENT);
      held = rows('held', HELD);
    } finally {
      old.close();
    }
  } catch (err) {
    throw new StateError(`cannot read the old receipts file ${path} (${errorMessage(err)}); move it aside to start without its receipts`);
  }
  await store.transaction(async (tx) => {
    for (const r of sent) {
      await tx.run(`INSERT INTO receipts_sent (member_id, ${SENT.join(', ')}) VALUES (?, ?, ?, ?) ON CONFLICT (member_id, info_hash, seeder) DO NOTHING`, [memberId, ...r] as never);
    }
    for (const r of held) {
      await tx.run(`INSERT INTO receipts_held (member_id, ${HELD.join(', ')}) VALUES (?, ${HELD.map(() => '?').join(', ')}) ON CONFLICT (member_id, info_hash, downloader) DO NOTHING`, [memberId, ...r] as never);
    }
  });
  try {
    renameSync(path, path + COPIED_SUFFIX);
  } catch (err) {
    // Another process (a verb beside serve) copied and renamed it first.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return sent.length + held.length;
}
