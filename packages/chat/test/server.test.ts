// Socket-level tests: real socket.io server with attachChat, ChatClients and raw sockets in Node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AUTH_DOMAIN, b64u, createCharter, createInvitation, generateIdentity, makeProfile, sealDirect, sealGroup, createSenderKey, signBytes,
  signEnvelope, type Envelope, type Identity,
} from '../index.ts';
import { utf8 } from '@cascade/identity';
import { after, afterEach } from 'node:test';
import { closeClients, emitAck, rawSocket, startChatServer, startClient, texts, until } from './helpers.ts';

afterEach(() => closeClients());
after(() => closeClients());

const dm = (did: string) => `dm:${did}`;

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'cascade-chat-'));
}

/** Every byte the server wrote: the SQLite file and its WAL/SHM, and the log. */
function serverBytes(dir: string, logs: string[]): string {
  const files = readdirSync(dir).filter((f) => f.startsWith('chat.db'));
  return files.map((f) => readFileSync(join(dir, f)).toString('latin1')).join('\n') + '\n' + logs.join('\n');
}

async function rawAuthed(url: string, id: Identity) {
  const s = rawSocket(url);
  await new Promise<void>((r) => s.once('connect', () => r()));
  const { nonce } = await emitAck(s, 'auth:challenge', {});
  const sig = b64u(signBytes(id, AUTH_DOMAIN, utf8(`${nonce}|${id.did}`)));
  const r = await emitAck(s, 'auth', { did: id.did, sig, profile: makeProfile(id) });
  assert.equal(r.ok, true, JSON.stringify(r));
  return s;
}

