// Cluster members as real `cascade serve` processes for tests (issue 42): one real PostgreSQL and
// redis-server, each member on its own loopback address (cluster-members.ts), and the reads a
// user's script would do (a torrent's detail, its holders) through any member.
export { ltSeed } from './lt-seed.ts';
export { addTorrentFile, detail, holdersWhen, liveDone, sha256, share, type Holder, type Member } from './cluster-members.ts';
import assert from 'node:assert/strict';
import { startPostgres } from '../../node/test/state-engines.ts';
import { startRedis } from '../../tracker/test/helpers.ts';
import { memberStarter, type Member } from './cluster-members.ts';
import { tempDir } from './helpers.ts';

type T = Parameters<typeof tempDir>[0];

export interface TestCluster {
  /** Starts (or restarts, with the same name: its state dir) a member on `host`. */
  start(name: string, host: string, args?: string[]): Promise<Member>;
  database: string;
  root: string;
}

/** A PostgreSQL database and a redis-server for members to share, stopped after the test. */
export async function testCluster(t: T, name: string): Promise<TestCluster> {
  const pg = await startPostgres(t);
  const database = await pg.database(name);
  const redis = await startRedis();
  t.after(() => redis.stop());
  const root = tempDir(t);
  const starter = memberStarter(t, root, database, redis.url);
  return { start: (member, host, args = []) => starter(member, host, { args }), database, root };
}

/** PATCH /api/settings through `m`, insisting on 200. */
export async function setSettings(m: Member, patch: Record<string, unknown>): Promise<void> {
  const r = await m.node.api('/api/settings', { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify(patch) });
  assert.equal(r.status, 200, await r.text());
}

/** qBittorrent's Web API on `m`: a GET without `form`, else a POST of it. */
export function qb(m: Member, path: string, form?: Record<string, string>, sid?: string): Promise<Response> {
  const cookie: Record<string, string> = sid ? { cookie: `SID=${sid}` } : {};
  if (!form) return fetch(`${m.node.url}/api/v2/${path}`, { headers: cookie });
  return fetch(`${m.node.url}/api/v2/${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...cookie }, body: new URLSearchParams(form).toString() });
}

/** A qBittorrent session on `m` (its SID). */
export async function qbLogin(m: Member): Promise<string> {
  const sid = /SID=([^;]+)/.exec((await qb(m, 'auth/login', { username: 'admin', password: m.node.token })).headers.get('set-cookie') ?? '')?.[1];
  if (!sid) throw new Error(`no qBittorrent session on ${m.host}`);
  return sid;
}
