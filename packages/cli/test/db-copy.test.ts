// Issue 42 item 1: a node's state moved into PostgreSQL and served from there. A real node fills a
// state dir (torrents with resume data, a category, tags, settings, RSS, users …; the tables a short
// run leaves empty are filled through the same state), `cascade db copy` moves it into a real
// PostgreSQL server, every table's rows are compared (table by table, whatever tables the schema
// has), and `cascade serve --database URL` lists the torrents with their options over HTTP, with the
// SQLite file moved away.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, renameSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { CHAT_TABLES, DB_FILE, MEMBER_TABLES, PostgresStore, SqliteStore, StateDB, plainRow, startPostgres, stateTables, tableRows, type Store } from '../../node/test/state-engines.ts';
import { cascade, cascadeHere, startServe } from './node-process.ts';
import { tempDir } from './helpers.ts';

const DID = 'did:key:z6MkqPdsGnMzT3eHr3FqVy44RNGR2SoJyFFwVX1zBdW2z4Ph';
const MAGNET = 'c'.repeat(40);
const json = { 'content-type': 'application/json' };
const TOKEN = 'copied-token-'.padEnd(43, 'x');

/** Each table's rows, as both engines give them alike, in one order. */
async function snapshot(store: Store): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const t of await stateTables(store)) out[t] = (await tableRows(store, t)).map((r) => JSON.stringify(plainRow(r), Object.keys(r).sort())).sort();
  return out;
}

/** What a short run of the node does not write (a chain's receipts, another peer's records …), put
 *  in through the state's own Store, so that no table is left empty. */
async function fillTheRest(stateDir: string, infoHash: string): Promise<void> {
  const db = await StateDB.open(stateDir);
  const s = db.store;
  const IH = infoHash;
  const missing = async (t: string) => !(await s.get(`SELECT 1 AS one FROM ${t} LIMIT 1`));
  const fills: Record<string, () => Promise<unknown>> = {
    sessions: () => s.run('INSERT INTO sessions (token_hash, did, address, created_at, expires_at) VALUES (?, ?, ?, ?, ?)', ['f'.repeat(64), DID, null, 1, 9_999_999_999_999]),
    compat_sessions: () => s.run('INSERT INTO compat_sessions (token_hash, api, created_at, last_seen) VALUES (?, ?, ?, ?)', ['c'.repeat(64), 'qbittorrent', 1, 2]),
    compat_state: () => s.run('INSERT INTO compat_state (api, name, value, updated_at) VALUES (?, ?, ?, ?)', ['transmission', 'session-memory', '{"speedDown":7}', 3]),
    compat_torrent_ids: () => s.run('INSERT INTO compat_torrent_ids (api, info_hash, id) VALUES (?, ?, ?)', ['transmission', IH, 1]),
    compat_login_failures: () => s.run('INSERT INTO compat_login_failures (api, address, failures, banned_until, updated_at) VALUES (?, ?, ?, ?, ?)', ['qbittorrent', '10.0.0.1', 2, 0, 4]),
    torrent_peers: () => s.run('INSERT INTO torrent_peers (info_hash, address, added_at) VALUES (?, ?, ?)', [IH, '127.0.0.1:6881', 2]),
    peers: () => db.recordPeers([{ address: '127.0.0.1:7000', peerId: 'p', up: 5, down: 7, lastSeen: 3 }]),
    identity_ledger: () => db.recordIdentities([{ did: DID, account: '0xabc', verifiedBytes: 1 << 20, hashFailures: 0, bans: 0, lastSeen: 4 }]),
    rss_items: async () => {
      const feed = await s.get<{ id: number }>('SELECT id FROM rss_feeds');
      await s.run('INSERT INTO rss_items (feed_id, guid, title, torrent_url, link, published_at, size, read, first_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', [feed!.id, 'g1', 'Show S01E01', `magnet:?xt=urn:btih:${'d'.repeat(40)}`, null, 5, 10, 0, 6]);
    },
    rss_matches: () => s.run('INSERT INTO rss_matches (feed_id, guid, rule_id, rule_name, title, source, info_hash, episode, error, attempts, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', [1, 'g0', 1, 'shows', 'Show S01E00', 'magnet:?x', null, 'S01E00', null, 1, 7]),
    share_keys: () => s.run('INSERT INTO share_keys (info_hash, key, origin) VALUES (?, ?, ?)', ['e'.repeat(40), new Uint8Array(32).fill(9), 'link']),
    share_writes: () => s.run('INSERT INTO share_writes (info_hash, written) VALUES (?, ?)', ['e'.repeat(40), new Uint8Array([0x80])]),
    file_cids: () => s.run('INSERT INTO file_cids (info_hash, file_index, sha256, cid) VALUES (?, ?, ?, ?)', [IH, 0, new Uint8Array(32).fill(1), 'bafkreitest']),
    dht_blames: () => s.run('INSERT INTO dht_blames (publisher, reason, at) VALUES (?, ?, ?)', [DID, 'a record that lied', 8]),
    // A node on SQLite keeps its token in its file; this one is what the copy then serves with.
    api_token: () => s.run('INSERT INTO api_token (id, token, created_at) VALUES (1, ?, ?)', [TOKEN, 10]),
    created_tags: () => s.run('INSERT INTO created_tags (name) VALUES (?)', ['later']),
    receipts_sent: () => s.run('INSERT INTO receipts_sent (info_hash, seeder, cumulative) VALUES (?, ?, ?)', [IH, '0xseeder', 123_456_789]),
    receipts_held: () => s.run('INSERT INTO receipts_held (info_hash, downloader, seeder, cumulative, expiry, chain_id, pool, signature, received_at, paid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', [IH, '0xdownloader', '0xseeder', '1000', '99999999999', '31337', '0xpool', '0x' + 'ab'.repeat(65), 9, '42']),
  };
  try {
    for (const [table, fill] of Object.entries(fills)) if (await missing(table)) await fill();
  } finally {
    await db.close();
  }
  // The chat relay's file (its tables made by the node's relay): a conversation's worth.
  const chat = SqliteStore.openPlain(join(stateDir, 'chat.db'));
  try {
    await chat.run('INSERT INTO envelopes (id, kind, sender, recipient, ts, stored, body) VALUES (?, ?, ?, ?, ?, ?, ?)', ['e1', 'dm', DID, 'did:key:other', 1, 2, '{"ciphertext":"…"}']);
    await chat.run('INSERT INTO profiles (did, ts, body) VALUES (?, ?, ?)', [DID, 3, '{"name":"a"}']);
    await chat.run('INSERT INTO rooms (id, kind, name, charter, created) VALUES (?, ?, ?, ?, ?)', ['g:one', 'private', 'One', '{}', 4]);
    await chat.run('INSERT INTO members (room, did, role, invitation, joined_seq, joined) VALUES (?, ?, ?, ?, ?, ?)', ['g:one', DID, 'admin', null, 0, 5]);
    await chat.run('INSERT INTO invitations (room, invitee, body) VALUES (?, ?, ?)', ['g:one', 'did:key:other', '{"invite":1}']);
  } finally {
    await chat.close();
  }
}

