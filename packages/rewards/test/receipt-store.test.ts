// receipt-store.ts on the node's Store (schema 16), on both its engines (the node's test helpers,
// store-engines.ts: the embedded SQLite file and a real PostgreSQL server): receipts sent and held
// read back by a new store, what the pool paid kept across a newer receipt, each member's own
// (schema 19); a state directory with the old chain/receipts.db opens with every receipt it held,
// and the old file is not read again; an expired held receipt is forgotten, and the counts sent for
// a torrent no longer in the library.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { COPIED_SUFFIX, OLD_RECEIPTS } from '../src/old-receipts.ts';
import { ReceiptStore, ReceiptsFullError } from '../src/receipt-store.ts';
import { postgres, sqlite, type Open } from '../../node/test/store-engines.ts';

const IH = 'a'.repeat(40);
const POOL = '0x' + '5'.repeat(40);
const receipt = (downloader: string, cumulative: bigint) => ({
  infoHash: IH, downloader, seeder: '0x' + '1'.repeat(40), cumulativeBytes: cumulative, expiry: 2n ** 40n, chainId: 31337n, pool: POOL, signature: '0x' + 'ab'.repeat(65),
});

/** The torrent in the node's library: what its sent counts are kept for (docs/retention.md). */
async function inLibrary(store: Awaited<ReturnType<Open>>, infoHash = IH): Promise<void> {
  await store.run("INSERT INTO torrents (info_hash, source_kind, magnet, save_path, status, added_at) VALUES (?, 'magnet', ?, '/x', 'paused', 1)", [infoHash, infoHash]);
}

function stateDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-receipts-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function receiptCases(t: TestContext, open: Open): Promise<void> {
  await t.test('receipts (receipt-store.ts): sent and held, read back by the next start', async (t) => {
    const store = await open(t);
    await inLibrary(store);
    const state = { store, stateDir: stateDir(t) };
    const r = new ReceiptStore(state);
    await r.ready;
    assert.equal(r.loaded, true);
    await r.setSent(IH, '0xseeder', 2 ** 40 + 0.7);
    await r.hold(receipt('0xd1', 10n ** 30n));
    await r.setPaid(IH, '0xd1', 5n);
    await r.hold(receipt('0xd1', 10n ** 30n + 1n));
    await r.hold(receipt('0xd0', 7n));
    const again = new ReceiptStore(state);
    assert.equal(again.loaded, false);
    await again.ready;
    assert.equal(again.sent(IH, '0xseeder'), 2 ** 40);
    assert.equal(again.sent(IH, '0xother'), 0);
    assert.deepEqual(again.allHeld().map((h) => [h.downloader, h.cumulativeBytes, h.paidBytes]), [['0xd0', 7n, 0n], ['0xd1', 10n ** 30n + 1n, 5n]]);
    assert.deepEqual(again.held(IH, '0xd1'), r.held(IH, '0xd1'));
    // Copies: a caller changing one changes nothing kept.
    again.allHeld()[0]!.paidBytes = 99n;
    assert.equal(again.held(IH, '0xd0')!.paidBytes, 0n);
  });

  await t.test('receipts (receipt-store.ts): a held receipt past its expiry is forgotten at start and as receipts arrive (docs/retention.md)', async (t) => {
    const store = await open(t);
    const state = { store, stateDir: stateDir(t) };
    const r = new ReceiptStore(state);
    await r.ready;
    const now = BigInt(Math.floor(Date.now() / 1000));
    await r.hold({ ...receipt('0xe1', 5n), expiry: now - 10n });
    await r.hold({ ...receipt('0xe2', 6n), expiry: now + 3600n });
    await r.setPaid(IH, '0xe1', 5n); // claimed, then expired: nothing left to do with it
    const rows = async () => (await store.all<{ downloader: string }>('SELECT downloader FROM receipts_held ORDER BY downloader')).map((x) => x.downloader);
    assert.deepEqual(await rows(), ['0xe1', '0xe2']);
    const again = new ReceiptStore(state);
    await again.ready;
    assert.deepEqual(await rows(), ['0xe2'], 'the expired one is gone from the state');
    assert.deepEqual(again.allHeld().map((h) => h.downloader), ['0xe2'], 'and from memory');
    assert.equal(await again.forgetExpired(now + 7200n), 1, 'the other once it expires');
    assert.deepEqual(again.allHeld(), []);
  });

  await t.test('receipts (receipt-store.ts): held receipts are bounded in all and per torrent; a known downloader still updates, an expiry makes room (docs/retention.md)', async (t) => {
    const store = await open(t);
    const state = { store, stateDir: stateDir(t) };
    const bounds = { maxHeld: 5, maxHeldPerTorrent: 3 };
    const r = new ReceiptStore(state, undefined, bounds);
    await r.ready;
    const IH2 = 'b'.repeat(40);
    const now = BigInt(Math.floor(Date.now() / 1000));
    await r.hold(receipt('0xd1', 1n));
    await r.hold(receipt('0xd2', 2n));
    await r.hold({ ...receipt('0xd3', 3n), expiry: now + 30n });
    await assert.rejects(r.hold(receipt('0xd4', 4n)), (err: Error) => err instanceof ReceiptsFullError && /3 receipts held for this torrent/.test(err.message));
    await r.hold(receipt('0xd1', 10n)); // a downloader already held: its newer receipt is kept
    await r.hold({ ...receipt('0xd1', 1n), infoHash: IH2 });
    await r.hold({ ...receipt('0xd2', 1n), infoHash: IH2 });
    await assert.rejects(r.hold({ ...receipt('0xd3', 1n), infoHash: IH2 }), /5 receipts held already/);
    const rows = async () => (await store.all<{ n: number }>('SELECT COUNT(*) AS n FROM receipts_held'))[0]!.n;
    assert.equal(Number(await rows()), 5, 'nothing refused reached the state');
    assert.equal(r.held(IH, '0xd1')!.cumulativeBytes, 10n);
    // A new start counts what it read: still full.
    const again = new ReceiptStore(state, undefined, bounds);
    await again.ready;
    await assert.rejects(again.hold(receipt('0xd5', 5n)), ReceiptsFullError);
    assert.equal(await again.forgetExpired(now + 60n), 1, "0xd3's receipt expired");
    await again.hold(receipt('0xd4', 4n));
    assert.deepEqual(again.allHeld().filter((h) => h.infoHash === IH).map((h) => h.downloader), ['0xd1', '0xd2', '0xd4']);
    assert.equal(Number(await rows()), 5);
  });

  await t.test("receipts (receipt-store.ts): the counts sent for a torrent go once it left the library, at start and in the sweep (docs/retention.md)", async (t) => {
    const store = await open(t);
    const IH2 = 'b'.repeat(40);
    await inLibrary(store);
    await inLibrary(store, IH2);
    const state = { store, stateDir: stateDir(t) };
    const r = new ReceiptStore(state);
    await r.ready;
    await r.setSent(IH, '0xs1', 10);
    await r.setSent(IH, '0xs2', 20);
    await r.setSent(IH2, '0xs1', 30);
    const rows = async () => (await store.all<{ info_hash: string; seeder: string }>('SELECT info_hash, seeder FROM receipts_sent ORDER BY info_hash, seeder')).map((x) => `${x.info_hash.slice(0, 1)} ${x.seeder}`);
    await store.run('DELETE FROM torrents WHERE info_hash = ?', [IH2]);
    const again = new ReceiptStore(state);
    await again.ready;
    assert.deepEqual(await rows(), ['a 0xs1', 'a 0xs2'], "the removed torrent's count is gone at start");
    assert.deepEqual([again.sent(IH, '0xs2'), again.sent(IH2, '0xs1')], [20, 0]);
    await store.run('DELETE FROM torrents WHERE info_hash = ?', [IH]);
    await again.forgetExpired();
    assert.deepEqual(await rows(), [], 'and in the sweep of a running node');
    assert.equal(again.sent(IH, '0xs1'), 0, 'in memory too');
  });

  await t.test('receipts (receipt-store.ts): the old chain/receipts.db is copied once, then never read', async (t) => {
    const store = await open(t);
    await inLibrary(store);
    const dir = stateDir(t);
    const path = join(dir, OLD_RECEIPTS);
    mkdirSync(join(dir, 'chain'));
    // The old file as ReceiptStore made it before schema 16 (WAL, WITHOUT ROWID).
    const old = new DatabaseSync(path);
    old.exec(`
      PRAGMA journal_mode = WAL;
      CREATE TABLE sent (info_hash TEXT NOT NULL, seeder TEXT NOT NULL, cumulative INTEGER NOT NULL, PRIMARY KEY (info_hash, seeder)) WITHOUT ROWID;
      CREATE TABLE held (
        info_hash TEXT NOT NULL, downloader TEXT NOT NULL, seeder TEXT NOT NULL, cumulative TEXT NOT NULL,
        expiry TEXT NOT NULL, chain_id TEXT NOT NULL, pool TEXT NOT NULL, signature TEXT NOT NULL, received_at INTEGER NOT NULL, paid TEXT NOT NULL DEFAULT '0',
        PRIMARY KEY (info_hash, downloader)) WITHOUT ROWID;
    `);
    old.prepare('INSERT INTO sent VALUES (?, ?, ?)').run(IH, '0xseeder', 123_456_789);
    const h = receipt('0xd1', 10n ** 25n);
    old.prepare('INSERT INTO held VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').run(IH, h.downloader, h.seeder, h.cumulativeBytes.toString(), h.expiry.toString(), '31337', POOL, h.signature, 1, '42');
    old.close();

    const r = new ReceiptStore({ store, stateDir: dir });
    await r.ready;
    assert.equal(r.sent(IH, '0xseeder'), 123_456_789);
    assert.deepEqual(r.allHeld(), [{ ...h, paidBytes: 42n }]);
    assert.equal(existsSync(path), false, 'the old file is moved aside');
    assert.equal(existsSync(path + COPIED_SUFFIX), true, 'and kept');
    // The state goes on without it: a newer count stays at the next start.
    await r.setSent(IH, '0xseeder', 200_000_000);
    const again = new ReceiptStore({ store, stateDir: dir });
    await again.ready;
    assert.equal(again.sent(IH, '0xseeder'), 200_000_000);
  });

  await t.test('receipts (receipt-store.ts): an unreadable old file is a clear error, and nothing is loaded', async (t) => {
    const store = await open(t);
    const dir = stateDir(t);
    mkdirSync(join(dir, 'chain'));
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, OLD_RECEIPTS), 'not a database, but long enough to look like a header of one'.repeat(20));
    const errors: unknown[] = [];
    const r = new ReceiptStore({ store, stateDir: dir }, (err) => errors.push(err));
    await r.ready;
    assert.equal(r.loaded, false);
    assert.match(String(errors[0]), /cannot read the old receipts file .*receipts\.db.*move it aside/);
    assert.equal(existsSync(join(dir, OLD_RECEIPTS)), true, 'left where it was');
  });

  await t.test("receipts (receipt-store.ts): each member's own on one database (schema 19)", async (t) => {
    const store = await open(t);
    await inLibrary(store);
    const dir = stateDir(t);
    const [a, b] = [new ReceiptStore({ store, stateDir: dir, memberId: 'a' }), new ReceiptStore({ store, stateDir: dir, memberId: 'b' })];
    await Promise.all([a.ready, b.ready]);
    await a.setSent(IH, '0xseeder', 100);
    await b.setSent(IH, '0xseeder', 200);
    await b.hold(receipt('0xd1', 7n));
    const [a2, b2] = [new ReceiptStore({ store, stateDir: dir, memberId: 'a' }), new ReceiptStore({ store, stateDir: dir, memberId: 'b' })];
    await Promise.all([a2.ready, b2.ready]);
    assert.deepEqual([a2.sent(IH, '0xseeder'), b2.sent(IH, '0xseeder')], [100, 200]);
    assert.deepEqual([a2.allHeld().length, b2.allHeld().length], [0, 1]);
  });
}

test('receipts on the Store on SQLite (the embedded state file)', async (t) => {
  await receiptCases(t, sqlite());
});

test('receipts on the Store on PostgreSQL (a server started for the test)', { timeout: 180_000 }, async (t) => {
  await receiptCases(t, postgres(t).open);
});
