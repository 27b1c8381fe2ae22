// Cluster members as real `cascade serve` processes for tests (issue 42): one real PostgreSQL and
// redis-server, each member on its own loopback address, and the reads a user's script would do
// (a torrent's detail, its holders) through any member.
export { ltSeed } from './lt-seed.ts';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startPostgres } from '../../node/test/state-engines.ts';
import { startRedis } from '../../tracker/test/helpers.ts';
import { startServe, until, type ServeNode } from './node-process.ts';
import { tempDir } from './helpers.ts';

type T = Parameters<typeof tempDir>[0];

export interface Holder {
  member: string;
  progress: number;
  state: string;
  alive: boolean;
  url: string | null;
}

export interface Member {
  node: ServeNode;
  id: string;
  host: string;
  stateDir: string;
}

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
  const start = async (member: string, host: string, args: string[] = []): Promise<Member> => {
    const stateDir = join(root, member);
    const node = await startServe(t, {
      stateDir,
      args: ['--no-chain', '--database', database, '--redis', redis.url, '--cluster-url', `http://${host}:18100`, '--host', host, ...args],
    });
    return { node, id: node.events.find((e) => e.event === 'serving')!.cluster.id as string, host, stateDir };
  };
  return { start, database, root };
}

export async function detail(m: Member, ih: string): Promise<Record<string, any> | undefined> {
  const r = await m.node.api(`/api/torrents/${ih}`);
  return r.status === 200 ? ((await r.json()) as Record<string, any>) : undefined;
}

/** PATCH /api/settings through `m`, insisting on 200. */
export async function setSettings(m: Member, patch: Record<string, unknown>): Promise<void> {
  const r = await m.node.api('/api/settings', { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify(patch) });
  assert.equal(r.status, 200, await r.text());
}

/** The holders through `m` once `ok` says they are as wanted. */
export function holdersWhen(m: Member, ih: string, what: string, ok: (h: Holder[]) => boolean, ms = 90_000): Promise<Holder[]> {
  return until(what, async () => {
    const h = (await detail(m, ih))?.holders as Holder[] | undefined;
    return h && ok(h) ? h : undefined;
  }, ms);
}

export const liveDone = (h: Holder[]) => h.filter((x) => x.alive && x.progress === 1);

/** Shares `bytes` as a file named `name` through `m` (multipart upload); its infohash. */
export async function share(m: Member, name: string, bytes: Uint8Array): Promise<string> {
  const form = new FormData();
  form.append('files', new Blob([new Uint8Array(bytes)]), name);
  const r = await m.node.api('/api/torrents', { method: 'POST', body: form });
  const body = (await r.json()) as { infoHash: string };
  assert.equal(r.status, 201, JSON.stringify(body));
  return body.infoHash;
}
