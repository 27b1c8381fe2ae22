// The relay's store (src/relay/chat-store.ts) on its SQLite file and in PostgreSQL (a real server,
// postgres-store.ts's PostgresStore as the node gives it): the writes that must land together do (a
// batch of envelopes, all or none; a member counted against the limit and placed after the last
// envelope), a room made twice stays the first, a profile keeps the newer one, retention prunes what
// it should; the same cases on both.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteChatStore } from '../src/relay/sqlite-chat-store.ts';
import { PostgresChatStore } from '../src/relay/postgres-chat-store.ts';
import type { ChatStore } from '../src/relay/chat-store.ts';
import { PostgresStore, startPostgres } from '../../node/test/state-engines.ts';

const env = (id: string, kind = 'dm', recipient = 'did:bob') => ({ id, kind, sender: 'did:alice', recipient, ts: 1, stored: 2, body: `{"id":"${id}"}` });

/** A store, and the same store opened again (what a restart, or another node on the database, reads). */
type Open = (t: TestContext) => Promise<{ s: ChatStore; reopen: () => Promise<ChatStore> }>;

async function cases(t: TestContext, open: Open): Promise<void> {
  const { s, reopen } = await open(t);
  assert.deepEqual(await s.addEnvelopes([env('a'), env('b')]), [1, 2]);
  // A repeated id fails the batch: the envelope before it is not kept either.
  await assert.rejects(s.addEnvelopes([env('c'), env('a')]));
  assert.equal(await s.envelope('c'), undefined);
  assert.deepEqual({ ...(await s.envelope('b')) }, { seq: 2, sender: 'did:alice', body: '{"id":"b"}' });

  assert.equal(await s.createRoom({ id: 'g:one', kind: 'private', name: 'One', charter: '{}' }, 1), true);
  assert.equal(await s.createRoom({ id: 'g:one', kind: 'private', name: 'Other', charter: null }, 2), false);
  assert.equal((await s.room('g:one'))!.name, 'One');
  assert.equal(await s.addMember('g:one', { did: 'did:alice', role: 'admin', invitation: null }, 1, 2), 'added');
  await s.addEnvelopes([env('g0', 'group', 'g:one')]);
  assert.equal(await s.addMember('g:one', { did: 'did:bob', role: 'member', invitation: null }, 2, 2), 'added');
  assert.equal(await s.addMember('g:one', { did: 'did:carol', role: 'member', invitation: null }, 3, 2), 'full');
  assert.deepEqual((await s.members('g:one')).map((m) => m.did), ['did:alice', 'did:bob']);
  // Bob joined after the room's envelope g0: he reads the room's from the next on (a failed batch
  // may take numbers on PostgreSQL, never on SQLite: only the order is the contract).
  const [g1] = await s.addEnvelopes([env('g1', 'group', 'g:one')]);
  assert.deepEqual((await s.envelopesFor('did:bob', 0, 10)).map((e) => e.seq), [1, 2, g1]);

  await s.putProfile('did:bob', 5, 'five');
  await s.putProfile('did:bob', 4, 'four');
  assert.equal(await s.profile('did:bob'), 'five', 'an older profile does not replace a newer one');
  await s.close();

  const again = await reopen();
  t.after(() => again.close());
  assert.deepEqual(await again.roomsOf('did:bob'), ['g:one']);
  assert.deepEqual(await again.directPartners('did:alice', 10), ['did:bob']);
  assert.deepEqual(await again.groupPeers('did:alice', 10), ['did:bob']);

  // Retention (docs/retention.md): all stored at 2 ms; a cut-off at 2 keeps them, one past takes all
  // but the newest sender key per sender and recipient — the same SQL on both engines.
  await again.addEnvelopes([env('k1', 'skey'), env('k2', 'skey')]);
  assert.deepEqual(await again.prune(2), { envelopes: 0, profiles: 0 });
  // Profiles: dave signed in once, long ago, and nothing names him; erin is only invited somewhere.
  await again.putProfile('did:dave', 1, 'dave');
  await again.putProfile('did:erin', 1, 'erin');
  await again.putInvitation('g:one', 'did:erin', '{}');
  assert.deepEqual(await again.prune(3), { envelopes: 5, profiles: 1 });
  assert.equal(await again.profile('did:dave'), undefined, 'a profile nothing names goes');
  assert.equal(await again.profile('did:erin'), 'erin', 'an invitee keeps hers');
  assert.deepEqual(await again.prune(10), { envelopes: 0, profiles: 0 });
  assert.equal(await again.profile('did:bob'), 'five', "a room's member keeps his, however old");
  assert.equal(await again.envelope('k1'), undefined);
  assert.ok(await again.envelope('k2'), 'the newest sender key stays');
}

test('the chat store on its SQLite file: envelopes in one transaction, members after the last envelope and up to the limit, kept across a reopen', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-chat-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'sub', 'chat.db');
  await cases(t, async () => ({ s: new SqliteChatStore(path), reopen: async () => new SqliteChatStore(path) }));
});

test('the chat store in PostgreSQL: the same, and envelopes added at once get their numbers in commit order', async (t) => {
  const pg = await startPostgres(t);
  const url = await pg.database('chat');
  const db = await PostgresStore.open(url);
  t.after(() => db.close());
  await cases(t, async () => ({ s: await PostgresChatStore.open(db), reopen: async () => PostgresChatStore.open(await PostgresStore.open(url).then((d) => (t.after(() => d.close()), d))) }));
  // Many writers at once (the relay's requests, or several nodes): every envelope is numbered,
  // each batch's numbers in a row, and a reader after the last sees them all.
  const s = await PostgresChatStore.open(db);
  const batches = await Promise.all(Array.from({ length: 20 }, (_, i) => s.addEnvelopes([env(`p${i}a`), env(`p${i}b`)])));
  for (const [a, b] of batches) assert.equal(b, a! + 1);
  const seen = (await s.envelopesFor('did:bob', 0, 1000)).map((e) => e.seq);
  assert.deepEqual(seen, [...seen].sort((x, y) => x - y));
  assert.ok(batches.flat().every((n) => seen.includes(n)));
});
