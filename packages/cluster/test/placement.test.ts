// Placement and repair (src/placement.ts, holder-store.ts; issue 42 step 5) on both engines:
// the coordinator places each torrent on live members until it has `replicas` live holders, the
// least loaded first, once (a second pass places nothing); a member declared dead keeps its rows,
// which stop counting, so its torrents get new holders; a coordinator without its lease places
// nothing; each member's peers are the other live holders; a torrent's holders list every copy.
// Room: a torrent is never placed on a member whose free bytes, less what its unfinished copies will
// still write, cannot hold it; a copy that failed (its disk full) is listed with its error and does
// not count, so the torrent gets another holder; a pass reads only the torrents it was told of, the
// whole library when the members change. A member back with its copies (a third for 2 replicas),
// a lowered replicas or a failed copy resumed: the surplus is trimmed once the copies kept are complete.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { Store } from '@cascade/node/cluster-host';
import { ClusterMembership, HolderStore, Placement, type MemberStats } from '../index.ts';
import { postgres, sqlite, type Open } from '../../node/test/store-engines.ts';

const X = 'a'.repeat(40);
const Y = 'b'.repeat(40);

function member(store: Store, name: string, torrents: number, freeBytes = 5_000_000_000): Promise<ClusterMembership> {
  const stats: MemberStats = { torrents, freeBytes, downloadRate: 0, uploadRate: 0, btPort: 7000 + torrents };
  return ClusterMembership.join(store, { id: `did:key:z${name}`, url: `http://127.0.0.${torrents}:8080`, instance: `instance-${name}`, stats: () => stats });
}

async function torrent(store: Store, ih: string, holder?: ClusterMembership): Promise<void> {
  await store.run("INSERT INTO torrents (info_hash, source_kind, magnet, save_path, status, added_at) VALUES (?, 'magnet', ?, '/lib', 'queued', 1)", [ih, ih]);
  if (holder) await store.run("INSERT INTO torrent_holders (info_hash, member_id, epoch, state, updated_at, save_path) VALUES (?, ?, ?, 'seeding', 1, '/own')", [ih, holder.id, holder.epoch]);
}

function placement(store: Store, m: ClusterMembership, placed: string[][] = []): Placement {
  return new Placement({ membership: m, holders: new HolderStore(store), replicas: () => null, placed: (ihs) => void placed.push([...ihs]), note: (text) => assert.fail(text) });
}

const pairs = (run: { placed: { infoHash: string; member: string }[] } | undefined) => run!.placed.map((p) => `${p.infoHash.slice(0, 1)} ${p.member.slice(9)}`).sort();

