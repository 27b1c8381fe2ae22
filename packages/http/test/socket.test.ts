// Live updates: a socket.io client gets the torrent list on connect, then the rows that change
// (`torrents:changes`), and details every second for the torrents it subscribes to. (Paging, idle
// silence and resync with a few hundred torrents: list-feed.test.ts.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { io, type Socket } from 'socket.io-client';
import { startTestServer, formWith, patternBytes, type TestServer } from './server-helpers.ts';

interface Summary {
  infoHash: string;
  state: string;
}

/** A feed client as the node's operator (API token), unless `opts.extraHeaders` says otherwise. */
function connect(t: { after: (fn: () => unknown) => void }, s: TestServer, opts: Parameters<typeof io>[1] = {}, path = ''): Socket {
  const socket = io(s.url + path, { forceNew: true, reconnection: false, extraHeaders: { authorization: `Bearer ${s.token}` }, ...opts });
  t.after(() => socket.disconnect());
  return socket;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The next `event` whose payload satisfies `match`. */
function next<T>(socket: Socket, event: string, match: (v: T) => boolean = () => true, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, on);
      reject(new Error(`no matching "${event}" within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (v: T) => {
      if (!match(v)) return;
      clearTimeout(timer);
      socket.off(event, on);
      resolve(v);
    };
    socket.on(event, on);
  });
}

test('socket.io: the list on connect and on changes, details for subscribed torrents', { timeout: 30_000 }, async (t) => {
  const s = await startTestServer(t);
  const socket = connect(t, s);
  const first = await next<{ torrents: Summary[] }>(socket, 'torrents');
  assert.deepEqual(first.torrents, []);

  const listed = next<{ updated: Summary[]; removed: string[] }>(socket, 'torrents:changes', (v) => v.updated.length === 1);
  const up = await s.json('/api/torrents', { method: 'POST', body: formWith([['live.bin', patternBytes(40_000)]]) });
  assert.equal(up.status, 201);
  const ih: string = up.body.infoHash;
  const { updated } = await listed;
  assert.equal(updated[0]!.infoHash, ih);

  const detailEvent = `torrent:${ih}`;
  const detail = next<any>(socket, detailEvent, (d) => d?.state === 'seeding');
  socket.emit('subscribe', ih.toUpperCase());
  const d = await detail;
  assert.equal(d.infoHash, ih);
  assert.equal(d.files[0].path, 'live.bin');
  assert.equal(d.files[0].progress, 1);
  assert.deepEqual(d.peersByTransport, { tcp: 0, utp: 0, webrtc: 0, webseed: 0 });

  // A subscriber's detail keeps coming every second, change or not.
  await next(socket, detailEvent);
  await next(socket, detailEvent);

  const paused = next<any>(socket, detailEvent, (x) => x?.state === 'paused');
  await s.json(`/api/torrents/${ih}/pause`, { method: 'POST' });
  await paused;

  const removed = next<any>(socket, detailEvent, (x) => x === null);
  const removedRow = next<{ removed: string[] }>(socket, 'torrents:changes', (v) => v.removed.includes(ih));
  await s.json(`/api/torrents/${ih}`, { method: 'DELETE' });
  await removed;
  await removedRow;

  // After unsubscribing, no more details for it.
  socket.emit('unsubscribe', ih);
  await sleep(1200);
  let more = 0;
  socket.on(detailEvent, () => more++);
  await sleep(2500);
  assert.equal(more, 0);
});

test('socket.io over long-polling works too; bad subscriptions are ignored', { timeout: 20_000 }, async (t) => {
  const s = await startTestServer(t);
  const socket = connect(t, s, { transports: ['polling'] });
  await next(socket, 'torrents');
  let junk = 0;
  socket.onAny((event: string) => {
    if (event.startsWith('torrent:')) junk++;
  });
  socket.emit('subscribe', 'not-a-hash');
  socket.emit('subscribe', { evil: true });
  await sleep(2500);
  assert.equal(junk, 0);
  // A subscription to a torrent the node does not have answers null rather than failing.
  const none = next<unknown>(socket, `torrent:${'9'.repeat(40)}`);
  socket.emit('subscribe', '9'.repeat(40));
  assert.equal(await none, null);
});

test('socket.io refuses connections from another origin', { timeout: 20_000 }, async (t) => {
  const s = await startTestServer(t);
  const socket = connect(t, s, { transports: ['polling'], extraHeaders: { origin: 'http://evil.example', authorization: `Bearer ${s.token}` } });
  const err = await new Promise<Error>((resolve) => socket.on('connect_error', resolve));
  assert.ok(err instanceof Error);
  assert.equal(socket.connected, false);
});

test('the torrent feed is for members: no credentials or a bad token are refused, the chat namespace stays open', { timeout: 20_000 }, async (t) => {
  const s = await startTestServer(t);
  // No credentials: the namespace says why; a wrong token is refused at the handshake already.
  for (const [extraHeaders, why] of [[{}, /sign in/], [{ authorization: 'Bearer not-the-token-not-the-token-not-the-token' }, /error/]] as const) {
    const socket = connect(t, s, { transports: ['polling'], extraHeaders });
    const err = await new Promise<Error>((resolve) => socket.on('connect_error', resolve));
    assert.match(err.message, why);
    assert.equal(socket.connected, false);
  }
  const chat = connect(t, s, { transports: ['polling'], extraHeaders: {} }, '/chat');
  await new Promise<void>((resolve, reject) => {
    chat.on('connect', resolve);
    chat.on('connect_error', reject);
  });
  assert.equal(chat.connected, true);
});
