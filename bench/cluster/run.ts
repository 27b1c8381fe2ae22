// bench:cluster (issue 42 item 8): a three-member cluster on PostgreSQL and Redis behind haproxy,
// against one node on SQLite and one on PostgreSQL, in the same run, all on loopback.
//
//   npm run bench:cluster [-- --count 10000] [--concurrency 8] [--list-requests 50]
//                            [--data-files 4] [--data-mib 64] [--client-mbps R] [--quick]
//
//   1. add rate: --count metadata-only torrents added as .torrent uploads, --concurrency in flight,
//      to the SQLite node, the PostgreSQL node, and the cluster through haproxy;
//   2. list page: GET of the first 100 by name (the web UI's default order), --list-requests times;
//   3. failover: --data-files files of --data-mib MiB shared through haproxy and replicated, the
//      member holding most of them killed with SIGKILL; seconds until every torrent is back at
//      `replicas` live holders, and the copy's rate;
//   4. a libtorrent client downloading one of them from its two holders while one is killed.
// 3 and 4 need placement (a torrent's detail lists its holders); a tree without it says so.
// --quick: 500 torrents, one 16 MiB file, 20 list requests. Every figure carries the load average.
// As root it runs in its own loopback-only network namespace (bench/scale/netns.ts).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { rerunInLoopbackNamespace } from '../scale/netns.ts';
import { loadAverage } from '../scale/proc.ts';
import { Cleanups, startCluster, startServices, startSingle, type BenchNode } from './infra.ts';
import { getJson, measureAdds, measureList, metadataOnlyTorrents, waitListed, type AddFigures, type ListFigures, type Target } from './measure.ts';
import { holdersOf, killAndRepair, memberIds, shareFiles, waitReplicated } from './failover.ts';
import { downloadThroughKill } from './client.ts';

const { values: argv } = parseArgs({
  options: {
    count: { type: 'string' },
    concurrency: { type: 'string', default: '8' },
    'list-requests': { type: 'string' },
    'data-files': { type: 'string' },
    'data-mib': { type: 'string' },
    /** The libtorrent client's cap, MB/s; default: the file in about 20 s. */
    'client-mbps': { type: 'string' },
    quick: { type: 'boolean', default: false },
  },
});
const num = (v: string | undefined, dflt: number, name: string): number => {
  const n = v === undefined ? dflt : Number(v);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--${name} wants a positive whole number, not ${v}`);
    process.exit(2);
  }
  return n;
};
const COUNT = num(argv.count, argv.quick ? 500 : 10_000, 'count');
const CONCURRENCY = num(argv.concurrency, 8, 'concurrency');
const LIST_REQUESTS = num(argv['list-requests'], argv.quick ? 20 : 50, 'list-requests');
const DATA_FILES = num(argv['data-files'], argv.quick ? 1 : 4, 'data-files');
const DATA_MIB = num(argv['data-mib'], argv.quick ? 16 : 64, 'data-mib');
const DATA_BYTES = DATA_MIB * 1024 * 1024;
const CLIENT_RATE = argv['client-mbps'] !== undefined ? Number(argv['client-mbps']) * 1e6 : DATA_BYTES / 20;

await rerunInLoopbackNamespace({
  envVar: 'CASCADE_BENCH_CLUSTER_NETNS',
  prefix: 'cascade-bench-cluster',
  script: import.meta.filename,
  fallback: 'could not make a network namespace: running on this host\'s loopback',
});

// After Ctrl-C the nodes are going away under the requests still in flight: what fails then is no figure.
const say = (line: string) => void (stopping || console.log(`${line}   [load ${loadAverage()}]`));
const later = new Cleanups();
const root = mkdtempSync(join(tmpdir(), 'cascade-bench-cluster-'));
later.after(() => rmSync(root, { recursive: true, force: true }));
let stopping = false;
let stopped = false;
const stopAll = async (code: number) => {
  if (stopped) return;
  stopped = true;
  await later.run();
  process.exit(code);
};
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (!stopping) console.log(`${sig}: stopping every process and removing ${root}`);
    stopping = later.stopping = true;
    void stopAll(130);
  });
}

interface Row {
  name: string;
  add: AddFigures;
  list: ListFigures;
  load: string;
}
const rows: Row[] = [];
const fmt = (n: number, d = 0) => n.toFixed(d);

async function library(name: string, target: Target, nodes: BenchNode[], torrents: Uint8Array[]): Promise<void> {
  const add = await measureAdds(target, torrents, CONCURRENCY);
  say(`${name}: ${add.n} adds in ${fmt(add.seconds, 1)} s = ${fmt(add.perSecond)}/s (per tenth ${add.perTenth.map((r) => fmt(r)).join(' ')}; each add median ${fmt(add.medianMs, 1)} ms, p95 ${fmt(add.p95Ms, 1)} ms)${add.failed ? `; ${add.failed} FAILED, first: ${add.firstFailure}` : ''}`);
  if (add.failed && !stopping) for (const n of nodes) if (n.errors() !== '') console.log(`  ${n.name}'s last errors:\n${n.errors().replace(/^/gm, '    ')}`);
  const listedOn = nodes.filter((n) => n.run.child.exitCode === null && n.run.child.signalCode === null);
  for (const t of listedOn) {
    const waited = await waitListed(t, add.n - add.failed);
    if (waited > 0.5) say(`${name}: ${t.url} listed every add ${fmt(waited, 1)} s after the last`);
  }
  const list = await measureList(target, LIST_REQUESTS);
  say(`${name}: first page of 100 by name: median ${fmt(list.medianMs, 1)} ms, p95 ${fmt(list.p95Ms, 1)} ms over ${list.requests} (total ${list.total}, ${fmt(list.bytes / 1024)} KiB)`);
  rows.push({ name, add, list, load: loadAverage() });
}

