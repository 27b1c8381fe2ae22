// Content keys of the private shares this node can read, kept in the state DB beside the torrents
// (the node's identity key is there too): a link's key survives restarts, and a share found by its
// envelope is not opened again at every start. Also which chunks' plaintext is already written.
import type { Store } from '../state/store.ts';
import type { StateDB } from '../state/state-db.ts';

/** shared: this node made the share (its plaintext is the original); link: added with a link's
 *  key; envelope: opened with this node's identity. */
export type KeyOrigin = 'shared' | 'link' | 'envelope';

export class ShareKeys {
  readonly #store: Store;

  constructor(db: StateDB) {
    this.#store = db.store;
  }

  async get(infoHash: string): Promise<{ key: Uint8Array; origin: KeyOrigin } | undefined> {
    const row = await this.#store.get<{ key: Uint8Array; origin: KeyOrigin }>('SELECT key, origin FROM share_keys WHERE info_hash = ?', [infoHash]);
    return row && { key: new Uint8Array(row.key), origin: row.origin };
  }

  async set(infoHash: string, key: Uint8Array, origin: KeyOrigin): Promise<void> {
    await this.#store.run(
      'INSERT INTO share_keys (info_hash, key, origin) VALUES (?, ?, ?) ON CONFLICT (info_hash) DO UPDATE SET key = excluded.key, origin = excluded.origin, written = NULL',
      [infoHash, key, origin],
    );
  }

  async delete(infoHash: string): Promise<void> {
    await this.#store.run('DELETE FROM share_keys WHERE info_hash = ?', [infoHash]);
  }

  async written(infoHash: string): Promise<Uint8Array | undefined> {
    const row = await this.#store.get<{ written: Uint8Array | null }>('SELECT written FROM share_keys WHERE info_hash = ?', [infoHash]);
    return row?.written ? new Uint8Array(row.written) : undefined;
  }

  async setWritten(infoHash: string, bits: Uint8Array): Promise<void> {
    await this.#store.run('UPDATE share_keys SET written = ? WHERE info_hash = ?', [bits, infoHash]);
  }
}
