// What one placement tick costs the coordinator at 10,000 torrents with real holder rows (issue 42:
// "placement reads every holder row each tick"), on a throwaway PostgreSQL (Debian's initdb/pg_ctl,
// packages/node/test/postgres-server.ts). Three members joined with ClusterMembership (the first
// coordinates), `--count` torrents each held by 2 or 3 of them (every third torrent by all three,
// as after a repair left it over-replicated), then, each `--ticks` times:
//
//   - the coordinator's full pass (the whole library: what every tick did before it was incremental,
//     and what it does now when the members change and every 30 s), its tick with nothing told (the
//     2 s renewal) and with one torrent told (an add, a holder's status);
//   - one member's peer refresh (HolderStore.peersOf), whole and for one torrent told;
//   - references: the same tick on an empty library, `SELECT count(*) FROM torrent_holders`, and
//     `SELECT 1`.
//
// Printed per line: the median and p95 ms of wall time, the statements run and the rows they
// returned (a Store wrapper counts them), and the database's own execution time of the heaviest
// statement (EXPLAIN ANALYZE). Then one holder's lease runs out, is declared dead, and the repair
// pass is timed (the torrents it held get new holders).
//
//   node bench/cluster/placement.ts [--count 10000] [--ticks 30]

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ClusterMembership, HolderStore, Placement, type MemberStats } from '../../packages/cluster/index.ts';
import { PostgresStore } from '@cascade/node-state/postgres-store';
import { migratePostgres } from '@cascade/node-state';
import type { Queryable, SqlValue, Store } from '@cascade/node-state/store';
import { startPostgres } from '../../packages/node/test/postgres-server.ts';
import { Cleanups } from './infra.ts';

const { values: args } = parseArgs({ options: { count: { type: 'string', default: '10000' }, ticks: { type: 'string', default: '30' } } });
const COUNT = Number(args.count);
const TICKS = Number(args.ticks);

/** A Store that counts the statements it runs and the rows they return. */
class Counted implements Store {
  statements = 0;
  rows = 0;
  readonly inner: Store;
  constructor(inner: Store) {
    this.inner = inner;
  }
  get dialect() {
    return this.inner.dialect;
  }
  get location() {
    return this.inner.location;
  }
  async all<R extends Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<R[]> {
    const r = await this.inner.all<R>(sql, params);
    this.statements++;
    this.rows += r.length;
    return r;
  }
  async values(sql: string, params?: readonly SqlValue[]): Promise<unknown[][]> {
    const r = await this.inner.values(sql, params);
    this.statements++;
    this.rows += r.length;
    return r;
  }
  async get<R extends Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<R | undefined> {
    const r = await this.inner.get<R>(sql, params);
    this.statements++;
    if (r) this.rows++;
    return r;
  }
  async run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }> {
    this.statements++;
    return this.inner.run(sql, params);
  }
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.inner.transaction(fn);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

function load(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return '?';
  }
}

function stats(ms: number[]): { p50: number; p95: number } {
  const s = [...ms].sort((a, b) => a - b);
  return { p50: s[Math.floor(s.length / 2)]!, p95: s[Math.min(s.length - 1, Math.floor(s.length * 0.95))]! };
}

/** Runs `fn` `n` times; prints its wall time and what it read per run. */
async function measure(label: string, counted: Counted, n: number, fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  let statements = 0;
  let rows = 0;
  for (let i = 0; i < n; i++) {
    const [s0, r0] = [counted.statements, counted.rows];
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
    statements += counted.statements - s0;
    rows += counted.rows - r0;
  }
  const { p50, p95 } = stats(times);
  console.log(`${label.padEnd(58)} ${p50.toFixed(2).padStart(8)} ms p50 ${p95.toFixed(2).padStart(8)} ms p95   ${(statements / n).toFixed(1)} statements, ${Math.round(rows / n)} rows per run   [load ${load()}]`);
  return p50;
}

