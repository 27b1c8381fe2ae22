// The relay's retention (issue 63, docs/retention.md): envelopes stored longer ago than the
// retention go — direct messages, group messages, superseded sender keys — while each sender's
// newest sender key to each recipient stays (group messages still sealed with it need it), and a
// relay started on an old chat.db forgets what is past it at once. Before, nothing was ever deleted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { SqliteChatStore } from '../src/relay/sqlite-chat-store.ts';
import { CHAT_RETENTION_MS } from '../server.ts';
import { startChatServer, until } from './helpers.ts';

const DAY = 86_400_000;

function env(id: string, kind: string, sender: string, recipient: string, stored: number) {
  return { id, kind, sender, recipient, ts: stored, stored, body: '{}' };
}

test('envelopes past the retention go; each newest sender key to a recipient stays; sequence numbers go on', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'chat-retention-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'chat.db');
  const store = new SqliteChatStore(file);
  const now = Date.now();
  const old = now - 40 * DAY;
  await store.addEnvelopes([
    env('dm-old', 'dm', 'did:a', 'did:b', old),
    env('group-old', 'group', 'did:a', 'g:room', old),
    env('skey-old-1', 'skey', 'did:a', 'did:b', old),
    env('skey-old-2', 'skey', 'did:a', 'did:b', old + 1),
    env('skey-old-c', 'skey', 'did:a', 'did:c', old),
    env('dm-new', 'dm', 'did:b', 'did:a', now),
  ]);
  assert.equal(CHAT_RETENTION_MS, 30 * DAY, 'the default the docs give');
  const gone = await store.prune(now - CHAT_RETENTION_MS);
  assert.equal(gone.envelopes, 3);
  for (const id of ['dm-old', 'group-old', 'skey-old-1']) assert.equal(await store.envelope(id), undefined, `${id} is past the retention`);
  for (const id of ['skey-old-2', 'skey-old-c', 'dm-new']) assert.ok(await store.envelope(id), `${id} stays`);
  const last = (await store.envelope('dm-new'))!.seq;
  const [next] = await store.addEnvelopes([env('dm-next', 'dm', 'did:a', 'did:b', now)]);
  assert.ok(next! > last, 'a sequence number is never given again');
  await store.close();

  // A relay started on this file with a 1 s retention forgets the rest but the kept keys at once.
  const db = new DatabaseSync(file);
  db.prepare('UPDATE envelopes SET stored = ? WHERE id IN (?, ?)').run(now - 5_000, 'dm-new', 'dm-next');
  db.close();
  const server = await startChatServer({ dbPath: file, retentionMs: 1_000 });
  t.after(() => server.close());
  const left = () => {
    const d = new DatabaseSync(file, { readOnly: true });
    try {
      return (d.prepare('SELECT id FROM envelopes ORDER BY seq').all() as { id: string }[]).map((r) => r.id);
    } finally {
      d.close();
    }
  };
  await until(() => left().length === 2, 'the relay pruning at start');
  assert.deepEqual(left(), ['skey-old-2', 'skey-old-c']);
  assert.match(server.logs.join('\n'), /2 envelopes past the relay's retention forgotten/);
});