test('db copy moves every table of a real node\'s state into PostgreSQL, and serve --database runs on it', { timeout: 180_000 }, async (t) => {
  const pg = await startPostgres(t);
  const url = await pg.database('copied');
  const root = tempDir(t);
  const stateDir = join(root, 'state');

  const node = await startServe(t, { stateDir, args: ['--no-chain', '--allow-private-urls'] });
  const form = new FormData();
  form.append('files', new Blob(['z'.repeat(70_000)]), 'shared.bin');
  const upload = await node.api('/api/torrents', { method: 'POST', body: form });
  const shared = (await upload.json()) as { infoHash: string };
  assert.equal(upload.status, 201, JSON.stringify(shared));
  const category = await node.api('/api/categories', { method: 'POST', headers: json, body: JSON.stringify({ name: 'films', savePath: join(root, 'films') }) });
  assert.ok(category.status < 300, await category.text());
  const added = await node.api('/api/torrents', { method: 'POST', headers: json, body: JSON.stringify({ uri: `magnet:?xt=urn:btih:${MAGNET}&dn=later`, paused: true, category: 'films', tags: ['hd', 'new'], peers: ['127.0.0.1:6881'] }) });
  assert.equal(added.status, 201, await added.text());
  assert.equal((await node.here(['settings', 'maxActiveDownloads', '7'])).code, 0);
  assert.equal((await node.here(['limits', '--down', '3MiB', MAGNET])).code, 0);
  const feed = await node.api('/api/rss/feeds', { method: 'POST', headers: json, body: JSON.stringify({ url: 'http://127.0.0.1:9/feed.xml' }) });
  assert.ok(feed.status < 300, await feed.text());
  const rule = await node.api('/api/rss/rules', { method: 'POST', headers: json, body: JSON.stringify({ name: 'shows', mustContain: 'S01' }) });
  assert.ok(rule.status < 300, await rule.text());
  assert.equal((await node.api('/api/rss/settings', { method: 'PATCH', headers: json, body: JSON.stringify({ maxItemsPerFeed: 50 }) })).status, 200);
  assert.equal((await node.here(['users', 'add', DID, '--role', 'viewer'])).code, 0);

  // Refused while the node runs: what it writes after the copy would be left behind.
  const running = await node.here(['db', 'copy', '--database', url]);
  assert.equal(running.code, 1, running.stderr);
  assert.match(running.stderr, /runs on .*stop it first/);
  await node.stop();

  await fillTheRest(stateDir, shared.infoHash);
  const sqlite = SqliteStore.openFile(join(stateDir, DB_FILE));
  const before = await snapshot(sqlite);
  await sqlite.close();
  // chat.db's tables are chat_* in PostgreSQL.
  const chatFile = SqliteStore.openPlain(join(stateDir, 'chat.db'));
  for (const [table, rows] of Object.entries(await snapshot(chatFile))) before[CHAT_TABLES[table]!] = rows;
  await chatFile.close();
  const empty = Object.entries(before).filter(([, rows]) => rows.length === 0).map(([table]) => table);
  assert.deepEqual(empty, [], 'every table holds a row to copy (a new table: fill it in fillTheRest)');
  assert.ok(before.resume!.length >= 1 && before.torrents!.length === 2 && before.identity!.length === 1);
  assert.equal(before.torrent_holders!.length, 2, 'the node holds both torrents (schema 19)');

  const copied = await cascadeHere(['db', 'copy', '--json', '--state-dir', stateDir, '--database', url]);
  assert.equal(copied.code, 0, copied.stderr + copied.stdout);
  assert.equal(copied.json.event, 'state-copied');
  assert.deepEqual(
    Object.fromEntries((copied.json.tables as { name: string; rows: number }[]).filter((x) => !x.name.endsWith('api-token file)')).map((x) => [x.name, x.rows])),
    Object.fromEntries(Object.entries(before).map(([table, rows]) => [table, rows.length])),
  );

  const target = await PostgresStore.open(url);
  try {
    const after = await snapshot(target);
    assert.deepEqual(Object.keys(after).sort(), Object.keys(before).sort(), 'the same tables');
    for (const table of Object.keys(before)) assert.deepEqual(after[table], before[table], `${table}: the same rows`);
    // A single node's own rows stay the single node's (member ''): a cluster renames them when it joins.
    for (const table of MEMBER_TABLES) {
      const n = (await target.get<{ n: number }>(`SELECT count(*) AS n FROM ${table} WHERE member_id <> ''`))!.n;
      assert.equal(n, 0, `${table}: every row is member ''`);
    }
  } finally {
    await target.close();
  }

  // Once copied, the target holds state: a second copy is refused and changes nothing.
  const again = await cascadeHere(['db', 'copy', '--state-dir', stateDir, '--database', url]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already holds state/);

  // The SQLite file is kept, but nothing opens it by mistake: a verb without --database says where
  // the state went (and how to use the old file on purpose) instead of reading a frozen copy.
  const stale = await cascadeHere(['list', '--state-dir', stateDir]);
  assert.equal(stale.code, 1, stale.stdout);
  assert.match(stale.stderr, /was moved to postgres:\/\/.*by `cascade db copy`.*pass --database URL/);
  assert.doesNotMatch(stale.stderr, /secret|password=/i);

  // The node on PostgreSQL, its SQLite file moved away: the library, options and settings are there.
  renameSync(join(stateDir, DB_FILE), join(stateDir, 'moved-away.db'));
  const onPg = await startServe(t, { stateDir, args: ['--no-chain', '--database', url] });
  assert.equal(onPg.events.find((e) => e.event === 'serving')!.database, url, 'it says where its state is');
  const list = (await (await onPg.api('/api/torrents')).json()) as { torrents?: { infoHash: string; category: string | null; tags: string[] }[] } | { infoHash: string; category: string | null; tags: string[] }[];
  const entries = Array.isArray(list) ? list : list.torrents!;
  assert.deepEqual(entries.map((e) => e.infoHash).sort(), [shared.infoHash, MAGNET].sort());
  const magnet = entries.find((e) => e.infoHash === MAGNET)!;
  // The shared file's resume data came along: it is whole, without a download (it has no peer to
  // download from; on a loaded machine its check may still be running when the list is first read).
  const progressOf = async () => {
    const l = (await (await onPg.api('/api/torrents')).json()) as { torrents?: { infoHash: string; progress: number }[] } | { infoHash: string; progress: number }[];
    return (Array.isArray(l) ? l : l.torrents!).find((e) => e.infoHash === shared.infoHash)!.progress;
  };
  let whole = (entries.find((e) => e.infoHash === shared.infoHash) as unknown as { progress: number }).progress;
  for (const until = Date.now() + 30_000; whole !== 1 && Date.now() < until; whole = await progressOf()) await new Promise((r) => setTimeout(r, 200));
  assert.equal(whole, 1);
  assert.deepEqual([magnet.category, [...magnet.tags].sort()], ['films', ['hd', 'new']]);
  assert.equal(onPg.token, TOKEN, 'the state\'s API token wins over the file on PostgreSQL (and the file follows it)');
  const settings = (await (await onPg.api('/api/settings')).json()) as { maxActiveDownloads: number };
  assert.equal(settings.maxActiveDownloads, 7);
  const users = (await (await onPg.api('/api/users')).json()) as { users: { id: string; role: string }[] };
  assert.ok(users.users.some((u) => u.id === DID && u.role === 'viewer'), JSON.stringify(users));
  // Ids go on past the copied ones (the identity sequences moved): a new feed is not refused as a duplicate.
  const feed2 = await onPg.api('/api/rss/feeds', { method: 'POST', headers: json, body: JSON.stringify({ url: 'http://127.0.0.1:9/other.xml' }) });
  assert.ok(feed2.status < 300, await feed2.text());
  await onPg.stop();
  // The verbs with no node running read the same database.
  const offline = await cascadeHere(['list', '--json', '--state-dir', stateDir, '--database', url]);
  assert.equal(offline.code, 0, offline.stderr);
  assert.equal(offline.stdout.split('\n').filter((l) => l.includes(MAGNET)).length, 1, offline.stdout);
  assert.equal(existsSync(join(stateDir, DB_FILE)), false, 'a node on PostgreSQL makes no SQLite state file');
});

