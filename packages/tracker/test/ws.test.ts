// The WebTorrent WebSocket protocol, spoken by two raw `ws` clients the way browsers speak it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { startTracker } from '../index.ts';
import type { RunningTracker } from '../index.ts';
import { esc, getBencoded, waitFor } from './helpers.ts';

let tracker: RunningTracker;
before(async () => {
  tracker = await startTracker({ host: '127.0.0.1', ws: true, interval: 600 });
});
after(() => tracker.close());

/** Binary ids as the protocol carries them: one char per byte, high bytes included. */
const bin = (seed: number) => String.fromCharCode(...Array.from({ length: 20 }, (_, i) => (seed * 37 + i * 11) & 0xff));
const hexOf = (s: string) => Buffer.from(s, 'latin1').toString('hex');

interface Client {
  ws: WebSocket;
  next(pred?: (m: Record<string, unknown>) => boolean, ms?: number): Promise<Record<string, unknown>>;
  send(m: unknown): void;
  close(): Promise<void>;
}

/** The first message in `inbox` that `pred` accepts (taken out), waiting up to `ms` for it. */
async function nextFrom(inbox: Record<string, unknown>[], waiters: (() => void)[], pred: (m: Record<string, unknown>) => boolean = () => true, ms = 3000): Promise<Record<string, unknown>> {
  const end = Date.now() + ms;
  for (;;) {
    const i = inbox.findIndex(pred);
    if (i >= 0) return inbox.splice(i, 1)[0]!;
    if (Date.now() > end) throw new Error(`no matching message; inbox: ${JSON.stringify(inbox)}`);
    await new Promise<void>((r) => {
      waiters.push(r);
      setTimeout(r, 50);
    });
  }
}

async function client(url = tracker.wsAnnounceUrl!): Promise<Client> {
  const ws = new WebSocket(url);
  const inbox: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (d) => {
    inbox.push(JSON.parse(String(d)));
    waiters.splice(0).forEach((w) => w());
  });
  await once(ws, 'open');
  return {
    ws,
    send: (m) => ws.send(typeof m === 'string' ? m : JSON.stringify(m)),
    next: (pred, ms) => nextFrom(inbox, waiters, pred, ms),
    close: async () => {
      ws.close();
      await once(ws, 'close');
    },
  };
}

test('two browser-protocol clients exchange an offer and an answer through the tracker', async () => {
  const ih = bin(1);
  const a = await client();
  const b = await client();
  try {
    a.send({ action: 'announce', info_hash: ih, peer_id: bin(2), event: 'started', left: 0, uploaded: 0, downloaded: 0, numwant: 5, offers: [{ offer: { type: 'offer', sdp: 'sdp-from-a' }, offer_id: bin(3) }] });
    const ra = await a.next();
    assert.equal(ra.action, 'announce');
    assert.equal(ra.info_hash, ih);
    assert.equal(ra.complete, 1);
    assert.equal(ra.incomplete, 0);
    assert.ok((ra.interval as number) > 0 && (ra.interval as number) <= 600);

    b.send({ action: 'announce', info_hash: ih, peer_id: bin(4), event: 'started', left: 100, numwant: 5, offers: [{ offer: { type: 'offer', sdp: 'sdp-from-b' }, offer_id: bin(5) }] });
    const rb = await b.next((m) => m.complete !== undefined);
    assert.deepEqual([rb.complete, rb.incomplete], [1, 1]);

    // A, already in the swarm, is handed B's offer.
    const offer = await a.next((m) => m.offer !== undefined);
    assert.deepEqual(offer, { action: 'announce', offer: { type: 'offer', sdp: 'sdp-from-b' }, offer_id: bin(5), peer_id: bin(4), info_hash: ih });

    // A answers B; the tracker routes it by to_peer_id.
    a.send({ action: 'announce', info_hash: ih, peer_id: bin(2), to_peer_id: bin(4), answer: { type: 'answer', sdp: 'answer-from-a' }, offer_id: bin(5) });
    const answer = await b.next((m) => m.answer !== undefined);
    assert.deepEqual(answer, { action: 'announce', answer: { type: 'answer', sdp: 'answer-from-a' }, offer_id: bin(5), peer_id: bin(2), info_hash: ih });

    b.send({ action: 'scrape', info_hash: ih });
    const scrape = await b.next((m) => m.action === 'scrape');
    assert.deepEqual((scrape.files as Record<string, unknown>)[ih], { complete: 1, incomplete: 1, downloaded: 0 });

    // Browsers and native clients are different worlds: an HTTP peer gets counts, not browsers.
    const http = await getBencoded(`${tracker.httpAnnounceUrl}?info_hash=${esc(Buffer.from(ih, 'latin1'))}&peer_id=${'x'.repeat(20)}&port=5000&left=3`);
    assert.equal((http['peers'] as Uint8Array).length, 0);
    assert.equal(http['complete'], 1);
  } finally {
    await a.close();
    await b.close();
  }
  // Closing the sockets takes their peers out of the swarm.
  await waitFor(async () => (await tracker.counts(hexOf(ih))).complete === 0, 5000, 'ws peers to leave');
});

