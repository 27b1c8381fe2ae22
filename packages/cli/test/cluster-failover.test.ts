// A download the dead member was running continues on another member (issue 42 item 5): an outside
// libtorrent seeder, capped slow, has a file; its magnet (with the seeder as a peer given by hand) is
// added through the cluster. With one replica only the adder downloads it: killed with SIGKILL
// mid-way, the torrent is placed on a survivor and completes there from the swarm. With two replicas
// both holders download; one killed mid-way, the other completes and a new second holder is placed
// and gets the data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTorrent } from '@cascade/engine';
import { until } from './node-process.ts';
import { detail, holdersWhen, liveDone, ltSeed, setSettings, testCluster, type Holder, type Member } from './cluster-process.ts';

const SIZE = 3 * 1024 * 1024;
/** The seeder's cap: a 3 MiB file takes it about 10 s, so a holder is mid-way (killed at 10-25 %,
 *  1-3 s in) when it is killed; what is left after the kill is fetched at the same cap, so the
 *  file's size is the test's wall time (6 MiB took ~27 s after the kill where 3 MiB takes ~15). */
const RATE = 300 * 1024;

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A file of SIZE random bytes seeded by libtorrent; its magnet with the seeder as its peer. */
async function outsideSwarm(t: Parameters<typeof testCluster>[0], root: string, name: string) {
  const dir = join(root, `swarm-${name}`);
  await mkdir(dir, { recursive: true });
  const data = randomBytes(SIZE);
  await writeFile(join(dir, name), data);
  const { torrent, metainfo } = await createTorrent(join(dir, name), { pieceLength: 256 * 1024 });
  await writeFile(join(dir, `${name}.torrent`), torrent);
  const { port } = await ltSeed(t, join(dir, `${name}.torrent`), dir, RATE);
  return { data, ih: metainfo.infoHashHex, magnet: `magnet:?xt=urn:btih:${metainfo.infoHashHex}&dn=${name}`, peer: `127.0.0.1:${port}` };
}

/** Adds the magnet with the seeder as a peer given by hand (`peers`), or, with `inMagnet`, as the
 *  magnet's own x.pe: either way every holder, not only the adder, must find the swarm. */
async function addMagnet(m: Member, magnet: string, peer: string, inMagnet = false): Promise<void> {
  const body = inMagnet ? { uri: `${magnet}&x.pe=${peer}` } : { uri: magnet, peers: [peer] };
  const r = await m.node.api('/api/torrents', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.ok(r.status < 300, await r.text());
}

/** The holder's own progress through itself, once it is between `low` and 0.8 (mid-way). */
async function midWay(m: Member, ih: string, low = 0.15): Promise<number> {
  return until(`${m.host} mid-way`, async () => {
    const d = await detail(m, ih);
    if (d && d.progress >= 1) throw new Error(`${m.host} finished before it could be killed: the seeder is too fast`);
    return d && d.progress >= low ? (d.progress as number) : undefined;
  }, 120_000);
}

async function kill(m: Member): Promise<void> {
  m.node.child.kill('SIGKILL');
  await once(m.node.child, 'exit');
}

async function sameBytes(m: Member, ih: string, name: string, data: Uint8Array): Promise<void> {
  const d = (await detail(m, ih))!;
  assert.equal(sha256(await readFile(join(d.savePath as string, name))), sha256(data), `${m.host}'s copy: the same bytes`);
}

test('a download the dead member was running continues on another member: one replica, then two', { timeout: 600_000 }, async (t) => {
  const cluster = await testCluster(t, 'failover');
  const members = [await cluster.start('a', '127.0.0.31'), await cluster.start('b', '127.0.0.32'), await cluster.start('c', '127.0.0.33')];
  const [a, b] = members as [Member, Member, Member];
  const byId = (id: string) => members.find((m) => m.id === id)!;

  // (1) One replica: the adder A is the only holder, downloading from the outside seeder.
  await setSettings(a, { replicas: 1 });
  await until('replicas 1 on every member', async () => {
    for (const m of members) if (((await (await m.node.api('/api/cluster')).json()) as { replicas: number }).replicas !== 1) return undefined;
    return true;
  });
  const one = await outsideSwarm(t, cluster.root, 'one.bin');
  await addMagnet(a, one.magnet, one.peer);
  const only = await holdersWhen(b, one.ih, 'one holder', (h) => h.length === 1);
  assert.equal(only[0]!.member, a.id, 'the adder holds it');
  const at = await midWay(a, one.ih);
  const killedAt = Date.now();
  await kill(a);
  const done = await holdersWhen(b, one.ih, 'done on a survivor', (h) => liveDone(h).length === 1, 180_000);
  const survivor = byId(done.find((h) => h.alive)!.member);
  assert.notEqual(survivor, a);
  await sameBytes(survivor, one.ih, 'one.bin', one.data);
  t.diagnostic(`replicas 1: killed at ${(at * 100).toFixed(0)} %, complete on a survivor ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`);

  // A is back (its state dir): three live members again for the second case.
  members[0] = await cluster.start('a', a.host);

  // (2) Two replicas (the seeder in the magnet's x.pe this time): both holders download; the one that is not the adder is killed mid-way. The
  // adder completes and a third member is placed and gets the data.
  await setSettings(b, { replicas: 2 });
  await until('replicas 2 on every member', async () => {
    for (const m of members) if (((await (await m.node.api('/api/cluster')).json()) as { replicas: number }).replicas !== 2) return undefined;
    return true;
  });
  const two = await outsideSwarm(t, cluster.root, 'two.bin');
  await addMagnet(b, two.magnet, two.peer, true);
  const pair = await holdersWhen(b, two.ih, 'two holders', (h) => h.filter((x) => x.alive).length === 2);
  const victim = byId(pair.find((h) => h.member !== b.id)!.member);
  const third = members.find((m) => m !== b && m !== victim)!;
  const victimAt = await midWay(victim, two.ih, 0.1);
  const killed2 = Date.now();
  await kill(victim);
  const repaired = await holdersWhen(b, two.ih, 'back at two live holders, done', (h: Holder[]) => liveDone(h).length === 2 && h.some((x) => x.member === third.id), 180_000);
  assert.ok(repaired.some((h) => h.member === victim.id && !h.alive), "the dead member's copy stays listed, not alive");
  await sameBytes(b, two.ih, 'two.bin', two.data);
  await sameBytes(third, two.ih, 'two.bin', two.data);
  t.diagnostic(`replicas 2: a holder killed at ${(victimAt * 100).toFixed(0)} %, both live copies complete ${((Date.now() - killed2) / 1000).toFixed(1)} s after the kill`);

  for (const m of members) if (m !== victim) await m.node.stop();
});
