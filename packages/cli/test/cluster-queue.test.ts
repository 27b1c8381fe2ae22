// A placed copy and the download queue (issue 42, docs/cluster.md): a member's download slots are
// the user's. Eight magnets nobody seeds hold its five slots for good (no stall timeout), three
// more wait; a file shared through the other member is placed on it as a copy another live holder
// has complete — replication, not a user's download — so it runs outside the slots and completes,
// and the user's five downloads keep their slots.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { until } from './node-process.ts';
import { detail, holdersWhen, liveDone, setSettings, share, testCluster, type Member } from './cluster-process.ts';

interface Row {
  infoHash: string;
  state: string;
}

async function states(m: Member, hashes: readonly string[]): Promise<string[]> {
  const r = await m.node.api('/api/torrents?limit=1000');
  const rows = ((await r.json()) as { torrents: Row[] }).torrents;
  return hashes.map((ih) => rows.find((x) => x.infoHash === ih)?.state ?? 'absent');
}

test("a cluster's copy runs outside the member's download slots: not behind stalled magnets, taking none of them", { timeout: 300_000 }, async (t) => {
  const cluster = await testCluster(t, 'queue');
  const a = await cluster.start('a', '127.0.0.41');
  const b = await cluster.start('b', '127.0.0.42');
  // Five slots, and a stalled download keeps its slot (0: never counted as stalled), so nothing but
  // this rule lets a sixth download run.
  await setSettings(a, { maxActiveDownloads: 5, stalledTimeout: 0 });
  await until('the settings on B', async () => {
    const s = (await (await b.node.api('/api/settings')).json()) as { maxActiveDownloads: number; stalledTimeout: number; replicas: number | null };
    return s.maxActiveDownloads === 5 && s.stalledTimeout === 0 ? true : undefined;
  });

  // Eight magnets nobody seeds (DHT off, no tracker, no peer): placed on both members (2 replicas).
  const magnets = Array.from({ length: 8 }, () => randomBytes(20).toString('hex'));
  for (const ih of magnets) {
    const r = await a.node.api('/api/torrents', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ uri: `magnet:?xt=urn:btih:${ih}&dn=stalled` }) });
    assert.ok(r.status < 300, await r.text());
  }
  for (const ih of magnets) await holdersWhen(a, ih, `${ih} on both members`, (h) => h.filter((x) => x.alive).length === 2);
  // In queue order (the order they were added): the first five run, the last three wait. Taken
  // as placed, they may start out of order for a moment, until the next plan puts them right.
  const running = (s: string) => s === 'downloading' || s === 'metadata';
  const before = await until('the first five running and the last three queued on B', async () => {
    const s = await states(b, magnets);
    return s.slice(0, 5).every(running) && s.slice(5).every((x) => x === 'queued') ? s : undefined;
  });

  // A file shared through A: A seeds it; its copy placed on B must download.
  const data = randomBytes(1024 * 1024 + 7);
  const infoHash = await share(a, 'copy.bin', data);
  await holdersWhen(a, infoHash, "B's copy complete", (h) => liveDone(h).length === 2 && h.some((x) => x.member === b.id), 120_000);
  const copy = (await detail(b, infoHash))!;
  assert.equal(createHash('sha256').update(await readFile(join(copy.savePath as string, 'copy.bin'))).digest('hex'), createHash('sha256').update(data).digest('hex'));

  // The user's downloads on B kept their five slots: the same ones run, the same three wait.
  assert.deepEqual(await states(b, magnets), before);
  t.diagnostic(`B's magnets: ${before.join(', ')}`);
  await a.node.stop();
  await b.node.stop();
});
