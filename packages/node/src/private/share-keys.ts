// Content keys of the private shares this node can read, kept in the state DB beside the torrents
// (the node's identity key is there too): a link's key survives restarts, and a share found by its
// envelope is not opened again at every start. Also which chunks' plaintext is already written.
import type { StatementSync } from 'node:sqlite';
import type { StateDB } from '../state/state-db.ts';

/** shared: this node made the share (its plaintext is the original); link: added with a link's
 *  key; envelope: opened with this node's identity. */
export type KeyOrigin = 'shared' | 'link' | 'envelope';

export class ShareKeys {
  readonly #get: StatementSync;
  readonly #set: StatementSync;
  readonly #written: StatementSync;
  readonly #setWritten: StatementSync;
  readonly #delete: StatementSync;

  constructor(db: StateDB) {
    this.#get = db.prepare('SELECT key, origin FROM share_keys WHERE info_hash = ?');
    this.#set = db.prepare(
      'INSERT INTO share_keys (info_hash, key, origin) VALUES (?, ?, ?) ON CONFLICT (info_hash) DO UPDATE SET key = excluded.key, origin = excluded.origin, written = NULL',
    );
    this.#written = db.prepare('SELECT written FROM share_keys WHERE info_hash = ?');
    this.#setWritten = db.prepare('UPDATE share_keys SET written = ? WHERE info_hash = ?');
    this.#delete = db.prepare('DELETE FROM share_keys WHERE info_hash = ?');
  }

  get(infoHash: string): { key: Uint8Array; origin: KeyOrigin } | undefined {
    const row = this.#get.get(infoHash) as { key: Uint8Array; origin: KeyOrigin } | undefined;
    return row && { key: new Uint8Array(row.key), origin: row.origin };
  }

  set(infoHash: string, key: Uint8Array, origin: KeyOrigin): void {
    this.#set.run(infoHash, key, origin);
  }

  delete(infoHash: string): void {
    this.#delete.run(infoHash);
  }

  written(infoHash: string): Uint8Array | undefined {
    const row = this.#written.get(infoHash) as { written: Uint8Array | null } | undefined;
    return row?.written ? new Uint8Array(row.written) : undefined;
  }

  setWritten(infoHash: string, bits: Uint8Array): void {
    this.#setWritten.run(bits, infoHash);
  }
}