async function main(): Promise<void> {
  say(`bench:cluster: ${COUNT} torrents, ${CONCURRENCY} adds in flight, ${LIST_REQUESTS} list requests, ${DATA_FILES} × ${DATA_MIB} MiB for failover; in ${root}`);
  const torrents = metadataOnlyTorrents(COUNT, 'cluster');
  const services = await startServices(later);

  const sqlite = await startSingle(later, root, 'single-sqlite');
  await library('single node, SQLite', sqlite, [sqlite], torrents);
  await sqlite.stop();
  const pg = await startSingle(later, root, 'single-postgres', await services.database('single'));
  await library('single node, PostgreSQL', pg, [pg], torrents);
  await pg.stop();

  const cluster = await startCluster(later, root, services);
  say(`cluster: ${cluster.members.map((m) => `${m.name} ${m.url}`).join(', ')}; haproxy ${cluster.url}`);
  await library('cluster of 3 through haproxy', cluster, cluster.members, torrents);
  // The same page from one member directly: what of the cluster's figure is the balancer's.
  const direct = await measureList(cluster.members[0]!, LIST_REQUESTS);
  say(`cluster, ${cluster.members[0]!.name} directly: first page of 100 by name: median ${fmt(direct.medianMs, 1)} ms, p95 ${fmt(direct.p95Ms, 1)} ms over ${direct.requests}`);

  printSummary();
  await failover(cluster);
}

function printSummary(): void {
  const [ref] = rows;
  console.log('\n                               adds/s   vs SQLite   list p50 ms   list p95 ms   vs SQLite (p50)   load');
  for (const r of rows) {
    console.log(`${r.name.padEnd(30)} ${fmt(r.add.perSecond).padStart(6)}   ${fmt(r.add.perSecond / ref!.add.perSecond, 2).padStart(8)}×   ${fmt(r.list.medianMs, 1).padStart(11)}   ${fmt(r.list.p95Ms, 1).padStart(11)}   ${fmt(r.list.medianMs / ref!.list.medianMs, 2).padStart(14)}×   ${r.load}`);
  }
  const [, pgRow, clusterRow] = rows;
  if (pgRow && clusterRow) console.log(`cluster vs single PostgreSQL: adds ${fmt(clusterRow.add.perSecond / pgRow.add.perSecond, 2)}×, list p50 ${fmt(clusterRow.list.medianMs / pgRow.list.medianMs, 2)}×\n`);
}

