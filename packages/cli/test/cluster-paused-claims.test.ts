// A cluster member's paused copy whose file was deleted while the member was down (issue 63): its
// holder row said progress 1 — a complete copy to the coordinator and to every member's listing —
// until the copy ran again. Back, the member holds its resume record's claims against its files
// (unchecked-claims.ts) and its row follows: not complete.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { until } from './node-process.ts';
import { detail, holdersWhen, liveDone, share, testCluster, type Holder, type Member } from './cluster-process.ts';

test("a member's paused copy deleted while it was down: its holder row is not a complete copy", { timeout: 300_000 }, async (t) => {
  const cluster = await testCluster(t, 'paused_claims');
  const names = [['a', '127.0.0.144'], ['b', '127.0.0.145']] as const;
  const members: Member[] = [];
  for (const [name, host] of names) members.push(await cluster.start(name, host));
  const [a] = members as [Member, Member];
  const ih = await share(a, 'claimed.bin', randomBytes(1024 * 1024 + 9));
  const done = await holdersWhen(a, ih, 'two complete copies', (h) => liveDone(h).filter((x) => x.state === 'seeding').length === 2, 90_000);
  const other = members.find((m) => m.id !== a.id && done.some((h) => h.member === m.id))!;
  const pause = await a.node.api(`/api/torrents/${ih}/pause`, { method: 'POST' });
  assert.ok(pause.status < 300, await pause.text());
  await until('paused on the other holder', async () => ((await detail(other, ih))!.state === 'paused' ? true : undefined), 30_000);
  const file = join((await detail(other, ih))!.savePath as string, 'claimed.bin');

  await other.node.stop();
  rmSync(file);
  const back = await cluster.start(names.find(([, host]) => host === other.host)![0], other.host);
  const row = await until("the other holder's row no longer complete", async () => {
    const h = ((await detail(a, ih))!.holders as Holder[]).find((x) => x.member === back.id);
    return h && h.progress < 1 ? h : undefined;
  }, 30_000).catch(async (err: Error) => {
    throw new Error(`${err.message}: holders ${JSON.stringify((await detail(a, ih))!.holders)}; it said ${JSON.stringify(back.node.events.filter((e) => e.event === 'claims-dropped' || e.event === 'note'))}`);
  });
  assert.equal(row.progress, 0, 'none of its pieces is there');
  assert.equal(row.state, 'paused');
  assert.ok(back.node.events.some((e) => e.event === 'claims-dropped' && e.infoHash === ih), 'it said which file');
  const listed = (await detail(back, ih))!;
  assert.equal(listed.progress, 0, 'listed by that member without the deleted file');
  for (const m of [a, back]) await m.node.stop();
});