test('a seed that makes no offers re-announces at the core interval, leechers within two minutes; offers still reach it', async () => {
  const ih = bin(40);
  const seed = await client();
  const leech = await client();
  try {
    seed.send({ action: 'announce', info_hash: ih, peer_id: bin(41), event: 'started', left: 0, uploaded: 0, downloaded: 0, numwant: 0, offers: [] });
    const rs = await seed.next((m) => m.interval !== undefined);
    assert.equal(rs.interval, 600, 'a seed with nothing to refresh gets the core interval');

    leech.send({ action: 'announce', info_hash: ih, peer_id: bin(42), event: 'started', left: 100, numwant: 1, offers: [{ offer: { type: 'offer', sdp: 'sdp-from-leech' }, offer_id: bin(43) }] });
    const rl = await leech.next((m) => m.interval !== undefined);
    assert.equal(rl.interval, 120, 'a leecher keeps the short interval (its offers go stale)');
    // The quiet seed is still in the swarm: the leecher's offer reaches it.
    const offer = await seed.next((m) => m.offer !== undefined);
    assert.equal(offer.offer_id, bin(43));

    // A seed that does make offers (WebTorrent's) keeps the short interval too.
    seed.send({ action: 'announce', info_hash: ih, peer_id: bin(41), left: 0, numwant: 1, offers: [{ offer: { type: 'offer', sdp: 'sdp-from-seed' }, offer_id: bin(44) }] });
    const rs2 = await seed.next((m) => m.interval !== undefined);
    assert.equal(rs2.interval, 120);
  } finally {
    await seed.close();
    await leech.close();
  }
});

test('hostile WebSocket messages get a failure reason and the connection keeps working', async () => {
  const c = await client();
  try {
    c.send('{not json');
    assert.match((await c.next())['failure reason'] as string, /invalid JSON/);
    c.send({ action: 'announce', info_hash: 'short', peer_id: bin(9) });
    assert.match((await c.next())['failure reason'] as string, /info_hash/);
    c.send({ action: 'announce', info_hash: '\u1234'.repeat(20), peer_id: bin(9) });
    assert.match((await c.next())['failure reason'] as string, /info_hash/);
    c.send({ action: 'dance' });
    assert.match((await c.next())['failure reason'] as string, /invalid action/);
    c.send([1, 2, 3]);
    assert.match((await c.next())['failure reason'] as string, /JSON object/);
    c.send({ action: 'scrape' });
    assert.match((await c.next())['failure reason'] as string, /full scrape/);
    // An answer from a socket that never announced in that swarm is refused, not relayed.
    c.send({ action: 'announce', info_hash: bin(20), peer_id: bin(9), to_peer_id: bin(2), answer: { type: 'answer', sdp: 'x' }, offer_id: bin(1) });
    assert.match((await c.next())['failure reason'] as string, /announce before answering/);
    // Oversized frame: the server closes that connection (1009) and lives on.
    c.send('x'.repeat(200 * 1024));
    const [code] = (await once(c.ws, 'close')) as [number];
    assert.equal(code, 1009);
  } finally {
    if (c.ws.readyState === c.ws.OPEN) await c.close();
  }
  const d = await client();
  try {
    d.send({ action: 'announce', info_hash: bin(30), peer_id: bin(31), left: 0, offers: [] });
    assert.equal((await d.next()).complete, 1);
  } finally {
    await d.close();
  }
  // Upgrades on other paths are refused.
  const stray = new WebSocket(tracker.wsAnnounceUrl!.replace('/announce', '/elsewhere'));
  stray.on('error', () => {});
  const [err] = (await once(stray, 'error').catch((e: unknown) => [e])) as [Error];
  assert.match(String(err), /404|Unexpected server response/);
});

