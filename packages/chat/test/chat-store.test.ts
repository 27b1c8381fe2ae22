// The relay's store (src/relay/chat-store.ts) on its SQLite file: the writes that must land
// together do (a batch of envelopes, all or none; a member counted against the limit and placed
// after the last envelope), a room made twice stays the first, a profile keeps the newer one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteChatStore } from '../src/relay/sqlite-chat-store.ts';

const env = (id: string, kind = 'dm', recipient = 'did:bob') => ({ id, kind, sender: 'did:alice', recipient, ts: 1, stored: 2, body: `{"id":"${id}"}` });

test('the chat store: envelopes in one transaction, members after the last envelope and up to the limit, kept across a reopen', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-chat-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'sub', 'chat.db');
  const s = new SqliteChatStore(path);
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
  // Bob joined after envelope 3 (the failed batch took no number): he reads the room's from 4 on.
  await s.addEnvelopes([env('g1', 'group', 'g:one')]);
  assert.deepEqual((await s.envelopesFor('did:bob', 0, 10)).map((e) => e.seq), [1, 2, 4]);

  await s.putProfile('did:bob', 5, 'five');
  await s.putProfile('did:bob', 4, 'four');
  assert.equal(await s.profile('did:bob'), 'five', 'an older profile does not replace a newer one');
  await s.close();

  const again = new SqliteChatStore(path);
  t.after(() => again.close());
  assert.deepEqual(await again.roomsOf('did:bob'), ['g:one']);
  assert.deepEqual(await again.directPartners('did:alice', 10), ['did:bob']);
  assert.deepEqual(await again.groupPeers('did:alice', 10), ['did:bob']);
});
