// A torrent removed through one member and added again (issue 63, found by bench/crash --cluster):
// users remove and re-add a torrent to start it over, and a balancer may send the two requests to
// different members. The add must be kept whatever the holders were doing — still dropping their
// copies of the removed torrent, or down when it was removed — and a holder that was down must not
// bring the removed torrent back nor keep its files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { until } from './node-process.ts';
import { addTorrentFile, detail, holdersWhen, liveDone, share, testCluster, type Member } from './cluster-process.ts';

async function remove(m: Member, ih: string, deleteData = false): Promise<void> {
  const r = await m.node.api(`/api/torrents/${ih}?deleteData=${deleteData}`, { method: 'DELETE' });
  assert.equal(r.status, 200, await r.text());
}

let addStatus = 0;

/** Adds the .torrent file again; keeps the answer's status for the diagnostic. */
async function addTorrent(m: Member, torrent: Uint8Array): Promise<string> {
  const added = await addTorrentFile(m, torrent);
  addStatus = added.status;
  return added.infoHash;
}

const listed = async (m: Member, ih: string) => (await m.node.api(`/api/torrents/${ih}`)).status === 200;

test('remove through one member, add again through another: the add is kept, nothing of the old copies stays', { timeout: 600_000 }, async (t) => {
  const cluster = await testCluster(t, 'readd');
  const names = [['a', '127.0.0.61'], ['b', '127.0.0.62'], ['c', '127.0.0.63']] as const;
  const members: Member[] = [];
  for (const [name, host] of names) members.push(await cluster.start(name, host));
  const byId = (id: string) => members.find((m) => m.id === id)!;
  const data = randomBytes(512 * 1024 + 7);
  const ih = await share(members[0]!, 'again.bin', data);
  const torrent = new Uint8Array(await (await members[0]!.node.api(`/api/torrents/${ih}/torrent`)).arrayBuffer());
  let last: unknown;
  const holdersOf = async (what: string) =>
    (await holdersWhen(members[0]!, ih, `${what}: two copies complete`, (h) => ((last = h), liveDone(h).length === 2)).catch((err: Error) => {
      throw new Error(`${err.message}; holders ${JSON.stringify(last)}`);
    })).filter((h) => h.alive && h.progress === 1).map((h) => byId(h.member));

  // (1) Removed (its data kept) through the member holding no copy, added again at once through a
  // holder, whose engine still runs its copy of the removed torrent until it hears of the removal.
  // The copies left on disk are found again: two complete copies each time.
  for (let round = 0; round < 3; round++) {
    const holders = await holdersOf(`round ${round}`);
    const other = members.find((m) => !holders.includes(m))!;
    await remove(other, ih);
    assert.equal(await addTorrent(holders[round % 2]!, torrent), ih);
    t.diagnostic(`round ${round}: added again through ${holders[round % 2]!.host}: ${addStatus}`);
    await until(`round ${round}: listed by every member a while after`, async () => {
      for (const m of members) if (!(await listed(m, ih))) return undefined;
      return true;
    }, 10_000).catch(async (err: Error) => {
      const seen = await Promise.all(members.map(async (m) => `${m.host} ${await listed(m, ih)}${holders.includes(m) ? ' (held it)' : ''}`));
      const said = members.map((m) => `${m.host}: ${JSON.stringify(m.node.events.filter((e) => JSON.stringify(e).includes(ih.slice(0, 12)) && e.event !== 'peer-identified').slice(-8))}`);
      throw new Error(`${err.message}: ${seen.join(', ')}\n${said.join('\n')}`);
    });
    await new Promise((r) => setTimeout(r, 3000));
    for (const m of members) assert.ok(await listed(m, ih), `round ${round}: ${m.host} still lists the torrent added again (an acknowledged add)`);
  }

  // (2) Removed while one holder is down: back, it neither lists the torrent nor keeps its file.
  const [kept, down] = await holdersOf('before the kill');
  const downPath = (await detail(down!, ih))!.savePath as string;
  down!.node.child.kill('SIGKILL');
  await until('the holder is gone', async () => (down!.node.child.exitCode !== null || down!.node.child.signalCode !== null ? true : undefined));
  await remove(kept!, ih, true);
  const name = names.find(([, host]) => host === down!.host)!;
  const back = await cluster.start(name[0], name[1]);
  members[members.indexOf(down!)] = back;
  await until('the restarted holder drops the removed torrent and its file', async () => (!(await listed(back, ih)) && !existsSync(join(downPath, 'again.bin')) ? true : undefined), 30_000).catch(async (err: Error) => {
    throw new Error(`${err.message}: listed ${await listed(back, ih)}, file there: ${existsSync(join(downPath, 'again.bin'))}; it said ${JSON.stringify(back.node.events.filter((e) => e.event === 'cluster' || e.event === 'note' || e.event === 'warning'))}`);
  });
  assert.equal(await listed(back, ih), false, 'the restarted holder does not list the removed torrent');

  // (3) And added again through it: kept (no copy has its data any more: nothing completes).
  assert.equal(await addTorrent(back, torrent), ih);
  await new Promise((r) => setTimeout(r, 3000));
  for (const m of members) assert.ok(await listed(m, ih), `${m.host} lists the torrent added again through the restarted member`);
  for (const m of members) await m.node.stop();
});
