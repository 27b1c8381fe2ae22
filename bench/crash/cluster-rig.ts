// The cluster crash harness's fixtures (issue 63, item 3: kills during cluster placement and repair):
// three `cascade serve` members on a throwaway PostgreSQL and redis-server (the cluster soak's way,
// bench/soak/cluster.ts), each on its own loopback address and its own state and download dirs, any
// of which is SIGKILLed and started again on the same dirs and port; libtorrent seeding the payloads
// at a capped rate (rig.ts). Everything it starts it stops, and its temp dir goes, also on exit.

import type { ChildProcess } from 'node:child_process';
import { appendFileSync, writeFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startPostgres, freePort } from '../../packages/node/test/postgres-server.ts';
import { startRedis } from '../../packages/tracker/test/helpers.ts';
import { apiJson, exited, startNode, type SoakNode } from '../soak/node.ts';
import { Rig } from './rig.ts';

export interface Member {
  name: string;
  host: string;
  httpPort: number;
  stateDir: string;
  downloadDir: string;
  logPath: string;
  /** The running process, once it serves (undefined while down or starting). */
  node: SoakNode | undefined;
  /** Its process from its spawn on: a kill may come during its start. */
  child: ChildProcess | undefined;
}

export class ClusterRig {
  readonly root = mkdtempSync(join(tmpdir(), 'cascade-crash-cluster-'));
  /** libtorrent and the payloads (its node part is not used). */
  readonly seeder: Rig;
  readonly members: Member[] = [];
  database = '';
  #redisUrl = '';
  #pg: pg.Client | undefined;
  /** Stops of PostgreSQL and Redis, last first. */
  readonly #later: (() => unknown)[] = [];

  constructor(rate: number) {
    this.seeder = new Rig({ rate, root: join(this.root, 'seeder') });
    process.once('exit', this.#exitCleanup);
  }

  readonly #exitCleanup = () => {
    for (const m of this.members) m.child?.kill('SIGKILL');
    // Stopped interrupted too (SIGINT): PostgreSQL's stop runs pg_ctl at once, Redis's signals it at
    // once (what either does after an await is lost at exit).
    for (let fn = this.#later.pop(); fn; fn = this.#later.pop()) {
      try {
        void Promise.resolve(fn()).catch(() => {});
      } catch {
        // already stopped
      }
    }
    if (!process.env.CRASH_KEEP) rmSync(this.root, { recursive: true, force: true });
  };

  /** A line in the run's ops.log (what was asked of whom, and answered, stamped). */
  trace(line: string): void {
    appendFileSync(join(this.root, 'ops.log'), `${new Date().toISOString()} ${line}\n`);
  }

