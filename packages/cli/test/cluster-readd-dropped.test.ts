// A member that dropped its removed copy and is given the torrent again (issue 63, bench:crash
// --cluster of 1 Dec, docs/durability.md): its copy was listed "paused, progress 1" at a folder
// that held none of its pieces. The same history, played through real members: removed with its
// data while one holder is down, that holder back (it drops its copy), added again and placed on
// it, paused there, resumed through another member and the holder killed at once, two moves asked
// while it is down. Back, its holder row must say what its disk has.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { until } from './node-process.ts';
import { addTorrentFile, detail, holdersWhen, liveDone, setSettings, share, testCluster, type Holder, type Member } from './cluster-process.ts';

async function api(m: Member, path: string, init: RequestInit = {}): Promise<void> {
  const r = await m.node.api(path, init);
  assert.ok(r.status < 300, `${init.method ?? 'GET'} ${path} through ${m.host}: ${r.status} ${await r.text()}`);
}
const post = (m: Member, ih: string, what: string) => api(m, `/api/torrents/${ih}/${what}`, { method: 'POST' });
const move = (m: Member, ih: string, savePath: string) =>
  api(m, `/api/torrents/${ih}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ savePath }) });

async function kill(m: Member): Promise<void> {
  m.node.child.kill('SIGKILL');
  await until(`${m.host} gone`, async () => (m.node.child.exitCode !== null || m.node.child.signalCode !== null ? true : undefined));
}

test('a member given a torrent again after dropping its removed copy: its holder row says what its disk has, through a kill and moves', { timeout: 600_000 }, async (t) => {
  const cluster = await testCluster(t, 'readd_dropped');
  const names = [['a', '127.0.0.141'], ['b', '127.0.0.142'], ['c', '127.0.0.143']] as const;
  const members: Member[] = [];
  for (const [name, host] of names) members.push(await cluster.start(name, host));
  const [a, b] = members as [Member, Member];
  // Every member holds a copy: the one that drops its copy is the one given it again.
  await setSettings(a, { replicas: 3 });
  await until('replicas 3 on every member', async () => {
    for (const m of members) if (((await (await m.node.api('/api/cluster')).json()) as { replicas: number }).replicas !== 3) return undefined;
    return true;
  });

  /** One history. Added again as its .torrent when no member has its data any more (as bench:crash
   *  adds while a removal with data runs): c's copy has no piece to get, so its row must say 0; else
   *  shared again (the adder has the bytes), every copy completes. */
  const history = async (name: string, again: 'torrent' | 'share') => {
    const data = randomBytes(2 * 1024 * 1024 + 5);
    const file = `${name}.bin`;
    const digest = createHash('sha256').update(data).digest('hex');
    const ih = await share(a, file, data);
    const torrent = new Uint8Array(await (await a.node.api(`/api/torrents/${ih}/torrent`)).arrayBuffer());
    const threeDone = (what: string) => holdersWhen(a, ih, what, (h) => liveDone(h).filter((x) => x.state === 'seeding').length === 3, 120_000);
    await threeDone('three complete copies');

    // (1) Removed with its data while c is down; c back drops its copy.
    let c = members[2]!;
    const firstPath = (await detail(c, ih))!.savePath as string;
    await kill(c);
    await api(a, `/api/torrents/${ih}?deleteData=true`, { method: 'DELETE' });
    c = members[2] = await cluster.start('c', '127.0.0.143');
    await until('c drops its removed copy', async () => (!existsSync(join(firstPath, file)) && (await c.node.api(`/api/torrents/${ih}`)).status === 404 ? true : undefined), 30_000);

    // (2) Added again through a and placed on c again: complete everywhere (shared again), or with
    // no data anywhere (its .torrent), where c's copy, once taken, is not a complete one.
    if (again === 'share') {
      assert.equal(await share(a, file, data), ih);
      await threeDone('three complete copies again');
    } else {
      assert.equal((await addTorrentFile(a, torrent)).infoHash, ih);
      const taken = await holdersWhen(a, ih, 'c takes its copy', (h) => h.some((x) => x.member === c.id && x.alive && x.savePath !== null), 30_000);
      await new Promise((r) => setTimeout(r, 3000));
      const cNow = ((await detail(a, ih))!.holders as Holder[]).find((h) => h.member === c.id)!;
      const listed = (await detail(c, ih))!;
      const said = `row ${JSON.stringify(cNow)}, listed by c ${JSON.stringify({ state: listed.state, progress: listed.progress })}; taken ${JSON.stringify(taken)}`;
      assert.ok(cNow.progress < 1 && cNow.state !== 'seeding', `c's row is not a complete copy: none of its pieces exist anywhere: ${said}`);
      assert.ok(listed.progress < 1, `c lists its copy without the dropped copy's pieces: ${said}`);
    }

    // (3) Paused through c, resumed through b and c killed at once; paused and moved twice while down.
    await post(c, ih, 'pause');
    await post(b, ih, 'resume');
    await new Promise((r) => setTimeout(r, 100));
    await kill(c);
    await post(b, ih, 'pause');
    await move(a, ih, 'moved-b');
    await move(a, ih, 'moved-a');
    c = members[2] = await cluster.start('c', '127.0.0.143');

    // (4) Once c made the moves asked of it: its row, its engine and its disk agree.
    const cRow = async () => ((await detail(a, ih))!.holders as Holder[]).find((h) => h.member === c.id);
    const row = await until('c made the moves asked of it', async () => {
      const h = await cRow();
      return h && h.alive && h.moveTo === null ? h : undefined;
    }, 60_000);
    const seen = (await detail(c, ih))!;
    const at = join(row.savePath ?? '', file);
    const has = existsSync(at);
    const whole = has && createHash('sha256').update(readFileSync(at)).digest('hex') === digest;
    const state = `row ${JSON.stringify({ state: row.state, progress: row.progress, savePath: row.savePath, moveError: row.moveError })}, engine ${JSON.stringify({ state: seen.state, progress: seen.progress, savePath: seen.savePath })}, file there ${has} (whole ${whole}); c said ${JSON.stringify(c.node.events.filter((e) => JSON.stringify(e).includes(ih.slice(0, 12)) && e.event !== 'peer-identified'))}`;
    t.diagnostic(state);
    assert.equal(row.savePath, join(c.stateDir, 'downloads', 'moved-a'), `c's copy is where the moves put it: ${state}`);
    assert.equal(seen.savePath, row.savePath, `c's engine and its holder row name one folder: ${state}`);
    if (row.progress === 1) assert.ok(whole, `a complete copy by its row is whole on c's disk: ${state}`);
    if (seen.progress === 1) assert.ok(whole, `a complete copy by c's listing is whole on its disk: ${state}`);
    for (const other of ['moved-b', '']) assert.equal(existsSync(join(c.stateDir, 'downloads', other, file)), false, `nothing left in downloads/${other}: ${state}`);

    // (5) Resumed: three complete copies, c's whole where its row says (shared again), or none.
    await post(a, ih, 'resume');
    if (again === 'torrent') {
      await new Promise((r) => setTimeout(r, 3000));
      const h = (await cRow())!;
      assert.ok(h.progress < 1, `no complete copy of a torrent no one has the data of: ${JSON.stringify(h)}`);
      await api(a, `/api/torrents/${ih}`, { method: 'DELETE' });
      return;
    }
    await threeDone('three complete copies after the resume');
    const final = (await cRow())!;
    assert.equal(createHash('sha256').update(readFileSync(join(final.savePath!, file))).digest('hex'), digest);
  };
  await history('no-data-again', 'torrent');
  await history('complete-again', 'share');
  for (const m of members) await m.node.stop();
});