/** The in-process end (connectLocalWebSocket) as a tracker client uses it: WHATWG-style listeners. */
function localClient(): Client & { local: ReturnType<NonNullable<RunningTracker['connectLocalWebSocket']>> } {
  const local = tracker.connectLocalWebSocket!();
  const inbox: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  local.addEventListener('message', (e) => {
    inbox.push(JSON.parse(e.data!));
    waiters.splice(0).forEach((w) => w());
  });
  return {
    local,
    ws: undefined as unknown as WebSocket,
    send: (m) => local.send(typeof m === 'string' ? m : JSON.stringify(m)),
    next: (pred, ms) => nextFrom(inbox, waiters, pred, ms),
    close: async () => {
      const closed = new Promise<void>((r) => local.addEventListener('close', () => r()));
      local.close();
      await closed;
    },
  };
}

test('an in-process connection announces (a seed is pinned), gets a browser’s offer, answers it, and leaves the swarm when closed', async () => {
  const ih = bin(40);
  const node = localClient();
  assert.equal(node.local.readyState, 0, 'connecting until the caller has added its listeners');
  assert.throws(() => node.local.send('{}'), /not open/);
  await new Promise<void>((r) => node.local.addEventListener('open', () => r()));
  assert.equal(node.local.readyState, 1);
  const browser = await client();
  try {
    node.send({ action: 'announce', info_hash: ih, peer_id: bin(41), event: 'started', left: 0, uploaded: 0, downloaded: 0, numwant: 0, offers: [] });
    const r = await node.next();
    assert.deepEqual([r.action, r.info_hash, r.complete, r.incomplete], ['announce', ih, 1, 0]);
    assert.equal(r.interval, 86_400, 'a seed without offers on the in-process connection is pinned: a day between checks');

    browser.send({ action: 'announce', info_hash: ih, peer_id: bin(42), event: 'started', left: 9, numwant: 1, offers: [{ offer: { type: 'offer', sdp: 'from-browser' }, offer_id: bin(43) }] });
    const offer = await node.next((m) => m.offer !== undefined);
    assert.deepEqual(offer, { action: 'announce', offer: { type: 'offer', sdp: 'from-browser' }, offer_id: bin(43), peer_id: bin(42), info_hash: ih });
    node.send({ action: 'announce', info_hash: ih, peer_id: bin(41), to_peer_id: bin(42), answer: { type: 'answer', sdp: 'from-node' }, offer_id: bin(43) });
    const answer = await browser.next((m) => m.answer !== undefined);
    assert.deepEqual(answer, { action: 'announce', answer: { type: 'answer', sdp: 'from-node' }, offer_id: bin(43), peer_id: bin(41), info_hash: ih });

    // Hostile input on the local end gets a failure reason as on a socket, and the end keeps working.
    node.send('not json');
    assert.equal((await node.next((m) => m['failure reason'] !== undefined))['failure reason'], 'invalid JSON');

    await node.close();
    assert.equal(node.local.readyState, 3);
    await waitFor(() => tracker.swarm(hexOf(ih)).complete === 0, 3000, 'the closed local end to leave the swarm');
  } finally {
    await browser.close();
  }
});