test('direct messages both ways, offline delivery, history after restart; server holds ciphertext only', async () => {
  const dir = tmp();
  const dbPath = join(dir, 'chat.db');
  const alice = generateIdentity('Alice');
  const bob = generateIdentity('Bob');
  let srv = await startChatServer({ dbPath });
  try {
    const a = await startClient(srv.url, alice);
    const b = await startClient(srv.url, bob);
    const ca = a.openDm(bob.did);
    await a.sendText(ca.id, 'PLAINTEXT-hello-bob-1');
    await until(() => texts(b, dm(alice.did)).includes('PLAINTEXT-hello-bob-1'), 'bob receives');
    await b.sendText(dm(alice.did), 'PLAINTEXT-hi-alice-2');
    await until(() => texts(a, dm(bob.did)).includes('PLAINTEXT-hi-alice-2'), 'alice receives');
    assert.equal(b.displayName(alice.did), 'Alice');
    // presence and typing
    await until(() => a.online.has(bob.did) && b.online.has(alice.did), 'presence');
    b.notifyTyping(dm(alice.did));
    await until(() => a.typingIn(dm(bob.did)).includes(bob.did), 'typing indicator');

    // Bob goes offline; Alice writes; Bob comes back with the same identity and gets it
    b.close();
    await until(() => !srv.chat.online().includes(bob.did), 'bob offline');
    await until(() => !a.online.has(bob.did), 'alice sees bob offline');
    await a.sendText(ca.id, 'PLAINTEXT-while-you-were-away-3');
    await until(() => a.conversations.get(ca.id)!.messages.filter((m) => m.from === alice.did).every((m) => m.status === 'sent' && m.seq), 'stored');
    const b2 = await startClient(srv.url, bob);
    assert.deepEqual(texts(b2, dm(alice.did)), ['PLAINTEXT-hello-bob-1', 'PLAINTEXT-hi-alice-2', 'PLAINTEXT-while-you-were-away-3']);
    b2.close();
    a.close();

    // restart the server on the same database: history is still there, for both sides
    await srv.close();
    srv = await startChatServer({ dbPath });
    const a3 = await startClient(srv.url, alice);
    const b3 = await startClient(srv.url, bob);
    assert.deepEqual(texts(a3, dm(bob.did)), ['PLAINTEXT-hello-bob-1', 'PLAINTEXT-hi-alice-2', 'PLAINTEXT-while-you-were-away-3']);
    assert.deepEqual(texts(b3, dm(alice.did)), ['PLAINTEXT-hello-bob-1', 'PLAINTEXT-hi-alice-2', 'PLAINTEXT-while-you-were-away-3']);
    // a sender's counter resumes after the restart (no id/counter reuse)
    await a3.sendText(dm(bob.did), 'PLAINTEXT-after-restart-4');
    await until(() => texts(b3, dm(alice.did)).includes('PLAINTEXT-after-restart-4'), 'after restart');
    a3.close();
    b3.close();
    await srv.close();

    const bytes = serverBytes(dir, srv.logs);
    assert.ok(bytes.length > 10_000, 'database was written');
    assert.ok(bytes.includes(alice.did) && bytes.includes('"ct":"'), 'the database holds the envelopes');
    for (const p of ['PLAINTEXT', 'hello-bob', 'hi-alice', 'while-you-were-away', 'after-restart']) {
      assert.ok(!bytes.includes(p), `server bytes must not contain ${p}`);
    }
  } finally {
    await srv.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
});

test('group rooms: three members, rotation when one leaves, private groups need an invitation', async () => {
  const dir = tmp();
  const srv = await startChatServer({ dbPath: join(dir, 'chat.db') });
  const [alice, bob, carol] = [generateIdentity('Alice'), generateIdentity('Bob'), generateIdentity('Carol')];
  try {
    const [a, b, c] = await Promise.all([startClient(srv.url, alice), startClient(srv.url, bob), startClient(srv.url, carol)]);
    // a public room and a torrent room
    const pub = await a.join('General');
    assert.equal(pub.id, 'p:general');
    await b.join('p:general');
    await c.join('p:general');
    await until(() => a.conversations.get('p:general')?.room?.members.length === 3, 'members');
    await a.sendText('p:general', 'GROUPTEXT-one');
    await until(() => texts(c, 'p:general').includes('GROUPTEXT-one') && texts(b, 'p:general').includes('GROUPTEXT-one'), 'group delivery');
    const t = await b.joinTorrent('c'.repeat(40), 'Ubuntu ISO');
    assert.equal(t.id, `t:${'c'.repeat(40)}`);
    assert.equal(t.room?.name, 'Ubuntu ISO');

    // carol leaves: Alice's next message uses a new sender key that carol never received
    const kidBefore = keyIdOfLast(dir, 'p:general', alice.did);
    assert.ok(kidBefore);
    await c.leave('p:general');
    await until(() => a.conversations.get('p:general')?.room?.members.length === 2, 'carol gone');
    await a.sendText('p:general', 'GROUPTEXT-two');
    await until(() => texts(b, 'p:general').includes('GROUPTEXT-two'), 'bob gets two');
    const kidAfter = keyIdOfLast(dir, 'p:general', alice.did);
    assert.notEqual(kidAfter, kidBefore, 'sender key rotated');
    const skeyRecipients = envelopesIn(dir).filter((e) => e.type === 'skey' && e.from === alice.did && e.room === 'p:general').slice(-2).map((e) => e.to);
    assert.deepEqual(skeyRecipients.sort(), [alice.did, bob.did].sort(), 'new key handed only to remaining members');
    assert.ok(!texts(c, 'p:general').includes('GROUPTEXT-two'));

    // private group: only invited users may join
    const g = await a.createGroup('Secret club');
    await assert.rejects(c.join(g.id), (e: Error & { code?: string }) => e.code === 'not-invited');
    // an invitation signed by a non-admin does not work either
    const forged = createInvitation(bob, { ...g.room!.charter!, creator: bob.did }, carol.did);
    await assert.rejects(c.join(g.id, { invitation: forged }), (e: Error & { code?: string }) => e.code === 'not-invited');
    await a.invite(g.id, bob.did);
    await until(() => b.invites.some((i) => i.invitation.room === g.id), 'bob sees the invitation');
    await b.join(g.id);
    await until(() => a.conversations.get(g.id)?.room?.members.length === 2, 'bob in group');
    await a.sendText(g.id, 'PRIVATETEXT-for-bob');
    await b.sendText(g.id, 'PRIVATETEXT-from-bob');
    await until(() => texts(b, g.id).includes('PRIVATETEXT-for-bob') && texts(a, g.id).includes('PRIVATETEXT-from-bob'), 'private group delivery');
    assert.equal(c.conversations.has(g.id), false);
    a.close(); b.close(); c.close();
    await srv.close();
    const bytes = serverBytes(dir, srv.logs);
    for (const p of ['GROUPTEXT', 'PRIVATETEXT']) assert.ok(!bytes.includes(p), `server bytes must not contain ${p}`);
    assert.ok(srv.logs.some((l) => l.includes('join refused (not invited)')));
  } finally {
    await srv.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
});

function envelopesIn(dir: string): Envelope[] {
  // read through SQLite itself (the server is still running: WAL mode allows a second reader)
  const { DatabaseSync } = process.getBuiltinModule('node:sqlite') as typeof import('node:sqlite');
  const db = new DatabaseSync(join(dir, 'chat.db'), { readOnly: true });
  try {
    return (db.prepare('SELECT body FROM envelopes ORDER BY seq').all() as { body: string }[]).map((r) => JSON.parse(r.body) as Envelope);
  } finally {
    db.close();
  }
}

function keyIdOfLast(dir: string, room: string, from: string): string | undefined {
  return envelopesIn(dir).filter((e) => e.type === 'group' && e.to === room && e.from === from).at(-1)?.kid;
}

test('the relay rejects forged, tampered, replayed, oversized, unauthenticated and too-fast sends', async () => {
  const dir = tmp();
  const srv = await startChatServer({ dbPath: join(dir, 'chat.db'), limits: { rateBurst: 5, ratePerSecond: 0.5, maxEnvelopeBytes: 4096 } });
  const [alice, bob, mallory] = [generateIdentity('Alice'), generateIdentity('Bob'), generateIdentity('Mallory')];
  try {
    // unauthenticated
    const anon = rawSocket(srv.url);
    await new Promise<void>((r) => anon.once('connect', () => r()));
    const env0 = sealDirect(alice, { did: bob.did, dh: bob.dhPublic }, 'dm', { kind: 'text', text: 'x' }, { ctr: 0 });
    assert.equal((await emitAck(anon, 'send', { envs: [env0] })).error, 'not-authenticated');
    // a challenge signed by the wrong key
    const { nonce } = await emitAck(anon, 'auth:challenge', {});
    const bad = await emitAck(anon, 'auth', { did: alice.did, sig: b64u(signBytes(mallory, AUTH_DOMAIN, utf8(`${nonce}|${alice.did}`))), profile: makeProfile(alice) });
    assert.equal(bad.error, 'bad-signature');
    // a replayed challenge answer is useless: the nonce is single-use
    const { nonce: n2 } = await emitAck(anon, 'auth:challenge', {});
    const answer = { did: alice.did, sig: b64u(signBytes(alice, AUTH_DOMAIN, utf8(`${n2}|${alice.did}`))), profile: makeProfile(alice) };
    assert.equal((await emitAck(anon, 'auth', answer)).ok, true);
    const anon2 = rawSocket(srv.url);
    await new Promise<void>((r) => anon2.once('connect', () => r()));
    assert.equal((await emitAck(anon2, 'auth', answer)).error, 'bad-request');
    anon.close(); anon2.close();

    const b = await startClient(srv.url, bob);
    const a = await rawAuthed(srv.url, alice);
    const m = await rawAuthed(srv.url, mallory);
    const good = sealDirect(alice, { did: bob.did, dh: bob.dhPublic }, 'dm', { kind: 'text', text: 'genuine' }, { ctr: 0 });
    // tampered ciphertext (signature no longer verifies)
    assert.equal((await emitAck(a, 'send', { envs: [{ ...good, ct: good.ct.slice(0, -2) + (good.ct.endsWith('AA') ? 'BB' : 'AA') }] })).error, 'bad-signature');
    // wrong signature
    const other = sealDirect(alice, { did: bob.did, dh: bob.dhPublic }, 'dm', { kind: 'text', text: 'other' }, { ctr: 1 });
    assert.equal((await emitAck(a, 'send', { envs: [{ ...good, sig: other.sig }] })).error, 'bad-signature');
    // Mallory relaying Alice's envelope: not hers to send
    assert.equal((await emitAck(m, 'send', { envs: [good] })).error, 'forbidden');
    // the genuine one goes through once
    const ok1 = await emitAck(a, 'send', { envs: [good] });
    assert.equal(ok1.ok, true);
    await until(() => texts(b, dm(alice.did)).includes('genuine'), 'bob gets genuine');
    // re-sending the same envelope is an idempotent no-op (not relayed twice); reusing its id is a replay
    const again = await emitAck(a, 'send', { envs: [good] });
    assert.equal(again.results[0].duplicate, true);
    const reuse = sealDirect(alice, { did: bob.did, dh: bob.dhPublic }, 'dm', { kind: 'text', text: 'reused id' }, { ctr: 2, id: good.id });
    assert.equal((await emitAck(a, 'send', { envs: [reuse] })).error, 'replay');
    // the same new envelope sent twice at once (two tabs resending one outbox): stored once, the other a duplicate
    const twice = sealDirect(alice, { did: bob.did, dh: bob.dhPublic }, 'dm', { kind: 'text', text: 'twice' }, { ctr: 5 });
    const both = await Promise.all([emitAck(a, 'send', { envs: [twice] }), emitAck(a, 'send', { envs: [twice] })]);
    assert.deepEqual(both.map((r) => [r.ok, r.results?.[0]?.duplicate === true]).sort(), [[true, false], [true, true]]);
    await until(() => texts(b, dm(alice.did)).includes('twice'), 'bob gets twice');
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(texts(b, dm(alice.did)), ['genuine', 'twice']);
    assert.equal(b.notices.length, 0);
    // an old envelope with a timestamp outside the window
    const old = sealDirect(alice, { did: bob.did, dh: bob.dhPublic }, 'dm', { kind: 'text', text: 'old' }, { ctr: 3, ts: Date.now() - 3_600_000 });
    assert.equal((await emitAck(a, 'send', { envs: [old] })).error, 'stale');
    // size limit
    const huge = sealDirect(alice, { did: bob.did, dh: bob.dhPublic }, 'dm', { kind: 'text', text: 'y'.repeat(3900) }, { ctr: 4 });
    assert.equal((await emitAck(a, 'send', { envs: [huge] })).error, 'too-large');
    // group envelope into a room Mallory is not in
    await b.join('p:bobs-room');
    const sk = createSenderKey(mallory.did, 'p:bobs-room', [mallory.did]);
    assert.equal((await emitAck(m, 'send', { envs: [sealGroup(mallory, sk, { kind: 'text', text: 'hi' }, { ctr: 0 })] })).error, 'not-member');
    // private group join without invitation
    const charter = createCharter(alice, 'Club');
    assert.equal((await emitAck(a, 'room:create', { charter })).ok, true);
    assert.equal((await emitAck(m, 'room:join', { room: charter.room })).error, 'not-invited');
    assert.equal((await emitAck(m, 'room:invite', { invitation: createInvitation(alice, charter, mallory.did) })).error, 'forbidden');
    // rate limit: burst of 5 per user (the genuine message used one)
    const codes: string[] = [];
    for (let i = 0; i < 8; i++) {
      const e = sealDirect(alice, { did: bob.did, dh: bob.dhPublic }, 'dm', { kind: 'text', text: `burst ${i}` }, { ctr: 10 + i });
      const r = await emitAck(a, 'send', { envs: [e] });
      codes.push(r.ok ? 'ok' : r.error);
    }
    assert.ok(codes.includes('rate-limited'), codes.join());
    assert.ok(codes.filter((c) => c === 'ok').length <= 5, codes.join());
    a.close(); m.close(); b.close();
  } finally {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('clients reject what the relay cannot judge: tampered-then-resigned ciphertext and replays, with a visible notice', async () => {
  const dir = tmp();
  const srv = await startChatServer({ dbPath: join(dir, 'chat.db') });
  const [alice, bob] = [generateIdentity('Alice'), generateIdentity('Bob')];
  try {
    const b = await startClient(srv.url, bob);
    const a = await rawAuthed(srv.url, alice);
    const good = sealDirect(alice, { did: bob.did, dh: bob.dhPublic }, 'dm', { kind: 'text', text: 'first' }, { ctr: 0 });
    // a sender signing garbage ciphertext passes the relay's signature check but not Bob's decryption
    const garbled = sealDirect(alice, { did: bob.did, dh: bob.dhPublic }, 'dm', { kind: 'text', text: 'garbled' }, { ctr: 1 });
    const flipped = signEnvelope(alice, { ...garbled, ct: garbled.ct.slice(0, 10) + (garbled.ct[10] === 'A' ? 'B' : 'A') + garbled.ct.slice(11) });
    assert.equal((await emitAck(a, 'send', { envs: [flipped] })).ok, true);
    await until(() => b.notices.find((n) => n.code === 'decrypt-failed'), 'decrypt-failed notice');
    // a malicious relay pushing the same envelope twice: the second is refused as a replay
    assert.equal((await emitAck(a, 'send', { envs: [good] })).ok, true);
    await until(() => texts(b, dm(alice.did)).includes('first'), 'first');
    srv.chat.namespace.to(`did:${bob.did}`).emit('env', { seq: 999, env: good });
    await until(() => b.notices.find((n) => n.code === 'replay'), 'replay notice');
    // and a forged signature pushed directly (bypassing the relay's own check)
    srv.chat.namespace.to(`did:${bob.did}`).emit('env', { seq: 1000, env: { ...good, id: b64u(new Uint8Array(16).fill(7)) } });
    await until(() => b.notices.find((n) => n.code === 'bad-signature'), 'bad-signature notice');
    assert.deepEqual(texts(b, dm(alice.did)), ['first']);
    a.close(); b.close();
  } finally {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('nothing is lost when the connection drops mid-send: the outbox resends after reconnect', async () => {
  const dir = tmp();
  const dbPath = join(dir, 'chat.db');
  const [alice, bob] = [generateIdentity('Alice'), generateIdentity('Bob')];
  let srv = await startChatServer({ dbPath });
  const port = Number(new URL(srv.url).port);
  try {
    const a = await startClient(srv.url, alice);
    const b = await startClient(srv.url, bob);
    a.openDm(bob.did);
    await a.sendText(dm(bob.did), 'before the drop');
    await until(() => texts(b, dm(alice.did)).length === 1, 'first');
    // the server goes away; Alice keeps typing
    await srv.close();
    await until(() => !a.ready, 'alice notices the drop');
    await a.sendText(dm(bob.did), 'during the outage 1');
    await a.sendText(dm(bob.did), 'during the outage 2');
    assert.equal(a.outboxSize(), 2);
    srv = await startChatServer({ dbPath, port });
    await until(() => texts(b, dm(alice.did)).length === 3, 'bob gets all three after reconnect', 15_000);
    assert.deepEqual(texts(b, dm(alice.did)), ['before the drop', 'during the outage 1', 'during the outage 2']);
    assert.equal(a.outboxSize(), 0);
    a.close(); b.close();
  } finally {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a page closed with unsent messages sends them when it comes back (persisted outbox)', async () => {
  const dir = tmp();
  const dbPath = join(dir, 'chat.db');
  const [alice, bob] = [generateIdentity('Alice'), generateIdentity('Bob')];
  let saved: { envs: Envelope[]; copy: boolean }[] = [];
  const outboxStore = { load: async () => structuredClone(saved), save: (b: typeof saved) => { saved = structuredClone(b); } };
  let srv = await startChatServer({ dbPath });
  const port = Number(new URL(srv.url).port);
  try {
    const b = await startClient(srv.url, bob);
    const a = await startClient(srv.url, alice, { outboxStore });
    a.openDm(bob.did);
    await a.profile(bob.did);
    await srv.close();
    await until(() => !a.ready, 'disconnected');
    await a.sendText(dm(bob.did), 'written offline, tab then closed');
    assert.equal(saved.length, 1);
    assert.ok(!JSON.stringify(saved).includes('written offline'), 'the stored outbox is ciphertext');
    a.close();
    srv = await startChatServer({ dbPath, port });
    const a2 = await startClient(srv.url, alice, { outboxStore });
    assert.deepEqual(texts(a2, dm(bob.did)), ['written offline, tab then closed']);
    await until(() => texts(b, dm(alice.did)).includes('written offline, tab then closed'), 'bob receives after alice returns', 15_000);
    await until(() => saved.length === 0, 'outbox emptied');
    assert.equal(a2.conversations.get(dm(bob.did))!.messages[0]!.status, 'sent');
  } finally {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('contactsOf: the people a user exchanged direct messages with, then its private groups’ members — never public or torrent rooms’ — with their names', async () => {
  const dir = tmp();
  const srv = await startChatServer({ dbPath: join(dir, 'chat.db') });
  const [alice, bob, carol, dave, erin] = ['Alice', 'Bob', 'Carol', 'Dave', 'Erin'].map((n) => generateIdentity(n));
  try {
    const [a, b, c, d, e] = await Promise.all([alice, bob, carol, dave, erin].map((id) => startClient(srv.url, id!)));
    await a!.sendText(a!.openDm(bob!.did).id, 'hi bob');
    await until(() => texts(b!, dm(alice!.did)).includes('hi bob'), 'bob receives');
    await c!.sendText(c!.openDm(alice!.did).id, 'hi alice');
    await until(() => texts(a!, dm(carol!.did)).includes('hi alice'), 'alice receives');
    // Dave shares only a public room and a torrent room with Alice; Erin is in her private group.
    await a!.join('General');
    await d!.join('p:general');
    await a!.joinTorrent('d'.repeat(40), 'Some ISO');
    await d!.joinTorrent('d'.repeat(40), 'Some ISO');
    const group = await a!.createGroup('Book club');
    await a!.invite(group.id, erin!.did);
    await until(() => e!.invites.some((i) => i.invitation.room === group.id), 'erin is invited');
    await e!.join(group.id);
    await until(() => a!.conversations.get(group.id)?.room?.members.length === 2, 'erin joined');

    const contacts = await srv.chat.contactsOf(alice!.did);
    assert.deepEqual(contacts.map((x) => x.did), [carol!.did, bob!.did, erin!.did], 'DMs, newest first, then the private group');
    assert.deepEqual(contacts.map((x) => x.name), ['Carol', 'Bob', 'Erin']);
    assert.ok(!contacts.some((x) => x.did === dave!.did || x.did === alice!.did), 'no public-room stranger, not herself');
    assert.deepEqual(await srv.chat.contactsOf(dave!.did), [], 'rooms everyone may join make nobody a contact');
  } finally {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
