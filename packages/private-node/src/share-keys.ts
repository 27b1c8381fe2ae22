// Content keys of the private shares this node can read, kept in the state DB beside the torrents
// (the node's identity key is there too): a link's key survives restarts, and a share found by its
// envelope is not opened again at every start. Also which chunks' plaintext is already written on
// this member's disk (share_writes, schema 19: a member's own; the key is the cluster's).
import type { KeyOrigin, ShareKeyStore, Store } from '@cascade/node/private-host';

export type { KeyOrigin };

/** Where the keys are: the node's state (its StateDB, or a Store and the member it is). */
export interface ShareKeysDb {
  readonly store: Store;
  readonly memberId: string;
}

export class ShareKeys implements ShareKeyStore {
  readonly #store: Store;
  readonly #memberId: string;

  constructor(db: ShareKeysDb) {
    this.#store = db.store;
    this.#memberId = db.memberId;
  }

  async get(infoHash: string): Promise<{ key: Uint8Array; origin: KeyOrigin } | undefined> {
    const row = await this.#store.get<{ key: Uint8Array; origin: KeyOrigin }>('SELECT key, origin FROM share_keys WHERE info_hash = ?', [infoHash]);
    return row && { key: new Uint8Array(row.key), origin: row.origin };
  }

  /** A key given (again): what any member wrote with the one before is not this share's plaintext. */
  async set(infoHash: string, key: Uint8Array, origin: KeyOrigin): Promise<void> {
    await this.#store.transaction(async (tx) => {
      await tx.run('INSERT INTO share_keys (info_hash, key, origin) VALUES (?, ?, ?) ON CONFLICT (info_hash) DO UPDATE SET key = excluded.key, origin = excluded.origin', [infoHash, key, origin]);
      await tx.run('DELETE FROM share_writes WHERE info_hash = ?', [infoHash]);
    });
  }

  async delete(infoHash: string): Promise<void> {
    await this.#store.transaction(async (tx) => {
      await tx.run('DELETE FROM share_keys WHERE info_hash = ?', [infoHash]);
      await tx.run('DELETE FROM share_writes WHERE info_hash = ?', [infoHash]);
    });
  }

  async written(infoHash: string): Promise<Uint8Array | undefined> {
    const row = await this.#store.get<{ written: Uint8Array }>('SELECT written FROM share_writes WHERE member_id = ? AND info_hash = ?', [this.#memberId, infoHash]);
    return row ? new Uint8Array(row.written) : undefined;
  }

  /** Which chunks are written here; only for a share whose key is kept (as before schema 19). */
  async setWritten(infoHash: string, bits: Uint8Array): Promise<void> {
    await this.#store.transaction(async (tx) => {
      if (!(await tx.get('SELECT 1 AS one FROM share_keys WHERE info_hash = ?', [infoHash]))) return;
      await tx.run('INSERT INTO share_writes (member_id, info_hash, written) VALUES (?, ?, ?) ON CONFLICT (member_id, info_hash) DO UPDATE SET written = excluded.written', [this.#memberId, infoHash, bits]);
    });
  }
}