async function cases(t: TestContext, open: Open): Promise<void> {
  await t.test('placed up to replicas by load, once; repaired after a death; fenced on the coordinator lease; peers and holders', async (t) => {
    const store = await open(t);
    const a = await member(store, 'a', 2);
    const b = await member(store, 'b', 3);
    const c = await member(store, 'c', 4);
    for (const m of [a, b, c]) await m.tick();
    assert.equal(a.isCoordinator, true, 'the first to renew coordinates');
    await torrent(store, X, a);
    await torrent(store, Y);

    const told: string[][] = [];
    const p = placement(store, a, told);
    const first = await p.run();
    assert.equal(first!.target, 2, 'replicas automatic: 2 of 3 members');
    // X: a holds it, b is the least loaded other. Y: a (2 torrents), then b (3, +1 for X) before c (4).
    assert.deepEqual(pairs(first), ['a b', 'b a', 'b b']);
    assert.deepEqual(told.flat().sort(), [X, Y]);
    assert.deepEqual(pairs(await p.run()), [], 'a second pass places nothing');
    const hs = new HolderStore(store);
    assert.deepEqual(await hs.placedOn(b.id), [X, Y].sort(), 'b has not taken them yet');

    // b's lease runs out. A coordinator whose own renewal is late (it stood still: a paused VM)
    // judges nothing before its next renewal: b may have stood still with it (membership.ts).
    await store.run('UPDATE cluster_members SET lease_until = lease_until - 60000 WHERE id = ?', [b.id]);
    await store.run('UPDATE cluster_members SET last_seen = last_seen - ? WHERE id = ?', [a.standStillMs + 1000, a.id]);
    assert.equal(await p.run(), undefined, 'a coordinator that stood still places nothing');
    assert.deepEqual(await hs.placedOn(c.id), [], 'nothing placed on c yet');
    // b dies: declared by the coordinator, its rows stay (not alive) and X and Y go to c.
    await a.tick();
    const repair = await p.run();
    assert.deepEqual(pairs(repair), ['a c', 'b c']);
    const holders = await hs.holdersOf(X);
    assert.deepEqual(holders.map((h) => [h.member.slice(9), h.alive]), [['a', true], ['b', false], ['c', true]]);
    assert.equal(holders[0]!.url, 'http://127.0.0.2:8080');

    // Peers of a: the other live holders, with their engines' ports (not b: dead).
    await c.tick();
    const peers = (await hs.peersOf(a.id)).map((x) => `${x.infoHash.slice(0, 1)} ${x.member.slice(9)} ${x.btPort}`).sort();
    assert.deepEqual(peers, ['a c 7004', 'b c 7004']);

    // A coordinator epoch that is not the live one places nothing (one statement, fenced).
    await torrent(store, 'c'.repeat(40));
    assert.equal(await hs.place('c'.repeat(40), c.id, a.id, a.coordinatorEpoch! + 1), false);
    assert.deepEqual(await hs.placeAll([{ infoHash: 'c'.repeat(40), member: c.id }], a.id, a.coordinatorEpoch! + 1), [], 'a batch is fenced the same way');
    assert.equal(await hs.place('c'.repeat(40), c.id, c.id, 1), false, 'not the coordinator');
    assert.equal(await hs.place('c'.repeat(40), c.id, a.id, a.coordinatorEpoch!), true);
    assert.equal(await hs.place('c'.repeat(40), c.id, a.id, a.coordinatorEpoch!), false, 'once');
    assert.equal(await hs.place('d'.repeat(40), c.id, a.id, a.coordinatorEpoch!), false, 'not in the library');
    // A torrent the user paused is placed paused: the new holder does not start it.
    await torrent(store, 'e'.repeat(40));
    await store.run("UPDATE torrents SET status = 'paused' WHERE info_hash = ?", ['e'.repeat(40)]);
    assert.equal(await hs.place('e'.repeat(40), c.id, a.id, a.coordinatorEpoch!), true);
    assert.deepEqual((await hs.holdersOf('e'.repeat(40))).map((h) => h.state), ['paused']);

    // b back (same instance): its rows count again once it registers them at its new epoch.
    const back = await member(store, 'b', 3);
    await store.run('UPDATE torrent_holders SET epoch = ? WHERE member_id = ?', [back.epoch, back.id]);
    assert.deepEqual((await hs.holdersOf(X)).map((h) => h.alive), [true, true, true], 'over-replicated: nothing is trimmed');
    assert.deepEqual(pairs(await p.run()), ['c a', 'e a'], 'the torrents placed by hand on c alone get their second holder');

    // Trimmed (issue 63) once the copies kept are complete: those of the members up longest (a, c;
    // b joined again last). X: c's copy done, so b's goes (a tombstone its member acts on). Y: c's
    // still filling, so all three stay: the last complete copies never go.
    await store.run("UPDATE torrent_holders SET state = 'seeding', progress = 1 WHERE member_id = ? AND info_hash = ?", [c.id, X]);
    // Not while c missed its last renewal (killed a moment ago, its lease not yet out): were c
    // declared dead next, X would be placed on b again, to be fetched again whole.
    await store.run('UPDATE cluster_members SET last_seen = last_seen - 4000 WHERE id = ?', [c.id]);
    assert.deepEqual((await p.run({ full: true }))!.trimmed, [], 'kept while a kept copy\'s member missed a renewal');
    for (const m of [a, c]) await m.tick();
    const trim = await p.run({ full: true });
    assert.deepEqual(trim!.trimmed.map((x) => `${x.infoHash.slice(0, 1)} ${x.member.slice(9)}`), ['a b']);
    assert.deepEqual((await hs.holdersOf(X)).map((h) => h.member.slice(9)), ['a', 'c']);
    assert.deepEqual((await hs.holdersOf(Y)).map((h) => h.member.slice(9)), ['a', 'b', 'c']);
    assert.deepEqual(await hs.heldBy(back.id, [X, Y]), [Y], 'b holds no copy of X');
    assert.deepEqual((await p.run({ full: true }))!.trimmed, [], 'once');
    for (const m of [a, back, c]) await m.release();
  });

  /** Three members (a up longest) and a's placement with a `replicas` setting the test moves. */
  const trio = async (t: TestContext) => {
    const store = await open(t);
    const a = await member(store, 'a', 1);
    const b = await member(store, 'b', 2);
    const c = await member(store, 'c', 3);
    for (const m of [a, b, c]) await m.tick();
    const setting = { replicas: null as number | null };
    const p = new Placement({ membership: a, holders: new HolderStore(store), replicas: () => setting.replicas, placed: () => {}, note: (text) => assert.fail(text) });
    t.after(() => p.close());
    const hs = new HolderStore(store);
    return {
      store, a, b, c, p, setting,
      holding: async (ih: string) => (await hs.holdersOf(ih)).map((h) => h.member.slice(9)).sort(),
      copy: (ih: string, m: ClusterMembership, state: string, progress: number) => store.run('UPDATE torrent_holders SET state = ?, progress = ? WHERE info_hash = ? AND member_id = ?', [state, progress, ih, m.id]),
      release: async () => {
        for (const m of [a, b, c]) await m.release();
      },
    };
  };
  const trimmed = (run: { trimmed: { infoHash: string; member: string }[] } | undefined) => run!.trimmed.map((x) => `${x.infoHash.slice(0, 1)} ${x.member.slice(9)}`).sort();

  await t.test('a lowered replicas: a copy still filling goes first, then the newest member\'s; never the last complete ones', async (t) => {
    const { store, a, b, c, p, setting, holding, copy, release } = await trio(t);
    setting.replicas = 3;
    await torrent(store, X, a);
    assert.deepEqual(pairs(await p.run()), ['a b', 'a c']);
    await copy(X, c, 'seeding', 1);
    await copy(X, b, 'downloading', 0.5);
    // To 2: b's copy, still filling, goes (though b is up longer than c); to 1, c's (the newer
    // member's): a's, on the member up longest, stays. Each once.
    setting.replicas = 2;
    assert.deepEqual(trimmed(await p.run()), ['a b']);
    assert.deepEqual(await holding(X), ['a', 'c']);
    setting.replicas = 1;
    assert.deepEqual(trimmed(await p.run()), ['a c']);
    assert.deepEqual(await holding(X), ['a']);
    assert.deepEqual(trimmed(await p.run({ full: true })), [], 'once');
    // A torrent whose copies are all still filling keeps them all; once one is complete, the others go.
    await store.run("UPDATE cluster_members SET torrents = 9 WHERE id = ?", [c.id]);
    setting.replicas = 2;
    await torrent(store, Y);
    await p.run();
    assert.deepEqual(await holding(Y), ['a', 'b']);
    setting.replicas = 1;
    // (X, back at 2, was given a second copy meanwhile: it goes again, being the one filling.)
    assert.deepEqual(trimmed(await p.run()).filter((x) => x.startsWith('b')), [], 'both copies still filling: both kept');
    await copy(Y, b, 'seeding', 1);
    for (const m of [a, b, c]) await m.tick();
    p.soon([Y]);
    assert.deepEqual(trimmed(await p.run()), ['b a'], "a's copy, still filling, goes; b's whole one stays");
    assert.deepEqual(await holding(Y), ['b']);
    await release();
  });

  await t.test('a member restarted (the same instance joining again within its lease): its copies count from the join, nothing is placed elsewhere or trimmed', async (t) => {
    const { store, a, b, p, holding, copy, release } = await trio(t);
    await torrent(store, X, a);
    assert.deepEqual(pairs(await p.run()), ['a b']);
    await copy(X, b, 'seeding', 1);
    // b killed and started again: its join bumps its epoch. Its node has not started yet (it
    // registers its copies once it has: records.registerHeld), and the coordinator's pass runs now.
    const again = await member(store, 'b', 2);
    assert.equal(again.epoch, b.epoch + 1);
    const run = await p.run({ full: true });
    assert.deepEqual(pairs(run), [], "b's copy counts at its new epoch: X is not placed on c");
    assert.deepEqual(trimmed(run), []);
    assert.deepEqual(await holding(X), ['a', 'b']);
    const rows = await store.all<{ epoch: number | string }>('SELECT epoch FROM torrent_holders WHERE member_id = ?', [b.id]);
    assert.deepEqual(rows.map((r) => Number(r.epoch)), [again.epoch], 'its rows moved with the join');
    // Restarted again, between the pass's read of the members and its read of the holder rows: the
    // rows carry an epoch newer than the one the pass read, and count.
    const cs = a.store;
    const list = cs.list.bind(cs);
    let third: ClusterMembership | undefined;
    cs.list = async () => {
      const seen = await list();
      third ??= await member(store, 'b', 2);
      return seen;
    };
    const raced = await p.run({ full: true });
    cs.list = list;
    assert.equal(third!.epoch, again.epoch + 1);
    assert.deepEqual(pairs(raced), [], 'nothing placed on c');
    for (const m of [again, third!]) await m.release();
    await release();
  });

  await t.test('a member back after it was declared dead, its copy whole: the copy placed in its stead, still filling, goes', async (t) => {
    const { store, a, b, p, holding, copy, release } = await trio(t);
    await torrent(store, X, a);
    assert.deepEqual(pairs(await p.run()), ['a b']);
    await copy(X, b, 'seeding', 1);
    await store.run('UPDATE cluster_members SET lease_until = lease_until - 60000 WHERE id = ?', [b.id]);
    await a.tick();
    assert.deepEqual(pairs(await p.run()), ['a c'], 'repaired on c');
    // b back (a reboot) before c's copy is whole: c's goes, not b's (nothing fetched twice).
    const back = await member(store, 'b', 2);
    const run = await p.run({ full: true });
    assert.deepEqual(trimmed(run), ['a c']);
    assert.deepEqual(await holding(X), ['a', 'b']);
    await back.release();
    await release();
  });

  await t.test('a failed copy resumed after another was placed: three copies for 2, the newest member\'s goes', async (t) => {
    const { store, a, b, c, p, holding, copy, release } = await trio(t);
    const Z = 'c'.repeat(40);
    await torrent(store, Z, a);
    assert.deepEqual(pairs(await p.run()), ['c b']);
    await copy(Z, b, 'error', 0.2);
    p.soon([Z]);
    assert.deepEqual(pairs(await p.run()), ['c c'], "b's failed copy does not count");
    await copy(Z, c, 'seeding', 1);
    await copy(Z, b, 'seeding', 1);
    for (const m of [a, b, c]) await m.tick();
    p.soon([Z]);
    assert.deepEqual(trimmed(await p.run()), ['c c']);
    assert.deepEqual(await holding(Z), ['a', 'b']);
    await release();
  });

  await t.test('room: never on a member the torrent does not fit; a failed copy does not count; told torrents only, the whole library when members change', async (t) => {
    const store = await open(t);
    const a = await member(store, 'a', 1);
    const b = await member(store, 'b', 2, 10_000_000);
    const c = await member(store, 'c', 3, 900_000_000);
    for (const m of [a, b, c]) await m.tick();
    const sized = async (ih: string, length: number, holder?: ClusterMembership) => {
      await torrent(store, ih, holder);
      await store.run('UPDATE torrents SET length = ? WHERE info_hash = ?', [length, ih]);
    };
    // b has 10 MB free: a 20 MB torrent added through a goes to c.
    await sized(X, 20_000_000, a);
    const p = placement(store, a);
    t.after(() => p.close());
    assert.deepEqual(pairs(await p.run()), ['a c']);
    // Only b has room left among the others (c holds X): two 6 MB torrents added through c, b takes
    // the first; the second does not fit beside the first's 6 MB still to be written: it stays short.
    await sized(Y, 6_000_000, c);
    await sized('c'.repeat(40), 6_000_000, c);
    await store.run("UPDATE cluster_members SET free_bytes = 0 WHERE id = ?", [a.id]);
    p.soon([Y, 'c'.repeat(40)]);
    const run = await p.run();
    assert.equal(run!.full, false, 'told: only those two read');
    assert.equal(run!.torrents, 2);
    assert.deepEqual(pairs(run), ['b b'], 'b takes one 6 MB torrent; the other would not fit beside it');
    assert.equal(run!.short, 1);
    const hs = new HolderStore(store);
    assert.deepEqual(await hs.promised(), new Map([[b.id, 6_000_000], [c.id, 20_000_000]]), 'what the unfinished copies will still write');

    // b's copy of Y fails (its disk filled under it): listed with its error, not counted; Y is placed
    // on a, which has room again.
    await store.run("UPDATE torrent_holders SET state = 'error', error = 'disk error: ENOSPC: no space left on device, write' WHERE info_hash = ? AND member_id = ?", [Y, b.id]);
    await store.run('UPDATE cluster_members SET free_bytes = 900000000 WHERE id = ?', [a.id]);
    assert.deepEqual(pairs(await p.run()), ['c a'], "a's room moved: the torrent left short of room is tried again (not Y: nothing told of it)");
    p.soon([Y]);
    assert.deepEqual(pairs(await p.run()), ['b a']);
    const y = await hs.holdersOf(Y);
    assert.deepEqual(y.map((h) => [h.member.slice(9), h.state, h.error]), [['a', 'queued', null], ['b', 'error', 'disk error: ENOSPC: no space left on device, write'], ['c', 'seeding', null]]);

    // A torrent written without a word (a notice lost) is found by the full pass a member's change
    // (c's new epoch) brings: 'c' is short of room until a's room moved too, and is placed on a.
    await sized('d'.repeat(40), 1_000, c);
    const back = await member(store, 'c', 3, 900_000_000);
    const full = await p.run();
    assert.equal(full!.full, true);
    assert.ok(pairs(full).includes('d a') || pairs(full).includes('d b'), JSON.stringify(pairs(full)));
    for (const m of [a, b, back]) await m.release();
  });
}

