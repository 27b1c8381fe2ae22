// A member's death, as the survivors feel it (issue 63): three `cascade serve` members (the crash
// harness's rig: a throwaway PostgreSQL and Redis, members on 127.0.0.2-4), FILES files of MIB MiB
// shared through m1 and replicated (replicas automatic: 2 copies), then the member holding the most
// copies SIGKILLed. Until every torrent is back at 2 complete live copies, each survivor's open
// descriptors, sockets and RSS are read from /proc every 250 ms. Prints each survivor's level before
// the kill and its peak after, and the repair's time. Run it on two trees to compare them.
//
//   npx node bench/cluster/takeover.ts [--files 150] [--mib 1]

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { ClusterRig, type Member } from '../crash/cluster-rig.ts';

const { values } = parseArgs({ options: { files: { type: 'string', default: '150' }, mib: { type: 'string', default: '1' } } });
const FILES = Number(values.files);
const BYTES = Math.round(Number(values.mib) * 2 ** 20);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

interface Sample {
  fds: number;
  sockets: number;
  rssMb: number;
}

function sample(pid: number): Sample | undefined {
  try {
    const fds = readdirSync(`/proc/${pid}/fd`);
    let sockets = 0;
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) sockets++;
      } catch {
        // closed meanwhile
      }
    }
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { fds: fds.length, sockets, rssMb: rss ? Number(rss[1]) / 1024 : NaN };
  } catch {
    return undefined;
  }
}

/** Torrents with fewer than 2 complete copies on live members at their live epoch (the database's word). */
async function short(rig: ClusterRig): Promise<number> {
  const rows = await rig.sql<{ n: string }>(`
    SELECT count(*) AS n FROM torrents t WHERE (
      SELECT count(*) FROM torrent_holders h JOIN cluster_members m ON m.id = h.member_id
      WHERE h.info_hash = t.info_hash AND h.epoch >= m.epoch AND m.dead_at IS NULL
        AND m.lease_until >= CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)
        AND (h.state = 'seeding' OR h.progress >= 1)
    ) < 2`);
  return Number(rows[0]!.n);
}

async function until(what: string, ok: () => Promise<boolean>, ms: number): Promise<number> {
  const t0 = performance.now();
  while (!(await ok())) {
    if (performance.now() - t0 > ms) throw new Error(`${what}: not after ${ms / 1000} s`);
    await sleep(250);
  }
  return (performance.now() - t0) / 1000;
}

const rig = new ClusterRig(1e6);
try {
  await rig.open(3);
  const [m1] = rig.members as [Member, Member, Member];
  say(`3 members up; sharing ${FILES} × ${(BYTES / 2 ** 20).toFixed(1)} MiB through m1`);
  for (let i = 0; i < FILES; i++) {
    const form = new FormData();
    form.append('files', new Blob([new Uint8Array(randomBytes(BYTES))]), `f${i}.bin`);
    await rig.json(m1, '/api/torrents', { method: 'POST', body: form });
  }
  const replicated = await until('every file at 2 complete copies', async () => (await short(rig)) === 0, 600_000);
  say(`every file at 2 complete copies ${replicated.toFixed(1)} s after the last share`);
  const held = await rig.sql<{ member_id: string; n: string }>("SELECT member_id, count(*) AS n FROM torrent_holders WHERE state NOT IN ('removed', 'removed+data') GROUP BY member_id");
  const ids = await rig.sql<{ id: string; url: string }>('SELECT id, url FROM cluster_members');
  const nameOf = (id: string) => rig.memberOfUrl(ids.find((x) => x.id === id)?.url)?.name ?? id;
  const most = [...held].sort((a, b) => Number(b.n) - Number(a.n))[0]!;
  const victim = rig.members.find((m) => m.name === nameOf(most.member_id))!;
  const survivors = rig.members.filter((m) => m !== victim);
  await sleep(3_000);
  const before = new Map(survivors.map((m) => [m.name, sample(m.node!.pid)!]));
  const peak = new Map(survivors.map((m) => [m.name, { ...before.get(m.name)! }]));
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      for (const m of survivors) {
        const s = m.node && sample(m.node.pid);
        const p = peak.get(m.name)!;
        if (s) (p.fds = Math.max(p.fds, s.fds)), (p.sockets = Math.max(p.sockets, s.sockets)), (p.rssMb = Math.max(p.rssMb, s.rssMb));
      }
      await sleep(250);
    }
  })();
  say(`killing ${victim.name} (${most.n} copies held)`);
  const killedAt = performance.now();
  await rig.kill(victim);
  await until('the repair begins (some torrent short)', async () => (await short(rig)) > 0, 60_000);
  const began = (performance.now() - killedAt) / 1000;
  const repaired = await until('every file back at 2 complete live copies', async () => (await short(rig)) === 0, 900_000);
  sampling = false;
  await sampler;
  say(`repair: short from ${began.toFixed(1)} s after the kill, every file at 2 complete live copies ${(began + repaired).toFixed(1)} s after it`);
  for (const m of survivors) {
    const b = before.get(m.name)!;
    const p = peak.get(m.name)!;
    say(`${m.name}: fds ${b.fds} -> peak ${p.fds}, sockets ${b.sockets} -> peak ${p.sockets}, RSS ${b.rssMb.toFixed(0)} -> peak ${p.rssMb.toFixed(0)} MB`);
  }
} finally {
  await rig.dispose();
}
