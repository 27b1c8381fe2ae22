// Hostile socket.io traffic against a real node (issue 19, item 5): payloads nested thousands deep
// (written by hand on a raw engine.io WebSocket, since socket.io-client itself cannot encode them),
// and one connection or one address minting identities and rooms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { b64u, generateIdentity, makeProfile, signBytes, AUTH_DOMAIN, type Identity } from '@cascade/chat';
import { utf8 } from '@cascade/identity';
import WebSocket from 'ws';
import { startTestServer, type TestServer } from '../../packages/http/test/server-helpers.ts';

/** A socket.io client spoken by hand: engine.io v4 over WebSocket, one or more namespaces. */
class RawSocketIo {
  readonly ws: WebSocket;
  #acks = new Map<number, (v: unknown[] | undefined) => void>();
  #next = 1;
  #connected = new Map<string, () => void>();
  closed = false;

  constructor(url: string, opts: { headers?: Record<string, string>; localAddress?: string } = {}) {
    this.ws = new WebSocket(url.replace(/^http/, 'ws') + '/socket.io/?EIO=4&transport=websocket', opts);
    this.ws.on('message', (data) => this.#onFrame(String(data)));
    this.ws.on('error', () => {});
    this.ws.on('close', () => {
      this.closed = true;
      for (const done of this.#acks.values()) done(undefined);
    });
  }

  #onFrame(frame: string): void {
    if (frame === '2') return this.ws.send('3'); // ping → pong
    if (!frame.startsWith('4')) return;
    const m = /^4(\d)(\/[^,]*,)?(\d*)(.*)$/s.exec(frame);
    if (!m) return;
    const [, type, nsp = '/,', id, body] = m;
    if (type === '0') this.#connected.get(nsp.slice(0, -1))?.();
    if (type === '3' && id) this.#acks.get(Number(id))?.(JSON.parse(body!) as unknown[]);
  }

  async open(): Promise<void> {
    if (this.ws.readyState !== WebSocket.OPEN) await new Promise((r, j) => (this.ws.once('open', r), this.ws.once('error', j)));
  }

  /** Joins a namespace ("40/chat,"); resolves on the server's CONNECT reply. */
  async join(nsp: string): Promise<void> {
    await this.open();
    const joined = new Promise<void>((r) => this.#connected.set(nsp, r));
    this.ws.send(nsp === '/' ? '40' : `40${nsp},`);
    await Promise.race([joined, sleep(5000).then(() => Promise.reject(new Error(`no CONNECT for ${nsp}`)))]);
  }

  /** Emits with an ack; `raw` is the JSON text of the argument, so any nesting can be sent. */
  emit(nsp: string, event: string, raw: string, timeoutMs = 5000): Promise<unknown[] | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    const id = this.#next++;
    const prefix = nsp === '/' ? '42' : `42${nsp},`;
    this.ws.send(`${prefix}${id}[${JSON.stringify(event)},${raw}]`);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs);
      this.#acks.set(id, (v) => (clearTimeout(timer), resolve(v)));
    });
  }

  async auth(id: Identity, nsp = '/chat'): Promise<Record<string, unknown>> {
    const [c] = (await this.emit(nsp, 'auth:challenge', '{}')) as [{ nonce: string }];
    const sig = b64u(signBytes(id, AUTH_DOMAIN, utf8(`${c.nonce}|${id.did}`)));
    const [r] = (await this.emit(nsp, 'auth', JSON.stringify({ did: id.did, sig, profile: makeProfile(id) }))) as [Record<string, unknown>];
    return r;
  }

  close(): void {
    this.ws.close();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const nestedObject = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

function raw(t: { after: (fn: () => unknown) => void }, s: TestServer, opts?: ConstructorParameters<typeof RawSocketIo>[1]): RawSocketIo {
  const r = new RawSocketIo(s.url, opts);
  t.after(() => r.close());
  return r;
}

/** The node still answers HTTP and a fresh chat socket still signs in and gets acks. */
async function stillServing(t: { after: (fn: () => unknown) => void }, s: TestServer): Promise<void> {
  assert.equal((await s.request('/api/health')).status, 200);
  const probe = raw(t, s);
  await probe.join('/chat');
  const r = await probe.auth(generateIdentity('Probe'));
  assert.equal(r.ok, true, JSON.stringify(r));
}

test('payloads nested 8,000 deep on /chat and on the torrent feed are refused; the node keeps serving', { timeout: 60_000 }, async (t) => {
  const s = await startTestServer(t);
  const alice = generateIdentity('Alice');
  const bob = generateIdentity('Bob');
  const a = raw(t, s);
  await a.join('/chat');
  assert.equal((await a.auth(alice)).ok, true);
  const b = raw(t, s);
  await b.join('/chat');
  assert.equal((await b.auth(bob)).ok, true);
  const errors: string[] = [];
  const onError = (e: Error) => errors.push(e.message);
  process.on('uncaughtException', onError);
  t.after(() => process.off('uncaughtException', onError));

  for (const data of [nested(8000), nestedObject(8000), nested(100)]) {
    const reply = await a.emit('/chat', 'rtc:signal', `{"to":${JSON.stringify(bob.did)},"data":${data}}`);
    // Refused with a reason (or the connection cut): never relayed, never an internal error.
    if (reply) assert.match(JSON.stringify(reply), /too-deep|too deep/, JSON.stringify(reply).slice(0, 200));
  }
  assert.equal(a.closed, true, 'the connection that sent them was closed');
  const feed = raw(t, s, { headers: { authorization: `Bearer ${s.token}` } });
  await feed.join('/');
  await feed.emit('/', 'subscribe', nested(8000), 500);
  await feed.emit('/', 'subscribe', nestedObject(8000), 500);
  await sleep(100);
  assert.equal(feed.closed, true, 'the feed connection that sent them was closed');
  // A shallow, honest signal still goes through afterwards, and deep nesting inside a string is text.
  const honest = raw(t, s);
  await honest.join('/chat');
  assert.equal((await honest.auth(alice)).ok, true);
  for (const data of ['{"sdp":"x"}', JSON.stringify({ sdp: nested(3000) })]) {
    const [ok] = (await honest.emit('/chat', 'rtc:signal', `{"to":${JSON.stringify(bob.did)},"data":${data}}`)) as [{ ok: boolean }];
    assert.equal(ok.ok, true, JSON.stringify(ok));
  }
  await stillServing(t, s);
  assert.deepEqual(errors, []);
});

test('one connection cannot mint identities: a second identity on the same socket or connection is refused', { timeout: 60_000 }, async (t) => {
  const s = await startTestServer(t);
  const c = raw(t, s);
  await c.join('/chat');
  assert.equal((await c.auth(generateIdentity('First'))).ok, true);
  const second = await c.auth(generateIdentity('Second'));
  assert.equal(second.ok, false);
  // Leaving /chat and joining it again on the same engine.io connection gives a fresh socket:
  // still one identity per connection.
  c.ws.send('41/chat,');
  await sleep(100);
  await c.join('/chat');
  const third = await c.auth(generateIdentity('Third'));
  assert.equal(third.ok, false, JSON.stringify(third));
  assert.match(String(third.message), /connection/);
});

test('one address minting identities on fresh connections is refused past its limit; others are unaffected', { timeout: 120_000 }, async (t) => {
  const s = await startTestServer(t);
  let refused = 0;
  let accepted = 0;
  for (let i = 0; i < 60; i++) {
    const c = raw(t, s);
    await c.join('/chat');
    const r = await c.auth(generateIdentity(`Sybil ${i}`));
    if (r.ok) accepted++;
    else {
      refused++;
      assert.equal(r.error, 'rate-limited', JSON.stringify(r));
    }
    c.close();
  }
  t.diagnostic(`identities from one address: ${accepted} accepted, ${refused} refused`);
  const elsewhere = raw(t, s, { localAddress: '127.0.0.2' });
  await elsewhere.join('/chat');
  assert.equal((await elsewhere.auth(generateIdentity('Neighbour'))).ok, true, 'another address still signs in');
  assert.ok(accepted >= 5, `a household behind one address still signs in several users (${accepted})`);
  assert.ok(refused >= 20, `minting was refused (${refused} of 60)`);
});

test('creating 1,500 rooms from one connection is refused past the limit', { timeout: 120_000 }, async (t) => {
  const s = await startTestServer(t);
  const c = raw(t, s);
  await c.join('/chat');
  assert.equal((await c.auth(generateIdentity('Roomer'))).ok, true);
  let created = 0;
  let refused = 0;
  for (let i = 0; i < 1500; i++) {
    const [r] = ((await c.emit('/chat', 'room:join', JSON.stringify({ room: `p:room-${i}`, name: `Room ${i}` }))) ?? [{ ok: false, error: 'no-ack' }]) as [{ ok: boolean; error?: string }];
    if (r.ok) created++;
    else refused++;
  }
  t.diagnostic(`rooms from one connection: ${created} created, ${refused} refused`);
  assert.ok(created >= 5 && created <= 100, `created ${created}`);
  assert.ok(refused >= 1400);
  // Joining a room that already exists is not creating one.
  const other = raw(t, s, { localAddress: '127.0.0.3' });
  await other.join('/chat');
  assert.equal((await other.auth(generateIdentity('Joiner'))).ok, true);
  const [joined] = (await other.emit('/chat', 'room:join', JSON.stringify({ room: 'p:room-0' }))) as [{ ok: boolean }];
  assert.equal(joined.ok, true, JSON.stringify(joined));
});
