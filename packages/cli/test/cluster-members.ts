// A cluster's members as the cluster tests drive them: `cascade serve` processes on one real
// PostgreSQL and redis-server, each on its own loopback address, reached through their HTTP API.

import assert from 'node:assert/strict';
import type { TorrentHolder } from '@cascade/shapes';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../node/test/postgres-server.ts';
import { startServe, until, type ServeNode } from './node-process.ts';

type T = Parameters<typeof startServe>[0];

/** A torrent's holder as its detail lists it. */
export type Holder = TorrentHolder;

export interface Member {
  node: ServeNode;
  id: string;
  host: string;
  stateDir: string;
}

export const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

export async function detail(m: Member, ih: string): Promise<Record<string, any> | undefined> {
  const r = await m.node.api(`/api/torrents/${ih}`);
  return r.status === 200 ? ((await r.json()) as Record<string, any>) : undefined;
}

/** Shares `bytes` as a file named `name` through `m` (the web app's upload); `fields`: add options. */
export async function share(m: Member, name: string, bytes: Uint8Array, fields: Record<string, string> = {}): Promise<string> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('files', new Blob([new Uint8Array(bytes)]), name);
  const r = await m.node.api('/api/torrents', { method: 'POST', body: form });
  const body = (await r.json()) as { infoHash: string };
  assert.equal(r.status, 201, JSON.stringify(body));
  return body.infoHash;
}

/** The holders through `m` once `ok` says they are as wanted. */
/** Adds a .torrent file through `m`, as a user adds one again (multipart, as the web app and *arr
 *  clients do): its infohash and the answer's status (201 added, 200 known). */
export async function addTorrentFile(m: Member, torrent: Uint8Array): Promise<{ infoHash: string; status: number }> {
  const form = new FormData();
  form.append('torrent', new Blob([new Uint8Array(torrent)], { type: 'application/x-bittorrent' }), 'again.torrent');
  const r = await m.node.api('/api/torrents', { method: 'POST', body: form });
  const body = (await r.json()) as { infoHash: string };
  assert.ok(r.status === 201 || r.status === 200, `${r.status} ${JSON.stringify(body)}`);
  return { infoHash: body.infoHash, status: r.status };
}

export function holdersWhen(m: Member, ih: string, what: string, ok: (h: Holder[]) => boolean, ms = 90_000): Promise<Holder[]> {
  return until(what, async () => {
    const h = (await detail(m, ih))?.holders as Holder[] | undefined;
    return h && ok(h) ? h : undefined;
  }, ms);
}

export const liveDone = (h: Holder[]) => h.filter((x) => x.alive && x.progress === 1);

/** Starts members of the cluster on `database` and `redis`, state dirs under `root`: member
 *  `name` on `host` (HTTP on a free port, BitTorrent and its --cluster-url), with `args` and `wrap` as startServe's;
 *  `database`: its own URL of the same database (another address of the server). */
export function memberStarter(t: T, root: string, database: string, redis: string) {
  return async (name: string, host: string, o: { args?: string[]; wrap?: string[]; database?: string } = {}): Promise<Member> => {
    const stateDir = join(root, name);
    // Its --cluster-url is where it listens: the others stream from it there.
    const port = await freePort();
    const node = await startServe(t, {
      stateDir,
      args: ['--no-chain', '--database', o.database ?? database, '--redis', redis, '--http-port', String(port), '--cluster-url', `http://${host}:${port}`, '--host', host, ...(o.args ?? [])],
      ...(o.wrap ? { wrap: o.wrap } : {}),
    });
    return { node, id: node.events.find((e) => e.event === 'serving')!.cluster.id as string, host, stateDir };
  };
}
