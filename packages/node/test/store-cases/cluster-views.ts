// What a cluster's member reads of another's writes (issue 42 step 4), on both engines: two members'
// torrent records on one Store — a torrent added by one is read by the other (reload, reloadAll),
// marked changed only when it did, listed but not held there, and a status written there for it
// makes it no holder; which statements count as shared writes; and, on PostgreSQL, the writes a
// commit reports (PostgresStore.onCommit: nothing for a rollback or a member's own rows).
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { TorrentRecords, sharedWrite, type SharedWrite } from '@cascade/node-state';
import type { Store } from '@cascade/node-state/store';
import type { PostgresStore } from '@cascade/node-state/postgres-store';
import type { Open } from '../store-engines.ts';

export async function clusterViewCases(t: TestContext, open: Open): Promise<void> {
  await t.test('two members on one store: one reads what the other wrote, and holds only its own', async (t) => {
    const store = await open(t);
    const a = await TorrentRecords.load(store, 'member-a');
    const b = await TorrentRecords.load(store, 'member-b');
    const x = 'ab'.repeat(20);
    await a.add({ infoHash: x, name: 'x', source: `magnet:?xt=urn:btih:${x}`, savePath: '/d', status: 'paused' });
    assert.equal(b.has(x), false);
    b.takeDirty();
    assert.deepEqual(await b.reload([x]), [x]);
    assert.deepEqual([...b.takeDirty()], [x]);
    assert.equal(b.get(x)!.name, 'x');
    assert.equal(a.heldHere(x), true);
    assert.equal(b.heldHere(x), false, 'listed on B, held by A');
    assert.deepEqual(await b.reload([x]), [], 'unchanged: not marked');
    assert.deepEqual([...b.takeDirty()], []);

    await a.setOptions([[x, { category: null, tags: ['t'] }]]);
    assert.deepEqual(await b.reloadAll(), [x]);
    assert.deepEqual(b.get(x)!.tags, ['t']);

    // A status written on B (a pause there) is the library's, and gives B no holder row.
    await b.setStatuses(new Map([[x, 'queued']]));
    const holders = await store.all<{ member_id: string }>('SELECT member_id FROM torrent_holders WHERE info_hash = ?', [x]);
    assert.deepEqual(holders.map((h) => h.member_id), ['member-a']);

    await a.remove([x]);
    assert.deepEqual(await b.reloadAll(), [x]);
    assert.equal(b.has(x), false);
    assert.deepEqual(await b.reloadAll(), []);

    // A single node holds every record it has.
    const single = await TorrentRecords.load(store);
    await single.add({ infoHash: x, source: x, savePath: '/d', status: 'queued' });
    await store.run('DELETE FROM torrent_holders WHERE info_hash = ?', [x]);
    assert.equal((await TorrentRecords.load(store)).heldHere(x), true);
  });

  await t.test("a read of another member's write that began before a write here does not put its older row over it", async (t) => {
    const store = await open(t);
    // The member's reads (get, all) go through here: the next one, once held, returns what it read
    // only when let go, as a read that began just before a write here and ended after it.
    let hold: { read: () => void; go: Promise<void> } | undefined;
    const slowReads = new Proxy(store, {
      get(target, key: keyof Store) {
        const v = target[key];
        if (typeof v !== 'function') return v;
        if (key !== 'get' && key !== 'all') return v.bind(target);
        return async (...args: unknown[]) => {
          const rows: unknown = await (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          const h = hold;
          hold = undefined;
          if (h) {
            h.read();
            await h.go;
          }
          return rows;
        };
      },
    });
    const holdNext = (): { read: Promise<void>; go: () => void } => {
      let read!: () => void;
      let go!: () => void;
      const r = new Promise<void>((res) => (read = res));
      hold = { read, go: new Promise<void>((res) => (go = res)) };
      return { read: r, go };
    };
    const a = await TorrentRecords.load(store, 'member-a');
    const b = await TorrentRecords.load(slowReads, 'member-b');
    const x = 'ef'.repeat(20);
    const add = (): Promise<void> => a.add({ infoHash: x, name: 'x', source: `magnet:?xt=urn:btih:${x}`, savePath: '/d', status: 'paused' });
    const whileReading = async (read: () => Promise<unknown>, write: () => Promise<unknown>): Promise<void> => {
      const held = holdNext();
      const reading = read();
      await held.read;
      await write();
      held.go();
      await reading;
    };
    await add();
    await b.reload([x]);

    // A change here (force start) made while a notice's read is under way stays.
    await whileReading(() => b.reload([x]), () => b.setForceStart([x], true));
    assert.equal(b.get(x)!.forceStart, true, 'the change made here stands');
    // The removal through this member while another notice's read is under way: the torrent stays
    // gone (before: listed here again until the next change of it).
    await whileReading(() => b.reload([x]), () => b.remove([x], true));
    assert.equal(b.has(x), false, 'removed here: not listed again');

    // The same for a full read (a resync), and a torrent added here meanwhile is not taken away.
    await add();
    await b.reload([x]);
    await whileReading(() => b.reloadAll(), () => b.remove([x], true));
    assert.equal(b.has(x), false, 'removed during a resync: not listed again');
    const y = '0f'.repeat(20);
    await whileReading(() => b.reloadAll(), () => b.add({ infoHash: y, name: 'y', source: y, savePath: '/d', status: 'paused' }));
    assert.equal(b.has(y), true, 'added here during a resync: still listed');
  });

  await t.test("a member's tombstone dropped with a status on its way (or one after): no holder row comes back", async (t) => {
    const store = await open(t);
    const a = await TorrentRecords.load(store, 'member-a');
    const b = await TorrentRecords.load(store, 'member-b');
    const x = 'cd'.repeat(20);
    await a.add({ infoHash: x, name: 'x', source: `magnet:?xt=urn:btih:${x}`, savePath: '/a', status: 'seeding' });
    // b's copy, trimmed (the coordinator's tombstone): the torrent stays in the library.
    await store.run("INSERT INTO torrent_holders (info_hash, member_id, state, epoch, updated_at, save_path, progress) VALUES (?, 'member-b', 'removed+data', 0, 0, '/b', 1)", [x]);
    await b.reload([x]);
    assert.equal(b.heldHere(x), true, 'a tombstone is a holder row');
    const bRows = async () => (await store.all<{ state: string }>("SELECT state FROM torrent_holders WHERE info_hash = ? AND member_id = 'member-b'", [x])).map((r) => r.state);
    const pending = b.setStatus(x, 'seeding'); // the queue's, on its way when the tombstone is acted on
    assert.equal(await b.dropTombstone(x), true);
    await pending;
    await b.setStatus(x, 'seeding'); // and one after
    assert.deepEqual(await bRows(), [], 'no holder row of b');
    assert.equal(b.heldHere(x), false);
  });

  await t.test("a member's status never makes its holder row: a row gone while the view still held it stays gone", async (t) => {
    const store = await open(t);
    const a = await TorrentRecords.load(store, 'member-a');
    const b = await TorrentRecords.load(store, 'member-b');
    const x = 'c3'.repeat(20);
    await a.add({ infoHash: x, name: 'x', source: `magnet:?xt=urn:btih:${x}`, savePath: '/a', status: 'seeding' });
    await store.run("INSERT INTO torrent_holders (info_hash, member_id, state, epoch, updated_at, save_path, progress) VALUES (?, 'member-b', 'downloading', 0, 0, '/b', 0.5)", [x]);
    await b.reload([x]);
    assert.equal(b.heldHere(x), true);
    const bRow = async () => store.get<{ state: string; progress: number }>("SELECT state, progress FROM torrent_holders WHERE info_hash = ? AND member_id = 'member-b'", [x]);
    // Its row written: an update of the row it has.
    await b.setStatus(x, 'seeding', { completedAt: 5 });
    assert.deepEqual({ ...(await bRow()), progress: Number((await bRow())!.progress) }, { state: 'seeding', progress: 1 });
    // The row deleted by a transaction beside this member's status batch (its surplus copy dropped
    // on PostgreSQL's pool): the status batch, holding it still, wrote 'seeding' at progress 1 into a
    // new row (bench:crash --cluster: a holder claiming a complete copy with nothing on disk).
    await store.run("DELETE FROM torrent_holders WHERE info_hash = ? AND member_id = 'member-b'", [x]);
    await b.setStatus(x, 'seeding');
    await b.setStatuses(new Map([[x, 'queued']]));
    await b.setStatuses(new Map([[x, 'paused']]), true);
    assert.equal(await bRow(), undefined, 'no holder row of b made by a status');
    assert.equal((await store.get<{ state: string }>("SELECT state FROM torrent_holders WHERE info_hash = ? AND member_id = 'member-a'", [x]))!.state, 'paused', "a's row still written");
    // A surplus copy dropped: held no more from the start, so a status given meanwhile writes nothing.
    await b.add({ infoHash: x, name: 'x', source: `magnet:?xt=urn:btih:${x}`, savePath: '/b', status: 'downloading' });
    const dropping = b.dropOwn([x]);
    const late = b.setStatus(x, 'seeding');
    await Promise.all([dropping, late]);
    assert.equal(await bRow(), undefined, 'a status given while the copy was dropped made no row');
    // A single node still writes its row (it holds every record it has).
    const single = await TorrentRecords.load(store);
    const y = 'd4'.repeat(20);
    await single.add({ infoHash: y, source: y, savePath: '/d', status: 'queued' });
    await store.run("DELETE FROM torrent_holders WHERE info_hash = ? AND member_id = ''", [y]);
    await single.setStatus(y, 'seeding');
    assert.equal((await store.get<{ state: string }>("SELECT state FROM torrent_holders WHERE info_hash = ? AND member_id = ''", [y]))?.state, 'seeding');
  });

  await t.test("a member's move is its own copy's: the library's save path is not another member's folder", async (t) => {
    const store = await open(t);
    const x = 'b5'.repeat(20);
    const library = async () => (await store.get<{ save_path: string }>('SELECT save_path FROM torrents WHERE info_hash = ?', [x]))!.save_path;
    const a = await TorrentRecords.load(store, 'member-a');
    await a.add({ infoHash: x, name: 'x', source: `magnet:?xt=urn:btih:${x}`, savePath: '/a', status: 'seeding' });
    await a.setSavePath(x, '/a/moved');
    assert.equal(a.get(x)!.savePath, '/a/moved');
    assert.equal(await library(), '/a', "a's folder went into the library's row, which a member with no row of its own reads as its copy's");
    const single = await TorrentRecords.load(store);
    await single.setSavePath(x, '/moved');
    assert.equal(await library(), '/moved', 'a single node moves its one copy');
  });

  await t.test("a member's (and a single node's) removal with the data keeps its own tombstone (with the info dict) until its files are gone", async (t) => {
    const store = await open(t);
    const x = 'a6'.repeat(20);
    const info = new Uint8Array([100, 101]);
    const rows = async () => (await store.all<{ member_id: string; state: string }>('SELECT member_id, state FROM torrent_holders WHERE info_hash = ? ORDER BY member_id', [x])).map((r) => `${r.member_id} ${r.state}`);
    const a = await TorrentRecords.load(store, 'member-a');
    await a.add({ infoHash: x, name: 'x', source: `magnet:?xt=urn:btih:${x}`, savePath: '/a', status: 'seeding' });
    await a.remove([x], true, new Map([[x, info]]));
    // Killed here, before its files went: the tombstone names them for its sweep when it is back
    // (before, its own row went with the library's and nothing named its files again).
    assert.deepEqual(await rows(), ['member-a removed+data']);
    const resume = await store.get<{ info: Uint8Array }>("SELECT info FROM resume WHERE info_hash = ? AND member_id = 'member-a'", [x]);
    assert.deepEqual([...resume!.info], [...info]);
    assert.equal(await a.dropTombstone(x), true, 'dropped once the files are gone');
    assert.deepEqual(await rows(), []);
    // Without the data, its own row goes with the library's.
    await a.add({ infoHash: x, name: 'x', source: `magnet:?xt=urn:btih:${x}`, savePath: '/a', status: 'seeding' });
    await a.remove([x], false);
    assert.deepEqual(await rows(), []);
    // A single node ('') keeps its own as a member does: killed before its files went, its next
    // start deletes them (serve, @cascade/cluster/tombstones; before, they stayed for good).
    const single = await TorrentRecords.load(store);
    await single.add({ infoHash: x, name: 'x', source: `magnet:?xt=urn:btih:${x}`, savePath: '/a', status: 'seeding' });
    await single.remove([x], true, new Map([[x, info]]));
    assert.deepEqual(await rows(), [' removed+data']);
    assert.equal(await single.dropTombstone(x), true);
    assert.deepEqual(await rows(), []);
  });

  await t.test("the library's status is its holders': a trimmed copy's late status is not written, a resume through any member queues every stopped holder", async (t) => {
    const store = await open(t);
    const [a, b, c] = await Promise.all(['member-a', 'member-b', 'member-c'].map((m) => TorrentRecords.load(store, m)));
    const x = 'e1'.repeat(20);
    await a.add({ infoHash: x, name: 'x', source: `magnet:?xt=urn:btih:${x}`, savePath: '/a', status: 'seeding' });
    await store.run("INSERT INTO torrent_holders (info_hash, member_id, state, epoch, updated_at, save_path, progress) VALUES (?, 'member-b', 'seeding', 0, 0, '/b', 1)", [x]);
    for (const m of [b, c]) await m.reload([x]);
    const states = async () => Object.fromEntries((await store.all<{ member_id: string; state: string }>('SELECT member_id, state FROM torrent_holders WHERE info_hash = ? ORDER BY member_id', [x])).map((r) => [r.member_id, r.state]));
    const library = async () => (await store.get<{ status: string }>('SELECT status FROM torrents WHERE info_hash = ?', [x]))!.status;

    // The user's pause through c, which holds no copy: every holder's.
    await c.setStatuses(new Map([[x, 'paused']]), true);
    assert.deepEqual(await states(), { 'member-a': 'paused', 'member-b': 'paused' });
    await b.reload([x]); // b hears of it
    // b's copy trimmed, its engine still stopping it: its 'done' lands after.
    await b.dropOwn([x]);
    await b.setStatus(x, 'seeding');
    assert.equal(await library(), 'paused', "a copy no longer held here does not speak for the library");
    assert.equal(b.get(x)!.status, 'paused', "nor for b's view");

    // A library status that disagrees with the holders (as the late status above wrote it before):
    // c, starting with it in view, still resumes every paused holder; a running copy stays as it is.
    await store.run("UPDATE torrents SET status = 'seeding' WHERE info_hash = ?", [x]);
    await store.run("INSERT INTO torrent_holders (info_hash, member_id, state, epoch, updated_at, save_path, progress) VALUES (?, 'member-d', 'downloading', 0, 0, '/d', 0)", [x]);
    const c2 = await TorrentRecords.load(store, 'member-c');
    assert.equal(c2.get(x)!.status, 'seeding');
    await c2.resume([x]);
    assert.deepEqual(await states(), { 'member-a': 'queued', 'member-d': 'downloading' });
    assert.equal(await library(), 'seeding', 'not stopped in the library: left as it is');
    // A holder resuming: its own view follows its row.
    await a.setStatuses(new Map([[x, 'paused']]), true);
    await a.resume([x]);
    assert.equal(a.get(x)!.status, 'queued');
    assert.equal(await library(), 'queued');
    await c2.resume(['00'.repeat(20)]); // not in the library: nothing
  });

  await t.test("a running status decided before the user's pause and written after it does not lift the pause; a resume does", async (t) => {
    const store = await open(t);
    const x = 'f2'.repeat(20);
    for (const member of ['', 'member-a']) {
      await store.run('DELETE FROM torrents');
      await store.run('DELETE FROM torrent_holders');
      const r = await TorrentRecords.load(store, member);
      const other = await TorrentRecords.load(store, 'member-b');
      await r.add({ infoHash: x, name: 'x', source: `magnet:?xt=urn:btih:${x}`, savePath: '/a', status: 'queued' });
      const stored = async () => ({
        library: (await store.get<{ status: string }>('SELECT status FROM torrents WHERE info_hash = ?', [x]))!.status,
        holder: (await store.get<{ state: string }>('SELECT state FROM torrent_holders WHERE info_hash = ? AND member_id = ?', [x, member]))?.state,
        view: r.get(x)!.status,
      });
      // The user's pause here, then a 'done' that was on its way (the engine's, after its flush).
      await r.setStatuses(new Map([[x, 'paused']]), true);
      await r.setStatus(x, 'seeding', { completedAt: 1 });
      assert.deepEqual(await stored(), { library: 'paused', holder: 'paused', view: 'paused' }, `${member || 'single node'}: a late 'done'`);
      assert.equal(r.get(x)!.completedAt, 1, 'its completion time is kept');
      // The queue's plan, made before the pause, writing after it.
      await r.setStatuses(new Map([[x, 'downloading']]));
      assert.deepEqual(await stored(), { library: 'paused', holder: 'paused', view: 'paused' }, `${member || 'single node'}: a late plan`);
      if (member) {
        // A pause through another member that this member's view has not heard of yet.
        await r.resume([x]);
        await other.reload([x]);
        await other.setStatuses(new Map([[x, 'paused']]), true);
        assert.equal(r.get(x)!.status, 'queued', 'not heard yet');
        await r.setStatuses(new Map([[x, 'downloading']]));
        assert.equal((await stored()).holder, 'paused', 'the pause in the database stays');
        await r.reload([x]);
      }
      await r.resume([x]);
      await r.setStatus(x, 'seeding');
      assert.deepEqual(await stored(), { library: 'seeding', holder: 'seeding', view: 'seeding' }, 'resumed, a status lands');
    }
  });

  await t.test('shared writes are read from the statement: table and key where it names one', async (t) => {
    const store = await open(t);
    const ih = 'cd'.repeat(20);
    assert.deepEqual(sharedWrite('UPDATE torrents SET category = ? WHERE info_hash = ?', ['films', ih]), { table: 'torrents', key: ih });
    assert.deepEqual(sharedWrite('\n  INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', ['downloadLimit', '1']), { table: 'settings', key: 'downloadLimit' });
    assert.deepEqual(sharedWrite('UPDATE torrents SET category = NULL WHERE category = ?', ['films']), { table: 'torrents', key: null }, 'rows it does not name by key');
    assert.deepEqual(sharedWrite('DELETE FROM rss_items WHERE feed_id = ?', [3]), { table: 'rss_items', key: null });
    assert.equal(sharedWrite('UPDATE torrent_holders SET progress = ? WHERE info_hash = ?', [1, ih]), undefined, "a member's own rows");
    assert.equal(sharedWrite('INSERT INTO chat_envelopes (id) VALUES (?)', [1]), undefined);
    assert.equal(sharedWrite('SELECT * FROM torrents'), undefined);
    if (store.dialect !== 'postgres') return;

    const pg = store as PostgresStore;
    const told: SharedWrite[][] = [];
    pg.onCommit = (w) => told.push(w);
    await pg.transaction(async (tx) => {
      await tx.run('INSERT INTO categories (name, save_path, created_at) VALUES (?, ?, ?)', ['films', null, 1]);
      await tx.run('INSERT INTO resume (info_hash, have, updated_at) VALUES (?, ?, ?)', [ih, new Uint8Array([1]), 1]);
      await tx.run('UPDATE categories SET save_path = ? WHERE name = ?', ['/x', 'nothing']); // no row changed
    });
    await assert.rejects(pg.transaction(async (tx) => {
      await tx.run('INSERT INTO categories (name, save_path, created_at) VALUES (?, ?, ?)', ['never', null, 1]);
      throw new Error('rolled back');
    }));
    await pg.run('DELETE FROM categories WHERE name = ?', ['films']);
    assert.deepEqual(told, [[{ table: 'categories', key: 'films' }], [{ table: 'categories', key: 'films' }]]);
    pg.onCommit = undefined;
  });
}
