// The soak on a cluster (issue 63 item 1's "3-member cluster variant"): three `cascade serve`
// members sharing a throwaway PostgreSQL and redis-server the soak starts itself (the cluster tests'
// own helpers: packages/node/test/postgres-server.ts, packages/tracker/test/helpers.ts), each member on
// its own loopback address (127.0.0.2-4: HTTP, tracker and BitTorrent listeners, --cluster-url), under
// the single node's timeline (timeline.ts) and churn (soak.ts's `workLoops`), spread over the members:
//   - the churn, the RSS feed, the feed and chat clients go to the next member each request (a
//     round-robin balancer in the client, as haproxy in front of deploy/compose.cluster.yaml);
//   - each member has its own API pollers (qBittorrent and Transmission) and its own real peers
//     (libtorrent and a second Cascade transfer with the member that added their torrents);
//   - no reward claims: members run without the embedded chain (--no-chain, as the cluster tests).
// Every sample measures each member as the single node's (sample.ts) under `m1:`…`m3:`, PostgreSQL
// under `pg:` and Redis under `redis:` (stores.ts); the report's rules are the single node's.
// Everything it starts it stops (members, peers, PostgreSQL, Redis), and its temp dirs go, also when
// it fails or is interrupted.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres, freePort } from '../../packages/node/test/postgres-server.ts';
import { startRedis } from '../../packages/tracker/test/helpers.ts';
import { startNode, type SoakNode } from './node.ts';
import { sampleNode, type Sample } from './sample.ts';
import { setActiveCleanup, SoakRun, type SoakOptions, type SoakResult } from './soak.ts';
import { StoreSampler } from './stores.ts';
import { Timeline } from './timeline.ts';

export const MEMBERS = ['m1', 'm2', 'm3'];
/** A member's SQLite measures (sample.ts): zero on a member, whose state is in PostgreSQL. */
const SQLITE_KEYS = new Set(['db_mb', 'wal_mb', 'chat_db_mb']);

/** One SoakNode whose `url` is the next member's at each use: the clients' balancer. Everything
 *  else (the token is the cluster's, the same on all) is the first member's; the CLI runs there. */
export function roundRobin(members: SoakNode[]): SoakNode {
  let next = 0;
  return {
    ...members[0]!,
    get url() {
      return members[next++ % members.length]!.url;
    },
  };
}

/** Each member's measures under its name, measure by measure (m1:rss_mb, m2:rss_mb, …), then the stores'. */
export async function sampleCluster(members: SoakNode[], stores: StoreSampler, t: number, phase: string): Promise<Sample> {
  const [each, pgv, redis] = await Promise.all([Promise.all(members.map((m) => sampleNode(m, t, phase))), stores.postgres(), stores.redis()]);
  const values: Record<string, number> = {};
  const keys = [...new Set(each.flatMap((s) => Object.keys(s.values)))].filter((k) => !SQLITE_KEYS.has(k));
  for (const key of keys) each.forEach((s, i) => (values[`${MEMBERS[i]}:${key}`] = s.values[key] ?? NaN));
  for (const [k, v] of Object.entries(pgv)) values[`pg:${k}`] = v;
  for (const [k, v] of Object.entries(redis)) values[`redis:${k}`] = v;
  return { t, phase, values };
}

export async function runClusterSoak(o: SoakOptions): Promise<SoakResult> {
  const log = o.log ?? (() => {});
  const root = mkdtempSync(join(tmpdir(), 'cascade-soak-cluster-'));
  const members: SoakNode[] = [];
  let stores: StoreSampler | undefined;
  const tl = new Timeline(o, (t, phase) => sampleCluster(members, stores!, t, phase));
  // PostgreSQL's and Redis's stops, run last-registered first once the members are gone.
  const later: (() => unknown)[] = [];
  const run = new SoakRun(o, root, tl);
  // One cleanup, awaited by every caller (as soak.ts's: a Ctrl-C during the fill).
  let cleaning: Promise<void> | undefined;
  const cleanup = () => (cleaning ??= (async () => {
    await stores?.close();
    await run.stop();
    for (let fn = later.pop(); fn; fn = later.pop()) {
      try {
        await fn();
      } catch (err) {
        console.error(`cleanup: ${(err as Error).message}`);
      }
    }
    rmSync(root, { recursive: true, force: true });
  })());
  setActiveCleanup(cleanup);
  try {
    const pg = await startPostgres({ after: (fn) => void (fn && later.push(fn as () => unknown)) });
    const database = await pg.database('soak');
    const redis = await startRedis();
    later.push(() => redis.stop());
    // One at a time: the first makes the schema and the cluster's API token, the others find them.
    for (const [i, name] of MEMBERS.entries()) {
      const host = `127.0.0.${i + 2}`;
      const httpPort = await freePort();
      const logPath = join(root, `${name}.log`);
      const m = await startNode({
        host, httpPort, stateDir: join(root, name, 'state'), downloadDir: join(root, name, 'downloads'), logPath, dhtBootstrap: `${host}:9`,
        extraArgs: ['--no-chain', '--database', database, '--redis', redis.url, '--cluster-url', `http://${host}:${httpPort}`],
      }).catch((err: Error) => {
        // Its log goes with the temp dir: what it said is in the error.
        throw new Error(`${err.message}\n${readFileSync(logPath, 'utf8').trim().split('\n').slice(-15).join('\n')}`);
      });
      members.push(m);
      log(`member ${name} ${m.url} (pid ${m.pid})`);
    }
    stores = await StoreSampler.open(database, redis.url);
    log(`PostgreSQL ${database.replace(/\/\/[^@]*@/, '//')}, Redis ${redis.url}`);

    await run.prepare(roundRobin(members), members, members, { movesPerMember: true });
    return await run.finish();
  } finally {
    await cleanup();
    setActiveCleanup(undefined);
  }
}
