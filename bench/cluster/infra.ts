// What bench:cluster runs, all on loopback and all stopped by `Cleanups`: a throwaway PostgreSQL
// (Debian's initdb/pg_ctl, packages/node/test/postgres-server.ts), redis-server
// (packages/tracker/test/helpers.ts), nodes started the way the image starts them
// (deploy/entrypoint.sh with the Compose command lines, test/deploy/deploy-helpers.ts), members
// each on its own 127.0.0.x, and Debian's haproxy on the repository's config with only the server
// addresses and the bind moved (test/deploy/haproxy-helpers.ts). The deployment test runs the same.

import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { localMember, localServe, readCompose, runEntrypoint, type Running } from '../../test/deploy/deploy-helpers.ts';
import { runHaproxy, type RunningHaproxy } from '../../test/deploy/haproxy-helpers.ts';
import { startPostgres } from '../../packages/node/test/postgres-server.ts';
import { startRedis } from '../../packages/tracker/test/helpers.ts';
import { freePort } from '../scale/proc.ts';

/** Stops run last-registered first: processes before the directories they write to. Run once on
 *  the normal end, a failure or a signal (run.ts). */
export class Cleanups {
  private fns: (() => unknown)[] = [];
  /** Set on Ctrl-C (run.ts) and when the cleanups start: processes ending then are expected to. */
  stopping = false;
  after(fn: () => unknown): void {
    this.fns.push(fn);
  }
  async run(): Promise<void> {
    this.stopping = true;
    for (let fn = this.fns.pop(); fn !== undefined; fn = this.fns.pop()) {
      try {
        await fn();
      } catch (err) {
        console.error(`cleanup: ${(err as Error).message}`);
      }
    }
  }
}

/** A `cascade serve` the benchmark started: its API base URL, token, BitTorrent address. */
export interface BenchNode {
  name: string;
  url: string;
  token: string;
  /** host:port of its BitTorrent listener. */
  bt: string;
  stateDir: string;
  downloadDir: string;
  run: Running;
  /** The last `n` lines of its output that mention an error. */
  errors(n?: number): string;
  /** SIGTERM, SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  kill9(): Promise<void>;
}

// A benchmark's nodes ask no gateway for a port and multicast nothing onto a LAN (as bench/add and
// bench/scale); no embedded chain (anvil) beside each: the same for every configuration measured.
const ENV = { CASCADE_PORT_MAPPING: 'off', CASCADE_LSD: 'off' };
const EXTRA = ['--no-chain'];

async function startNode(later: Cleanups, name: string, root: string, args: (downloadDir: string) => string[], env: Record<string, string> = {}): Promise<BenchNode> {
  const stateDir = join(root, name, 'data');
  const downloadDir = join(root, name, 'downloads');
  mkdirSync(downloadDir, { recursive: true });
  const run = await runEntrypoint([...args(downloadDir), ...EXTRA], { env: { ...ENV, CASCADE_HOME: stateDir, ...env } });
  // Its --json lines (errors included) after `listening`, kept for `logTail`.
  let out = '';
  run.child.stdout!.on('data', (d) => (out = (out + String(d)).slice(-200_000)));
  let expected = false;
  const gone = new Promise<void>((r) => (run.child.exitCode !== null || run.child.signalCode !== null ? r() : run.child.once('exit', () => r())));
  void gone.then(() => {
    if (!expected && !later.stopping) console.error(`${name} exited by itself (${run.child.exitCode ?? run.child.signalCode}):\n${logTail(out + run.stderr(), 30)}`);
  });
  const stop = async (graceMs = 30_000) => {
    expected = true;
    if (run.child.exitCode !== null || run.child.signalCode !== null) return;
    run.child.kill('SIGTERM');
    const timer = setTimeout(() => run.child.kill('SIGKILL'), graceMs);
    await gone;
    clearTimeout(timer);
  };
  later.after(() => stop());
  const host = new URL(run.listening.url as string).hostname;
  return {
    name,
    url: run.listening.url as string,
    token: readFileSync(join(stateDir, 'api-token'), 'utf8').trim(),
    bt: `${host}:${run.listening.bittorrentPort}`,
    stateDir,
    downloadDir,
    run,
    stop,
    errors: (n = 10) => logTail(out + run.stderr(), n, /error|fail|exception/i),
    async kill9() {
      expected = true;
      run.child.kill('SIGKILL');
      await gone;
    },
  };
}

/** The last `n` lines of a log (those matching `only`, if given). */
export function logTail(log: string, n: number, only?: RegExp): string {
  return log.split('\n').filter((l) => l.trim() !== '' && (!only || only.test(l))).slice(-n).map((l) => l.slice(0, 600)).join('\n');
}

export interface Services {
  /** A new empty database on the throwaway server, as a URL. */
  database(name: string): Promise<string>;
  redis: string;
}

export async function startServices(later: Cleanups): Promise<Services> {
  const pg = await startPostgres(later);
  const redis = await startRedis();
  later.after(() => redis.stop());
  return { database: pg.database, redis: redis.url };
}

/** deploy/compose.yaml's single node, on SQLite or (with `database`) PostgreSQL, on 127.0.0.1. */
export async function startSingle(later: Cleanups, root: string, name: string, database?: string): Promise<BenchNode> {
  const command = readCompose().services.node.command as string[];
  return startNode(later, name, root, (dl) => [...localServe(command, dl), ...(database ? ['--database', database] : [])]);
}

export interface Cluster {
  members: BenchNode[];
  haproxy: RunningHaproxy;
  /** haproxy's frontend, where clients go. */
  url: string;
  /** The cluster's API token (PostgreSQL's, the same on every member). */
  token: string;
}

/**
 * deploy/compose.cluster.yaml's members on a new database of `db` and its Redis, member i on 127.0.0.(i+2) (its
 * HTTP, tracker and BitTorrent listeners, and its --cluster-url), then haproxy in front of them on
 * 127.0.0.1, waited for until it sees every member UP in both backends.
 */
export async function startCluster(later: Cleanups, root: string, db: Services): Promise<Cluster> {
  const services = readCompose('compose.cluster.yaml').services as Record<string, any>;
  // The Compose database's name: the members' --database names it (localMember moves only its host).
  const database = await db.database(services.postgres.environment.POSTGRES_DB);
  const redis = db.redis;
  const names = Object.keys(services).filter((s) => services[s]!.command?.[0] === 'serve');
  // One at a time: the first creates the schema and the API token, the others find them.
  const members: BenchNode[] = [];
  for (const [i, name] of names.entries()) {
    const host = `127.0.0.${i + 2}`;
    const httpPort = await freePort();
    members.push(await startNode(later, name, root, (dl) => localMember(services[name]!.command, dl, { httpPort, database, redis, trustedProxy: '127.0.0.1', host })));
  }
  const [front, stats] = [await freePort(), await freePort()];
  const at = Object.fromEntries(members.map((m) => [m.name, new URL(m.url).host]));
  const haproxy = await runHaproxy(root, at, `127.0.0.1:${front}`, stats);
  later.after(() => haproxy.stop());
  const deadline = Date.now() + 90_000;
  for (;;) {
    const status = await haproxy.status();
    if (Object.values(status).filter((s) => s === 'UP').length === 2 * members.length) break;
    if (Date.now() > deadline) throw new Error(`haproxy never saw every member UP: ${JSON.stringify(status)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return { members, haproxy, url: haproxy.url, token: members[0]!.token };
}
