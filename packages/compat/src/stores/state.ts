// What the compatible APIs remember beside the node's settings, in the state (issue 42: behind a
// balancer with no stickiness every member must answer the same): Transmission's values shown for
// limits that are off, qBittorrent's searches and whether its search plugin is on — JSON records
// by name — and failed logins by address, counted by every member together (qBittorrent's ban).

import type { CompatDatabase, CompatQueryable } from './database.ts';

export class CompatStateStore {
  readonly #store: CompatDatabase;

  constructor(store: CompatDatabase) {
    this.#store = store;
  }

  /** A record, or undefined. */
  async get(api: string, name: string): Promise<unknown> {
    const row = await this.#store.get<{ value: string }>('SELECT value FROM compat_state WHERE api = ? AND name = ?', [api, name]);
    return row ? (JSON.parse(row.value) as unknown) : undefined;
  }

  /** Records whose name starts with `prefix`, by name. */
  async list(api: string, prefix: string): Promise<[string, unknown][]> {
    // Compared as a range, not LIKE: a prefix may hold '%' or '_'.
    const rows = await this.#store.all<{ name: string; value: string }>(
      'SELECT name, value FROM compat_state WHERE api = ? AND name >= ? AND name < ? ORDER BY name',
      [api, prefix, `${prefix}\u{10ffff}`],
    );
    return rows.map((r) => [r.name, JSON.parse(r.value) as unknown]);
  }

  async set(api: string, name: string, value: unknown, now = Date.now()): Promise<void> {
    await this.#store.run(
      'INSERT INTO compat_state (api, name, value, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (api, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
      [api, name, JSON.stringify(value), now],
    );
  }

  async delete(api: string, name: string): Promise<void> {
    await this.#store.run('DELETE FROM compat_state WHERE api = ? AND name = ?', [api, name]);
  }

  /** Whether `address` is serving a ban for failed logins (an ended one is forgotten). */
  async isBanned(api: string, address: string, now = Date.now()): Promise<boolean> {
    const row = await this.#store.get<{ banned_until: number | string }>('SELECT banned_until FROM compat_login_failures WHERE api = ? AND address = ?', [api, address]);
    const until = Number(row?.banned_until ?? 0);
    if (until === 0) return false;
    if (now < until) return true;
    await this.#store.run('DELETE FROM compat_login_failures WHERE api = ? AND address = ? AND banned_until = ?', [api, address, until]);
    return false;
  }

  /** One more failed login from `address`; at `maxFails` in a row it is banned for `banMs`. Counted
   *  in one statement, so failures reaching different members at once all count. Addresses whose
   *  last failure is older than a ban and not banned are forgotten. The count so far. */
  async loginFailed(api: string, address: string, maxFails: number, banMs: number, now = Date.now()): Promise<number> {
    return this.#store.transaction(async (tx) => {
      await tx.run('DELETE FROM compat_login_failures WHERE api = ? AND updated_at < ? AND banned_until < ?', [api, now - banMs, now]);
      await tx.run(
        // The ban's end as a BIGINT: PostgreSQL types a parameter in a CASE by its other branch (0, an int4).
        `INSERT INTO compat_login_failures (api, address, failures, banned_until, updated_at) VALUES (?, ?, 1, CASE WHEN 1 >= ? THEN CAST(? AS BIGINT) ELSE 0 END, ?)
         ON CONFLICT (api, address) DO UPDATE SET failures = compat_login_failures.failures + 1,
           banned_until = CASE WHEN compat_login_failures.failures + 1 >= ? THEN CAST(? AS BIGINT) ELSE 0 END, updated_at = excluded.updated_at`,
        [api, address, maxFails, now + banMs, now, maxFails, now + banMs],
      );
      const row = await tx.get<{ failures: number | string }>('SELECT failures FROM compat_login_failures WHERE api = ? AND address = ?', [api, address]);
      return Number(row!.failures);
    });
  }

  async loginSucceeded(api: string, address: string): Promise<void> {
    await this.#store.run('DELETE FROM compat_login_failures WHERE api = ? AND address = ?', [api, address]);
  }

  /**
   * Small ids for torrents (Transmission's), the same through every member: an id already given is
   * read, a new one is the highest so far + 1, and never given to another torrent (a removal drops
   * the torrent's row but the highest stays: @cascade/node's REMOVE_TORRENT, docs/retention.md). Members giving ids at once may pick the same number: the loser's transaction fails on
   * the id's uniqueness and is tried again.
   */
  async torrentIds(api: string, infoHashes: readonly string[]): Promise<Map<string, number>> {
    const ids = await this.#readIds(this.#store, api, infoHashes);
    const missing = infoHashes.filter((ih) => !ids.has(ih));
    if (missing.length === 0) return ids;
    for (let attempt = 1; ; attempt++) {
      try {
        const given = await this.#store.transaction(async (tx) => {
          for (const ih of missing) {
            await tx.run(
              'INSERT INTO compat_torrent_ids (api, info_hash, id) SELECT ?, ?, COALESCE(MAX(id), 0) + 1 FROM compat_torrent_ids WHERE api = ? ON CONFLICT (api, info_hash) DO NOTHING',
              [api, ih, api],
            );
          }
          return this.#readIds(tx, api, missing);
        });
        for (const [ih, id] of given) ids.set(ih, id);
        return ids;
      } catch (err) {
        if (attempt >= 5 || !/unique|duplicate/i.test(String((err as Error).message))) throw err;
      }
    }
  }

  async #readIds(q: CompatQueryable, api: string, infoHashes: readonly string[]): Promise<Map<string, number>> {
    const ids = new Map<string, number>();
    for (let i = 0; i < infoHashes.length; i += 500) {
      const chunk = infoHashes.slice(i, i + 500);
      const rows = await q.all<{ info_hash: string; id: number | string }>(
        `SELECT info_hash, id FROM compat_torrent_ids WHERE api = ? AND info_hash IN (${chunk.map(() => '?').join(', ')})`,
        [api, ...chunk],
      );
      for (const r of rows) ids.set(r.info_hash, Number(r.id));
    }
    return ids;
  }
}