async function failover(cluster: Awaited<ReturnType<typeof startCluster>>): Promise<void> {
  const library = (await getJson<{ torrents: { infoHash: string }[] }>(cluster, '/api/torrents')).torrents.map((t) => t.infoHash);
  if (library.length === 0 || (await holdersOf(cluster, library[0]!)) === undefined) {
    say('failover: not measured (this tree has no placement)');
    say('client through a kill: not measured (this tree has no placement)');
    return;
  }
  let data: string[];
  try {
    const t0 = performance.now();
    data = await shareFiles(cluster, root, DATA_FILES, DATA_MIB);
    say(`failover: ${DATA_FILES} × ${DATA_MIB} MiB shared through haproxy in ${fmt((performance.now() - t0) / 1000, 1)} s`);
    const placed = await waitReplicated(cluster, data, 600_000);
    say(`failover: replicated to every holder ${fmt(placed.seconds, 1)} s after the last share (${fmt((DATA_FILES * DATA_BYTES) / 1e6 / placed.seconds, 1)} MB/s of second copies, upper bound)`);
    const f = await killAndRepair(cluster, library.filter((ih) => !data.includes(ih)), data, DATA_BYTES, 600_000);
    const s = (v: number | null) => (v === null ? 'never (within 10 min)' : `${fmt(v, 1)} s`);
    say(`failover: kill -9 of ${f.victim} (holder of ${f.affected} torrents): declared dead after ${s(f.declaredDead)}; every torrent at replicas live holders after ${s(f.allPlaced)}${f.short ? ` (${f.short} still short)` : ''}`);
    say(`failover: data torrents complete on replicas live holders after ${s(f.dataRepaired)}; first new byte after ${s(f.copyStarted)}; ${fmt(f.copyBytes / 1e6)} MB copied, ${f.copyMBps === null ? 'rate -' : `at least ${fmt(f.copyMBps, 1)} MB/s`}`);
  } catch (err) {
    say(`failover: FAILED: ${(err as Error).message}`);
    return;
  }
  try {
    const ids = await memberIds(cluster);
    const hs = ((await holdersOf(cluster, data[0]!)) ?? []).map((h) => ids.get(h.member)).filter((m): m is BenchNode => m !== undefined && m.run.child.exitCode === null && m.run.child.signalCode === null);
    if (hs.length < 2) throw new Error(`${data[0]} has ${hs.length} live holders, not two`);
    const c = await downloadThroughKill(later, cluster, root, data[0]!, [hs[0]!, hs[1]!], DATA_BYTES, CLIENT_RATE);
    say(`client through a kill: libtorrent capped at ${fmt(CLIENT_RATE / 1e6, 1)} MB/s from ${c.killed} and ${c.left}; ${c.killed} killed at ${fmt(c.atKill * 100)}%; completed ${fmt(c.seconds, 1)} s after its first byte`);
    say(`client through a kill: longest stall after the kill ${fmt(c.stallAfterKill, 2)} s (whole download ${fmt(c.stallOverall, 2)} s, sampled every 0.1 s); ${fmt(c.rateBefore, 2)} MB/s before, ${fmt(c.rateAfter, 2)} MB/s after`);
  } catch (err) {
    say(`client through a kill: FAILED: ${(err as Error).message}`);
  }
}

try {
  await main();
  await stopAll(0);
} catch (err) {
  if (!stopping) console.error(`bench:cluster failed: ${(err as Error).stack ?? err}`);
  await stopAll(1);
}
