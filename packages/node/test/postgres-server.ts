// A throwaway PostgreSQL server for a test: Debian's binaries (/usr/lib/postgresql/<version>/bin),
// a cluster made by initdb in a temp dir, listening on 127.0.0.1 at a free port, stopped and
// deleted when the test ends. PostgreSQL refuses to run as root, so as root it runs as the
// `postgres` user the Debian package creates, on a directory that user owns.

import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { TestContext } from 'node:test';

/** The newest installed version's bin directory, or undefined. */
export function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

function asOwner(cmd: string, args: string[]): { status: number | null; output: string } {
  const root = process.getuid?.() === 0;
  const r = spawnSync(root ? 'runuser' : cmd, root ? ['-u', 'postgres', '--', cmd, ...args] : args, { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

/**
 * A fresh cluster's files at `data`, copied from one initdb made once per machine and version
 * (initdb costs a second of CPU; a copy a tenth of that, and the suite starts dozens of servers).
 * The template is made beside its final name and renamed into place, so test files starting
 * servers at the same moment never copy a half-made one.
 */
function copyTemplate(bin: string, data: string): void {
  const template = join(tmpdir(), `cascade-pg-template-${basename(dirname(bin))}-${process.getuid?.() ?? 'user'}`);
  if (!existsSync(join(template, 'PG_VERSION'))) {
    const making = mkdtempSync(`${template}-making-`);
    if (process.getuid?.() === 0) chownSync(making, ...postgresOwner());
    const init = asOwner(join(bin, 'initdb'), ['-D', join(making, 'data'), '-U', 'cascade', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
    if (init.status !== 0) throw new Error(`initdb failed: ${init.output}`);
    try {
      renameSync(join(making, 'data'), template);
    } catch {
      // Another file made it first: theirs is as good.
    }
    rmSync(making, { recursive: true, force: true });
  }
  const copy = spawnSync('cp', ['-a', template, data], { encoding: 'utf8' });
  if (copy.status !== 0) throw new Error(`cannot copy the PostgreSQL template ${template}: ${copy.stderr}`);
}

function postgresOwner(): [number, number] {
  return [Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim()), Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim())];
}

/**
 * Starts a server; resolves to a URL of its `postgres` database for the superuser `cascade`. With a
 * password, the server asks for it (scram-sha-256, as the official image does) and the URLs carry it.
 * `t` is a test's context, or anything with `after` (bench/cluster stops it with its own cleanups).
 */
export interface TestPostgres {
  url: string;
  database: (name: string) => Promise<string>;
  /** Stops the server as a crash would (`pg_ctl stop -m immediate`): connections cut, nothing flushed. */
  stop: () => void;
  /** Starts it again, on the same port and data; resolves once it takes connections. */
  start: () => void;
}

/** durable: commits are flushed before they are acknowledged (fsync and synchronous_commit on, as in
 *  production), for tests that crash the server and count what survived; else off, for speed.
 *  also: more addresses it listens on besides 127.0.0.1 (a test that cuts one client off by
 *  address, inside a network namespace of its own, gives each client its own). */
export async function startPostgres(t: Pick<TestContext, 'after'>, opts: { password?: string; durable?: boolean; also?: string[] } = {}): Promise<TestPostgres> {
  const bin = postgresBin();
  if (!bin) throw new Error('PostgreSQL is not installed (Debian: apt-get install postgresql; npm test installs it as root)');
  const dir = mkdtempSync(join(tmpdir(), 'cascade-pg-'));
  if (process.getuid?.() === 0) chownSync(dir, ...postgresOwner());
  const data = join(dir, 'data');
  const auth = ['-A', 'trust'];
  if (opts.password !== undefined) {
    const pwfile = join(dir, 'pwfile');
    writeFileSync(pwfile, `${opts.password}\n`, { mode: 0o644 });
    auth.splice(0, 2, '-A', 'scram-sha-256', `--pwfile=${pwfile}`);
  }
  if (opts.password === undefined) copyTemplate(bin, data);
  else {
    const init = asOwner(join(bin, 'initdb'), ['-D', data, '-U', 'cascade', ...auth, '--no-sync', '-E', 'UTF8']);
    if (init.status !== 0) throw new Error(`initdb failed: ${init.output}`);
  }
  const port = await freePort();
  // fsync off: a test's cluster is thrown away; unix sockets in the temp dir, not /var/run.
  const serverOpts = `-h ${['127.0.0.1', ...(opts.also ?? [])].join(',')} -p ${port} -k ${dir}${opts.durable ? '' : ' -c fsync=off -c full_page_writes=off -c synchronous_commit=off'}`;
  const startServer = () => {
    const start = asOwner(join(bin, 'pg_ctl'), ['-D', data, '-o', serverOpts, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
    if (start.status !== 0) throw new Error(`pg_ctl start failed: ${start.output}`);
  };
  const stopServer = () => {
    const stop = asOwner(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
    if (stop.status !== 0) throw new Error(`pg_ctl stop failed: ${stop.output}`);
  };
  startServer();
  t.after(() => {
    asOwner(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']);
    rmSync(dir, { recursive: true, force: true });
  });
  const user = opts.password === undefined ? 'cascade' : `cascade:${encodeURIComponent(opts.password)}`;
  const url = `postgres://${user}@127.0.0.1:${port}/postgres`;
  return {
    url,
    stop: stopServer,
    start: startServer,
    /** A new empty database on this server: one per case, so cases do not see each other's rows. */
    database: async (name: string) => {
      const pg = (await import('pg')).default;
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${name.replace(/"/g, '')}"`);
      } finally {
        await client.end();
      }
      return `postgres://${user}@127.0.0.1:${port}/${encodeURIComponent(name)}`;
    },
  };
}

/** One statement on `url` on a connection of its own (tests of other packages that read or write
 *  a cluster's rows, without a driver of their own); its rows and how many it changed. */
export async function sqlOnce<R extends Record<string, unknown>>(url: string, text: string, params: unknown[] = []): Promise<{ rows: R[]; changed: number }> {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    const r = await client.query(text, params);
    return { rows: r.rows as R[], changed: r.rowCount ?? 0 };
  } finally {
    await client.end().catch(() => {});
  }
}

/** Takes the row locks `lockSql` takes (a SELECT ... FOR UPDATE) in a transaction of its own
 *  connection and holds them until the returned function is called: writers of those rows wait. */
export async function holdRowLocks(url: string, lockSql: string, params: unknown[] = []): Promise<() => Promise<void>> {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  await client.query('BEGIN');
  await client.query(lockSql, params);
  return async () => {
    await client.query('COMMIT').catch(() => {});
    await client.end().catch(() => {});
  };
}
