// bench:cluster's failover figures (issue 42 step 5's contract: a torrent's detail lists
// `"holders": [{"member", "progress", "state"}]`, and a dead member's torrents get new holders that
// copy the data from the survivors): files shared through the balancer, replicated to `replicas`
// holders; then one holder killed with SIGKILL and the time until every torrent of the library is
// back at `replicas` live holders, the data ones complete there, and the copy's rate.

import { openAsBlob, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { BenchNode, Cluster } from './infra.ts';
import { call, getJson, type Target } from './measure.ts';
import { pool } from '../scale/proc.ts';

export interface Holder {
  member: string;
  progress: number;
  state: string;
}
interface ClusterView {
  members: { id: string; url: string; alive: boolean }[];
  replicas: number;
}

/** The holders of a torrent by its detail, or undefined when this tree's detail has none. */
export async function holdersOf(target: Target, infoHash: string): Promise<Holder[] | undefined> {
  const detail = await getJson<{ holders?: Holder[] }>(target, `/api/torrents/${infoHash}`);
  return Array.isArray(detail.holders) ? detail.holders : undefined;
}

/** Member id → the benchmark's node, by the address each member was started on. */
export async function memberIds(cluster: Cluster): Promise<Map<string, BenchNode>> {
  const view = await getJson<ClusterView>(cluster, '/api/cluster');
  const byHost = new Map(cluster.members.map((m) => [new URL(m.url).host, m]));
  return new Map(view.members.flatMap((m) => (byHost.has(new URL(m.url).host) ? [[m.id, byHost.get(new URL(m.url).host)!] as const] : [])));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Shares `count` files of `mib` MiB of random bytes through the balancer (multipart upload, as the
 *  web app's "share a file" sends them): their info hashes. */
export async function shareFiles(cluster: Cluster, dir: string, count: number, mib: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const path = join(dir, `cluster-data-${i}.bin`);
    const chunks = Array.from({ length: mib }, () => randomBytes(1 << 20));
    writeFileSync(path, Buffer.concat(chunks));
    const form = new FormData();
    form.append('file', await openAsBlob(path), `cluster-data-${i}.bin`);
    const res = await call(cluster, '/api/torrents', { method: 'POST', body: form });
    const text = await res.text();
    if (res.status !== 201 && res.status !== 200) throw new Error(`sharing ${path}: ${res.status} ${text.slice(0, 300)}`);
    out.push((JSON.parse(text) as { infoHash: string }).infoHash);
  }
  return out;
}

/** Live holders of a torrent: holders whose member is alive and not one known to be dead. */
const live = (holders: Holder[], alive: Set<string>) => holders.filter((h) => alive.has(h.member));
const complete = (holders: Holder[], alive: Set<string>, replicas: number) => {
  const l = live(holders, alive);
  return l.length >= replicas && l.every((h) => h.progress >= 1);
};

async function aliveIds(cluster: Cluster, dead: Set<string>): Promise<{ alive: Set<string>; replicas: number; declared: Set<string> }> {
  const view = await getJson<ClusterView>(cluster, '/api/cluster');
  return {
    alive: new Set(view.members.filter((m) => m.alive && !dead.has(m.id)).map((m) => m.id)),
    replicas: view.replicas,
    declared: new Set(view.members.filter((m) => !m.alive).map((m) => m.id)),
  };
}

/** Waits until every data torrent is complete on `replicas` live holders: seconds, or throws. */
export async function waitReplicated(cluster: Cluster, data: string[], timeoutMs: number): Promise<{ seconds: number; holders: Map<string, Holder[]> }> {
  const t0 = performance.now();
  for (;;) {
    const { alive, replicas } = await aliveIds(cluster, new Set());
    const holders = new Map<string, Holder[]>();
    for (const ih of data) holders.set(ih, (await holdersOf(cluster, ih)) ?? []);
    if ([...holders.values()].every((h) => complete(h, alive, replicas))) return { seconds: (performance.now() - t0) / 1000, holders };
    if (performance.now() - t0 > timeoutMs) {
      throw new Error(`not replicated after ${timeoutMs / 1000} s (replicas ${replicas}): ${JSON.stringify(Object.fromEntries(holders))}`);
    }
    await sleep(250);
  }
}

export interface FailoverFigures {
  victim: string;
  /** Torrents of the library that had the victim as a holder. */
  affected: number;
  /** kill → the victim not alive in GET /api/cluster. */
  declaredDead: number | null;
  /** kill → every torrent of the library with `replicas` live holders (data-less ones: any progress). */
  allPlaced: number | null;
  /** kill → every data torrent complete on `replicas` live holders. */
  dataRepaired: number | null;
  /** kill → the first byte on a new holder of a data torrent. */
  copyStarted: number | null;
  /** Bytes that had to be copied (a data torrent's size for each one the victim held). */
  copyBytes: number;
  /** copyBytes over the copy's time, MB/s (10^6 bytes): from the last poll that saw no new byte
   *  (the copy started after it) to the poll that saw every copy complete; a lower bound, since a
   *  copy shorter than a poll (250 ms) still counts one. */
  copyMBps: number | null;
  /** Torrents still short of `replicas` live holders when the wait ended. */
  short: number;
}

/**
 * SIGKILL of the member holding the most data torrents, then polls: the cluster's view (every
 * 250 ms), the data torrents' holders (every 250 ms) and the rest of the library's (each torrent
 * until it is back at `replicas` live holders: one sweep of those still short every 2 s, 4 requests
 * in flight, so the polling costs little once most are repaired).
 */
export async function killAndRepair(cluster: Cluster, library: string[], data: string[], dataBytes: number, timeoutMs: number): Promise<FailoverFigures> {
  const ids = await memberIds(cluster);
  const { holders } = await waitReplicated(cluster, data, 10_000);
  const count = new Map<string, number>();
  for (const hs of holders.values()) for (const h of hs) count.set(h.member, (count.get(h.member) ?? 0) + 1);
  const victimId = [...count.entries()].sort((a, b) => b[1] - a[1])[0]![0];
  const victim = ids.get(victimId);
  if (!victim) throw new Error(`holder ${victimId} is none of the members started: ${JSON.stringify([...ids.keys()])}`);
  const everything = [...library, ...data];
  // Who held what before the kill, so that "affected" and "new holder" mean something.
  const before = new Map<string, Set<string>>();
  await pool(everything.length, 8, async (i) => {
    before.set(everything[i]!, new Set(((await holdersOf(cluster, everything[i]!)) ?? []).map((h) => h.member)));
  });
  const affected = everything.filter((ih) => before.get(ih)!.has(victimId));
  const copyBytes = data.filter((ih) => before.get(ih)!.has(victimId)).length * dataBytes;

  const dead = new Set([victimId]);
  const t0 = performance.now();
  await victim.kill9();
  const since = () => (performance.now() - t0) / 1000;
  const fig: FailoverFigures = { victim: victim.name, affected: affected.length, declaredDead: null, allPlaced: null, dataRepaired: null, copyStarted: null, copyBytes, copyMBps: null, short: 0 };
  let short = new Set(affected);
  let replicas = 0;
  let alive = new Set<string>();
  const deadline = t0 + timeoutMs;

  let idle = 0;
  const watchData = (async () => {
    while (performance.now() < deadline && fig.dataRepaired === null) {
      const pollAt = since();
      ({ alive, replicas } = await aliveIds(cluster, dead).then((v) => {
        if (fig.declaredDead === null && v.declared.has(victimId)) fig.declaredDead = since();
        return v;
      }));
      let done = true;
      for (const ih of data) {
        const hs = (await holdersOf(cluster, ih)) ?? [];
        if (fig.copyStarted === null && hs.some((h) => !before.get(ih)!.has(h.member) && h.progress > 0)) fig.copyStarted = since();
        if (!complete(hs, alive, replicas)) done = false;
      }
      if (fig.copyStarted === null) idle = pollAt;
      if (done) fig.dataRepaired = since();
      else await sleep(250);
    }
  })();
  const watchLibrary = (async () => {
    while (performance.now() < deadline && short.size > 0) {
      await sleep(2000);
      if (replicas === 0) continue;
      const still = new Set<string>();
      const list = [...short];
      await pool(list.length, 4, async (i) => {
        const hs = (await holdersOf(cluster, list[i]!)) ?? [];
        if (live(hs, alive).length < replicas) still.add(list[i]!);
      });
      short = still;
    }
    if (short.size === 0) fig.allPlaced = since();
  })();
  await Promise.all([watchData, watchLibrary]);
  // Declared dead may come after the data is back (it should not); look once more.
  for (let i = 0; fig.declaredDead === null && i < 40; i++) {
    if ((await aliveIds(cluster, dead)).declared.has(victimId)) fig.declaredDead = since();
    else await sleep(250);
  }
  fig.short = short.size;
  if (fig.dataRepaired !== null && copyBytes > 0) fig.copyMBps = copyBytes / 1e6 / Math.max(0.001, fig.dataRepaired - idle);
  return fig;
}