test('in-process announces are not rate limited (past the 500-message burst a socket gets)', async () => {
  const node = localClient();
  await new Promise<void>((r) => node.local.addEventListener('open', () => r()));
  for (let i = 0; i < 700; i++) node.send({ action: 'announce', info_hash: bin(100 + (i % 200)), peer_id: bin(99), left: 0, numwant: 0, offers: [] });
  let answered = 0;
  for (let i = 0; i < 700; i++) {
    const m = await node.next();
    assert.equal(m['failure reason'], undefined, JSON.stringify(m));
    answered++;
  }
  assert.equal(answered, 700);
  await node.close();
});

test('a pinned seed outlives the peer ttl; a socket seed does not', async () => {
  const short = await startTracker({ host: '127.0.0.1', ws: true, interval: 1, peerTtl: 1 });
  try {
    const ih = bin(60);
    const local = short.connectLocalWebSocket!();
    await new Promise<void>((r) => local.addEventListener('open', () => r()));
    const replies: Record<string, unknown>[] = [];
    local.addEventListener('message', (e) => replies.push(JSON.parse(e.data!)));
    local.send(JSON.stringify({ action: 'announce', info_hash: ih, peer_id: bin(61), event: 'started', left: 0, numwant: 0, offers: [] }));
    const ws = new WebSocket(short.wsAnnounceUrl!);
    await once(ws, 'open');
    ws.send(JSON.stringify({ action: 'announce', info_hash: ih, peer_id: bin(62), event: 'started', left: 0, numwant: 0, offers: [] }));
    await waitFor(() => short.swarm(hexOf(ih)).complete === 2, 3000, 'both seeds');
    // Past the 1 s ttl and a sweep: the socket's seed is gone, the pinned one stays.
    await waitFor(() => short.swarm(hexOf(ih)).complete === 1, 5000, 'the socket seed to expire');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(short.swarm(hexOf(ih)).complete, 1, 'the pinned seed is still there');
    local.close();
    await waitFor(() => short.swarm(hexOf(ih)).complete === 0, 3000, 'the pinned seed to leave with its connection');
    ws.close();
  } finally {
    await short.close();
  }
});

test('a socket cannot announce with the in-process connection’s peer id: not to take its offers, not to stop its seeds', async () => {
  const ih = bin(70);
  const node = localClient();
  await new Promise<void>((r) => node.local.addEventListener('open', () => r()));
  const thief = await client();
  const browser = await client();
  try {
    node.send({ action: 'announce', info_hash: ih, peer_id: bin(71), event: 'started', left: 0, numwant: 0, offers: [] });
    await node.next((m) => m.complete !== undefined);
    thief.send({ action: 'announce', info_hash: ih, peer_id: bin(71), event: 'stopped', left: 0, numwant: 0 });
    assert.equal((await thief.next((m) => m['failure reason'] !== undefined))['failure reason'], 'peer_id in use');
    thief.send({ action: 'announce', info_hash: ih, peer_id: bin(71), left: 0, numwant: 0, offers: [] });
    assert.equal((await thief.next((m) => m['failure reason'] !== undefined))['failure reason'], 'peer_id in use');
    assert.equal(tracker.swarm(hexOf(ih)).complete, 1, 'our seed is still there');
    // A browser's offer still reaches the node, not the thief.
    browser.send({ action: 'announce', info_hash: ih, peer_id: bin(72), event: 'started', left: 9, numwant: 1, offers: [{ offer: { type: 'offer', sdp: 'x' }, offer_id: bin(73) }] });
    const offer = await node.next((m) => m.offer !== undefined);
    assert.equal(offer.peer_id, bin(72));
    await assert.rejects(thief.next((m) => m.offer !== undefined, 300), /no matching message/);
  } finally {
    await node.close();
    await thief.close();
    await browser.close();
  }
});
