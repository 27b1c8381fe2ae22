// A save path moved through any member moves every holder's own copy (issue 42, docs/cluster.md):
// paths are each member's own, so each holder moves its copy to that path on its own machine (a
// relative path: under its own download dir) and the detail reports where each copy is. Three
// `serve` members, two holders: a move through the member that holds no copy, then one through a
// holder; each copy's bytes intact where it went, nothing left where it was; a move one holder
// cannot make leaves its copy where it was, the detail saying why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { until } from './node-process.ts';
import { detail, holdersWhen, liveDone, share, testCluster, type Holder, type Member } from './cluster-process.ts';

interface Placed extends Holder {
  savePath: string | null;
  moveTo: string | null;
  moveError: string | null;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function move(m: Member, ih: string, savePath: string): Promise<void> {
  const r = await m.node.api(`/api/torrents/${ih}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ savePath }) });
  assert.equal(r.status, 200, await r.text());
}

test("a save path moved through any member moves each holder's own copy, reported per holder", { timeout: 300_000 }, async (t) => {
  const cluster = await testCluster(t, 'move');
  const members = [await cluster.start('a', '127.0.0.51'), await cluster.start('b', '127.0.0.52'), await cluster.start('c', '127.0.0.53')];
  const [a] = members as [Member, Member, Member];
  const byId = (id: string) => members.find((m) => m.id === id)!;
  const data = randomBytes(1024 * 1024 + 3);
  const ih = await share(a, 'one.bin', data);
  const pair = await holdersWhen(a, ih, 'two holders done', (h) => liveDone(h).length === 2);
  const holders = pair.map((h) => byId(h.member));
  const other = members.find((m) => !holders.includes(m))!;
  const before = new Map(await Promise.all(holders.map(async (m) => [m, (await detail(m, ih))!.savePath as string] as const)));

  /** Every holder's copy at `<its download dir>/<dir>`, as the detail through `via` reports it. */
  const movedTo = async (dir: string, via: Member) => {
    const want = (m: Member) => join(m.stateDir, 'downloads', dir);
    const done = (await holdersWhen(via, ih, `both copies in ${dir}`, (h) => (h as Placed[]).every((x) => x.savePath === want(byId(x.member)) && x.moveTo === null))) as Placed[];
    for (const h of done) assert.equal(h.moveError, null);
    for (const m of holders) {
      assert.equal(sha256(readFileSync(join(want(m), 'one.bin'))), sha256(data), `${m.host}'s copy, intact where it went`);
      await until(`${m.host} runs it from there`, async () => ((await detail(m, ih))!.savePath === want(m) ? true : undefined));
    }
  };

  // (1) Through the member that holds no copy: each holder moves its own.
  await move(other, ih, 'moved');
  await movedTo('moved', other);
  for (const [m, path] of before) assert.equal(existsSync(join(path, 'one.bin')), false, `${m.host}: nothing left at ${path}`);
  await until('both seeding after the move', async () => {
    for (const m of holders) if ((await detail(m, ih))!.state !== 'seeding') return undefined;
    return true;
  });

  // (2) Through a holder: its own copy moves before the answer, the other holder's follows.
  await move(holders[0]!, ih, 'again');
  assert.equal((await detail(holders[0]!, ih))!.savePath, join(holders[0]!.stateDir, 'downloads', 'again'), 'moved before the answer');
  await movedTo('again', a);

  // (3) A move one holder cannot make (a file where its folder would go): the other holder's copy
  // moves; this one stays where it was, and the detail says why.
  const [ok, blocked] = holders as [Member, Member];
  writeFileSync(join(blocked.stateDir, 'downloads', 'blocked'), 'not a folder');
  await move(other, ih, 'blocked');
  const shown = (await holdersWhen(other, ih, 'one moved, one failed', (h) => (h as Placed[]).every((x) => x.moveTo === null) && (h as Placed[]).some((x) => x.moveError !== null))) as Placed[];
  const failed = shown.find((h) => h.member === blocked.id)!;
  assert.match(failed.moveError!, /blocked/, failed.moveError!);
  assert.equal(failed.savePath, join(blocked.stateDir, 'downloads', 'again'), 'its copy stays where it was');
  assert.equal(sha256(readFileSync(join(blocked.stateDir, 'downloads', 'again', 'one.bin'))), sha256(data));
  assert.equal(shown.find((h) => h.member === ok.id)!.savePath, join(ok.stateDir, 'downloads', 'blocked'));

  for (const m of members) await m.node.stop();
});