test('placement on PostgreSQL, racing a removal: no holder row outlives the torrent', { timeout: 120_000 }, async (t) => {
  // The removal (records.remove) deletes the torrent, then makes its holder rows tombstones, in one
  // transaction. A placement that read the torrent's row before that transaction committed, and
  // committed its new holder row after the tombstones were written, left a row of a torrent no
  // longer in the library ("no rows without their torrent", bench:crash --cluster, 30 Nov). The
  // placement now locks the torrent's row it reads, so it waits for the removal and places nothing.
  const store = await postgres(t).open(t);
  const a = await member(store, 'a', 1);
  const b = await member(store, 'b', 2);
  for (const m of [a, b]) await m.tick();
  assert.equal(a.isCoordinator, true);
  const Z = 'e'.repeat(40);
  await torrent(store, Z, a);
  const hs = new HolderStore(store);
  let placing: Promise<boolean> | undefined;
  await store.transaction(async (tx) => {
    await tx.run('DELETE FROM torrents WHERE info_hash = ?', [Z]);
    await tx.run("UPDATE torrent_holders SET state = 'removed+data' WHERE info_hash = ?", [Z]);
    placing = hs.place(Z, b.id, a.id, a.coordinatorEpoch!);
    await new Promise((r) => setTimeout(r, 500));
  });
  assert.equal(await placing, false, 'nothing placed');
  const rows = await store.all<{ member_id: string; state: string }>('SELECT member_id, state FROM torrent_holders WHERE info_hash = ?', [Z]);
  assert.deepEqual(rows, [{ member_id: a.id, state: 'removed+data' }]);
  for (const m of [a, b]) await m.release();
});

test('placement on SQLite', async (t) => cases(t, sqlite()));
test('placement on PostgreSQL', { timeout: 120_000 }, async (t) => cases(t, postgres(t).open));
