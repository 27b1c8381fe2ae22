// The cluster soak's shared stores, sampled beside the members: PostgreSQL's database size, rows per
// table and connections to it, and Redis's used memory, keys (and those with no expiry) and clients.
// Each through one connection the soak holds open for the run (counted in the connections and
// clients it reports: one each, the same before and after).

import pg from 'pg';
import { Redis } from 'ioredis';

/** Names as the single node's SQLite tables are (chat_envelopes → rows.chat.envelopes), so the
 *  report's bounds for a table (report.ts, BOUNDED_TABLES) are the same on both engines. */
const rowKey = (table: string) => (table.startsWith('chat_') ? `rows.chat.${table.slice(5)}` : `rows.${table}`);

export class StoreSampler {
  readonly #pg: pg.Client;
  readonly #redis: Redis;

  private constructor(client: pg.Client, redis: Redis) {
    this.#pg = client;
    this.#redis = redis;
  }

  static async open(database: string, redis: string): Promise<StoreSampler> {
    const client = new pg.Client({ connectionString: database });
    await client.connect();
    const r = new Redis(redis, { lazyConnect: true, maxRetriesPerRequest: 2 });
    await r.connect();
    return new StoreSampler(client, r);
  }

  /** PostgreSQL's measures: `db_mb`, `connections` (to this database), `rows.<table>` (exact counts). */
  async postgres(): Promise<Record<string, number>> {
    const size = await this.#pg.query<{ b: string; c: string }>(
      'SELECT pg_database_size(current_database()) AS b, (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()) AS c',
    );
    const out: Record<string, number> = { db_mb: Number(size.rows[0]!.b) / 2 ** 20, connections: Number(size.rows[0]!.c) };
    const tables = await this.#pg.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename");
    if (tables.rows.length === 0) return out;
    // One statement for every count: the tables are read at one instant, not one after another.
    const sql = tables.rows.map((r, i) => `SELECT ${i} AS i, count(*) AS n FROM "${r.t.replace(/"/g, '""')}"`).join(' UNION ALL ');
    const counts = await this.#pg.query<{ i: number; n: string }>(sql);
    for (const c of counts.rows) out[rowKey(tables.rows[c.i]!.t)] = Number(c.n);
    return out;
  }

  /** Redis's measures: `used_memory_mb`, `keys`, `keys_no_ttl` (never expire), `clients`. */
  async redis(): Promise<Record<string, number>> {
    const info = await this.#redis.info();
    const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? NaN);
    let keys = 0;
    let noTtl = 0;
    let cursor = '0';
    do {
      const [next, batch] = await this.#redis.scan(cursor, 'COUNT', 500);
      cursor = next;
      keys += batch.length;
      if (batch.length > 0) {
        const ttls = await Promise.all(batch.map((k) => this.#redis.pttl(k)));
        noTtl += ttls.filter((t) => t === -1).length;
      }
    } while (cursor !== '0');
    return { used_memory_mb: field('used_memory') / 2 ** 20, keys, keys_no_ttl: noTtl, clients: field('connected_clients') };
  }

  async close(): Promise<void> {
    await this.#pg.end().catch(() => {});
    this.#redis.disconnect();
  }
}