  /** PostgreSQL, Redis, the seeder; the members, one after another (the first makes the schema and
   *  the cluster's API token). Returns the members' start times, ms. */
  async open(members = 3): Promise<number[]> {
    await this.seeder.startSeeder();
    const server = await startPostgres({ after: (fn) => void (fn && this.#later.push(fn as () => unknown)) });
    this.database = await server.database('crash');
    const redis = await startRedis();
    this.#later.push(() => redis.stop());
    this.#redisUrl = redis.url;
    for (let i = 0; i < members; i++) {
      const name = `m${i + 1}`;
      const host = `127.0.0.${i + 2}`;
      this.members.push({
        name, host, httpPort: await freePort(), stateDir: join(this.root, name, 'state'), downloadDir: join(this.root, name, 'downloads'),
        logPath: join(this.root, `${name}.log`), node: undefined, child: undefined,
      });
    }
    const times: number[] = [];
    for (const m of this.members) times.push(await this.start(m));
    this.#pg = new pg.Client({ connectionString: this.database });
    await this.#pg.connect();
    return times;
  }

  /** Starts the member on its dirs and port; resolves once it serves, with the time that took (ms). */
  async start(m: Member): Promise<number> {
    if (m.child) throw new Error(`${m.name} runs already: kill it first`);
    const t0 = performance.now();
    m.node = await startNode({
      host: m.host, httpPort: m.httpPort, stateDir: m.stateDir, downloadDir: m.downloadDir, logPath: m.logPath,
      extraArgs: ['--no-chain', '--database', this.database, '--redis', this.#redisUrl, '--cluster-url', `http://${m.host}:${m.httpPort}`],
      stampLog: true,
      onSpawn: (child) => {
        m.child = child;
        child.once('exit', () => m.child === child && (m.child = undefined));
      },
    }).catch((err: Error) => {
      throw new Error(`${m.name}: ${err.message}\n${readFileSync(m.logPath, 'utf8').trim().split('\n').slice(-10).join('\n')}`);
    });
    return performance.now() - t0;
  }

  /** SIGKILL, and its exit (a member starting or serving; nothing if down). */
  async kill(m: Member): Promise<void> {
    const child = m.child;
    m.node = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = exited(child);
    child.kill('SIGKILL');
    await gone;
    m.child = undefined;
  }

  live(): Member[] {
    return this.members.filter((m) => m.node);
  }

  /** A JSON request through a member, which must answer 2xx. */
  json<T = any>(m: Member, path: string, init: RequestInit = {}): Promise<T> {
    if (!m.node) return Promise.reject(new Error(`${m.name} is down`));
    return apiJson<T>(m.node, path, init);
  }

  memberOfUrl(url: string | null | undefined): Member | undefined {
    return this.members.find((m) => url && new URL(url).host === `${m.host}:${m.httpPort}`);
  }

  /** The holder and resume rows (and the members' ids) into `<root>/<name>.rows.txt`. */
  async dumpRows(name: string): Promise<void> {
    const rows = [
      ...(await this.sql('SELECT id, url FROM cluster_members ORDER BY url')).map((r) => JSON.stringify(r)),
      ...(await this.sql('SELECT info_hash, member_id, state, progress, save_path, move_to, move_error, epoch FROM torrent_holders ORDER BY info_hash, member_id')).map((r) => JSON.stringify(r)),
      ...(await this.sql('SELECT info_hash, member_id, length(have) AS have_bytes, info IS NOT NULL AS info FROM resume ORDER BY info_hash, member_id')).map((r) => `resume ${JSON.stringify(r)}`),
    ];
    // And every file in the members' download dirs (path, size, mtime, inode): where each copy's data is.
    const files = this.members.flatMap((m) => listFiles(m.downloadDir).map((f) => `file ${m.name} ${f}`));
    writeFileSync(join(this.root, `${name}.rows.txt`), `${new Date().toISOString()}\n${[...rows, ...files].join('\n')}\n`);
  }

  sql<R extends pg.QueryResultRow>(text: string): Promise<R[]> {
    return this.#pg!.query<R>(text).then((r) => r.rows);
  }

  async dispose(): Promise<void> {
    for (const m of this.members) await this.kill(m).catch(() => {});
    await this.#pg?.end().catch(() => {});
    await this.seeder.dispose();
    for (let fn = this.#later.pop(); fn; fn = this.#later.pop()) await Promise.resolve(fn()).catch(() => {});
    process.removeListener('exit', this.#exitCleanup);
    // CRASH_KEEP=1 keeps the members' logs, dirs and the churn's ops.log to read a finding with.
    if (process.env.CRASH_KEEP) console.log(`kept ${this.root}`);
    else rmSync(this.root, { recursive: true, force: true });
  }
}

/** Every file under `dir`: its path below it, size, mtime (ms) and inode. */
function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(d, n);
      const st = statSync(p, { throwIfNoEntry: false });
      if (st?.isDirectory()) walk(p);
      else if (st) out.push(`${p.slice(dir.length + 1)} ${st.size} ${st.mtimeMs.toFixed(1)} ${st.ino}`);
    }
  };
  walk(dir);
  return out;
}
