// Issue 65: what a credential opened ends with it. Rotating the API token (the HTTP route, and the
// control endpoint `cascade token --rotate` uses) ends the qBittorrent SIDs and Transmission
// sessions logged in with it, the live feed's sockets and a file stream it authorised; removing or
// demoting a member ends at once what its new role no longer allows (a stream: a member's; the
// feed: a viewer's, gone once removed; within seconds when the state is changed behind the node's
// back). Real server on 127.0.0.1, real HTTP and socket.io clients.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import { bencode } from '@cascade/engine';
import { generateIdentity, signSignIn, type Identity } from '@cascade/identity';
import { AuthStore } from '@cascade/node';
import { connectControl } from '@cascade/node/verbs';
import { startTestServer, type TestServer } from './server-helpers.ts';

/** Well under the feed's periodic recheck (5 s): only a revocation that acts at once meets it. */
const AT_ONCE_MS = 500;
/** How long a stream waits for its piece: a stream the test leaves open holds the server's close this long. */
const STREAM_WAIT_MS = 20_000;

/** A .torrent of one file whose data is nowhere: a stream of it waits for a piece that never comes. */
function fakeTorrent(name: string): Uint8Array {
  return bencode({ info: { length: 4096, name, 'piece length': 65536, pieces: createHash('sha1').update(name).digest() } });
}

async function addTorrent(s: TestServer, name: string, headers: Record<string, string> = {}): Promise<{ status: number; infoHash: string }> {
  const fd = new FormData();
  fd.append('torrent', new Blob([new Uint8Array(fakeTorrent(name))]), `${name}.torrent`);
  const r = await s.json('/api/torrents', { method: 'POST', body: fd, headers });
  return { status: r.status, infoHash: (r.body as { infoHash?: string }).infoHash ?? '' };
}

const form = (fields: Record<string, string>, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  body: new URLSearchParams(fields).toString(),
});

async function qbLogin(s: TestServer, token: string): Promise<string> {
  const r = await s.anonymous('/api/v2/auth/login', form({ username: 'cascade', password: token }));
  assert.equal(await r.text(), 'Ok.');
  const sid = (r.headers.get('set-cookie') ?? '').split(';')[0]!;
  assert.match(sid, /^SID=/);
  return sid;
}

const qbInfo = async (s: TestServer, sid: string) => (await s.anonymous('/api/v2/torrents/info', { headers: { cookie: sid } })).status;
const qbAdd = async (s: TestServer, sid: string, magnet: string) => s.anonymous('/api/v2/torrents/add', form({ urls: magnet }, { cookie: sid }));
const magnetOf = (n: number) => `magnet:?xt=urn:btih:${createHash('sha1').update(`revocation-${n}`).digest('hex')}`;