/** The database's own time for `sql` (EXPLAIN ANALYZE's execution time, the median of 5). */
async function dbTime(store: Store, sql: string, params: SqlValue[] = []): Promise<string> {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const plan = await store.all<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, FORMAT TEXT) ${sql}`, params);
    const line = plan.map((r) => Object.values(r)[0] as string).find((l) => l.startsWith('Execution Time'));
    times.push(Number(/([\d.]+) ms/.exec(line ?? '')?.[1] ?? NaN));
  }
  return `${stats(times).p50.toFixed(2)} ms`;
}

const hex = (i: number) => i.toString(16).padStart(40, '0');

/** The full pass's read (HolderStore.holderRows), for EXPLAIN ANALYZE. */
const FULL_READ = "SELECT t.info_hash, t.length, h.member_id, h.epoch, h.state FROM torrents t LEFT JOIN torrent_holders h ON h.info_hash = t.info_hash AND h.state NOT IN ('removed', 'removed+data')";

async function main(): Promise<void> {
  const later = new Cleanups();
  process.once('SIGINT', () => void later.run().then(() => process.exit(130)));
  try {
    const pg = await startPostgres(later);
    const store = await PostgresStore.open(await pg.database('placement'));
    later.after(() => store.close());
    await migratePostgres(store);
    const counted = new Counted(store);

    const stats: MemberStats = { torrents: 0, freeBytes: 500e9, downloadRate: 0, uploadRate: 0, btPort: 7000 };
    const join = (name: string, i: number) =>
      ClusterMembership.join(counted, { id: `did:key:z${name}`, url: `http://127.0.0.${i}:8080`, instance: `bench-${name}`, stats: () => ({ ...stats, btPort: 7000 + i }) });
    const members = [await join('a', 2), await join('b', 3), await join('c', 4)];
    for (const m of members) await m.tick();
    const [a, b] = members as [ClusterMembership, ClusterMembership, ClusterMembership];
    const placed: string[] = [];
    const placement = new Placement({ membership: a, holders: new HolderStore(counted), replicas: () => null, placed: (ihs) => void placed.push(...ihs), note: (t) => console.error(t) });

    console.log(`bench:cluster placement: ${COUNT} torrents, 3 members, ${TICKS} ticks per line   [load ${load()}]`);
    await measure('empty library: coordinator full pass', counted, TICKS, () => placement.run({ full: true }));

    // The library, in batches of 1,000 rows per statement.
    for (let i = 0; i < COUNT; i += 1000) {
      const n = Math.min(1000, COUNT - i);
      const ihs = Array.from({ length: n }, (_, k) => hex(i + k));
      await store.run(
        `INSERT INTO torrents (info_hash, source_kind, magnet, save_path, status, length, added_at) VALUES ${ihs.map(() => "(?, 'magnet', ?, '/lib', 'seeding', 1048576, 1)").join(',')}`,
        ihs.flatMap((ih) => [ih, ih]),
      );
      const rows: SqlValue[] = [];
      for (const [k, ih] of ihs.entries()) {
        const holders = (i + k) % 3 === 0 ? members : [members[(i + k) % 3]!, members[((i + k) % 3 + 1) % 3]!];
        for (const m of holders) rows.push(ih, m.id, m.epoch);
      }
      await store.run(
        `INSERT INTO torrent_holders (info_hash, member_id, epoch, state, progress, updated_at, save_path) VALUES ${Array.from({ length: rows.length / 3 }, () => "(?, ?, ?, 'seeding', 1, 1, '/own')").join(',')}`,
        rows,
      );
    }
    await store.run('ANALYZE');
    const holderRows = Number((await store.get<{ n: number }>('SELECT count(*) AS n FROM torrent_holders'))!.n);
    console.log(`library: ${COUNT} torrents, ${holderRows} holder rows   [load ${load()}]`);

    await measure('reference: SELECT 1', counted, TICKS, () => counted.get('SELECT 1'));
    await measure('reference: SELECT count(*) FROM torrent_holders', counted, TICKS, () => counted.get('SELECT count(*) AS n FROM torrent_holders'));
    const full = await measure('coordinator full pass (whole library), nothing to place', counted, Math.min(TICKS, 10), () => placement.run({ full: true }));
    console.log(`  database time of its read: ${await dbTime(store, FULL_READ)}`);
    const tick = await measure('coordinator tick, nothing told (the 2 s renewal)', counted, TICKS, () => placement.run());
    let k = 0;
    await measure('coordinator tick, one torrent told (an add, a status)', counted, TICKS, () => {
      placement.soon([hex(k++ % COUNT)]);
      return placement.run();
    });
    await measure("a member's peer refresh, whole library (peersOf)", counted, Math.min(TICKS, 10), () => new HolderStore(counted).peersOf(b.id));
    await measure("a member's peer refresh, one torrent told", counted, TICKS, () => new HolderStore(counted).peersOf(b.id, [hex(k++ % COUNT)]));

    // A holder dies: its lease runs out, the coordinator declares it dead, the repair places its torrents.
    await store.run('UPDATE cluster_members SET lease_until = lease_until - 60000 WHERE id = ?', [b.id]);
    await a.tick();
    placed.length = 0;
    const [s0, r0, t0] = [counted.statements, counted.rows, performance.now()];
    const repair = await placement.run();
    console.log(`repair after a holder's death: ${repair?.placed.length} placements in ${(performance.now() - t0).toFixed(0)} ms, ${counted.statements - s0} statements, ${counted.rows - r0} rows   [load ${load()}]`);
    await measure('coordinator tick after the repair, nothing told', counted, TICKS, () => placement.run());
    console.log(`at ${COUNT} torrents: a full pass ${full.toFixed(2)} ms, a tick with nothing told ${tick.toFixed(2)} ms (p50)`);
    for (const m of members) m.abandon();
  } finally {
    await later.run();
  }
}

await main();