test('a bad or unreachable --database is a clear error, its password never shown', { timeout: 60_000 }, async (t) => {
  const stateDir = join(tempDir(t), 'state');
  const usage = await cascade(['serve', '--database', 'mysql://root:hunter2@127.0.0.1/x', '--state-dir', stateDir]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--database wants a PostgreSQL URL/);
  assert.doesNotMatch(usage.stderr, /hunter2/);
  // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
  const down = await cascade(['serve', '--json', '--http-port', '0', '--port', '0', '--tracker-port', '0', '--no-dht', '--no-chain', '--database', 'postgres://cascade:hunter2@127.0.0.1:9/state', '--state-dir', stateDir]);
  assert.equal(down.code, 1, down.stderr);
  assert.match(down.stdout + down.stderr, /cannot reach the database at postgres:\/\/cascade:\*\*\*@127\.0\.0\.1:9\/state \(connection refused\); start it or pass --database/);
  assert.doesNotMatch(down.stdout + down.stderr, /hunter2/);
  const copy = await cascadeHere(['db', 'copy', '--state-dir', stateDir]);
  assert.equal(copy.code, 2, 'db copy without a database is a usage error');
});

test('one node per database: a second is refused naming the first; a node killed takes it back at once, a node stopped frees it', { timeout: 120_000 }, async (t) => {
  const pg = await startPostgres(t);
  const url = await pg.database('leased');
  const root = tempDir(t);
  const [stateA, stateB] = [join(root, 'a'), join(root, 'b')];
  const args = ['--no-chain', '--database', url];
  const a = await startServe(t, { stateDir: stateA, args });
  const serveB = () => cascade(['serve', '--json', '--http-port', '0', '--port', '0', '--tracker-port', '0', '--no-dht', '--state-dir', stateB, ...args]);
  const refused = await serveB();
  assert.equal(refused.code, 1, refused.stdout + refused.stderr);
  const said = refused.stdout + refused.stderr;
  assert.match(said, new RegExp(`another Cascade node uses the database .*: pid ${a.child.pid} on host .+, state dir ${stateA.replace(/[/.]/g, '\\$&')}, its lease renewed`));
  assert.doesNotMatch(said, /cascade:[^*]+@/, 'the password is not shown');
  // kill -9: the same state dir starts again at once (its own lease), without waiting it out.
  a.child.kill('SIGKILL');
  await once(a.child, 'exit');
  const a2 = await startServe(t, { stateDir: stateA, args });
  // A clean stop gives the lease back: the other node starts now.
  await a2.stop();
  const b = await startServe(t, { stateDir: stateB, args });
  assert.ok(b.events.some((e) => e.event === 'serving'));
  await b.stop();
});