/** Transmission's handshake: the session id the node gives to these credentials. */
async function rpc(s: TestServer, token: string, sessionId = ''): Promise<{ status: number; sessionId: string; body: string }> {
  const r = await s.anonymous('/transmission/rpc', {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`me:${token}`).toString('base64')}`, 'x-transmission-session-id': sessionId },
    body: '{"method":"torrent-get","arguments":{"fields":["id"]}}',
  });
  return { status: r.status, sessionId: r.headers.get('x-transmission-session-id') ?? '', body: await r.text() };
}

/** A feed client with these headers, connected. */
async function feed(t: { after: (fn: () => unknown) => void }, s: TestServer, headers: Record<string, string>): Promise<Socket> {
  const socket = io(s.url, { forceNew: true, reconnection: false, transports: ['websocket'], extraHeaders: headers });
  t.after(() => socket.disconnect());
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

/** Resolves with the ms it took the server to drop the socket, or rejects after `ms`. */
function dropped(socket: Socket, ms: number): Promise<number> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    if (!socket.connected) return resolve(0);
    const timer = setTimeout(() => reject(new Error(`the feed socket was still connected ${ms} ms later`)), ms);
    socket.once('disconnect', (reason) => {
      clearTimeout(timer);
      assert.equal(reason, 'io server disconnect');
      resolve(Date.now() - started);
    });
  });
}

/** A stream of the torrent's file that stays open (its piece never comes); `ended` settles when the server cuts it. */
async function openStream(
  t: { after: (fn: () => unknown) => void },
  s: TestServer,
  infoHash: string,
  headers: Record<string, string>,
): Promise<{ ended: (ms: number) => Promise<void> }> {
  const res = await s.anonymous(`/api/torrents/${infoHash}/files/0`, { headers });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  // Else a stream left open holds the server's close for as long as it waits for the piece.
  t.after(() => reader.cancel().catch(() => {}));
  const end = reader.read().then(
    () => undefined,
    () => undefined,
  );
  return {
    ended: (ms) =>
      Promise.race([end, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`the stream was still open ${ms} ms later`)), ms).unref())]),
  };
}

async function signIn(s: TestServer, id: Identity): Promise<string> {
  const c = await s.json('/api/auth/challenge', { method: 'POST', anonymous: true, json: { method: 'did', did: id.did } });
  assert.equal(c.status, 200, JSON.stringify(c.body));
  const v = await s.json('/api/auth/verify', { method: 'POST', anonymous: true, json: { message: c.body.message, signature: signSignIn(id, c.body.message) } });
  assert.equal(v.status, 200, JSON.stringify(v.body));
  return (v.res.headers.get('set-cookie') ?? '').split(';')[0]!;
}

test('a token rotation ends the SIDs, Transmission sessions, feed sockets and streams opened with the old token', { timeout: 60_000 }, async (t) => {
  const s = await startTestServer(t, { streamWaitMs: STREAM_WAIT_MS });
  await s.ready;
  const old = s.token;
  const { status, infoHash } = await addTorrent(s, 'waits-forever');
  assert.equal(status, 201);

  const sid = await qbLogin(s, old);
  assert.equal(await qbInfo(s, sid), 200);
  assert.equal((await qbAdd(s, sid, magnetOf(1))).status, 200, 'the SID adds before the rotation');
  const first = await rpc(s, old);
  assert.equal(first.status, 409);
  const tSession = first.sessionId;
  assert.equal((await rpc(s, old, tSession)).status, 200);
  const socket = await feed(t, s, { authorization: `Bearer ${old}` });
  const stream = await openStream(t, s, infoHash, { authorization: `Bearer ${old}` });

  const rotated = await s.json('/api/token/rotate', { method: 'POST', headers: { authorization: `Bearer ${old}` } });
  assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
  const fresh = rotated.body.token as string;
  assert.notEqual(fresh, old);
  const ends = Promise.all([dropped(socket, AT_ONCE_MS), stream.ended(AT_ONCE_MS)]);
  ends.catch(() => {});

  assert.equal(await qbInfo(s, sid), 403, 'the SID opened with the old token is over');
  const add = await qbAdd(s, sid, magnetOf(2));
  assert.equal(add.status, 403);
  assert.equal((await s.json(`/api/torrents/${magnetOf(2).slice(-40)}`)).status, 404, 'and added nothing');
  assert.equal(await qbInfo(s, sid), 403, 'its uses do not bring it back');
  // Its logout still clears the cookie; logging in again takes the new token.
  assert.equal((await s.anonymous('/api/v2/auth/login', form({ username: 'cascade', password: old }, { cookie: sid }))).status, 200);
  assert.equal(await qbInfo(s, sid), 403);

  assert.equal((await rpc(s, old, tSession)).status, 401, 'Transmission: the old password is refused');
  const again = await rpc(s, fresh, tSession);
  assert.equal(again.status, 409, 'and the session id it was given is no longer the node’s');
  assert.notEqual(again.sessionId, tSession);
  assert.equal((await rpc(s, fresh, again.sessionId)).status, 200);
  await ends;

  // `cascade token --rotate` goes through the control endpoint: the same ends follow.
  const sid2 = await qbLogin(s, fresh);
  assert.equal(await qbInfo(s, sid2), 200);
  const socket2 = await feed(t, s, { authorization: `Bearer ${fresh}` });
  const control = await connectControl(s.node.db.stateDir);
  assert.ok(control, 'the node answers on its control endpoint');
  const third = (await control.call<{ token: string }>('auth.rotateToken')).token;
  await dropped(socket2, AT_ONCE_MS);
  assert.equal(await qbInfo(s, sid2), 403);
  assert.equal((await qbAdd(s, sid2, magnetOf(3))).status, 403);
  assert.equal(await qbInfo(s, await qbLogin(s, third)), 200, 'a login with the current token opens a session');
});

test('a member removed or demoted loses at once what its role no longer allows', { timeout: 60_000 }, async (t) => {
  const s = await startTestServer(t, { streamWaitMs: STREAM_WAIT_MS });
  await s.ready;
  const { infoHash } = await addTorrent(s, 'member-stream');
  const id = generateIdentity();
  const cookie = await signIn(s, id);
  assert.equal((await s.json('/api/users', { method: 'POST', json: { id: id.did } })).status, 201);
  const asMember = { cookie, origin: s.url };
  assert.equal((await addTorrent(s, 'by-member', asMember)).status, 201, 'a member adds');
  const socket = await feed(t, s, { cookie });
  const stream = await openStream(t, s, infoHash, { cookie });

  // Demoted to viewer: the stream (a member's) ends at once, the feed (a viewer's) goes on.
  assert.equal((await s.json('/api/users', { method: 'POST', json: { id: id.did, role: 'viewer' } })).status, 200);
  await stream.ended(AT_ONCE_MS);
  assert.equal((await addTorrent(s, 'by-viewer', asMember)).status, 403, 'a viewer cannot add');
  assert.equal((await s.json('/api/torrents', { headers: { cookie } })).status, 200, 'and still reads');
  await assert.rejects(dropped(socket, 1500), /still connected/, 'a viewer keeps the feed');
  const viewerStream = await s.anonymous(`/api/torrents/${infoHash}/files/0`, { headers: { cookie } });
  assert.equal(viewerStream.status, 403);
  await viewerStream.body?.cancel();
  // A session cookie is not a qBittorrent password: no SID comes from it to outlive the role.
  const qb = await s.anonymous('/api/v2/auth/login', form({ username: 'cascade', password: '' }, { cookie }));
  assert.equal(await qb.text(), 'Fails.');

  // Removed: the feed goes at once, and the session is a visitor's.
  assert.equal((await s.json(`/api/users/${encodeURIComponent(id.did)}`, { method: 'DELETE' })).status, 200);
  await dropped(socket, AT_ONCE_MS);
  assert.equal((await s.json('/api/torrents', { headers: { cookie } })).status, 403);
  await assert.rejects(feed(t, s, { cookie }), /viewer|owner|member|sign in/i, 'and it cannot connect again');

  // A removal written straight to the state (another process): its feed goes within the recheck
  // that held sockets get every 5 s…
  const other = generateIdentity();
  const otherCookie = await signIn(s, other);
  assert.equal((await s.json('/api/users', { method: 'POST', json: { id: other.did, role: 'viewer' } })).status, 201);
  const otherSocket = await feed(t, s, { cookie: otherCookie });
  assert.equal(await new AuthStore(s.node.db).removeMember(other.did), true);
  await dropped(otherSocket, 7000);

  // …and at once when the writer says so on the control endpoint, as `cascade users remove` does.
  const third = generateIdentity();
  const thirdCookie = await signIn(s, third);
  assert.equal((await s.json('/api/users', { method: 'POST', json: { id: third.did, role: 'viewer' } })).status, 201);
  const thirdSocket = await feed(t, s, { cookie: thirdCookie });
  assert.equal(await new AuthStore(s.node.db).removeMember(third.did), true);
  await (await connectControl(s.node.db.stateDir))!.call('auth.membersChanged');
  await dropped(thirdSocket, AT_ONCE_MS);
});
